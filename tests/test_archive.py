"""The archive searched by meaning: stored sentences indexed, then found in any language."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from prefect.flows import load_flow_from_entrypoint

from claimwatch.archive import search as archive_search
from claimwatch.archive.codes import cosines, hamming, quantized, sign_codes
from claimwatch.archive.index import index_archive, pending
from claimwatch.archive.near import near_articles
from claimwatch.archive.search import search
from claimwatch.archive.sentences import indexed_sentences
from claimwatch.archive.terms import pending_terms
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.detector import DetectorSpec
from claimwatch.matching.encoder import Encoder, load_encoder
from claimwatch.matching.focus import FocusTerms
from claimwatch.store import rematch as stored_texts
from claimwatch.store.connection import connect, write
from claimwatch.store.migrations import apply_migrations
from claimwatch.store.rematch import (
    count_stored_texts,
    iter_selected_texts,
    iter_stored_texts,
    select_stored,
)
from claimwatch.store.sentence_near import Near
from claimwatch.store.warehouse_sql import migrations_dir
from tests.commands import claimwatch
from tests.conftest import ROOT

CACHE = Path(os.environ["CLAIMWATCH_CACHE_DIR"])
FILLER = (
    "The committee met on Tuesday to discuss the budget for the coming year. "
    "Several members asked for more time to read the documents before the vote. "
)
# (url, title, text) in English; each holds one sentence a query below restates.
ARTICLES = [
    (
        "http://a.example/nato",
        "Commentary on the summit",
        FILLER + "Wherever NATO goes, war is most likely to follow. " + FILLER,
    ),
    (
        "http://b.example/rice",
        "Harvest report",
        FILLER + "Farmers expect the rice harvest to fall by a third after the floods. " + FILLER,
    ),
    (
        "http://c.example/chips",
        "Trade news",
        FILLER + "The government banned the export of advanced computer chips to China. " + FILLER,
    ),
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    loaded = load_encoder("use", CACHE)
    assert loaded is not None
    return loaded


def store_articles(db: Path, articles: list[tuple[str, str, str]], language: str = "en") -> None:
    rows = pa.table(
        {
            "url": [a[0] for a in articles],
            "title": [a[1] for a in articles],
            "text": [a[2] for a in articles],
            "sha": [str(hash(a[2])) for a in articles],
            "language": [language] * len(articles),
        }
    )

    def insert(con):  # type: ignore[no-untyped-def]
        con.register("new_articles", rows)
        con.execute(
            """DELETE FROM articles WHERE url IN (SELECT url FROM new_articles);
               INSERT INTO articles (url, final_url, source, is_sample, outlet, title, text,
                   language, fetched_at, content_sha256, run_id)
               SELECT url, url, 'test', false, split_part(url, '/', 3), title, text, language,
                   $now, sha, 'test' FROM new_articles""",
            {"now": datetime(2026, 12, 1)},
        )
        con.unregister("new_articles")

    write(db, "store failed", insert)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "lake"
    with connect(db) as con:
        apply_migrations(con, migrations_dir())
    store_articles(db, ARTICLES)
    return db


def test_sign_bits_and_int8_keep_the_cosine(encoder: Encoder) -> None:
    vectors = encoder.encode(["Where NATO goes, war follows.", "Rice prices rose again."])
    components, scales = quantized(vectors)
    back = cosines([row.tobytes() for row in components], scales, vectors[0])
    assert abs(back[0] - 1.0) < 0.01 and abs(back[1] - float(vectors[1] @ vectors[0])) < 0.01
    codes = sign_codes(vectors)
    assert codes.shape == (2, 8) and hamming(codes, codes[0]).tolist()[0] == 0
    assert hamming(codes, codes[0])[1] > 100


def test_the_sentences_an_article_is_indexed_by() -> None:
    text = "Home | World | Asia\n\nShort one.\n" + FILLER + "北约走到哪里，哪里就最有可能发生战争。"
    found = indexed_sentences("Where NATO goes, war follows", text)
    assert found[0].field == "title" and found[0].text == "Where NATO goes, war follows"
    sentences = [s.text for s in found[1:]]
    assert "Short one." not in sentences and "北约走到哪里，哪里就最有可能发生战争。" in sentences
    assert all(text[s.start : s.end] == s.text for s in found[1:])


QUERIES = [
    ("Wo die NATO auftaucht, folgt meistens Krieg.", "http://a.example/nato"),
    ("Фермеры ожидают, что урожай риса сократится на треть после наводнения.", "http://b.example/rice"),
    ("政府禁止向中国出口先进的计算机芯片。", "http://c.example/chips"),
    ("Where the alliance expands, conflict is likely", "http://a.example/nato"),
]  # fmt: skip


def test_search_finds_the_sentence_in_any_language(warehouse: Path, encoder: Encoder) -> None:
    assert pending(warehouse, encoder.version) == 3
    stats = index_archive(warehouse, encoder)
    assert (
        stats.articles == 3
        and stats.sentences >= 3 * 5
        and pending(warehouse, encoder.version) == 0
    )
    for query, url in QUERIES:
        hits = search(warehouse, encoder, query, limit=3)
        assert hits[0].article_url == url, (query, hits[0])
        assert hits[0].field == "text" and "filler" not in hits[0].sentence
        assert hits[0].similarity > hits[1].similarity
    # Indexing again has nothing to do.
    assert index_archive(warehouse, encoder).articles == 0


def test_search_and_near_read_the_index_a_range_at_a_time(
    warehouse: Path, encoder: Encoder, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory holds one range of sentence numbers' sign bits (and the nearest so far):
    read in ranges of 4, the answers are the same as read at once."""
    index_archive(warehouse, encoder)
    monkeypatch.setattr(archive_search, "CANDIDATES", 5)  # fewer than a range or two hold
    focus = ["where-nato-goes-war-is-most-likely"]
    whole = [search(warehouse, encoder, q, limit=3) for q, _ in QUERIES]
    near = near_articles(warehouse, catalog, focus, encoder, CACHE)
    monkeypatch.setattr(archive_search, "SCAN", 4)
    # The best hit (the filler sentences, alike in every article, tie among themselves).
    assert [search(warehouse, encoder, q, limit=3)[0] for q, _ in QUERIES] == [
        hits[0] for hits in whole
    ]
    assert near_articles(warehouse, catalog, focus, encoder, CACHE) == near
    assert near.urls == ("http://a.example/nato",)


