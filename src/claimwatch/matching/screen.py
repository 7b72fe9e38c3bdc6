"""The matcher's screen: whether a text could hold any of a few wordings at all, asked
before its sentence windows are cut and scored (matcher.py).

A matcher looking for few wordings (a re-match for a claim just added) reads mostly
texts that hold none of them. One partial_ratio of each wording over the whole text
costs about 0.04 ms a wording on a real page, where reading the text's windows costs
1-2 ms. Over more wordings the term index is the cheaper screen, and none is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz

MAX_WORDINGS = 24
# A text passes when a wording scores this share of its rescue floor over it. Over the
# 437 hits in the devset, the labelled articles and the real pages, the least was 1.06
# of the floor (slogan halves swapped); of 3,630 wordings planted in real pages (quoted,
# split by an attribution, in capitals, a word dropped or added), a screened matcher
# found exactly what an unscreened one did. Without the quotes' bridges (below) it
# missed 13, all of them quotes in Cyrillic split by an attribution in English.
SHARE = 0.85
# From a closing quote to the next opening one: what a window's quoted parts leave out.
_BRIDGE = re.compile(r'(?<=\S)"[^"]*"(?=\S)')


class Screen:
    """Whether a text could hold one of a matcher's wordings (normalised), each with
    its rescue floor; over MAX_WORDINGS wordings, it lets every text through."""

    def __init__(self, wordings: Sequence[str], floors: np.ndarray) -> None:
        self._wordings = list(wordings) if len(wordings) <= MAX_WORDINGS else []
        self._cutoffs = [float(f) * SHARE for f in floors]

    def may_hold(self, text: str) -> bool:
        """Whether some wording could reach its rescue floor in a window of normalised
        `text`: near enough anywhere in it (a pair of sentences reads its line break as a
        space), or in it with the attributions between its quotes cut out, as a window's
        quoted parts are read. Always true for a matcher of many wordings."""
        if not self._wordings:
            return True
        flat = text.replace("\n", " ")
        unquoted, bridges = _BRIDGE.subn(" ", flat)
        for wording, cutoff in zip(self._wordings, self._cutoffs, strict=True):
            if fuzz.partial_ratio(wording, flat, score_cutoff=cutoff):
                return True
            if bridges and fuzz.partial_ratio(wording, unquoted, score_cutoff=cutoff):
                return True
        return False
