"""The archive's terms (archive/terms.py): a focused re-match looks up the articles where a
claim's terms stand within two adjacent sentences, as every quote the matcher finds does,
and scans the texts of the articles whose terms are not stored for their text."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwatch.archive.terms import index_terms, pending_terms
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.detector import DetectorSpec
from claimwatch.matching.focus import focus_terms
from claimwatch.store.connection import connect, write
from claimwatch.store.migrations import apply_migrations
from claimwatch.store.rematch import select_stored
from claimwatch.store.sentence_near import Near
from claimwatch.store.warehouse_sql import migrations_dir
from tests.test_archive import FILLER, store_articles

WAR = "where-nato-goes-war-is-most-likely"
# The words of WAR's wording in the article, each sentences away from the others.
SPREAD = "http://f.example/spread"
# A near-quote of COST across a line of page furniture, which the matcher does not read:
# neither half holds half of the wording's weight.
COST = "china-cannot-enable-war-without-cost"
ACROSS_FURNITURE = "http://f.example/furniture"


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


def mark_indexed(con):  # type: ignore[no-untyped-def]
    """Every article covered by a sentence index of model "m" (as Near("m", ...) asks)."""
    con.execute(
        "INSERT INTO indexed_articles SELECT url, content_sha256, 'm', 1, now() FROM articles"
    )


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
    apart = f"Where is the money? {FILLER}It goes on. {FILLER}War seems likely. {FILLER}"
    furniture = (
        f"{FILLER}China cannot enable the largest war in Europe in recent\n"
        "Related: our coverage of the summit\n"
        "history without this negatively hitting its interests and reputation."
    )
    english = [
        ("http://f.example/none", "", FILLER),
        (SPREAD, "", apart),
        (ACROSS_FURNITURE, "", furniture),
    ]
    store_articles(db, english, language="en")
    return db


def found_by_the_matcher(db: Path, catalog: Catalog, focus: tuple[str, ...]) -> set[str]:
    """The articles where the fuzzy matcher, looking for the claims `focus` names,
    confirms one."""
    detector = DetectorSpec(catalog, focus=focus).build()
    with connect(db, read_only=True) as con:
        articles = con.execute("SELECT url, title, text FROM articles").fetchall()
    return {
        url
        for url, title, text in articles
        if detector.detect(url, text, title=title or None, meaning=False).matches
    }


def test_stored_terms_choose_every_article_where_a_quote_can_stand(
    lake: Path, catalog: Catalog
) -> None:
    claims = [(claim.id,) for claim in catalog.claims]
    claims.append(tuple(claim.id for claim in catalog.claims))
    focuses = [focus_terms(catalog, claim) for claim in claims]
    assert all(focuses) and len(focuses[-1].terms) > 128  # type: ignore[union-attr]
    # Without a sentence index an article holding any term is read; with one that covers
    # every article, one holding a wording's share of its weight.
    write(lake, "index failed", mark_indexed)
    nears = [None, Near("m")]
    chosen = [(f, n) for f in focuses for n in nears if f is not None]
    scanned = [select_stored(lake, focus, near) for focus, near in chosen]
    assert all(scanned) and pending_terms(lake) > 0
    stats = index_terms(lake, batch=7)  # several transactions
    assert stats.articles == pending_terms(lake) + stats.articles and pending_terms(lake) == 0
    looked_up = [select_stored(lake, focus, near) for focus, near in chosen]
    # Holding a term is the same looked up as scanned; a share, looked up, must stand in
    # two adjacent sentences: fewer articles, among them every one a quote stands in.
    assert looked_up[::2] == scanned[::2]
    for claim, scan, lookup in zip(claims, scanned[1::2], looked_up[1::2], strict=True):
        assert found_by_the_matcher(lake, catalog, claim) <= lookup.keys() <= scan.keys()
    war = claims.index((WAR,))
    assert SPREAD in scanned[2 * war + 1] and SPREAD not in looked_up[2 * war + 1]
    assert ACROSS_FURNITURE in found_by_the_matcher(lake, catalog, (COST,))
    # Run again, nothing is left to store, and nothing is stored twice.
    assert index_terms(lake).articles == 0
    with connect(lake, read_only=True) as con:
        twice = con.execute(
            "SELECT count(*) FROM (SELECT article_url, sentence, term FROM sentence_terms"
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
            con.execute("INSERT INTO sentence_terms VALUES ('http://f.example/none', 0, ?)", [term])

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
            "SELECT list(term) FROM sentence_terms WHERE article_url = 'http://f.example/yo'"
        ).fetchone()
    assert yo is not None and "nato" in yo[0] and "елки" not in yo[0]


def test_each_stored_term_counts_once(lake: Path, catalog: Catalog) -> None:
    where = "http://f.example/where"
    store_articles(lake, [(where, "", "This is where it happens. " + FILLER)], language="en")
    index_terms(lake)

    write(lake, "index failed", mark_indexed)
    focus = focus_terms(catalog, (WAR,))
    assert focus is not None
    near = Near("m")
    chosen = select_stored(lake, focus, near)
    quoted = [url for url, _, text in wordings_as_articles(catalog)["en"] if "NATO goes" in text]
    assert quoted and set(quoted) <= chosen.keys()
    assert where not in chosen  # "where" alone: a third of the wording's weight
    # Its terms stored twice (two rows of one URL, say) weigh no more.
    write(lake, "copy failed", lambda con: con.execute(
        "INSERT INTO sentence_terms SELECT * FROM sentence_terms WHERE article_url = ?", [where]
    ))  # fmt: skip
    assert where not in select_stored(lake, focus, near)


def test_a_page_sharing_only_small_words_with_a_translation_is_not_read(
    lake: Path, catalog: Catalog
) -> None:
    """A German page about grilling held "wo", "die", "ist" and "am": half of the German
    wording's weight while function words counted, and a re-match read it for quotes."""
    review = "http://f.example/review"
    text = "Wo die Hitze am größten ist, grillt das Steak am schnellsten. " + FILLER
    store_articles(lake, [(review, "", text)], language="de")
    index_terms(lake)
    write(lake, "index failed", mark_indexed)
    focus = focus_terms(catalog, (WAR,))
    assert focus is not None
    chosen = select_stored(lake, focus, Near("m"))
    german = [u for u, _, t in wordings_as_articles(catalog)["en"] if "nato hingeht" in t.lower()]
    assert german and set(german) <= chosen.keys()
    assert review not in chosen
