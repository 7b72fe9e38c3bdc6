"""Required terms: a claim about NATO must name NATO (or the alliance) where it matches.

Claims often share their terms (NATO, alliance, bloc), so each distinct term is
looked for once per text, by plain substring search with the word boundaries
checked only where it occurs: much faster than one regex alternation per claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import CJK, CJK_CHARACTERS

# Word characters other than Chinese, Japanese and Korean ones: "NATOが" names NATO,
# as Japanese writes the particle straight after it.
_LATIN_WORD = rf"[^\W{CJK_CHARACTERS}]"


# Russian declines names by changing their last letter: Россия, России, Россией; Москва,
# Москвы; Тайвань, Тайваня. Such a term is looked for by its stem, the ending left free;
# an acronym (НАТО) is not declined.
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]{3,}[аяоеиыуюйь]")


def _searched(term: str) -> str:
    """What is looked for in texts: the term, or its stem for a declined Russian name."""
    needle = normalize_text(term)
    return needle[:-1] if _CYRILLIC_WORD.fullmatch(needle) and not term.isupper() else needle


def _word_pattern(needle: str) -> re.Pattern[str]:
    """The needle as a whole word, with a short ending (NATO's, Russian) or a CJK neighbour."""
    return re.compile(
        rf"(?<!{_LATIN_WORD}){re.escape(needle)}(?:{_LATIN_WORD}{{0,3}}(?!{_LATIN_WORD}))"
    )


class RequiredTerms:
    """The required-term groups of a catalog's claims, and where texts name them."""

    def __init__(self, groups: Sequence[tuple[str, ...]]) -> None:
        """`groups[g]` holds the terms of group g (any one of them satisfies it)."""
        self._needles: list[str] = []
        # A term names itself with a short ending (NATO's, Russian); None for
        # Chinese and Japanese, which have no word boundaries to check.
        self._word_patterns: list[re.Pattern[str] | None] = []
        self.group_terms: list[list[int]] = []
        for group in groups:
            indexes = []
            for term in group:
                needle = _searched(term)
                if needle not in self._needles:
                    self._needles.append(needle)
                    self._word_patterns.append(
                        None if CJK.search(needle) else _word_pattern(needle)
                    )
                indexes.append(self._needles.index(needle))
            self.group_terms.append(indexes)

    def named(self, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """named[s, g]: whether span s = [start, end) of normalised `text` names group g."""
        by_term = np.zeros((len(spans), len(self._needles)), dtype=bool)
        span_starts, span_ends = np.array(spans, dtype=np.int64).reshape(-1, 2).T
        for t in range(len(self._needles)):
            found = self._occurrences(text, t)
            if not found:
                continue
            starts, ends = np.array([*found, (len(text) + 1, len(text) + 1)]).T
            # Occurrences do not overlap, so the first one to start inside a
            # span is the one that may also end inside it (the sentinel never does).
            first = np.searchsorted(starts, span_starts)
            by_term[:, t] = ends[first] <= span_ends
        named = np.zeros((len(spans), len(self.group_terms)), dtype=bool)
        for g, indexes in enumerate(self.group_terms):
            named[:, g] = by_term[:, indexes].any(axis=1)
        return named

    def _occurrences(self, text: str, term: int) -> list[tuple[int, int]]:
        needle, pattern = self._needles[term], self._word_patterns[term]
        found = []
        at = text.find(needle)
        while at >= 0:
            if pattern is None:
                found.append((at, at + len(needle)))
            elif (word := pattern.match(text, at)) is not None:
                found.append((at, word.end()))
            at = text.find(needle, found[-1][1] if found and found[-1][0] == at else at + 1)
        return found