def test_an_index_stopped_keeps_whole_batches_and_goes_on(
    warehouse: Path, encoder: Encoder
) -> None:
    asked = iter([False, True])
    stats = index_archive(warehouse, encoder, batch=1, stop=lambda: next(asked))
    assert stats.stopped and stats.articles == 1 and stats.left == 2
    assert pending(warehouse, encoder.version) == 2
    assert index_archive(warehouse, encoder, batch=1).articles == 2
    # An article whose text changed is indexed again, its old sentences gone.
    changed = ("http://b.example/rice", "Harvest report", FILLER + "Wheat exports doubled.")
    store_articles(warehouse, [changed])
    assert pending(warehouse, encoder.version) == 1
    index_archive(warehouse, encoder)
    hits = search(warehouse, encoder, "rice harvest falls after floods", limit=10)
    assert all("rice" not in h.sentence for h in hits)
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT count(*) FROM sentence_index WHERE article_url = 'http://b.example/rice'"
        ).fetchone()
        numbers = con.execute(
            "SELECT count(*), count(DISTINCT sentence_no), max(sentence_no) FROM sentence_index"
        ).fetchone()
    assert rows is not None and rows[0] == len(indexed_sentences(*changed[1:]))
    # Numbered in the order written, batch after batch, never twice.
    assert numbers is not None and numbers[0] == numbers[1] and numbers[2] >= numbers[0]


def test_search_command_shows_the_claims_found_in_the_sentence(warehouse: Path) -> None:
    sentence = "Wherever NATO goes, war is most likely to follow."
    start = ARTICLES[0][2].index(sentence)

    def match(con):  # type: ignore[no-untyped-def]
        con.execute(
            """INSERT INTO matches VALUES ('http://a.example/nato', 'where-nato-goes', 95, 'text',
                   'Where NATO goes, war is most likely', $s, $start, $end, $s, $now, 'test')""",
            {"s": sentence, "start": start, "end": start + len(sentence), "now": datetime.now()},
        )

    write(warehouse, "match failed", match)
    empty = claimwatch("search", "  ", "--db", str(warehouse))
    assert empty.returncode == 2 and empty.stderr.strip().endswith(
        "Error: TEXT is empty: give the words or the sentence to look for"
    )
    unindexed = claimwatch("search", "NATO bringt Krieg", "--db", str(warehouse))
    assert unindexed.returncode == 0 and "3 stored articles not indexed yet" in unindexed.stderr
    indexed = claimwatch("index", "--db", str(warehouse))
    assert indexed.returncode == 0 and pending_terms(warehouse) == 0
    assert f"stored the terms of {len(ARTICLES)} of {len(ARTICLES)} articles" in indexed.stderr
    found = claimwatch(
        "search", "NATO bringt Krieg", "--db", str(warehouse), "--format", "json", "--limit", "2"
    )
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert rows[0]["sentence"] == sentence and rows[0]["claims"] == ["where-nato-goes"]
    assert rows[0]["outlet"] == "a.example" and not rows[1]["claims"]
    assert 0 < rows[1]["similarity"] < rows[0]["similarity"] <= 100
    assert np.isfinite(rows[0]["similarity"])


