"""Retrieval: the catalog's claims ranked for a text by fused lexical and semantic evidence.

Three signals per (text, claim), each in 0-1:
- meaning: cosine of the text's vector with the claim's wordings (the mean of the best
  wording's and the average wording's cosine: one wording may be a translation or a
  headline, and neither alone should decide);
- words: BM25 on stemmed words over all the claim's wordings, scaled to the text's best claim;
- chars: BM25 on character 3-5-grams, scaled the same way.

The fused score is their weighted sum. The weights were chosen by a grid search on the
CLEF CheckThat! 2020 task 2 training tweets and are reported on its dev tweets: there
this fusion scores MAP@5 0.865 (0.873 through `claimwatch match --top 5`,
benchmarks/bench_rank.py), reciprocal-rank fusion of the same three rankers 0.828,
and each alone 0.802 (meaning), 0.773 (chars) and 0.748 (words).
With no encoder (CLAIMWATCH_ENCODER=none) the lexical pair alone is fused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.claim_vectors import claim_vectors, wording_rows
from claimwatch.matching.encoder import Encoder
from claimwatch.matching.lexical import LexicalIndex

WEIGHTS = {"meaning": 1.0, "words": 0.125, "chars": 0.375}
LEXICAL_WEIGHTS = {"words": 0.25, "chars": 0.75}

_URL = re.compile(r"https?://\S*|pic\.twitter\.com/\S*|\bwww\.\S+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def query_text(text: str) -> str:
    """A text as the rankers read it: links dropped, hashtags split into words."""
    text = _URL.sub(" ", text)
    return _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)


class Retriever:
    """Ranks a catalog's claims for texts. Build once per catalog and encoder."""

    def __init__(self, catalog: Catalog, encoder: Encoder | None, cache_dir: Path) -> None:
        self.claim_ids = [c.id for c in catalog.claims]
        self._lexical = LexicalIndex([" ".join(c.wordings) for c in catalog.claims])
        self._encoder = encoder
        wordings, self._first_row = wording_rows(catalog)
        self._counts = np.array([len(c.wordings) for c in catalog.claims])
        self._vectors = (
            claim_vectors(wordings, encoder, cache_dir) if encoder and wordings else None
        )

    def signals(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each signal as a [text, claim] matrix."""
        queries = [query_text(t) for t in texts]
        words, chars = self._lexical.scores(queries)
        found = {"words": words, "chars": chars}
        if self._encoder is not None and self._vectors is not None:
            cosines = self._encoder.encode(queries) @ self._vectors.T
            best = np.maximum.reduceat(cosines, self._first_row, axis=1)
            mean = np.add.reduceat(cosines, self._first_row, axis=1) / self._counts
            found["meaning"] = (best + mean) / 2
        return found

    def fused(self, signals: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted sum of the signals, in 0-1."""
        weights = WEIGHTS if "meaning" in signals else LEXICAL_WEIGHTS
        fused = np.zeros_like(signals["chars"])
        for name, weight in weights.items():
            fused += weight * signals[name]
        return fused / sum(weights.values())
