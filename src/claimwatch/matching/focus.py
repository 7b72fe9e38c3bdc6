"""What a focused re-match (`rematch --claim ID`) looks for in stored text before reading
it: the terms of the focus claims' wordings, each with its share of its wording's weight
(terms.py), as the fuzzy matcher weighs them over the whole catalog."""

from __future__ import annotations

from dataclasses import dataclass

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import TermIndex, wording_terms

# An article is worth the matcher's reading for a wording when it holds this share of the
# wording's term weight, anywhere. Of the 346 matches and suggestions the detector makes
# in the devset's sentences and the labelled articles, none is lost by a focused re-match
# that reads what holds 0.5 (or 0.6) of a wording or lies near it in meaning
# (archive/near.py); nor, of the sample and corpus pages', any. Over the pages, 0.4
# read a median of 15 of 127 per claim, 0.5 13.
MIN_SHARE = 0.5


@dataclass(frozen=True)
class FocusTerms:
    """The focus claims' terms (lowercase word beginnings; character pairs in Chinese and
    Japanese), and for each of their wordings, its terms with their share of its weight."""

    terms: tuple[str, ...]
    wordings: tuple[tuple[tuple[str, float], ...], ...]
    min_share: float = MIN_SHARE


def focus_terms(catalog: Catalog, focus: tuple[str, ...]) -> FocusTerms | None:
    """The terms of the claims `focus` names, weighed over all of `catalog`; None without
    a focus."""
    if not focus:
        return None
    index = TermIndex.of(catalog)
    wanted = set(focus)
    wordings = []
    for claim in catalog.claims:
        if claim.id not in wanted:
            continue
        for wording, language in zip(claim.wordings, claim.wording_languages, strict=True):
            found = sorted(wording_terms(normalize_text(wording), language))
            total = sum(index.idf[t] for t in found) or 1.0
            wordings.append(tuple((t, index.idf[t] / total) for t in found))
    every = sorted({t for wording in wordings for t, _ in wording})
    return FocusTerms(tuple(every), tuple(wordings))