def test_the_index_flow_catches_up_with_the_archive(
    prefect_harness: None, warehouse: Path, encoder: Encoder
) -> None:
    index = load_flow_from_entrypoint(f"{ROOT / 'flows' / 'index.py'}:index")
    assert pending_terms(warehouse) == len(ARTICLES)
    assert index(db=str(warehouse), limit=2) == 2
    assert pending(warehouse, encoder.version) == 1
    assert pending_terms(warehouse) == 0  # the terms of all, first: they cost little
    assert index(db=str(warehouse)) == 1 and pending(warehouse, encoder.version) == 0


def test_a_focused_rematch_reads_what_the_index_and_the_claims_terms_let_through(
    warehouse: Path, encoder: Encoder, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    german = [
        ("http://d.example/krieg", "Kommentar",
         "Wo die NATO hingeht, ist Krieg am wahrscheinlichsten, schreibt die Zeitung. "
         "Die Leser sollen sich darauf einstellen."),
        ("http://d.example/kinder", "Kindersitze", "Der ADAC hat zwanzig Kindersitze getestet. "
         "Drei Modelle fielen wegen Schadstoffen im Bezug durch."),
    ]  # fmt: skip
    store_articles(warehouse, german, language="de")
    english = [
        ("http://e.example/flag", "Commentary", FILLER + "Once the Atlantic alliance arrives"
         " in a region, war is the most probable consequence. " + FILLER),
        # Near the claim in meaning (cosine 0.54), but nearer eight others.
        ("http://e.example/consensus", "Commentary", FILLER + "NATO has no consensus on its"
         " role in the Indo-Pacific, and war there is unlikely. " + FILLER),
        ("http://e.example/budget", "Budgets", FILLER + "NATO ministers will meet in"
         " Brussels next week. " + FILLER),
    ]  # fmt: skip
    store_articles(warehouse, english)
    index_archive(warehouse, encoder)
    store_articles(
        warehouse,
        [("http://d.example/neu", "Neu", "Ein neuer Artikel, noch nicht indiziert.")],
        "de",
    )
    spec = DetectorSpec(catalog, focus=("where-nato-goes-war-is-most-likely",))
    near = near_articles(warehouse, catalog, spec.focus, encoder, CACHE)
    terms = spec.focus_terms()
    assert terms is not None
    read = {t.url for batch in iter_stored_texts(warehouse, 10, terms, near) for t in batch}
    without = {
        t.url for batch in iter_stored_texts(warehouse, 10, spec.focus_terms()) for t in batch
    }
    assert "http://d.example/krieg" in read and "http://d.example/neu" in read
    assert "http://d.example/kinder" not in read and "http://d.example/kinder" in without
    assert "http://a.example/nato" in read and "http://b.example/rice" not in read
    # In English too: a restatement short of the claim's terms is read, as the detector
    # suggests it; a sentence whose best claims are others is not, nor a mere mention.
    terms_alone = select_stored(warehouse, terms, Near(encoder.version))
    assert "http://e.example/flag" in read and "http://e.example/flag" not in terms_alone
    assert "http://e.example/consensus" not in read
    detector = DetectorSpec(catalog, encoder="use", cache_dir=CACHE).build()
    found = {
        url: {s.claim_id for s in detector.detect(url, text, title=title).suggestions}
        for url, title, text in english[:2]
    }
    assert found["http://e.example/flag"] == {spec.focus[0]}
    assert spec.focus[0] not in found["http://e.example/consensus"]
    # The re-match's detector embeds only the sentences the index found near.
    url, title, text = english[0]
    restated = text.index("Once the Atlantic")
    assert [(f, a) for f, a, _ in near.sentences[url]] == [("text", restated)]
    focused = DetectorSpec(catalog, encoder="use", cache_dir=CACHE, focus=spec.focus).build()
    _, embedded, _, _ = focused.candidates(url, text, title=title, near=near.sentences[url])
    assert [(s.field, s.start) for s in embedded] == [("text", restated)]
    suggested = focused.detect(url, text, title=title, near=near.sentences[url]).suggestions
    assert [s.claim_id for s in suggested] == [spec.focus[0]]
    elsewhere = (("text", 0, len(FILLER)), ("title", 0, len(title)))
    assert not focused.detect(url, text, title=title, near=elsewhere).suggestions
    assert "http://e.example/budget" not in read and "http://e.example/budget" in without
    assert count_stored_texts(warehouse, spec.focus_terms(), near) == len(read)
    # Chosen once by a re-match, with whether to look for meaning: near, or not indexed.
    selected = select_stored(warehouse, terms, near)
    assert selected.keys() == read
    assert selected["http://d.example/krieg"] and selected["http://d.example/neu"]
    # A scan on fewer threads (the chooser sets its own) makes the same choice.
    threads = "SELECT current_setting('threads')"
    with connect(warehouse, read_only=True) as con:
        before = con.execute(threads).fetchone()
    try:
        assert select_stored(warehouse, terms, near, threads=1) == selected
        with connect(warehouse, read_only=True) as con:
            assert con.execute(threads).fetchone() == (1,)
    finally:  # the setting is the process's: give it back to the other tests
        with connect(warehouse, read_only=True) as con:
            con.execute(f"SET threads = {before[0]}")
    # Whole batches, whether the texts come in one query or in several.
    whole = [2] * (len(selected) // 2) + [1] * (len(selected) % 2)
    for read_at_once in (stored_texts.READ_AT_ONCE, 3, 1):
        monkeypatch.setattr(stored_texts, "READ_AT_ONCE", read_at_once)
        batches = list(iter_selected_texts(warehouse, 2, selected, near.sentences))
        assert [len(b) for b in batches] == whole
        texts = [t for b in batches for t in b]
        assert sorted((t.url, t.meaning) for t in texts) == sorted(selected.items())
        assert all(t.text for t in texts)
        # Each with its near sentences; an article the index does not cover, any.
        assert {t.url: t.near for t in texts if t.near} == dict(near.sentences)
        assert next(t for t in texts if t.url == "http://d.example/neu").near is None


def test_terms_are_found_in_any_case_and_folded_as_the_matcher_folds_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "lake"
    with connect(db) as con:
        apply_migrations(con, migrations_dir())
    holding = {
        "upper": "THE NATO SUMMIT OPENS TODAY.",
        "eszett": "Die Straße bleibt gesperrt.",  # folded "strasse": the term "strass"
        "cut": "Ein Walzer von Strauß.",  # "strauss" cut at six letters: "straus"
        "capital-yo": "Ёлка стоит на площади.",  # ё folded to е
    }
    lacking = {
        "longer": "Natoire painted the ceiling.",  # "natoir", not "nato"
        "other": "Strauch und Baum.",
        "none": "The treaty was signed long ago.",
    }
    texts = holding | lacking
    store_articles(db, [(f"http://f.example/{k}", "", text) for k, text in texts.items()])
    terms = ("nato", "strass", "straus", "елка")
    focus = FocusTerms(terms, tuple(((term, 1.0),) for term in terms))
    read = {t.url for batch in iter_stored_texts(db, 10, focus) for t in batch}
    assert read == {f"http://f.example/{k}" for k in holding}


def test_a_warehouse_without_the_index_says_so_and_index_migrates_it(warehouse: Path) -> None:
    def unmigrate(con):  # type: ignore[no-untyped-def]
        con.execute("DROP TABLE sentence_index")
        con.execute("DROP TABLE indexed_articles")
        con.execute("DELETE FROM schema_migrations WHERE name LIKE '011_%' OR name LIKE '013_%'")

    write(warehouse, "unmigrate failed", unmigrate)
    refused = claimwatch("search", "NATO", "--db", str(warehouse))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        "lacks 011_sentence_index.sql" in refused.stderr and "claimwatch migrate" in refused.stderr
    )
    assert claimwatch("index", "--db", str(warehouse), "--limit", "1").returncode == 0
    assert claimwatch("search", "NATO", "--db", str(warehouse)).returncode == 0
