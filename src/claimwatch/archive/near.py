"""The sentence index's view of some claims: their wordings' sign bits, for a focused
re-match to skip the articles in other languages that cannot restate them."""

from __future__ import annotations

from claimwatch.archive.codes import sign_codes
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import Encoder
from claimwatch.store.sentence_near import Near


def near_claims(catalog: Catalog, encoder: Encoder) -> Near:
    """Every wording of the catalog's claims as the index's model (`encoder`) codes it."""
    wordings = [w for c in catalog.claims for w in c.wordings]
    if not wordings:
        return Near(encoder.version, ())
    codes = sign_codes(encoder.encode(wordings))
    return Near(encoder.version, tuple(tuple(int(word) for word in row) for row in codes))
