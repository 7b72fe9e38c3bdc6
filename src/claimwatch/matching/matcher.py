"""Matching: find the catalog's claims in a text, quoted, near-quoted or reworded.

`Matcher(catalog).find(text, title=...)` detects every claim over its threshold;
`.rank(...)` returns the K best claims whatever their score. Both work on sentence
windows (one sentence, two adjacent ones, and the quoted parts of a window with
the attribution cut out: '"Where NATO goes," he said, "war is most likely"'),
never on a whole article, where long texts saturate fuzzy scores (windows.py).

Detection runs in two steps, after a screen when there are few wordings (screen.py):
1. candidates: a term index over every wording of every claim (terms.py) keeps
   the (window, wording) pairs where the window holds enough of the wording's
   rare terms, so the cost follows the text, not text × catalog;
2. verification: rapidfuzz's partial_ratio on each candidate pair; the best pair
   per claim is then rescored on whole-word spans (plain ratio, and token order
   ignored) and its best span becomes the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import numpy as np
from rapidfuzz import fuzz, process

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.names import cut_names, name_cut
from claimwatch.matching.negation import CJK_TAIL, negated
from claimwatch.matching.normalize import Normalized, normalize, normalize_text
from claimwatch.matching.required import RequiredTerms
from claimwatch.matching.screen import Screen
from claimwatch.matching.terms import CJK, TermIndex, terms
from claimwatch.matching.windows import (
    MAX_SLOGAN_WORDS,
    Window,
    best_span,
    candidate_windows,
    snippet,
)
from claimwatch.records import Article, Match

DEFAULT_THRESHOLD = 88.0
# A window much shorter than a wording can score 100 by being a fragment of it
# ("NATO goes." inside "Where NATO goes, war is most likely"); such windows do not count.
MIN_WINDOW_SHARE = 0.75
# Share of a wording's term weight a window must hold to be scored against it.
MIN_COVERAGE = 0.3
# At most this many wordings (the best covered) are scored against each window.
MAX_CANDIDATES_PER_WINDOW = 16
# partial_ratio compares stretches as long as the wording, so a word inserted into
# a quote ("are simply not divisible") costs it more than it should. Candidates this
# close to a threshold are rescored on whole-word spans.
RESCUE_MARGIN = 12.5
# A wording and a span that disagree on negation ("no consensus" / "broad consensus",
# "l'OTAN est responsable" / "l'OTAN n'est pas responsable") lose this many points.
NEGATION_PENALTY = 15.0
# So does a span that cuts one of the wording's names out (names.py).
NAME_PENALTY = 15.0


@dataclass(frozen=True, slots=True)
class Hit:
    """The best place one claim was found in one field of a text, and why it scored."""

    claim_id: str
    score: float
    field: str
    variant: str
    matched_text: str
    start: int
    end: int
    snippet: str
    # partial: partial_ratio of the wording in the window; span: ratio on the
    # whole-word span (word order ignored if that scores higher); coverage: share
    # of the wording's term weight present in the window (0-100).
    parts: dict[str, float] = dataclass_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Best:
    score: float
    row: int
    window: int


class Matcher:
    """Finds the claims of a catalog in texts. Build once, use for many texts."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        min_coverage: float = MIN_COVERAGE,
    ) -> None:
        self.min_coverage = min_coverage
        self._claim_of_row: list[str] = []
        self._wordings: list[str] = []
        self._normalized: list[str] = []
        # Claim c's wordings are rows [_first_row[c], _first_row[c + 1]), c its place in
        # _claim_index: no scan of every row to find a claim's.
        self._claim_index = {c.id: i for i, c in enumerate(catalog.claims)}
        self._first_row = np.cumsum([0, *(len(c.wordings) for c in catalog.claims)])
        for claim in catalog.claims:
            for wording in claim.wordings:
                self._claim_of_row.append(claim.id)
                self._wordings.append(wording)
                self._normalized.append(normalize_text(wording))
        # Each wording's names, worked out when a hit on it is first scored (_hit): for
        # every wording of a catalog of 20,000 claims they tripled the time to build it.
        self._names: dict[int, tuple[tuple[frozenset[str], re.Pattern[str]], ...]] = {}
        self._lengths = np.array([len(w) for w in self._normalized])
        self._thresholds = {
            c.id: c.threshold if c.threshold is not None else threshold for c in catalog.claims
        }
        groups = list(dict.fromkeys(c.required_terms for c in catalog.claims if c.required_terms))
        self._required = RequiredTerms(groups)
        group_of_claim = {
            c.id: groups.index(c.required_terms) for c in catalog.claims if c.required_terms
        }
        # For each wording, the required-term group of its claim, or -1.
        self._required_of_row = np.array(
            [group_of_claim.get(c, -1) for c in self._claim_of_row], dtype=np.int64
        )
        self._index = TermIndex.of(catalog, self._normalized)
        # Below this partial_ratio a candidate is not rescored: slogans get a wider
        # margin, as a swapped word order costs them most.
        self._rescue_floor = np.array(
            [
                self._thresholds[c]
                - RESCUE_MARGIN * (2 if len(w.split()) <= MAX_SLOGAN_WORDS else 1)
                for c, w in zip(self._claim_of_row, self._normalized, strict=True)
            ]
        )
        self._screen = Screen(self._normalized, self._rescue_floor)

    @property
    def term_index(self) -> TermIndex:
        """The term index over every wording, in catalog order (the detector's cheap step)."""
        return self._index

    @property
    def required_terms(self) -> RequiredTerms:
        """The catalog's required terms (the detector's cheap step for other languages)."""
        return self._required

    @property
    def claim_ids(self) -> list[str]:
        return list(self._thresholds)

    def threshold_of(self, claim_id: str) -> float:
        """The score a claim needs: its own threshold, else the matcher's."""
        return self._thresholds[claim_id]

    def find(self, text: str, *, title: str | None = None) -> list[Hit]:
        """Every claim whose best score reaches its threshold, best first."""
        best = self._best_hits(text, title, detect=True)
        hits = [h for h in best.values() if h.score >= self._thresholds[h.claim_id]]
        return sorted(hits, key=lambda h: (-h.score, h.claim_id))

    def rank(self, text: str, *, title: str | None = None, top: int = 5) -> list[Hit]:
        """The `top` best-scoring claims, whatever the threshold (every pair is scored)."""
        best = self._best_hits(text, title, detect=False)
        return sorted(best.values(), key=lambda h: (-h.score, h.claim_id))[:top]

    def evidence(self, claim_ids: list[str], text: str, *, title: str | None = None) -> list[Hit]:
        """For each claim asked for, where in the title or text its wordings fit best."""
        wanted = sorted({self._claim_index[c] for c in claim_ids if c in self._claim_index})
        rows = np.array(
            [r for c in wanted for r in range(self._first_row[c], self._first_row[c + 1])],
            dtype=np.int64,
        )
        best: dict[str, Hit] = {}
        for field_name, value in (("title", title), ("text", text)):
            if not value or not len(rows):
                continue
            norm = normalize(value)
            windows = candidate_windows(norm.text)
            if not windows:
                continue
            for claim_id, b in self._score_all(norm.text, windows, rows).items():
                hit = self._hit(
                    claim_id, b.row, windows[b.window], norm, value, field_name, b.score
                )
                if claim_id not in best or hit.score > best[claim_id].score:
                    best[claim_id] = hit
        return [best[c] for c in claim_ids if c in best]

    def match_article(self, article: Article) -> list[Match]:
        """Detection over an article's title and text, as records for the warehouse."""
        return self.match_text(article.url, article.text, title=article.title)

    def match_text(self, url: str, text: str, *, title: str | None = None) -> list[Match]:
        """Detection over a stored article's title and text, as warehouse records."""
        return [
            Match(
                article_url=url,
                claim_id=h.claim_id,
                score=h.score,
                field=h.field,
                variant=h.variant,
                matched_text=h.matched_text,
                start=h.start,
                end=h.end,
                snippet=h.snippet,
            )
            for h in self.find(text, title=title)
        ]

    def _best_hits(self, text: str, title: str | None, *, detect: bool) -> dict[str, Hit]:
        best: dict[str, Hit] = {}
        for field_name, value in (("title", title), ("text", text)):
            if not value:
                continue
            for hit in self._score_field(field_name, value, detect):
                current = best.get(hit.claim_id)
                if current is None or hit.score > current.score:
                    best[hit.claim_id] = hit
        return best

    def _score_field(self, field_name: str, original: str, detect: bool) -> list[Hit]:
        norm = normalize(original)
        if detect and not self._screen.may_hold(norm.text):
            return []
        windows = candidate_windows(norm.text)
        if not windows:
            return []
        if detect:
            best = self._verify_candidates(norm.text, windows)
        else:
            best = self._score_all(norm.text, windows)
        return [
            self._hit(claim_id, b.row, windows[b.window], norm, original, field_name, b.score)
            for claim_id, b in best.items()
        ]

    def _lacks_required(self, text: str, windows: list[Window], rows: np.ndarray) -> np.ndarray:
        """[window, column]: the wording of rows[column] needs a term the window lacks."""
        named = self._required.named(text, [(w.start, w.end) for w in windows])
        required = self._required_of_row[rows]
        if not named.shape[1]:  # no claim of the catalog requires terms
            return np.zeros((len(windows), len(rows)), dtype=bool)
        return (required >= 0)[None, :] & ~named[:, np.maximum(required, 0)]

    def _verify_candidates(self, text: str, windows: list[Window]) -> dict[str, _Best]:
        """partial_ratio on the (window, wording) pairs the term index lets through.

        Pairs that cannot reach their wording's rescue floor score 0.
        """
        window_terms: list[AbstractSet[str]] = []
        for window in windows:
            # A pair's terms are its sentences' terms: no need to tokenise it again.
            pair = window.pair
            window_terms.append(
                window_terms[pair[0]] | window_terms[pair[1]] if pair else terms(window.text)
            )
        rows = self._index.candidates(set().union(*window_terms), self.min_coverage)
        if not len(rows):
            return {}
        unions = [w.pair for w in windows]
        capped = len(rows) > MAX_CANDIDATES_PER_WINDOW
        if capped:
            # Only the wordings a window covers best are worth a fuzzy score, so only they
            # need exact coverage (the others count as 0 below).
            rows = self._index.best_covered(rows, window_terms, unions, MAX_CANDIDATES_PER_WINDOW)
        coverage = self._index.coverage_matrix(rows, window_terms, unions)
        # Fewer rows left than that: no window covers that many wordings, none is cut.
        if capped and len(rows) >= MAX_CANDIDATES_PER_WINDOW:
            kth = np.partition(coverage, -MAX_CANDIDATES_PER_WINDOW, axis=1)
            coverage[coverage < kth[:, -MAX_CANDIDATES_PER_WINDOW][:, None]] = 0
        passing = coverage >= self.min_coverage
        # A pair of sentences is worth scoring for a wording only when each sentence
        # adds some of the wording's terms (a quote split across the two).
        pairs = [w for w, window in enumerate(windows) if window.pair is not None]
        if pairs:
            halves = np.array([windows[w].pair for w in pairs])
            passing[pairs] &= coverage[pairs] > np.maximum(
                coverage[halves[:, 0]], coverage[halves[:, 1]]
            )
        window_lengths = np.array([len(w.text) for w in windows])
        passing &= window_lengths[:, None] >= self._lengths[rows][None, :] * MIN_WINDOW_SHARE
        passing &= ~self._lacks_required(text, windows, rows)
        scores = np.zeros(passing.shape, dtype=np.float32)
        floors = self._rescue_floor[rows]
        for w, column in zip(*np.nonzero(passing), strict=True):
            # The cutoff lets rapidfuzz give up early on hopeless pairs.
            scores[w, column] = fuzz.partial_ratio(
                windows[w].text, self._normalized[rows[column]], score_cutoff=floors[column]
            )
        best_window = np.argmax(scores, axis=0)
        best_score = scores[best_window, np.arange(len(rows))]
        best: dict[str, _Best] = {}
        for column in np.nonzero(best_score > 0)[0]:
            row = int(rows[column])
            claim_id = self._claim_of_row[row]
            current = best.get(claim_id)
            if current is None or best_score[column] > current.score:
                best[claim_id] = _Best(float(best_score[column]), row, int(best_window[column]))
        return best

    def _score_all(
        self, text: str, windows: list[Window], rows: np.ndarray | None = None
    ) -> dict[str, _Best]:
        """partial_ratio of every wording (or those of `rows`) against every window."""
        if rows is None:
            rows = np.arange(len(self._normalized))
        scores = process.cdist(
            [self._normalized[r] for r in rows],
            [w.text for w in windows],
            scorer=fuzz.partial_ratio,
            dtype=np.float32,
            workers=1,
        )
        window_lengths = np.array([len(w.text) for w in windows])
        scores[window_lengths[None, :] < self._lengths[rows][:, None] * MIN_WINDOW_SHARE] = 0
        scores[self._lacks_required(text, windows, rows).T] = 0
        best: dict[str, _Best] = {}
        for i, column in enumerate(np.argmax(scores, axis=1)):
            row = int(rows[i])
            claim_id = self._claim_of_row[row]
            score = float(scores[i, column])
            current = best.get(claim_id)
            if current is None or score > current.score:
                best[claim_id] = _Best(score, row, int(column))
        return best

    def _hit(
        self,
        claim_id: str,
        row: int,
        window: Window,
        norm: Normalized,
        original: str,
        field_name: str,
        partial: float,
    ) -> Hit:
        wording = self._normalized[row]
        alignment = fuzz.partial_ratio_alignment(wording, window.text)
        start, end = (
            (alignment.dest_start, alignment.dest_end) if alignment else (0, len(window.text))
        )
        start, end, span = best_span(wording, window.text, start, end)
        if end <= start:  # nothing but punctuation aligned: show the whole window
            start, end = 0, len(window.text)
        window_terms = terms(window.text)
        coverage = 100 * self._index.coverage(row, window_terms)
        matched = window.text[start:end]
        read = window.text[start : end + CJK_TAIL] if CJK.search(wording) else matched
        penalty = NEGATION_PENALTY if negated(wording) != negated(read) else 0.0
        if row not in self._names:
            self._names[row] = cut_names(self._wordings[row])
        unnamed = NAME_PENALTY if name_cut(self._names[row], matched, window_terms) else 0.0
        norm_start, norm_end = window.to_norm(start, end)
        orig_start, orig_end = norm.original_span(norm_start, norm_end)
        return Hit(
            claim_id=claim_id,
            score=round(max(partial, span) - penalty - unnamed, 1),
            field=field_name,
            variant=self._wordings[row],
            matched_text=original[orig_start:orig_end],
            start=orig_start,
            end=orig_end,
            snippet=snippet(original, orig_start, orig_end),
            parts={
                "partial": round(partial, 1),
                "span": round(span, 1),
                "coverage": round(float(coverage), 1),
                "negation_penalty": penalty,
                "name_penalty": unnamed,
            },
        )
