"""Deciding through the command line and a decisions sheet: every unknown id named (with the
sheet's line), a sentence holding a lone carriage return round-tripped through
`review --format csv` and `review import`, and `review --claim` refusing an unknown claim;
against a real warehouse and the real CLI."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect
from tests.commands import claimwatch, ids_by_score, pending
from tests.warehouses import SOURCES, article, stats, suggestion_in, write_pass

CATALOG = Catalog.model_validate(
    {
        "claims": [
            {"id": "where-nato-goes", "text": "Where NATO goes, war is most likely"},
            {"id": "ukraine-today", "text": "Ukraine today, Asia tomorrow"},
            {"id": "quiet-claim", "text": "A claim nothing was suggested for"},
        ]
    }
)
# Old word processors and some CMSs end lines with a lone carriage return; no comma or
# quote in it, which would have the cell quoted anyway.
CR_SENTENCE = "State television said\rwherever NATO expands a war follows."
ASIA = "A columnist argued that what Ukraine faces now, East Asia could face next year."
WAR = "Another channel said that wherever NATO expands, a war tends to break out soon."
SEE = "see `claimwatch review` for the pending ids"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three pending suggestions: 70.0 (CR_SENTENCE), 55.0 (ASIA), 40.0 (WAR)."""
    pages = [
        article("cr", "Polar Wire", 3, f"Opening words.\r{CR_SENTENCE}\rClosing words."),
        article("asia", "The Meridian Post", 4, f"Ministers met. {ASIA} Nothing followed."),
        article("war", "State Daily", 5, f"{WAR} Nothing else.", source="state-daily"),
    ]
    suggestions = [
        suggestion_in(pages[0], "where-nato-goes", CR_SENTENCE, 70.0),
        suggestion_in(pages[1], "ukraine-today", ASIA, 55.0),
        suggestion_in(pages[2], "where-nato-goes", WAR, 40.0),
    ]
    path = tmp_path / "w.duckdb"
    write_pass(
        path,
        stats=stats("p1", 7),
        sources=SOURCES,
        catalog=CATALOG,
        articles=pages,
        matches=[],
        suggestions=suggestions,
    )
    return path


def write_sheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("id,decision,note\n" + "".join(f"{i},{d},\n" for i, d in rows), "utf-8")
    return path


def test_every_unknown_id_is_named(db: Path) -> None:
    ids = ids_by_score(db)
    three = claimwatch("review", "reject", ids[40.0], "nope-1", "nope-2", "nope-3", "--db", str(db))
    assert three.returncode == 1
    assert three.stderr.strip() == (
        f"Error: no pending suggestions 'nope-1', 'nope-2', 'nope-3': {SEE}"
    )
    one = claimwatch("review", "confirm", "nope-1", "--db", str(db))
    assert one.stderr.strip() == f"Error: no pending suggestion 'nope-1': {SEE}"
    # Past twenty, the first twenty and how many more, still on one line.
    many = [f"x{n:02}" for n in range(1, 26)]
    long = claimwatch("review", "confirm", *many, "--db", str(db))
    assert long.returncode == 1 and len(long.stderr.strip().splitlines()) == 1
    named = ", ".join(f"'{i}'" for i in many[:20])
    assert long.stderr.strip() == f"Error: no pending suggestions {named} and 5 more: {SEE}"
    assert len(pending(db)) == 3  # nothing recorded


def test_a_sheet_names_the_line_of_an_unknown_id(db: Path, tmp_path: Path) -> None:
    ids = ids_by_score(db)
    sheet = write_sheet(
        tmp_path / "decisions.csv",
        [(ids[70.0], "confirm"), (ids[55.0], ""), ("abc", "reject"), (ids[40.0], "reject")],
    )
    one = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert one.returncode == 1
    assert one.stderr.strip() == f"Error: {sheet}: line 4: no pending suggestion 'abc': {SEE}"
    sheet = write_sheet(
        sheet, [("abc", "confirm"), (ids[70.0], "confirm"), ("", ""), ("def", "reject")]
    )
    two = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert two.stderr.strip() == (
        f"Error: {sheet}: no pending suggestions 'abc' (line 2), 'def' (line 5): {SEE}"
    )
    # The same id decided twice: both lines named, rather than "no pending suggestion".
    sheet = write_sheet(sheet, [(ids[70.0], "confirm"), (ids[55.0], ""), (ids[70.0], "reject")])
    twice = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert twice.stderr.strip() == (
        f"Error: {sheet}: line 4: suggestion '{ids[70.0]}' is decided on line 2 already: "
        "keep one of the two rows"
    )
    assert len(pending(db)) == 3  # nothing recorded


def test_a_carriage_return_survives_the_sheet(db: Path, tmp_path: Path) -> None:
    exported = claimwatch("review", "--format", "csv", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    # Any CSV reader finds three rows of the header's length, the sentence whole.
    rows = list(csv.reader(io.StringIO(exported.stdout, newline="")))
    assert len(rows) == 4 and {len(r) for r in rows} == {len(rows[0])}
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["matched_text"] == CR_SENTENCE and first["decision"] == ""
    # Filled in as with a text editor: the first row's empty decision and note.
    lines = exported.stdout.split("\n")
    second_row = next(n for n, line in enumerate(lines) if line.startswith(rows[2][0] + ","))
    assert lines[second_row - 1].endswith(",,")
    lines[second_row - 1] = lines[second_row - 1][:-2] + ",confirm,kept its line break"
    sheet = tmp_path / "pending.csv"
    sheet.write_bytes("\n".join(lines).encode())
    imported = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == ("confirmed 1: now in claim_matches and the next digest")
    assert [r["score"] for r in pending(db)] == [55.0, 40.0]
    with connect(db, read_only=True) as con:
        matched = con.execute("SELECT matched_text FROM claim_matches").fetchall()
    assert matched == [(CR_SENTENCE,)]


def test_an_unknown_claim_is_said(db: Path, tmp_path: Path) -> None:
    for fmt in ("table", "json", "csv"):
        unknown = claimwatch("review", "--claim", "nope", "--format", fmt, "--db", str(db))
        assert unknown.returncode == 1 and unknown.stdout == ""
        assert unknown.stderr.strip() == (
            "Error: no claim 'nope' in the catalog or the warehouse: "
            "see `claimwatch claims list` for the ids"
        )
    # A claim of the warehouse with nothing pending: nothing to say but that.
    quiet = claimwatch("review", "--claim", "quiet-claim", "--db", str(db))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip() == "no suggestions are waiting for review"
    # A claim added to the claims file since the last pass is no mistake either.
    claims = tmp_path / "claims.yaml"
    claims.write_text('claims:\n  - id: brand-new\n    text: "A claim added today"\n', "utf-8")
    env = dict(os.environ, CLAIMWATCH_CLAIMS=str(claims))
    new = claimwatch("review", "--claim", "brand-new", "--format", "json", "--db", str(db), env=env)
    assert new.returncode == 0, new.stderr
    assert json.loads(new.stdout) == []
    listed = claimwatch("review", "--claim", "ukraine-today", "--format", "json", "--db", str(db))
    assert [r["matched_text"] for r in json.loads(listed.stdout)] == [ASIA]
