"""The sentences detection reads by meaning, which are worth it, and how they become
evidence of a match.

Kept apart from detector.py: the detector embeds the sentences picked here, suggest.py
judges them, and both hand them on as this module's `Sentence`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from claimwatch.matching.normalize import normalize, sentence_spans
from claimwatch.matching.required import RequiredTerms
from claimwatch.matching.terms import STOPWORDS, TermIndex, terms
from claimwatch.matching.windows import snippet
from claimwatch.records import Match, SentenceSpan

# Characters read to tell a text's language (a few sentences).
LANGUAGE_SAMPLE = 1000
MIN_SENTENCE_WORDS = 5
# The cheap step: a sentence is worth embedding if it holds this share of some wording's
# rare terms, or if it is in another language (another script, or a Latin-script language
# with hardly any English function words), where shared terms say little.
CANDIDATE_COVERAGE = 0.2


@dataclass(frozen=True, slots=True)
class Sentence:
    field: str
    original: str  # the field's original text
    start: int  # offsets into it
    end: int
    text: str  # normalised
    coverage: float
    names_a_required_term: bool = False


def not_english(text: str) -> bool:
    """Whether `text` is in another script (Cyrillic, Chinese...) or in a Latin-script
    language other than English (hardly any English function words), where terms shared
    with an English wording say nothing about a translation. Judged on its beginning:
    reading a whole page cost more than the rest of the cheap step."""
    text = text[:LANGUAGE_SAMPLE]
    if len(_OTHER_SCRIPT.findall(text)) > len(_LETTER.findall(text)) / 2:
        return True
    words = _WORD.findall(text.lower())
    return len(words) >= MIN_SENTENCE_WORDS and sum(w in STOPWORDS for w in words) < len(words) / 10


_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
# Letters past Latin Extended-B: Cyrillic, Greek, Arabic, Chinese, Japanese...
_OTHER_SCRIPT = re.compile(r"[^\W\d_\x00-\u024f]")


def as_match(url: str, claim_id: str, score: float, wording: str, sentence: Sentence) -> Match:
    """The sentence as the evidence of a claim in an article."""
    return Match(
        url,
        claim_id,
        score,
        sentence.field,
        wording,
        sentence.original[sentence.start : sentence.end],
        sentence.start,
        sentence.end,
        snippet(sentence.original, sentence.start, sentence.end),
    )


def with_snippet(match: Match, text: str) -> Match:
    """The match with its snippet taken from the text as stored, not the blanked one."""
    if match.field != "text":
        return match
    return replace(match, snippet=snippet(text, match.start, match.end))


def worth_embedding(
    text: str,
    prose: str,
    title: str | None,
    quoted: Sequence[SentenceSpan],
    index: TermIndex,
    required: RequiredTerms,
) -> list[Sentence]:
    """The sentences of a title and a text (`prose`: the text with its furniture blanked)
    that share most of some wording's terms (`index`: the catalog's), or are in another
    language, best covered first, leaving out those overlapping a match's evidence
    (`quoted`); each says whether it names a claim's required term (`required`)."""
    found: list[Sentence] = []
    # Judged once per text: an article is written in one language, and a check per
    # sentence cost more than the rest of this step.
    foreign = not_english(prose or title or "")
    # The text is read with its furniture blanked; evidence quotes it as stored (the
    # offsets are the same).
    for field, value, stored in (("title", title or "", title or ""), ("text", prose, text)):
        norm = normalize(value)
        spans = sentence_spans(norm.text)
        named: list[bool] = [False] * len(spans)
        if foreign:
            by_group: np.ndarray = required.named(norm.text, spans)
            named = [bool(row.any()) for row in by_group]
        for i, (start, end) in enumerate(spans):
            sentence = norm.text[start:end]
            if len(sentence.split()) >= MIN_SENTENCE_WORDS:
                coverage = index.best_coverage(terms(sentence))
                if coverage < CANDIDATE_COVERAGE and not foreign:
                    continue
            elif foreign and len(sentence) >= 10:  # "北约正在印太地区煽动冲突"
                coverage = index.best_coverage(terms(sentence))
            else:
                continue
            original_start, original_end = norm.original_span(start, end)
            candidate = Sentence(
                field, stored, original_start, original_end, sentence, coverage, named[i]
            )
            if not overlaps(candidate, quoted):
                found.append(candidate)
    found.sort(key=lambda s: -s.coverage)
    return found


def overlaps(sentence: Sentence, spans: Sequence[SentenceSpan]) -> bool:
    """Whether the sentence overlaps one of `spans` (of its field)."""
    return any(
        field == sentence.field and start < sentence.end and sentence.start < end
        for field, start, end in spans
    )
