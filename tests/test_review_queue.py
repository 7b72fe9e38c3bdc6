"""`claimwatch review` for people: each suggestion with what decides it, moving one to
another claim, and deciding many at once; against a real warehouse and the real CLI."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect
from claimwatch.store.rematch import read_decided
from tests.commands import claimwatch, ids_by_score, pending
from tests.warehouses import SOURCES, article, stats, suggestion_in, write_pass

CATALOG = Catalog.model_validate(
    {
        "claims": [
            {"id": "where-nato-goes", "text": "Where NATO goes, war is most likely"},
            {"id": "ukraine-today", "text": "Ukraine today, Asia tomorrow"},
            {"id": "china-enabler", "text": "China is a decisive enabler of Russia's war"},
        ]
    }
)
LONG_URL = "http://wire.example/" + "/".join(["indo-pacific-security-review"] * 8) + "?page=2"
BEFORE, AFTER = "Ministers met in Brussels on Tuesday.", "No statement followed the meeting."
# Suggested for the wrong claim: the sentence restates the Asia slogan.
ASIA = "A columnist argued that what Ukraine faces now, East Asia could face next year."
WAR = "State television said that wherever NATO expands, a war tends to break out soon."
ENABLER = "Analysts called Beijing the indispensable supplier behind Moscow's campaign."


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Four pending suggestions: 62.5 (ASIA, filed under where-nato-goes), 48.0 (WAR),
    30.0 (ENABLER) and 21.0 (WAR again, elsewhere)."""
    pages = [
        article("asia", "The Meridian Post", 3, f"{BEFORE} {ASIA} {AFTER}"),
        article("war", "Polar Wire", 4, f"Opening words here. {WAR} Closing words here."),
        article("enabler", "State Daily", 5, f"{ENABLER} Nothing else.", source="state-daily"),
        article("war-2", "Polar Wire", 6, f"Another page. {WAR}"),
    ]
    pages[0] = replace(pages[0], final_url=LONG_URL)
    suggestions = [
        suggestion_in(pages[0], "where-nato-goes", ASIA, 62.5),
        suggestion_in(pages[1], "where-nato-goes", WAR, 48.0),
        suggestion_in(pages[2], "china-enabler", ENABLER, 30.0),
        suggestion_in(pages[3], "where-nato-goes", WAR, 21.0),
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


def test_the_listing_shows_what_a_decision_needs(db: Path) -> None:
    # As a suggestion stored before reasons were (reason NULL), with the verifier's signal.
    with connect(db) as con:
        con.execute(
            "UPDATE suggestions SET reason = NULL, signals = json_merge_patch(signals, ?)"
            " WHERE score = 62.5",
            ['{"verifier": 39.3}'],
        )
    listed = claimwatch("review", "--db", str(db), env={"COLUMNS": "100"})
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    first = out[: out.index("── 2 of 4")]
    assert first.startswith("── 1 of 4 · ") and "· score 62.5 " in first
    assert "Claim     where-nato-goes: “Where NATO goes, war is most likely”" in first
    # The sentence between >> and <<, with the sentence before and after it, wrapped.
    sentence = " ".join(
        line[10:] for line in first.splitlines() if line[:10].strip() in ("", "Sentence")
    )
    assert f"{BEFORE} >>{ASIA}<< {AFTER}" in sentence
    assert "Outlet    The Meridian Post\nDate      published 2026-10-04 08:00 UTC · " in first
    # The whole link on one line, however wide the terminal.
    assert f"Link      {LONG_URL}\n" in first and len(LONG_URL) > 100
    why = " ".join(line[10:] for line in first[first.index("\nWhy ") + 1 :].splitlines() if line)
    assert why == (
        "closeness in meaning 87.5/100, +37.5 over the other claims for this sentence, 20% of"
        " the wording's rarer words, verifier's confidence 39%"
    )
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("Link"))
    assert "claimwatch review confirm ID... | reject ID... | move ID CLAIM" in out

    # JSON keeps its columns and gains the context, the link and the signals.
    (row,) = [r for r in pending(db) if r["score"] == 62.5]
    assert {
        "id", "claim_id", "claim_text", "article_url", "title", "outlet", "score",
        "matched_text", "snippet", "suggested_at",
    } <= set(row)  # fmt: skip
    assert (row["context_before"], row["context_after"]) == (BEFORE, AFTER)
    assert row["link"] == LONG_URL and row["published_at"] == "2026-10-04T08:00:00"
    assert row["signals"] == {"meaning": 87.5, "lift": 37.5, "coverage": 20.0, "verifier": 39.3}
    assert row["reason"] is None and list(row)[-1] == "reason"
    csv_out = claimwatch("review", "--format", "csv", "--db", str(db)).stdout
    header = csv_out.splitlines()[0].split(",")
    assert header[:3] == ["id", "claim_id", "claim_text"] and header[-2:] == ["decision", "note"]
    assert "context_before" in header


