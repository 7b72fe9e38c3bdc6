"""Matching: find the catalog's claims in a text, quoted, near-quoted or paraphrased.

The interface is `Matcher(catalog).find(text, title=...)` (detection: every claim
over its threshold) and `.rank(...)` (the K best claims whatever their score).
Scoring is rapidfuzz's `partial_ratio` of each wording of a claim against
sentence windows (one sentence, or two adjacent ones so quotes split across a
boundary are found); never against a whole article, where long texts saturate.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz, process

from claimwatch.catalog import Catalog
from claimwatch.normalize import Normalized, normalize, normalize_text, sentence_spans
from claimwatch.records import Article, Match

DEFAULT_THRESHOLD = 88.0
# A window much shorter than a wording can score 100 by being a fragment of it
# ("NATO goes." inside "Where NATO goes, war is most likely"); such windows do not count.
MIN_WINDOW_SHARE = 0.75
SNIPPET_CONTEXT = 120
# partial_ratio compares stretches as long as the wording, so a word inserted into
# a quote ("are simply not divisible") costs it more than it should. Candidates this
# close to a threshold are rescored on whole-word spans with the plain ratio.
RESCUE_MARGIN = 15.0


@dataclass(frozen=True, slots=True)
class Hit:
    """The best place one claim was found in one field of a text."""

    claim_id: str
    score: float
    field: str
    variant: str
    matched_text: str
    start: int
    end: int
    snippet: str


@dataclass(frozen=True, slots=True)
class _Window:
    start: int
    end: int
    text: str


class Matcher:
    """Finds the claims of a catalog in texts. Build once, use for many texts."""

    def __init__(self, catalog: Catalog, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._claim_ids: list[str] = []
        self._wordings: list[str] = []
        self._normalized: list[str] = []
        for claim in catalog.claims:
            for wording in claim.wordings:
                self._claim_ids.append(claim.id)
                self._wordings.append(wording)
                self._normalized.append(normalize_text(wording))
        self._lengths = np.array([len(w) for w in self._normalized])
        self._thresholds = {
            c.id: c.threshold if c.threshold is not None else threshold for c in catalog.claims
        }
        # Candidates within RESCUE_MARGIN of a threshold get a second look (see _hit).
        self._cutoff = max(0.0, min(self._thresholds.values()) - RESCUE_MARGIN)
        self._rows_by_claim: dict[str, np.ndarray] = {}
        for row, claim_id in enumerate(self._claim_ids):
            self._rows_by_claim.setdefault(claim_id, np.array([], dtype=int))
            self._rows_by_claim[claim_id] = np.append(self._rows_by_claim[claim_id], row)

    def find(self, text: str, *, title: str | None = None) -> list[Hit]:
        """Every claim whose best score reaches its threshold, best first."""
        best = self._best_hits(text, title, cutoff=self._cutoff)
        hits = [h for h in best.values() if h.score >= self._thresholds[h.claim_id]]
        return sorted(hits, key=lambda h: (-h.score, h.claim_id))

    def rank(self, text: str, *, title: str | None = None, top: int = 5) -> list[Hit]:
        """The `top` best-scoring claims, whatever the threshold."""
        best = self._best_hits(text, title, cutoff=0.0)
        return sorted(best.values(), key=lambda h: (-h.score, h.claim_id))[:top]

    def match_article(self, article: Article) -> list[Match]:
        """Detection over an article's title and text, as records for the warehouse."""
        return [
            Match(
                article_url=article.url,
                claim_id=h.claim_id,
                score=h.score,
                field=h.field,
                variant=h.variant,
                matched_text=h.matched_text,
                start=h.start,
                end=h.end,
                snippet=h.snippet,
            )
            for h in self.find(article.text, title=article.title)
        ]

    def _best_hits(self, text: str, title: str | None, *, cutoff: float) -> dict[str, Hit]:
        best: dict[str, Hit] = {}
        for field, value in (("title", title), ("text", text)):
            if not value:
                continue
            for hit in self._score_field(field, value, cutoff):
                current = best.get(hit.claim_id)
                if current is None or hit.score > current.score:
                    best[hit.claim_id] = hit
        return best

    def _score_field(self, field: str, original: str, cutoff: float) -> list[Hit]:
        norm = normalize(original)
        windows = _windows(norm.text)
        if not windows:
            return []
        scores = process.cdist(
            self._normalized,
            [w.text for w in windows],
            scorer=fuzz.partial_ratio,
            score_cutoff=cutoff,
            dtype=np.float32,
            workers=1,
        )
        window_lengths = np.array([len(w.text) for w in windows])
        too_short = window_lengths[None, :] < self._lengths[:, None] * MIN_WINDOW_SHARE
        scores[too_short] = 0
        hits = []
        for claim_id, rows in self._rows_by_claim.items():
            block = scores[rows]
            # argmax takes the first maximum: the canonical text over variants,
            # single sentences over pairs.
            flat = int(np.argmax(block))
            row_in_block, column = divmod(flat, block.shape[1])
            score = float(block[row_in_block, column])
            if score <= 0 and cutoff > 0:
                continue
            row = int(rows[row_in_block])
            hits.append(self._hit(claim_id, row, windows[column], norm, original, field, score))
        return hits

    def _hit(
        self,
        claim_id: str,
        row: int,
        window: _Window,
        norm: Normalized,
        original: str,
        field: str,
        score: float,
    ) -> Hit:
        alignment = fuzz.partial_ratio_alignment(self._normalized[row], window.text)
        if alignment is None:  # only with a score cutoff, which is not given here
            start, end = window.start, window.end
        else:
            start = window.start + alignment.dest_start
            end = window.start + alignment.dest_end
        start, end, span_score = _best_span(self._normalized[row], norm.text, start, end, window)
        score = max(score, span_score)
        if end <= start:  # only possible for scores near zero in ranking mode
            start, end = window.start, window.end
        orig_start, orig_end = norm.original_span(start, end)
        return Hit(
            claim_id=claim_id,
            score=round(score, 1),
            field=field,
            variant=self._wordings[row],
            matched_text=original[orig_start:orig_end],
            start=orig_start,
            end=orig_end,
            snippet=snippet(original, orig_start, orig_end),
        )


