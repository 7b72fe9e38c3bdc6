"""Stored text as HTML with spans marked, built from escaped pieces only.

The text is hostile (any page can put markup in its body): every piece of it goes
through `escape`, and only the <p> and <mark> tags made here are markup. Spans may
overlap (a match and a suggestion of two claims in one sentence), reach past the text
or be empty; overlapping parts carry every span's class and label, out-of-range
offsets are clipped or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from claimwatch.matching.terms import CJK

# A paragraph ends at a line break (trafilatura keeps one between paragraphs).
_BREAKS = re.compile(r"\n+")
# Sentence ends: a stop, then space, then what may start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(\[]?[\w])")
MAX_SNIPPET = 320


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of a field, marked with a CSS class and a label."""

    start: int
    end: int
    kind: str
    label: str


def paragraphs(text: str, spans: Sequence[Span]) -> Markup:
    """`text` as <p> paragraphs with `spans` in <mark>s (a span across a paragraph break
    is marked in each paragraph it touches)."""
    size = len(text)
    valid = [s for s in spans if 0 <= s.start < s.end and s.start < size]
    out: list[Markup] = []
    start = 0
    for brk in [*_BREAKS.finditer(text), None]:
        end = brk.start() if brk else size
        if text[start:end].strip():
            out.append(Markup("<p>") + marked(text, start, end, valid) + Markup("</p>\n"))
        if brk:
            start = brk.end()
    return Markup("").join(out)


def marked(text: str, start: int, end: int, spans: Iterable[Span]) -> Markup:
    """text[start:end], escaped, with the parts inside spans in <mark>s."""
    inside = [s for s in spans if s.start < end and s.end > start]
    edges = {start, end}
    for span in inside:
        edges |= {max(span.start, start), min(span.end, end)}
    cuts = sorted(edges)
    pieces: list[Markup] = []
    for left, right in pairwise(cuts):
        piece = escape(text[left:right])
        covering = [s for s in inside if s.start <= left and s.end >= right]
        if not covering:
            pieces.append(piece)
            continue
        kinds = " ".join(dict.fromkeys(s.kind for s in covering))
        label = "; ".join(dict.fromkeys(s.label for s in covering))
        pieces.append(Markup('<mark class="{}" title="{}">{}</mark>').format(kinds, label, piece))
    return Markup("").join(pieces)


def word_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern finding any of `terms` (words or phrases)."""
    if not terms:
        return None
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    if not ordered:
        return None
    # At the start of a word, as the search finds them (search_query.term_pattern).
    found = [("" if CJK.match(t) else r"(?<!\w)") + re.escape(t) for t in ordered]
    return re.compile("|".join(found), re.IGNORECASE)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, paragraph breaks ending one too."""
    found: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for end_mark in _SENTENCE_END.finditer(para.group()):
            found.append((start, para.start() + end_mark.start()))
            start = para.start() + end_mark.end()
        found.append((start, para.end()))
    return [(s, e) for s, e in found if text[s:e].strip()]


def snippets(text: str, pattern: re.Pattern[str] | None, limit: int = 3) -> list[str]:
    """The sentences of `text` holding the most of the pattern's words (at most `limit`,
    in text order)."""
    if pattern is None:
        return []
    scored = []
    for start, end in sentences(text):
        found = {m.group().lower() for m in pattern.finditer(text, start, end)}
        if found:
            scored.append((-len(found), start, end))
    best = sorted(sorted(scored)[:limit], key=lambda t: t[1])
    return [text[start:end].strip() for _, start, end in best]


def words_marked(sentence: str, pattern: re.Pattern[str] | None) -> Markup:
    """`sentence`, escaped, with every occurrence of the pattern's words in <mark>; a long
    one cut to MAX_SNIPPET characters around its first word."""
    first = pattern.search(sentence) if pattern else None
    if len(sentence) > MAX_SNIPPET:
        left = max(0, (first.start() if first else 0) - MAX_SNIPPET // 3)
        sentence = "…" + sentence[left : left + MAX_SNIPPET] + "…"
    if pattern is None:
        return Markup(escape(sentence))
    spans = [Span(m.start(), m.end(), "word", m.group()) for m in pattern.finditer(sentence)]
    return marked(sentence, 0, len(sentence), spans)
