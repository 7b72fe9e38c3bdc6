"""The archive's words found at the start of a word, in every script: the search's
patterns (run by DuckDB's RE2), its highlighting, and the echoes' prefilter."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from claimwatch.matching.catalog import Catalog, Claim
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.echoes import find_echoes
from claimwatch.web.highlight import word_pattern
from claimwatch.web.search_query import parse_terms, term_pattern
from tests.warehouses import SOURCES, article, stats, write_pass

TEXTS = {
    "en": "The software vendor denied any link to the war in Ukraine.",
    "ru": "Россия обвинила НАТО в эскалации, заявил представитель министерства.",
    "el": "Η Ελλάδα στηρίζει το ΝΑΤΟ στην περιοχή.",
    "zh": "北约在亚太地区的扩张引发担忧。",
}


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("war", "en", True),
        ("soft", "en", True),
        ("ware", "en", False),  # inside "software": not a word of its own
        ("нато", "ru", True),
        ("ато", "ru", False),
        ('"обвинила нато"', "ru", True),
        ("нато", "el", False),
        ("νατο", "el", True),
        ("亚太", "zh", True),  # no spaces between words: found anywhere
    ],
)
def test_a_term_is_found_where_a_word_starts_in_any_script(
    query: str, text: str, found: bool
) -> None:
    (term,) = parse_terms(query)
    con = duckdb.connect()
    matched = con.execute("SELECT regexp_matches(?, ?)", [TEXTS[text], term_pattern(term)])
    assert matched.fetchone() == (found,)
    # The snippets mark what the search found, and nothing it did not.
    pattern = word_pattern([term])
    assert pattern is not None and bool(pattern.search(TEXTS[text])) is found


def test_a_russian_claims_echoes_are_found(tmp_path: Path) -> None:
    sentence = "Россия обвинила НАТО в эскалации конфликта в Азии"
    stored = article("ru-1", "Вестник", 1, f"Вчера в Москве. {sentence}. Конец.")
    unrelated = article("ru-2", "Вестник", 2, "Погода в Москве была тёплой и солнечной.")
    catalog = Catalog(claims=(Claim(id="nato-escalation-asia", text=sentence),))
    db = tmp_path / "lake"
    write_pass(
        db,
        stats=stats("r1", 1),
        sources=SOURCES,
        catalog=catalog,
        articles=[stored, unrelated],
        matches=[],
    )
    config = WorkbenchConfig(db=db, claims=tmp_path / "claims.yaml")
    echoes = find_echoes(config, catalog.claims[0])
    assert [e["article_url"] for e in echoes] == [stored.url]
    assert echoes[0]["matched_text"].lower().startswith("россия обвинила нато")
