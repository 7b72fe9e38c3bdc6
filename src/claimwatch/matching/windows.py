"""Where the matcher looks and what it shows: sentence windows, whole-word spans, snippets."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from claimwatch.matching.normalize import sentence_spans

# Slogans travel with their halves swapped ("Today Ukraine, tomorrow Asia"); longer
# assertions do not, and there word order carries meaning ("A more than B").
MAX_SLOGAN_WORDS = 6
SNIPPET_CONTEXT = 120


@dataclass(frozen=True, slots=True)
class Window:
    """A piece of normalised text to score: a sentence, two, or their quoted parts."""

    text: str
    start: int
    # For quoted parts, the normalised index of each character; None when contiguous.
    positions: tuple[int, ...] | None = None
    # For a pair of sentences, the indexes of the two single-sentence windows.
    pair: tuple[int, int] | None = None

    @property
    def end(self) -> int:
        """End of the stretch of normalised text the window covers."""
        return self.start + len(self.text) if self.positions is None else self.positions[-1] + 1

    def to_norm(self, start: int, end: int) -> tuple[int, int]:
        if self.positions is None:
            return self.start + start, self.start + end
        return self.positions[start], self.positions[end - 1] + 1


_QUOTED = re.compile(r'"([^"]{2,}?)"')


def candidate_windows(text: str) -> list[Window]:
    """Single sentences first, then pairs of adjacent sentences, then quoted parts."""
    spans = sentence_spans(text)
    contiguous = [Window(text[s:e], s) for s, e in spans]
    contiguous += [
        Window(text[a[0] : b[1]].replace("\n", " "), a[0], pair=(i, i + 1))
        for i, (a, b) in enumerate(pairwise(spans))
    ]
    return contiguous + [q for w in contiguous if (q := quoted_parts(w)) is not None]


def quoted_parts(window: Window) -> Window | None:
    """The quoted parts of a window joined, when a quote is interrupted by its attribution."""
    if '"' not in window.text:
        return None
    parts = list(_QUOTED.finditer(window.text))
    if len(parts) < 2:
        return None
    pieces: list[str] = []
    positions: list[int] = []
    for found in parts:
        if pieces:
            pieces.append(" ")
            positions.append(window.start + found.start(1))
        pieces.append(found.group(1))
        positions.extend(range(window.start + found.start(1), window.start + found.end(1)))
    return Window("".join(pieces), window.start, tuple(positions))


def best_span(wording: str, text: str, start: int, end: int) -> tuple[int, int, float]:
    """The whole-word span of `text` near [start, end) that reads most like the wording.

    partial_ratio aligns a stretch exactly as long as the wording, which cuts
    words and, for a near-quote, drags in a neighbour ("that NATO will not ...").
    Starts and ends up to a few words either side are tried; the best span and
    its score are returned.
    """
    words = list(_WORD.finditer(text))
    if not words:
        return start, end, 0.0
    starts = [w.start() for w in words]
    ends = [w.end() for w in words]
    first = max(0, bisect_right(starts, start) - 1)
    last = bisect_left(ends, end)
    best_score, best_start, best_end = -1.0, start, end
    for s in starts[max(0, first - _SPAN_SLACK) : first + _SPAN_SLACK + 1]:
        for e in ends[max(0, last - _SPAN_SLACK) : last + _SPAN_SLACK + 1]:
            score = _span_score(wording, text[s:e]) if e > s else -1.0
            if score > best_score:
                best_score, best_start, best_end = score, s, e
    return (*_strip_edges(text, best_start, best_end), max(best_score, 0.0))


def _span_score(wording: str, span: str) -> float:
    """Plain ratio; for slogans, word order may also be ignored."""
    score = fuzz.ratio(wording, span)
    if len(wording.split()) <= MAX_SLOGAN_WORDS:
        score = max(score, fuzz.token_sort_ratio(wording, span, processor=default_process))
    return score


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
