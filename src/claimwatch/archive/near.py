"""The sentence index's view of some claims: their wordings' sign bits, for a focused
re-match to skip the articles in other languages that cannot restate them."""

from __future__ import annotations

from pathlib import Path

from claimwatch.archive.codes import sign_codes
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import load_encoder
from claimwatch.store.sentence_near import Near


def near_claims(catalog: Catalog, cache_dir: Path) -> Near:
    """Every wording of the catalog's claims as the index's model codes it."""
    encoder = load_encoder("use", cache_dir)
    assert encoder is not None
    wordings = [w for c in catalog.claims for w in c.wordings]
    if not wordings:
        return Near(encoder.version, ())
    codes = sign_codes(encoder.encode(wordings))
    return Near(encoder.version, tuple(tuple(int(word) for word in row) for row in codes))