def test_move_files_a_suggestion_under_another_claim(db: Path) -> None:
    ids = ids_by_score(db)
    wrong = claimwatch("review", "move", ids[62.5], "no-such-claim", "--db", str(db))
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (
        "Error: no claim 'no-such-claim' in the catalog: see `claimwatch claims list` for the ids"
    )
    missing = claimwatch("review", "move", "nope", "ukraine-today", "--db", str(db))
    assert missing.returncode == 1 and "no pending suggestion 'nope'" in missing.stderr
    assert len(pending(db)) == 4

    moved = claimwatch(
        "review", "move", ids[62.5], "ukraine-today", "--note", "the Asia slogan",
        "--reviewer", "ana", "--db", str(db),
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == (
        f"moved {ids[62.5]} from where-nato-goes to ukraine-today: "
        "now in claim_matches and the next digest"
    )
    assert ids[62.5] not in {r["id"] for r in pending(db)}
    with connect(db, read_only=True) as con:
        matches = con.execute(
            "SELECT claim_id, matched_text, variant, confirmed_by FROM claim_matches"
        ).fetchall()
        reviews = con.execute(
            "SELECT suggestion_id, claim_id, decision, note, reviewer FROM reviews"
        ).fetchall()
    assert matches == [("ukraine-today", ASIA, "Ukraine today, Asia tomorrow", "ana")]
    assert reviews == [(ids[62.5], "ukraine-today", "confirmed", "the Asia slogan", "ana")]
    # The matcher learns it as a confirmation of the claim it was moved to.
    assert read_decided(db).confirmed == (("ukraine-today", ASIA),)
    again = claimwatch("review", "move", ids[62.5], "ukraine-today", "--db", str(db))
    assert again.returncode == 1 and "no pending suggestion" in again.stderr
    # Moved to the claim it was suggested for, it is confirmed there.
    same = claimwatch("review", "move", ids[48.0], "where-nato-goes", "--db", str(db))
    assert same.stdout.startswith(f"confirmed {ids[48.0]} (already suggested for where-nato-goes)")


def test_confirm_and_reject_many_at_once(db: Path) -> None:
    ids = ids_by_score(db)
    empty = claimwatch("review", "confirm", "--db", str(db))
    assert empty.returncode == 1
    assert empty.stderr.startswith("Error: name what to confirm: suggestion ids, --claim ID")
    both = claimwatch("review", "reject", ids[30.0], "--below", "50", "--db", str(db))
    assert both.returncode == 1 and "not both" in both.stderr
    unknown = claimwatch("review", "reject", "--claim", "nope", "--db", str(db))
    assert unknown.returncode == 1 and "no claim 'nope' in the catalog" in unknown.stderr
    none = claimwatch("review", "confirm", "--above", "90", "--db", str(db))
    assert none.returncode == 0
    assert none.stdout.strip() == "no pending suggestion matches --above 90: nothing recorded"
    assert len(pending(db)) == 4

    # Many ids at once, in one transaction: a wrong one records none of them.
    bad = claimwatch("review", "reject", ids[21.0], ids[30.0], "nope", "--db", str(db))
    assert bad.returncode == 1 and len(pending(db)) == 4

    below = claimwatch(
        "review", "reject", "--below", "25", "--claim", "where-nato-goes", "--db", str(db)
    )
    assert below.returncode == 0, below.stderr
    assert below.stdout.strip() == (
        "rejected 1 (--claim where-nato-goes --below 25): not suggested again"
    )
    above = claimwatch("review", "confirm", "--above", "40", "--reviewer", "ben", "--db", str(db))
    assert above.stdout.strip() == (
        "confirmed 2 (--above 40): now in claim_matches and the next digest"
    )
    assert [r["score"] for r in pending(db)] == [30.0]
    by_claim = claimwatch("review", "reject", "--claim", "china-enabler", "--db", str(db))
    assert by_claim.stdout.strip() == "rejected 1 (--claim china-enabler): not suggested again"
    assert pending(db) == []
    with connect(db, read_only=True) as con:
        decided = con.execute(
            "SELECT suggestion_id, decision FROM reviews ORDER BY suggestion_id"
        ).fetchall()
    assert sorted(decided) == sorted(
        [(ids[62.5], "confirmed"), (ids[48.0], "confirmed"), (ids[21.0], "rejected"),
         (ids[30.0], "rejected")]
    )  # fmt: skip


def test_sentence_context_follows_the_matchers_sentences() -> None:
    from claimwatch.matching.context import sentence_context

    text = f"{BEFORE}\n\n{ASIA}  {AFTER} And more."
    start = text.index(ASIA)
    assert sentence_context(text, start, start + len(ASIA)) == (BEFORE, ASIA, AFTER)
    # Evidence that spans two sentences gets the ones around both.
    both = sentence_context(text, start, text.index(AFTER) + len(AFTER))
    assert (both.before, both.after) == (BEFORE, "And more.")
    # The first sentence has nothing before it; Chinese sentences end without a space.
    cjk = "北约正在东扩。北约正在印太地区煽动冲突。这是第三句。"
    middle = cjk.index("北约正在印太")
    assert sentence_context(cjk, middle, middle + 13) == (
        "北约正在东扩。",
        "北约正在印太地区煽动冲突。",
        "这是第三句。",
    )
    assert sentence_context(text, 0, len(BEFORE)).before == ""
    # Offsets beyond a text that changed since: the slice, no context, no error.
    assert sentence_context("short", 3, 90) == ("", "rt", "")
