"""Reviews of suggestions: record decisions and read what was decided (the queue a person
works through, with what decides each suggestion, is `review_queue`).

A confirmed suggestion becomes a row of `matches` (run_id 'review'), so it appears in
`claim_matches` and in the next digest; a rejected one is never suggested again for
that article, and its sentence vetoes near-identical sentences for that claim in
later passes. Both decisions keep who made them, when and why, in `reviews`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from claimwatch.exceptions import ClaimwatchError
from claimwatch.store.connection import has_table
from claimwatch.tablefile import MAX_TABLE_BYTES, delimiter_of, read_delimited
from claimwatch.userfile import read_text

DECISIONS = {"confirm": "confirmed", "reject": "rejected"}
# Said after a confirmation (or a move), by the CLI and the workbench: where it shows.
SHOWN = "now in claim_matches and the next digest"
REVIEW_RUN = "review"
SEE_PENDING = "see `claimwatch review` for the pending ids"
# Ids named one by one in an error up to this many; past it, the first ones and a count.
LISTED_IDS = 20
PENDING_COLUMNS = (
    "id",
    "claim_id",
    "claim_text",
    "article_url",
    "title",
    "outlet",
    "score",
    "matched_text",
    "snippet",
    "suggested_at",
)


class ReviewError(ClaimwatchError):
    """A review decision cannot be recorded."""


class SheetDecision(NamedTuple):
    """One filled-in row of a decisions sheet, with the line it starts on."""

    line: int
    decision: str
    suggestion_id: str
    note: str | None


class Decided(NamedTuple):
    """What the matcher learns from reviews: (claim id, sentence) pairs per decision."""

    confirmed: tuple[tuple[str, str], ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()


def outcome(decision: str, count: int, selected: str = "") -> str:
    """What deciding `count` suggestions did, in one line ("confirmed 3: now in ...")."""
    if decision == "confirm":
        return f"confirmed {count}{selected}: {SHOWN}"
    return f"rejected {count}{selected}: not suggested again"


def decide(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    decision: str,
    *,
    reviewer: str,
    note: str | None,
    now: datetime,
) -> int:
    """Confirm or reject pending suggestions by id, in the caller's transaction.

    Every id must name a pending suggestion, or nothing is recorded.
    """
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}: use confirm or reject")
    wanted = list(dict.fromkeys(ids))
    missing = not_pending(con, wanted)
    if missing:
        raise ReviewError(f"{unknown_ids(missing)}: {SEE_PENDING}")
    con.execute(
        """
        INSERT INTO reviews BY NAME
        SELECT id AS suggestion_id, article_url, claim_id, ? AS decision,
               matched_text AS sentence, ? AS note, ? AS reviewer, ? AS decided_at
        FROM suggestions WHERE list_contains(?, id)
        """,
        [DECISIONS[decision], note, reviewer, now, wanted],
    )
    if decision == "confirm":
        con.execute(
            """
            INSERT INTO matches BY NAME
            SELECT article_url, claim_id, score, field, variant, matched_text, match_start,
                   match_end, snippet, ? AS matched_at, ? AS run_id
            FROM suggestions WHERE list_contains(?, id)
            """,
            [now, REVIEW_RUN, wanted],
        )
    return len(wanted)


def not_pending(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> list[str]:
    """The ids of `ids` that name no pending suggestion, in their order."""
    found = con.execute(
        "SELECT id FROM claim_suggestions WHERE list_contains(?, id)", [list(ids)]
    ).fetchall()
    known = {row[0] for row in found}
    return [i for i in ids if i not in known]


def unknown_ids(missing: Sequence[str], lines: Sequence[int] | None = None) -> str:
    """'no pending suggestion ...' naming every id of `missing` (with the sheet's line of
    each when `lines` are given), or the first LISTED_IDS of them and how many more."""
    if len(missing) == 1:
        return f"no pending suggestion {missing[0]!r}"
    named = [
        f"{i!r}" if lines is None else f"{i!r} (line {n})"
        for i, n in zip(missing, lines or [0] * len(missing), strict=True)
    ]
    shown = named[:LISTED_IDS]
    more = f" and {len(named) - LISTED_IDS} more" if len(named) > LISTED_IDS else ""
    return f"no pending suggestions {', '.join(shown)}{more}"


def decided(con: duckdb.DuckDBPyConnection) -> Decided:
    """Every decision so far, for the matcher to learn from."""
    rows = review_rows(con)
    return Decided(
        confirmed=tuple((c, s) for _, c, d, s in rows if d == "confirmed"),
        rejected=tuple((c, s) for _, c, d, s in rows if d == "rejected"),
    )


def review_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """Every decision as (suggestion id, claim id, decision, sentence), oldest first."""
    if not has_table(con, "reviews"):
        return []
    rows = con.execute(
        "SELECT suggestion_id, claim_id, decision, sentence FROM reviews"
        " ORDER BY decided_at, suggestion_id"
    ).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def read_decision_file(path: Path) -> dict[str, list[tuple[str, str | None]]]:
    """The decisions of a sheet (see `read_decision_sheet`): decision -> [(id, note)]."""
    return by_decision(read_decision_sheet(path))


def by_decision(rows: Sequence[SheetDecision]) -> dict[str, list[tuple[str, str | None]]]:
    """A sheet's rows as decision -> [(id, note)], in sheet order."""
    decisions: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        decisions.setdefault(row.decision, []).append((row.suggestion_id, row.note))
    return decisions


def read_decision_sheet(path: Path) -> list[SheetDecision]:
    """The filled-in rows of a CSV (or .tsv) of decisions (columns id, decision, and
    optionally note), as exported by `claimwatch review --format csv`, in sheet order.

    A blank decision leaves the suggestion pending. The file is read strictly (a quote that
    never closes, a row of the wrong length: an error naming line and column); a spreadsheet's
    byte-order mark and its semicolon-separated "CSV" are accepted. An id decided on two
    rows is refused, naming both lines.
    """
    text = read_text(path, ReviewError, MAX_TABLE_BYTES)
    fmt = "tsv" if path.suffix.lower() in (".tsv", ".tab") else "csv"
    header, rows = read_delimited(path, text, delimiter_of(text, fmt), ReviewError)
    if not {"id", "decision"} <= set(header):
        raise ReviewError(f"{path}: line 1: needs the columns id and decision")
    found: list[SheetDecision] = []
    first_line: dict[str, int] = {}
    has_rows = False
    for line, row in rows:
        has_rows = True
        value = row["decision"].strip().lower()
        if not value:
            continue
        if value not in DECISIONS:
            raise ReviewError(
                f"{path}: line {line}: decision {value!r}: use confirm, reject or leave it blank"
            )
        suggestion_id = row["id"].strip()
        if not suggestion_id:
            raise ReviewError(f"{path}: line {line}: a decision with no id")
        if suggestion_id in first_line:
            raise ReviewError(
                f"{path}: line {line}: suggestion {suggestion_id!r} is decided on line "
                f"{first_line[suggestion_id]} already: keep one of the two rows"
            )
        first_line[suggestion_id] = line
        note = row.get("note", "").strip() or None
        found.append(SheetDecision(line, value, suggestion_id, note))
    if not has_rows:
        # Also what a sheet of one row whose header lost its line end reads as.
        raise ReviewError(f"{path}: no rows under the header line: nothing to decide")
    return found
