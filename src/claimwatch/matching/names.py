"""Names cut out of a quote. A span that keeps a wording's words on either side of one of
its names, but not the name, says something else: "NATO stresses the indivisibility of
security" is not "NATO stresses the indivisibility of Euro-Asian security". A name put in
other words ("the US" for "the United States", "Moscow" for "Russia") keeps its place, and
stays a near-quote's change."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import CJK, terms

# Capitalised words of Latin and Cyrillic scripts, not where a sentence starts.
CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'-]{2,}")
WORD = re.compile(r"\w+")


def capitalised(text: str) -> list[str]:
    """The capitalised words of a text, but its first."""
    return CAPITALISED.findall(text)


def cut_names(wording: str) -> tuple[tuple[frozenset[str], re.Pattern[str]], ...]:
    """For each name inside a wording (a word before it and one after): its terms, and the
    pattern of its two neighbours side by side, as normalised text has them."""
    if CJK.search(wording):
        return ()
    words = WORD.findall(normalize_text(wording))
    found = []
    for name in capitalised(wording):
        parts = WORD.findall(normalize_text(name.removesuffix("'s")))
        for at in range(1, len(words) - len(parts)):
            if words[at : at + len(parts)] == parts:
                before, after = words[at - 1], words[at + len(parts)]
                meeting = re.compile(rf"\b{re.escape(before)}\W+{re.escape(after)}\b")
                found.append((terms(" ".join(parts)), meeting))
                break
    return tuple(found)


def name_cut(
    names: tuple[tuple[frozenset[str], re.Pattern[str]], ...],
    span: str,
    window_terms: AbstractSet[str],
) -> bool:
    """Whether a span (normalised) cuts out one of the names `cut_names` gave: its
    neighbours meet in the span, and the window lacks it."""
    return any(meeting.search(span) and not (name & window_terms) for name, meeting in names)
