"""Retrieval: the catalog's claims ranked for a text by fused lexical and semantic evidence.

Four signals per (text, claim), each in 0-1:
- meaning: cosine of the text's vector with the claim's wordings under the English
  encoder (the mean of the best wording's and the average wording's cosine: one wording
  may be a translation or a headline, and neither alone should decide);
- multilingual: the same under the multilingual encoder, which maps a sentence and its
  translation to nearby vectors;
- words: BM25 on stemmed words over all the claim's wordings, scaled to the text's best claim;
- chars: BM25 on character 3-5-grams, scaled the same way.

The fused score is their weighted sum, with weights that depend on the text's language
(language.py). For English the weights were chosen by a grid search on the CLEF
CheckThat! 2020 task 2 training tweets and are reported on its dev tweets: there this
fusion scores MAP@5 0.865 (0.873 through `claimwatch match --top 5`,
benchmarks/bench_rank.py), reciprocal-rank fusion of the same three rankers 0.828,
and each alone 0.802 (meaning), 0.773 (chars) and 0.748 (words).
In another language, words and characters shared with an English claim are chance, and
the English encoder reads the text as noise: on the tune half of benchmarks/data/xling
(ten languages against 8,865 English claims) they scored MAP@5 0.00-0.24 each, the
multilingual encoder alone 0.903, and no weight of any other signal beside it did better.
With no encoder (CLAIMWATCH_ENCODER=none) the lexical pair alone is fused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.claim_vectors import claim_vectors, wording_rows
from claimwatch.matching.encoder import Encoder
from claimwatch.matching.language import is_english
from claimwatch.matching.lexical import LexicalIndex

ENGLISH_WEIGHTS = {"meaning": 1.0, "words": 0.125, "chars": 0.375}
OTHER_LANGUAGE_WEIGHTS = {"multilingual": 1.0}
LEXICAL_WEIGHTS = {"words": 0.25, "chars": 0.75}
LEXICAL_SHARE = {n: ENGLISH_WEIGHTS[n] for n in ("words", "chars")}

_URL = re.compile(r"https?://\S*|pic\.twitter\.com/\S*|\bwww\.\S+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def query_text(text: str) -> str:
    """A text as the rankers read it: links dropped, hashtags split into words."""
    text = _URL.sub(" ", text)
    return _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)


def weights(english: bool, available: Collection[str]) -> dict[str, float]:
    """The fusion weights for a text, given its language and the signals at hand."""
    if not english and "multilingual" in available:
        return OTHER_LANGUAGE_WEIGHTS
    if "meaning" in available:
        return {n: w for n, w in ENGLISH_WEIGHTS.items() if n in available}
    if "multilingual" in available:  # the one encoder at hand stands for meaning
        return {"multilingual": ENGLISH_WEIGHTS["meaning"], **LEXICAL_SHARE}
    return LEXICAL_WEIGHTS


class Retriever:
    """Ranks a catalog's claims for texts. Build once per catalog and encoders: `encoder`
    the English one (the "meaning" signal), `multilingual` the one for other languages."""

    def __init__(
        self,
        catalog: Catalog,
        encoder: Encoder | None,
        cache_dir: Path,
        multilingual: Encoder | None = None,
    ) -> None:
        self.claim_ids = [c.id for c in catalog.claims]
        self._lexical = LexicalIndex([" ".join(c.wordings) for c in catalog.claims])
        self._wordings, self._first_row = wording_rows(catalog)
        self._counts = np.array([len(c.wordings) for c in catalog.claims])
        self._cache_dir = cache_dir
        self._encoders = {
            name: found
            for name, found in (("meaning", encoder), ("multilingual", multilingual))
            if found is not None and self._wordings
        }
        # Each encoder's claim vectors, read (or embedded) the first time a text needs
        # them: English texts alone never need the multilingual ones.
        self._vectors: dict[str, np.ndarray] = {}

    def signals(self, texts: Sequence[str], *, english: bool = True) -> dict[str, np.ndarray]:
        """Each signal the fusion weighs for texts in this language, as a [text, claim]
        matrix (an encoder the weights leave out is not run)."""
        queries = [query_text(t) for t in texts]
        words, chars = self._lexical.scores(queries)
        found = {"words": words, "chars": chars}
        wanted = weights(english, self._encoders)
        for name, encoder in self._encoders.items():
            if name in wanted:
                if name not in self._vectors:
                    self._vectors[name] = claim_vectors(self._wordings, encoder, self._cache_dir)
                cosines = encoder.encode(queries) @ self._vectors[name].T
                best = np.maximum.reduceat(cosines, self._first_row, axis=1)
                mean = np.add.reduceat(cosines, self._first_row, axis=1) / self._counts
                found[name] = (best + mean) / 2
        return found

    def fused(self, signals: dict[str, np.ndarray], *, english: bool = True) -> np.ndarray:
        """The weighted sum of the signals, in 0-1."""
        chosen = weights(english, signals)
        fused = np.zeros_like(signals["chars"])
        for name, weight in chosen.items():
            fused += weight * signals[name]
        return fused / sum(chosen.values())

    def is_english(self, text: str) -> bool:
        """Whether the text is ranked as English: always, without a multilingual encoder."""
        return "multilingual" not in self._encoders or is_english(text)
