"""Terms for candidate generation: which claims are worth scoring against a window.

Each wording of each claim is reduced to a set of terms (word prefixes; character
pairs for Chinese and Japanese, which have no spaces). A term's weight is its
rarity across the catalog, as in BM25's idf. A wording is a candidate for a window
when the window holds enough of its weight (its *coverage*). This keeps the cost
of matching proportional to the text, not to text × catalog.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from claimwatch.matching.normalize import normalize_text

if TYPE_CHECKING:
    from claimwatch.matching.catalog import Catalog

# Words so common in news text that they say nothing about which claim is meant.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "she",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "which",
        "who",
        "will",
        "with",
        "would",
        "could",
        "may",
        "might",
        "can",
        "do",
        "does",
        "did",
        "not",
        "no",
        "so",
        "than",
        "then",
        "up",
        "out",
        "about",
        "into",
        "over",
        "after",
        "before",
        "more",
        "most",
        "very",
        "also",
        "just",
        "said",
        "says",
    ]
)
PREFIX = 6  # a crude stemmer: "divisible" and "divisibility" share "divisi"
_WORD = re.compile(r"\w+")
# Chinese, Japanese and Korean characters: scripts written without spaces.
CJK_CHARACTERS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
CJK = re.compile(f"[{CJK_CHARACTERS}]")
_CJK_RUN = re.compile(f"[{CJK_CHARACTERS}]+")
# How far coverage summed in float64 and in any order (TermIndex.best_covered) may be
# from coverage_matrix's float32 sums, with room to spare: coverage is at most 1 and
# float32 keeps 7 digits.
ROUGH = 1e-5


# Function words of other languages, dropped from the terms of a wording in that language
# (a claim's or variant's `language`) besides STOPWORDS. Weighed by their rarity in the
# catalog, where each language has few wordings, they held half of a German or French
# wording's weight ("die ist am", "est la là plus"): any page in the language
# covered it: a re-match of one claim read 2,364 such pages for quotes, of the 10^5
# articles of the benchmarks' warehouse (docs/benchmarks.md), and found none.
# Dropped from wordings only: a text's terms can hold them, they count for nothing.
# Written normalised (lower case, "ß" as "ss", "ё" as "е"); words a wording needs to be
# told apart ("wo", "où", "куда": where) are kept, as "where" is in English.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in {
        "de": """der die das den dem des ein eine einen einem einer eines und oder aber
            sondern denn dass ist sind war waren wird werden wurde wurden hat haben hatte
            hatten sein seine seiner seinen seinem ihr ihre ihren ihrem ihrer er sie es
            wir man sich nicht kein keine keinen auch noch nur schon so wie als wenn ob
            zu zum zur im am an auf aus bei mit nach von vor für über unter um durch
            gegen ohne bis seit dieser diese dieses diesen diesem da dort hier sehr mehr
            immer""",
        "fr": """le la les un une des du de au aux et ou mais donc ni car que qui quoi
            dont est sont était étaient sera seront ont avait avaient été être avoir ce
            cet cette ces se sa son ses leur leurs il elle ils elles on nous vous je ne
            pas plus moins très en dans sur sous par pour avec sans entre vers chez là
            aussi tout tous toute toutes""",
        "es": """el la los las lo un una unos unas y o pero que de del al en con por para
            sin sobre entre es son fue fueron era eran ser está están ha han había se su
            sus le les nos no más muy como ya también este esta estos estas ese esa hay""",
        "it": """il lo la gli le un uno una di del dello della dei degli delle al allo
            alla ai agli alle da dal dalla dai in nel nello nella nei negli nelle con su
            sul sulla per tra fra ma che non è sono era erano essere ha hanno aveva si suo
            sua suoi sue loro più molto anche questo questa questi queste quello quella""",
        "pt": """os as um uma uns umas de do da dos das em no na nos nas por pelo pela
            para com sem ou mas que não é são foi foram era ser está estão tem têm se seu
            sua seus suas mais muito como também este esta isso""",
        "nl": """de het een en of maar dat die dit deze van in op aan met voor door naar
            bij uit om tot over is zijn was waren wordt worden werd heeft hebben had niet
            geen ook nog al er hij zij ze wij we ik je hun haar zich meer zeer""",
        "pl": """w z na do nie się że to jest są był była było były jak ale lub oraz od
            po za przez przy dla co czy jego jej ich ten ta te tym tego już też tak
            bardziej najbardziej""",
        "ru": """и в во не на что с со по к ко как это из за от о об для же то но а так
            его ее их он она оно они мы вы я бы ли уже или был была было были быть есть
            при до у там тут этот эта эти более наиболее самый самая самое""",
    }.items()
}
_WORDING_STOPWORDS = {language: STOPWORDS | words for language, words in FUNCTION_WORDS.items()}


# The fuzzy matcher and the detector's cheap step read the same sentences: the second
# read is a lookup.
@lru_cache(maxsize=2048)
def terms(text: str) -> frozenset[str]:
    """The terms of normalised text."""
    return _terms(text, STOPWORDS)


@lru_cache(maxsize=2048)
def wording_terms(text: str, language: str | None = None) -> frozenset[str]:
    """The terms of a normalised wording in `language` (None: English), its function
    words left out."""
    dropped = _WORDING_STOPWORDS.get(language or "")
    return _terms(text, dropped) if dropped else terms(text)


def _terms(text: str, stopwords: AbstractSet[str]) -> frozenset[str]:
    words = _WORD.findall(text)
    if not CJK.search(text):
        return frozenset(
            w[:PREFIX] for w in words if w not in stopwords and (len(w) > 1 or w.isdigit())
        )
    found: set[str] = set()
    for word in words:
        # Japanese writes particles straight after a Latin word ("NATOが"): the runs of
        # each script are terms of their own kind.
        for run in _CJK_RUN.findall(word):
            found.update(a + b for a, b in itertools.pairwise(run))
        for part in _CJK_RUN.split(word):
            if part and part not in stopwords and (len(part) > 1 or part.isdigit()):
                found.add(part[:PREFIX])
    return frozenset(found)


class TermIndex:
    """Inverted index from terms to the wordings that hold them, with idf weights."""

    def __init__(
        self, wordings: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> None:
        """`wordings` normalised, each in its `languages` entry (None or left out: English)."""
        self.size = len(wordings)
        # Each wording's terms are read again from its text (coverage()): keeping 100,000
        # sets of them cost more memory than the rest of the index.
        self._wordings = wordings
        self._languages = languages if languages is not None else [None] * len(wordings)
        # Terms in sorted order, here and wherever weights are summed: set order follows
        # each process's string hashing, and sums in another order differ in their last
        # bits, enough to break ties between thousands of wordings differently.
        row_terms = [
            sorted(wording_terms(w, language))
            for w, language in zip(wordings, self._languages, strict=True)
        ]
        df: dict[str, int] = {}
        for found in row_terms:
            for term in found:
                df[term] = df.get(term, 0) + 1
        n = max(1, self.size)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        rows: dict[str, list[int]] = {}
        for row, found in enumerate(row_terms):
            for term in found:
                rows.setdefault(term, []).append(row)
        self.postings = {t: np.array(r, dtype=np.int32) for t, r in rows.items()}
        self.term_ids = {t: i for i, t in enumerate(self.postings)}
        # Each wording's terms and weights, flattened (row r owns [starts[r], starts[r+1])).
        ids = [sorted(self.term_ids[t] for t in found) for found in row_terms]
        self.starts = np.cumsum([0] + [len(i) for i in ids]).astype(np.int64)
        self.flat_ids = np.array([i for row_ids in ids for i in row_ids], dtype=np.int32)
        weights = np.array([self.idf[t] for t in self.term_ids])
        self.flat_weights = weights[self.flat_ids].astype(np.float32)
        self.total = np.array([sum(self.idf[t] for t in found) or 1.0 for found in row_terms])

    @classmethod
    def of(cls, catalog: Catalog, normalized: Sequence[str] | None = None) -> TermIndex:
        """The index of every wording of `catalog`, claim by claim, each in its language
        (`normalized`: those wordings normalised already, in the same order)."""
        if normalized is None:
            normalized = [normalize_text(w) for c in catalog.claims for w in c.wordings]
        languages = [language for c in catalog.claims for language in c.wording_languages]
        return cls(normalized, languages)

    def candidates(self, found: AbstractSet[str], min_coverage: float) -> np.ndarray:
        """Rows of the wordings whose coverage by the terms `found` reaches min_coverage."""
        covered = self._covered(found)
        if covered is None:
            return np.array([], dtype=np.int32)
        return np.nonzero(covered >= min_coverage * self.total)[0].astype(np.int32)

    def best_coverage(self, found: AbstractSet[str], rows: np.ndarray | None = None) -> float:
        """The highest coverage of any wording (of those `rows` marks, a boolean mask) by the
        terms `found`: 0 when none shares one."""
        covered = self._covered(found)
        if covered is None:
            return 0.0
        coverage = covered / self.total
        return float(coverage[rows].max() if rows is not None else coverage.max())

    def _covered(self, found: AbstractSet[str]) -> np.ndarray | None:
        """Each wording's weight held by the terms `found`, or None when none shares one."""
        present = sorted(t for t in found if t in self.postings)
        if not present:
            return None
        postings = [self.postings[t] for t in present]
        weights = np.repeat([self.idf[t] for t in present], [len(p) for p in postings])
        return np.bincount(np.concatenate(postings), weights=weights, minlength=self.size)

    def best_covered(
        self,
        rows: np.ndarray,
        windows: Sequence[AbstractSet[str]],
        unions: Sequence[tuple[int, int] | None],
        keep: int,
    ) -> np.ndarray:
        """Of `rows` (sorted), those among some window's `keep` best covered, ties included,
        and maybe a few more: the columns coverage_matrix must compute exactly to find
        each window's `keep` best and the keep-th's value.

        With a large catalog, an article's terms reach tens of thousands of wordings and a
        window covers thousands of them in part; coverage_matrix over all of them (a
        window x term-of-each-wording matrix) cost more than the rest of detection. Here
        coverage is summed sparsely, from the postings of each window's terms, in float64
        and in any order: exact to well within ROUGH, which is the margin kept.
        """
        if len(rows) <= keep:
            return rows
        # Each wording's column, the wordings outside `rows` sharing an extra one, dropped.
        width = len(rows) + 1
        column = np.full(self.size, len(rows), dtype=np.int64)
        column[rows] = np.arange(len(rows))
        postings, owners, weights = [], [], []
        for w, found in enumerate(windows):
            union = unions[w] if w < len(unions) else None
            # A pair's coverage is its halves' less that of the terms they share, which
            # are few: far fewer postings to read than its whole set of terms.
            shared = found if union is None else windows[union[0]] & windows[union[1]]
            for term in shared:
                if term in self.postings:
                    postings.append(self.postings[term])
                    owners.append(w * width)
                    weights.append(self.idf[term] if union is None else -self.idf[term])
        if not postings:  # nothing to go by: every row is computed exactly
            return rows
        lengths = [len(p) for p in postings]
        cells = np.repeat(owners, lengths) + column[np.concatenate(postings)]
        covered = np.bincount(
            cells, weights=np.repeat(weights, lengths), minlength=len(windows) * width
        ).reshape(len(windows), width)[:, :-1]
        for w, union in enumerate(unions):
            if union is not None:
                covered[w] += covered[union[0]]
                covered[w] += covered[union[1]]
        coverage = np.divide(covered, self.total[rows], out=covered)
        # A lower bound of each window's keep-th best coverage, without sorting thousands:
        # the keep-th best of the maxima of at least `keep` blocks of columns.
        block = max(1, len(rows) // (4 * keep))
        maxima = np.maximum.reduceat(coverage, np.arange(0, len(rows), block), axis=1)
        floor = np.partition(maxima, -keep, axis=1)[:, -keep]
        # Windows that cover fewer than `keep` wordings keep every one they cover (1e-12:
        # above rounding noise, below any term's share of a wording).
        floor = np.maximum(floor - ROUGH, 1e-12)
        return rows[np.flatnonzero((coverage >= floor[:, None]).any(axis=0))]

    def coverage_matrix(
        self,
        rows: np.ndarray,
        windows: Sequence[AbstractSet[str]],
        unions: Sequence[tuple[int, int] | None] = (),
    ) -> np.ndarray:
        """Coverage of each wording in `rows` (columns) by each window's terms (rows).

        `unions[w] = (a, b)` says window w holds exactly the terms of windows a
        and b (two adjacent sentences), so its row is theirs combined; a and b
        must not be unions themselves.
        """
        # The flat cells of every row in `rows`, concatenated, without a Python loop.
        lengths = self.starts[rows + 1] - self.starts[rows]
        segment_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        cells = np.repeat(self.starts[rows] - segment_starts, lengths) + np.arange(lengths.sum())
        ids, weights = self.flat_ids[cells], self.flat_weights[cells]
        stamp = np.zeros(len(self.term_ids), dtype=np.int32)
        present = np.zeros((len(windows), len(ids)), dtype=np.float32)
        combined = [w for w, union in enumerate(unions) if union is not None]
        for w in sorted(set(range(len(windows))) - set(combined)):
            window_ids = [self.term_ids[t] for t in windows[w] if t in self.term_ids]
            # Mark this window's terms, then read which of the wordings' terms are marked.
            stamp[window_ids] = w + 1
            present[w] = stamp[ids] == w + 1
        if combined:
            halves = np.array([unions[w] for w in combined])
            present[combined] = np.maximum(present[halves[:, 0]], present[halves[:, 1]])
        covered = np.add.reduceat(present * weights, segment_starts, axis=1)
        return covered / self.total[rows].astype(np.float32)

    def coverage(self, row: int, found: AbstractSet[str]) -> float:
        """The share of a wording's weight that the terms `found` hold."""
        shared = sorted(wording_terms(self._wordings[row], self._languages[row]) & found)
        return sum(self.idf[t] for t in shared) / self.total[row]
