"""Ranking mode (`claimwatch match --top K`): the K claims a text most likely repeats.

Retrieval orders the claims; the matcher then shows, for each, the stretch of the
text its wordings fit best, so that every ranked claim comes with evidence.
A short text (a post, a headline, a paragraph) is one query. A longer one is read
passage by passage (each sentence and each pair of adjacent sentences), since an
encoder sees only the first few hundred words and one sentence of an article is
what repeats a claim; a claim then scores its best passage.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np

from claimwatch.matching.matcher import Hit, Matcher
from claimwatch.matching.normalize import sentence_spans
from claimwatch.matching.retrieval import Retriever

# Texts up to this many words are ranked as one query.
MAX_QUERY_WORDS = 120


def passages(text: str) -> list[str]:
    """The text itself when short; else its sentences and pairs of adjacent sentences."""
    if len(text.split()) <= MAX_QUERY_WORDS:
        return [text]
    sentences = [text[start:end] for start, end in sentence_spans(text)]
    pairs = [f"{a} {b}" for a, b in pairwise(sentences)]
    return sentences + pairs


def rank_claims(
    retriever: Retriever, matcher: Matcher, text: str, *, title: str | None = None, top: int = 5
) -> list[Hit]:
    """The `top` claims for a text, best first, each with its fused score and evidence."""
    queries = passages(text) + ([title] if title else [])
    # Judged once: a text is written in one language, its title too.
    english = retriever.is_english(text)
    signals = retriever.signals(queries, english=english)
    fused = retriever.fused(signals, english=english)
    best_query = np.argmax(fused, axis=0)
    claim_score = fused[best_query, np.arange(fused.shape[1])]
    order = np.lexsort((np.arange(len(claim_score)), -claim_score))[:top]
    claim_ids = [retriever.claim_ids[c] for c in order]
    evidence = {h.claim_id: h for h in matcher.evidence(claim_ids, text, title=title)}
    hits = []
    for c, claim_id in zip(order, claim_ids, strict=True):
        scores = {name: round(float(s[best_query[c], c]), 3) for name, s in signals.items()}
        found = evidence.get(claim_id) or Hit(claim_id, 0.0, "text", "", "", 0, 0, "")
        hits.append(
            replace(
                found,
                score=round(float(claim_score[c]) * 100, 1),
                parts={**found.parts, **scores},
            )
        )
    return hits
