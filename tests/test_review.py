"""Review of suggestions against a real warehouse: suggest, confirm, reject, learn."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.detector import Detector
from claimwatch.matching.encoder import Encoder, load_encoder
from claimwatch.records import Article, Suggestion
from claimwatch.store.connection import connect
from claimwatch.store.rematch import read_decided
from tests.commands import claimwatch
from tests.test_digest import write_config
from tests.warehouses import SOURCES, article, stats, write_pass

CACHE = Path(os.environ["CLAIMWATCH_CACHE_DIR"])
CATALOG = Catalog.model_validate(
    {
        "claims": [
            {"id": "where-nato-goes", "text": "Where NATO goes, war is most likely"},
            {"id": "ukraine-today", "text": "Ukraine today, Asia tomorrow"},
            {"id": "china-enabler", "text": "China is a decisive enabler of Russia's war"},
        ]
    }
)
# Per-claim suggest thresholds (cosine x 100), so the test does not follow the default's tuning.
CATALOG = CATALOG.model_copy(
    update={
        "claims": tuple(c.model_copy(update={"suggest_threshold": 20.0}) for c in CATALOG.claims)
    }
)
RESTATED_WAR = (
    "State television told viewers that wherever NATO expands, a war tends to break out soon after."
)
RESTATED_ASIA = "A columnist argued that what Ukraine faces now, East Asia could face next year."


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    loaded = load_encoder("use", CACHE)
    assert loaded is not None
    return loaded


def detect(detector: Detector, *articles: Article) -> list:
    return [detector.detect(a.url, a.text, title=a.title) for a in articles]


def store_pass(
    db: Path, run_id: str, day: int, articles: list[Article], suggestions: list[Suggestion]
) -> None:
    """A pass of the test catalog that stored `articles` and made `suggestions`."""
    write_pass(
        db,
        stats=stats(run_id, day),
        sources=SOURCES,
        catalog=CATALOG,
        articles=articles,
        matches=[],
        suggestions=suggestions,
    )


def pending(db: Path) -> list[dict]:
    listed = claimwatch("review", "--format", "json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_suggest_confirm_reject_and_learn(tmp_path: Path, encoder: Encoder) -> None:
    db = tmp_path / "w.duckdb"
    war = article(
        "war",
        "Wire",
        1,
        f"Ministers met in Brussels on Tuesday. {RESTATED_WAR} No statement followed.",
    )
    asia = article(
        "asia",
        "State Daily",
        1,
        f"Diplomats gathered in Tokyo. {RESTATED_ASIA} Talks resume in March.",
        source="state-daily",
    )
    detector = Detector(CATALOG, encoder=encoder, cache_dir=CACHE)
    found = detect(detector, war, asia)
    assert [m for f in found for m in f.matches] == []  # restatements: no fuzzy match
    suggestions = [s for f in found for s in f.suggestions]
    assert {(s.article_url, s.claim_id) for s in suggestions} == {
        (war.url, "where-nato-goes"),
        (asia.url, "ukraine-today"),
    }
    store_pass(db, "p1", 1, [war, asia], suggestions)

    listed = pending(db)
    assert {(r["article_url"], r["claim_id"], r["matched_text"]) for r in listed} == {
        (war.url, "where-nato-goes", RESTATED_WAR),
        (asia.url, "ukraine-today", RESTATED_ASIA),
    }
    assert all(
        {"id", "score", "outlet", "claim_text", "snippet", "suggested_at"} <= set(r) for r in listed
    )
    ids = {r["claim_id"]: r["id"] for r in listed}
    # Why, in words: the verifier's evidence, kept with the suggestion and shown whole.
    reason = next(r["reason"] for r in listed if r["claim_id"] == "where-nato-goes")
    assert reason.startswith("close in meaning (0.") and "; verifier 0." in reason
    blocks = claimwatch("review", "--db", str(db), env={"COLUMNS": "300"}).stdout
    assert f"\nWhy       {reason}\n" in blocks

    # A wrong id records nothing, not even the good one beside it.
    wrong = claimwatch("review", "confirm", ids["where-nato-goes"], "nope", "--db", str(db))
    assert wrong.returncode == 1 and "no pending suggestion 'nope'" in wrong.stderr
    assert len(pending(db)) == 2

    confirmed = claimwatch(
        "review",
        "confirm",
        ids["where-nato-goes"],
        "--note",
        "same claim",
        "--reviewer",
        "ana",
        "--db",
        str(db),
    )
    assert confirmed.returncode == 0, confirmed.stderr
    rejected = claimwatch(
        "review",
        "reject",
        ids["ukraine-today"],
        "--note",
        "other claim",
        "--reviewer",
        "ben",
        "--db",
        str(db),
    )
    assert rejected.returncode == 0, rejected.stderr
    assert pending(db) == []
    with connect(db, read_only=True) as con:
        matches = con.execute(
            "SELECT article_url, claim_id, matched_text FROM claim_matches"
        ).fetchall()
        reviews = con.execute(
            "SELECT claim_id, decision, reviewer, note FROM reviews ORDER BY claim_id"
        ).fetchall()
    assert matches == [(war.url, "where-nato-goes", RESTATED_WAR)]
    assert reviews == [
        ("ukraine-today", "rejected", "ben", "other claim"),
        ("where-nato-goes", "confirmed", "ana", "same claim"),
    ]

    # The confirmed one goes into the next digest.
    config = write_config(tmp_path / "d.yaml", [{"name": "out", "kind": "stdout"}])
    digest = claimwatch(
        "digest",
        "--config",
        str(config),
        "--db",
        str(db),
        "--dry-run",
        "--since",
        "3650d",
        env=dict(os.environ),
    )
    assert digest.returncode == 0, digest.stderr
    assert RESTATED_WAR in digest.stdout and RESTATED_ASIA not in digest.stdout

    # The next pass learns: the rejected sentence, barely changed, is not suggested again for
    # its claim; the confirmed one, quoted elsewhere, is now a match of its claim.
    learned = read_decided(db)
    detector = Detector(
        CATALOG.with_wordings(learned.confirmed),
        encoder=encoder,
        cache_dir=CACHE,
        vetoes=learned.rejected,
    )
    echo = article(
        "echo",
        "Wire",
        2,
        f"Officials met again. {RESTATED_ASIA.replace('now', 'today')} The talks went on.",
    )
    quote = article("quote", "Wire", 2, f"A second outlet wrote: {RESTATED_WAR}")
    again = detect(detector, asia, echo, quote)
    assert [s.claim_id for s in again[0].suggestions + again[1].suggestions] == []
    assert [m.claim_id for m in again[2].matches] == ["where-nato-goes"]
    # Decisions are a labelled set for `claimwatch eval`: the confirmed sentence is found
    # again (the catalog's own threshold suggests it), the rejected one counts as suggested.
    catalog_file, empty = tmp_path / "claims.yaml", tmp_path / "empty.jsonl"
    catalog_file.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_defaults=True)))
    empty.write_text("")
    evaluated = claimwatch(
        "eval",
        "--claims",
        str(catalog_file),
        "--data",
        str(empty),
        "--articles",
        str(empty),
        "--reviews",
        "--db",
        str(db),
    )
    assert evaluated.returncode == 0, evaluated.stderr
    reviewed = evaluated.stdout[evaluated.stdout.index("Reviews (") :]
    assert "2 decisions" in reviewed
    assert re.search(r"^reviewed\s+1\s+0\.000\s+1\.000$", reviewed, flags=re.MULTILINE)
    assert "suggestion precision 0.500" in reviewed
    # Stored again, the reviewed article's suggestion does not come back.
    store_pass(db, "p2", 2, [asia], suggestions)
    assert pending(db) == []


def test_decisions_from_a_spreadsheet(tmp_path: Path, encoder: Encoder) -> None:
    db = tmp_path / "w.duckdb"
    war = article("war", "Wire", 1, f"Ministers met. {RESTATED_WAR}")
    asia = article("asia", "Wire", 1, f"Diplomats met. {RESTATED_ASIA}")
    detector = Detector(CATALOG, encoder=encoder, cache_dir=CACHE)
    suggestions = [s for f in detect(detector, war, asia) for s in f.suggestions]
    store_pass(db, "p1", 1, [war, asia], suggestions)
    exported = claimwatch("review", "--format", "csv", "--db", str(db))
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["decision"] for r in rows] == ["", ""] and {"id", "claim_id", "note"} <= set(rows[0])
    rows[0]["decision"], rows[0]["note"] = "confirm", "seen it"
    sheet = tmp_path / "decided.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    assert [r["id"] for r in pending(db)] == [rows[1]["id"]]  # the blank one waits
    rows[1]["decision"] = "maybe"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[1:])
    bad = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert bad.returncode == 1
    assert (
        bad.stderr.strip()
        == f"Error: {sheet}: line 2: decision 'maybe': use confirm, reject or leave it blank"
    )


def test_an_empty_or_old_warehouse_has_nothing_to_review(tmp_path: Path) -> None:
    missing = claimwatch("review", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 1 and "none.duckdb" in missing.stderr
    db = tmp_path / "w.duckdb"
    store_pass(db, "p1", 1, [], [])
    assert (
        claimwatch("review", "--db", str(db)).stdout.strip()
        == "no suggestions are waiting for review"
    )
