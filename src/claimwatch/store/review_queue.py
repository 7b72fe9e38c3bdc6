"""The review queue as a person works through it: each suggestion with what decides it,
selections for deciding many at once, and moving a suggestion to the claim it restates.

Deciding goes through `reviews.decide`; a move is recorded the way a confirmation is
(a `confirmed` row of `reviews` under the new claim, a `matches` row of the review
run), so `claim_matches`, digests and the matcher's learning (`reviews.decided`)
treat it as a confirmation of the claim it was moved to. The claim it was suggested
for stays in `suggestions`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb

from claimwatch.matching.context import sentence_context
from claimwatch.store.connection import has_table
from claimwatch.store.reviews import PENDING_COLUMNS, REVIEW_RUN, SHOWN, ReviewError

# Beside the contract's columns, for a person deciding: when, the link, the sentences
# around the suggested one, and why it was suggested: `signals` (what fired, as numbers)
# and `reason` (the verifier's evidence in words; None for suggestions made before it).
# `reason` comes last: `claimwatch review --format json|csv` kept the others' order.
DETAIL_COLUMNS = (
    "published_at",
    "link",
    "field",
    "variant",
    "signals",
    "context_before",
    "context_after",
    "reason",
)
# The detail columns read from the view as they are (the context is worked out).
STORED = ("published_at", "link", "field", "variant", "signals", "reason")


def pending_details(
    con: duckdb.DuckDBPyConnection, claim_id: str | None = None
) -> list[dict[str, Any]]:
    """Pending suggestions, best first: the claim_suggestions columns of `reviews.pending`,
    then DETAIL_COLUMNS (signals as a dict, the context from the stored article text)."""
    if not has_table(con, "suggestions"):  # a warehouse from before suggestions
        return []
    columns = ", ".join(f"s.{c}" for c in PENDING_COLUMNS)
    rows = con.execute(
        f"""
        SELECT {columns}, s.published_at, coalesce(a.final_url, s.article_url) AS link,
               s.field, s.variant, s.signals, s.reason,
               CASE WHEN s.field = 'title' THEN a.title ELSE a.text END AS field_text,
               s.match_start, s.match_end
        FROM claim_suggestions AS s
        JOIN articles AS a ON a.url = s.article_url
        WHERE ?::VARCHAR IS NULL OR s.claim_id = ?
        ORDER BY s.score DESC, s.suggested_at, s.id
        """,
        [claim_id, claim_id],
    ).fetchall()
    names = (*PENDING_COLUMNS, *STORED)
    return [detailed(dict(zip(names, row[:-3], strict=True)), *row[-3:]) for row in rows]


def detailed(record: dict[str, Any], text: str | None, start: int, end: int) -> dict[str, Any]:
    """A pending suggestion's `record` with its signals read and the sentences around it
    (offsets `start`, `end` into its field's `text`) added, as `pending_details` gives it."""
    context = sentence_context(text or "", int(start), int(end))
    record["signals"] = _signals(record.get("signals"))
    record["context_before"], record["context_after"] = context.before, context.after
    record["reason"] = record.pop("reason", None)  # last, as DETAIL_COLUMNS has it
    return record


def _signals(stored: str | None) -> dict[str, float]:
    """The stored JSON object of what fired; anything unreadable gives none."""
    try:
        value = json.loads(stored or "{}")
    except (TypeError, ValueError):
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


def check_claim(con: duckdb.DuckDBPyConnection, claim_id: str) -> str:
    """The text of a claim in the catalog; a ReviewError naming it when there is none."""
    row = con.execute("SELECT text FROM claims WHERE id = ? AND in_catalog", [claim_id]).fetchone()
    if row is None:
        raise ReviewError(
            f"no claim {claim_id!r} in the catalog: see `claimwatch claims list` for the ids"
        )
    return str(row[0])


def select_pending(
    con: duckdb.DuckDBPyConnection,
    *,
    claim_id: str | None = None,
    above: float | None = None,
    below: float | None = None,
) -> list[str]:
    """The ids of the pending suggestions of a claim and/or with a score over `above` or
    under `below` (strictly). At least one of them must be given: an empty selection
    would decide everything."""
    if claim_id is None and above is None and below is None:
        raise ReviewError(
            "name what to decide: suggestion ids, --claim ID, --above SCORE or --below SCORE"
        )
    if claim_id is not None:
        check_claim(con, claim_id)
    rows = con.execute(
        """
        SELECT id FROM claim_suggestions
        WHERE (?::VARCHAR IS NULL OR claim_id = ?)
          AND (?::DOUBLE IS NULL OR score > ?)
          AND (?::DOUBLE IS NULL OR score < ?)
        ORDER BY score DESC, suggested_at, id
        """,
        [claim_id, claim_id, above, above, below, below],
    ).fetchall()
    return [str(r[0]) for r in rows]


def moved(suggestion_id: str, was: str, claim_id: str) -> str:
    """What `move` did, in one line, given the claim it returned."""
    if was == claim_id:  # "moved" to the claim it was suggested for: a confirmation
        return f"confirmed {suggestion_id} (already suggested for {claim_id}): {SHOWN}"
    return f"moved {suggestion_id} from {was} to {claim_id}: {SHOWN}"


def move(
    con: duckdb.DuckDBPyConnection,
    suggestion_id: str,
    claim_id: str,
    *,
    reviewer: str,
    note: str | None,
    now: datetime,
) -> str:
    """File a pending suggestion under `claim_id`, in the caller's transaction: it becomes a
    match of that claim confirmed by `reviewer` and leaves the queue. Returns the claim it
    was suggested for."""
    claim_text = check_claim(con, claim_id)
    row = con.execute(
        "SELECT claim_id FROM claim_suggestions WHERE id = ?", [suggestion_id]
    ).fetchone()
    if row is None:
        raise ReviewError(
            f"no pending suggestion {suggestion_id!r}: see `claimwatch review` for the pending ids"
        )
    con.execute(
        """
        INSERT INTO reviews BY NAME
        SELECT id AS suggestion_id, article_url, ? AS claim_id, 'confirmed' AS decision,
               matched_text AS sentence, ? AS note, ? AS reviewer, ? AS decided_at
        FROM suggestions WHERE id = ?
        """,
        [claim_id, note, reviewer, now, suggestion_id],
    )
    # One match per (article, claim): where the claim is matched already, the review is
    # recorded and the match stays as it was.
    con.execute(
        """
        INSERT INTO matches BY NAME
        SELECT s.article_url, ? AS claim_id, s.score, s.field, ? AS variant, s.matched_text,
               s.match_start, s.match_end, s.snippet, ? AS matched_at, ? AS run_id
        FROM suggestions AS s
        WHERE s.id = ?
          AND NOT EXISTS (
              SELECT 1 FROM matches AS m WHERE m.article_url = s.article_url AND m.claim_id = ?
          )
        """,
        [claim_id, claim_text, now, REVIEW_RUN, suggestion_id, claim_id],
    )
    return str(row[0])
