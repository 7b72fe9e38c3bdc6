"""Where the matcher looks and what it shows: sentence windows, whole-word spans, snippets."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from claimwatch.matching.normalize import sentence_spans
from claimwatch.matching.terms import CJK, CJK_CHARACTERS

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
    Starts and ends up to a few words either side are tried, then (one side at a
    time) any further out that a span still near the wording's length reaches: words
    inserted into a quote ("mit ganz oder teilweise gefälschten Artikeln") push
    partial_ratio's stretch past the claim's subject. The best span and its score
    are returned; the span is widened to the subject when the scored part left it
    out behind inserted words (_with_subject). Chinese and Japanese characters are
    words of their own here.
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
    longest = len(wording) * MAX_SPAN_SHARE
    for s in reversed(starts[: max(0, first - _SPAN_SLACK)]):
        if best_end - s > longest:
            break
        score = _span_score(wording, text[s:best_end])
        if score > best_score:
            best_score, best_start = score, s
    for e in ends[last + _SPAN_SLACK + 1 :]:
        if e - best_start > longest:
            break
        score = _span_score(wording, text[best_start:e])
        if score > best_score:
            best_score, best_end = score, e
    best_start = _with_subject(wording, text, best_start, starts)
    return (*_strip_edges(text, best_start, best_end), max(best_score, 0.0))


def _with_subject(wording: str, text: str, start: int, starts: list[int]) -> int:
    """The start of a span widened to the wording's first words when the span left them
    out and they stand a little before it: the subject, cut off by words inserted after it
    ("China ist nach Ansicht der Verbündeten zu einem ... Wegbereiter": the span that
    scores best starts at "zu einem"). `starts` are the starts of text's words."""
    own = _WORD.findall(wording)
    found = _WORD.match(text, start)
    if len(own) < 2 or found is None:
        return start
    here = found.group()
    # The wording's word the span starts with (inflected alike: "unterstütze", "unterstützt").
    at = next((k for k, w in enumerate(own) if fuzz.ratio(w, here) >= _SAME_WORD), 0)
    if at == 0:  # the span starts as the wording does, or nothing tells where
        return start
    head = wording[: _nth_start(wording, at)].strip()
    if _weight(head) < _MIN_SUBJECT:
        return start
    reach = start - len(head) - max(_INSERTED, len(wording) // 2)
    best, best_score = start, _SAME_SUBJECT
    for s in starts[bisect_left(starts, reach) : bisect_left(starts, start)]:
        score = fuzz.ratio(head, text[s : s + len(head)])
        if score >= best_score:  # the nearest of equals
            best, best_score = s, score
    return best


def _nth_start(text: str, n: int) -> int:
    return [w.start() for w in _WORD.finditer(text)][n]


def _weight(text: str) -> int:
    """Letters, a Chinese or Japanese character counting as two (it is most of a word)."""
    return sum(2 if CJK.match(c) else 1 for c in text if c.isalnum())


def _span_score(wording: str, span: str) -> float:
    """Plain ratio; for slogans, word order may also be ignored (not in Chinese or
    Japanese, where spaces do not part words: "认为，北约的..." would pass for "北约的...")."""
    score = fuzz.ratio(wording, span)
    if len(wording.split()) <= MAX_SLOGAN_WORDS and not CJK.search(wording):
        score = max(score, fuzz.token_sort_ratio(wording, span, processor=default_process))
    return score


def _strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


# A word: a run of anything but spaces, or one Chinese or Japanese character (those
# scripts put no spaces between words).
_WORD = re.compile(f"[{CJK_CHARACTERS}]|[^\\s{CJK_CHARACTERS}]+")
_SPAN_SLACK = 3
# A span longer than this many times the wording cannot score 88 with ratio
# (2 / (1 + 1.3) = 0.87), so no longer one is tried.
MAX_SPAN_SHARE = 1.3
# Two words are taken for one when they differ only in an ending (ratio 80 for
# "unterstützt" / "unterstütze", 89 for "вероятна" / "вероятной").
_SAME_WORD = 75.0
# The wording's first words, to be taken for the subject left out of a span, must read
# alike this much where they are found, and hold this many letters (an article alone,
# "a", "the", "ein", is no subject).
_SAME_SUBJECT = 80.0
_MIN_SUBJECT = 4
# How far before the span the subject is looked for: the words inserted after it, up to
# half the wording or this many characters ("nach Ansicht der Verbündeten": 29).
_INSERTED = 40
_EDGE = " \n.,;:!?\"'()[]-、。・「」『』"


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
