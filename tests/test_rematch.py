"""Re-matching stored text after a catalog change, under Prefect's test harness."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

from claimwatch.matching.catalog import load_catalog
from claimwatch.matching.detector import DetectorSpec
from claimwatch.store.connection import connect
from claimwatch.store.rematch import iter_stored_texts
from tests.conftest import ROOT, SEEDS, write_sources


@pytest.fixture(scope="module")
def flows(prefect_harness: None) -> Iterator[dict[str, Any]]:
    yield {
        name: load_flow_from_entrypoint(f"{ROOT / 'flows' / name}.py:{name}")
        for name in ("monitor", "rematch")
    }


def _pairs(db: Path) -> set[tuple[str, str]]:
    with connect(db, read_only=True) as con:
        return set(con.execute("SELECT article_url, claim_id FROM matches").fetchall())


def _sample_without_a_claim(
    sample_url: str, tmp_path: Path
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The offline sample as a source, and the seed catalog less one claim the sample
    repeats (to be added back), with that claim."""
    sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
    data = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))
    claim = next(c for c in data["claims"] if c["id"] == "ukraine-today-asia-tomorrow")
    data["claims"].remove(claim)
    return sources, data, claim


def test_catalog_change_is_applied_without_refetching(
    flows: dict[str, Any], sample_url: str, tmp_path: Path
) -> None:
    sources, data, dropped = _sample_without_a_claim(sample_url, tmp_path)
    # Make one kept claim strict enough to lose its near-quotes.
    strict = next(c for c in data["claims"] if c["id"] == "wherever-nato-shows-up-turmoil-follows")
    claims = tmp_path / "claims.yaml"
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "w.duckdb"

    flows["monitor"](sources=str(sources), claims=str(claims), db=str(db))
    before = _pairs(db)
    assert not any(c == "ukraine-today-asia-tomorrow" for _, c in before)
    near = {(u, c) for u, c in before if c == strict["id"]}
    assert len(near) == 2

    data["claims"].append(dropped)
    strict["threshold"] = 99.0
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with connect(db, read_only=True) as con:
        articles_before = con.execute("SELECT count(*) FROM articles").fetchone()
    stats = flows["rematch"](claims=str(claims), db=str(db))

    after = _pairs(db)
    added = after - before
    assert {c for _, c in added} == {"ukraine-today-asia-tomorrow"}
    assert stats.matches_new == len(added) == 2
    lost = before - after
    assert len(lost) == 1 and lost <= near  # the 92.5 near-quote; the exact quote stays
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == articles_before
        runs = con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()
    assert runs[-1] == ("rematch",)

    again = flows["rematch"](claims=str(claims), db=str(db))
    assert again.matches_new == 0
    assert _pairs(db) == after


def test_a_rematch_for_claims_just_added_reads_and_changes_only_theirs(
    flows: dict[str, Any], sample_url: str, tmp_path: Path
) -> None:
    sources, data, added = _sample_without_a_claim(sample_url, tmp_path)
    claims = tmp_path / "claims.yaml"
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    flows["monitor"](sources=str(sources), claims=str(claims), db=str(db))
    before = _pairs(db)

    data["claims"].append(added)
    # An edit that a full re-match would apply (a near-quote lost), and this one must not.
    strict = next(c for c in data["claims"] if c["id"] == "wherever-nato-shows-up-turmoil-follows")
    strict["threshold"] = 99.0
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog = load_catalog(claims)
    spec = DetectorSpec(catalog, focus=(added["id"],))
    read = [t for batch in iter_stored_texts(db, 100, spec.focus_terms()) for t in batch]
    stats = flows["rematch"](claims=str(claims), db=str(db), only=[added["id"]])

    after = _pairs(db)
    assert before <= after  # nothing of the other claims removed
    assert {c for _, c in after - before} == {added["id"]}
    assert stats.matches_new == len(after - before) == 2
    with connect(db, read_only=True) as con:
        stored = con.execute("SELECT count(*), count(*) FILTER (language = 'fr') FROM articles")
        total, french = stored.fetchone()
    # Only the articles naming one of its terms, and those in another language, are read.
    assert french >= 1 and len(read) < total
    assert {u for u, c in after if c == added["id"]} <= {t.url for t in read}