def _windows(text: str) -> list[_Window]:
    """Single sentences first, then pairs of adjacent sentences."""
    spans = sentence_spans(text)
    singles = [_Window(s, e, text[s:e]) for s, e in spans]
    pairs = [_Window(a[0], b[1], text[a[0] : b[1]].replace("\n", " ")) for a, b in pairwise(spans)]
    return singles + pairs


def _best_span(
    wording: str, text: str, start: int, end: int, window: _Window
) -> tuple[int, int, float]:
    """The whole-word span near [start, end) that reads most like the wording.

    partial_ratio aligns a stretch exactly as long as the wording, which cuts
    words and, for a near-quote, drags in a neighbour ("that NATO will not ...").
    Starts and ends up to a few words either side are tried with the plain ratio;
    the best span and its ratio are returned.
    """
    starts = [m.start() + window.start for m in _WORD.finditer(window.text)]
    ends = [m.end() + window.start for m in _WORD.finditer(window.text)]
    if not starts:
        return start, end, 0.0
    first = max(0, bisect_right(starts, start) - 1)
    last = bisect_left(ends, end)
    start_choices = starts[max(0, first - _SPAN_SLACK) : first + _SPAN_SLACK + 1]
    end_choices = ends[max(0, last - _SPAN_SLACK) : last + _SPAN_SLACK + 1]
    best_score, best_start, best_end = -1.0, start, end
    for s in start_choices:
        for e in end_choices:
            score = fuzz.ratio(wording, text[s:e]) if e > s else -1.0
            if score > best_score:
                best_score, best_start, best_end = score, s, e
    return (*_strip_edges(text, best_start, best_end), best_score)


def _strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


_WORD = re.compile(r"\S+")
_SPAN_SLACK = 3
_EDGE = " \n.,;:!?\"'()[]-"


def snippet(text: str, start: int, end: int, context: int = SNIPPET_CONTEXT) -> str:
    """The match with up to `context` characters either side, cut at spaces."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")
