"""What a focused re-match reads, chosen in a process of its own (flows/rematch.py), apart
from the workers, which need none of this."""

from __future__ import annotations

from pathlib import Path

from claimwatch.archive.near import near_articles
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import archive_encoder
from claimwatch.matching.focus import FocusTerms
from claimwatch.store.rematch import select_stored
from claimwatch.store.sentence_near import Near


def choose_articles(
    db: Path, focus: Catalog, terms: FocusTerms, encoder: tuple[str, Path], wait: float
) -> dict[str, bool]:
    """The articles a re-match for the claims of `focus` reads (store/rematch.py's
    select_stored), with the sentence index's answer when there is one (`encoder`: the
    CLAIMWATCH_ENCODER setting and the cache folder)."""
    return select_stored(db, terms, _near(db, focus, encoder, wait), wait=wait)


def _near(db: Path, focus: Catalog, encoder: tuple[str, Path], wait: float) -> Near | None:
    """The index's answer; its model is let go before the texts are read."""
    model = archive_encoder(*encoder)
    return near_articles(db, focus, model, wait=wait) if model is not None else None
