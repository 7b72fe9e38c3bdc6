"""The archive's terms (archive/terms.py): a focused re-match looks up the articles holding
a claim's terms, as a scan of every text would find them, and scans only the articles whose
terms are not stored for their text."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwatch.archive.terms import index_terms, pending_terms
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.focus import focus_terms
from claimwatch.store.connection import connect, write
from claimwatch.store.migrations import apply_migrations
from claimwatch.store.rematch import select_stored
from claimwatch.store.warehouse_sql import migrations_dir
from tests.test_archive import FILLER, store_articles

WAR = "where-nato-goes-war-is-most-likely"


def wordings_as_articles(catalog: Catalog) -> dict[str, list[tuple[str, str, str]]]:
    """Articles by language: each wording of each claim in a text of its own, some in
    capitals or split across a title and a text, with English filler around."""
    by_language: dict[str, list[tuple[str, str, str]]] = {}
    for c, claim in enumerate(catalog.claims):
        for w, wording in enumerate(claim.wordings):
            language = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in wording) else "en"
            if any("\u3040" <= ch <= "\u30ff" for ch in wording):
                language = "ja"
            url = f"http://t.example/{c}/{w}"
            text = wording.upper() if w % 3 == 1 else wording
            words = text.split()
            title, body = (" ".join(words[:2]), " ".join(words[2:])) if w % 3 == 2 else ("", text)
            by_language.setdefault(language, []).append((url, title, FILLER + body + " " + FILLER))
    return by_language


@pytest.fixture
def lake(tmp_path: Path, catalog: Catalog) -> Path:
    db = tmp_path / "lake"
    with connect(db) as con:
        apply_migrations(con, migrations_dir())
    for language, articles in wordings_as_articles(catalog).items():
        store_articles(db, articles, language=language)
    folding = [
        ("http://f.example/eszett", "", "Die STRASSE und die Straße: " + FILLER),
        ("http://f.example/yo", "", "Ёлки и ёжики. " + FILLER),
    ]
    store_articles(db, folding, language="de")
    store_articles(db, [("http://f.example/none", "", FILLER)], language="en")
    return db


def test_stored_terms_choose_what_a_scan_of_every_text_chooses(
    lake: Path, catalog: Catalog
) -> None:
    focuses = [focus_terms(catalog, (claim.id,)) for claim in catalog.claims]
    scanned = [select_stored(lake, focus) for focus in focuses if focus is not None]
    assert all(scanned) and pending_terms(lake) > 0
    stats = index_terms(lake, batch=7)  # several transactions
    assert stats.articles == pending_terms(lake) + stats.articles and pending_terms(lake) == 0
    looked_up = [select_stored(lake, focus) for focus in focuses if focus is not None]
    assert looked_up == scanned
    # Run again, nothing is left to store, and nothing is stored twice.
    assert index_terms(lake).articles == 0
    with connect(lake, read_only=True) as con:
        twice = con.execute(
            "SELECT count(*) FROM (SELECT article_url, term FROM article_terms"
            " GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
    assert twice == (0,)


def test_terms_are_looked_up_and_a_changed_text_is_scanned(lake: Path, catalog: Catalog) -> None:
    index_terms(lake)
    focus = focus_terms(catalog, (WAR,))
    assert focus is not None
    chosen = select_stored(lake, focus)
    assert "http://f.example/none" not in chosen
    # Stored terms are believed: given the claim's terms, an article is chosen unread.
    wording = dict(focus.wordings[0])

    def plant(con):  # type: ignore[no-untyped-def]
        for term in wording:
            con.execute("INSERT INTO article_terms VALUES ('http://f.example/none', ?)", [term])

    write(lake, "plant failed", plant)
    assert "http://f.example/none" in select_stored(lake, focus)
    # An article whose text changed since its terms were stored is scanned, as is one
    # stored after: both hold the claim now.
    quoted = FILLER + "Where NATO goes, war is most likely. " + FILLER
    store_articles(lake, [("http://f.example/yo", "", quoted)], language="en")
    store_articles(lake, [("http://f.example/new", "", quoted)], language="en")
    assert pending_terms(lake) == 2
    chosen = select_stored(lake, focus)
    assert {"http://f.example/yo", "http://f.example/new"} <= chosen.keys()
    index_terms(lake)
    assert select_stored(lake, focus) == chosen
    with connect(lake, read_only=True) as con:  # the terms of the older text are gone
        yo = con.execute(
            "SELECT list(term) FROM article_terms WHERE article_url = 'http://f.example/yo'"
        ).fetchone()
    assert yo is not None and "nato" in yo[0] and "елки" not in yo[0]
