"""Lexical rankers over the catalog: BM25 on stemmed words, and BM25 on character n-grams.

Words find the claim that shares a query's rare terms ("Guantanamo", "detainees");
character 3-5-grams find it through inflections, compounds, misspellings and hashtags
("#DefundTheCBC"), and in languages the stemmer does not know. Both come from bm25s
(sparse BM25 matrices); each returns one row of scores per query, scaled so that the
query's best claim scores 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

_NON_WORD = re.compile(r"\W+")
_STEMMER = Stemmer.Stemmer("english")
CHAR_GRAMS = (3, 5)


def word_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed words of two letters or more, English stopwords left out."""
    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


def char_tokens(text: str) -> list[str]:
    """Character 3-5-grams of the lower-cased words, with word edges marked by spaces."""
    padded = f" {_NON_WORD.sub(' ', text.lower()).strip()} "
    low, high = CHAR_GRAMS
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


class LexicalIndex:
    """BM25 over words and over character n-grams of a list of documents."""

    def __init__(self, documents: Sequence[str]) -> None:
        self.size = len(documents)
        self._words = bm25s.BM25()
        self._words.index(word_tokens(documents), show_progress=False)
        self._chars = bm25s.BM25()
        self._chars.index([char_tokens(d) for d in documents], show_progress=False)

    def scores(self, queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """[query, document] scores by words and by character n-grams, each in 0-1."""
        words = np.zeros((len(queries), self.size), dtype=np.float32)
        chars = np.zeros_like(words)
        for q, tokens in enumerate(word_tokens(queries)):
            if tokens:
                words[q] = self._words.get_scores(tokens)
            grams = char_tokens(queries[q])
            if grams:
                chars[q] = self._chars.get_scores(grams)
        return _scaled(words), _scaled(chars)


def _scaled(scores: np.ndarray) -> np.ndarray:
    best = scores.max(axis=1, keepdims=True) if scores.size else scores
    return np.divide(scores, best, out=np.zeros_like(scores), where=best > 0)
