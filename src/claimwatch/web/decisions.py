"""Recording the workbench's review decisions through the library the CLI uses
(`reviews.decide`, `review_queue.move`, `review_queue.select_pending`), one transaction
each, with the signed-in user as reviewer; the line to show afterwards, worded as the
CLI's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
from starlette.concurrency import run_in_threadpool

from claimwatch.dates import utcnow
from claimwatch.exceptions import ClaimwatchError
from claimwatch.store import review_queue
from claimwatch.store.connection import write
from claimwatch.store.review_queue import move, select_pending
from claimwatch.store.reviews import DECISIONS, SHOWN, decide, not_pending, outcome
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.queue import Filter

CLAIM_BY_ID_OR_TEXT = """
SELECT id FROM claims WHERE in_catalog AND (id = ? OR lower(text) = lower(?)) ORDER BY id = ? DESC
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the reviewer is told: the line, and whether anything was recorded."""

    text: str
    recorded: bool


Work = Callable[[duckdb.DuckDBPyConnection], Outcome]


def _stale(ids: Sequence[str]) -> Outcome:
    named = ", ".join(ids)
    return Outcome(
        f"{named} no longer pending (decided meanwhile, here or with the CLI): nothing recorded",
        False,
    )


async def record(config: WorkbenchConfig, work: Work) -> Outcome:
    """`work` in one write transaction, off the event loop; a refusal (an unknown claim,
    a busy warehouse) is an Outcome that recorded nothing, never an error page."""
    try:
        return await run_in_threadpool(
            write, config.db, f"{config.db}: review not recorded", work, wait=config.wait
        )
    except ClaimwatchError as exc:
        return Outcome(f"nothing recorded: {exc}", False)


def one(suggestion_id: str, decision: str, reviewer: str, note: str | None) -> Work:
    """Confirm or reject one suggestion, if it is still pending."""

    def work(con: duckdb.DuckDBPyConnection) -> Outcome:
        if not_pending(con, [suggestion_id]):
            return _stale([suggestion_id])
        decide(con, [suggestion_id], decision, reviewer=reviewer, note=note, now=utcnow())
        said = f"{DECISIONS[decision]} {suggestion_id}"
        if decision == "confirm":
            return Outcome(f"{said}: {SHOWN}", True)
        return Outcome(f"{said}: not suggested again", True)

    return work


def moved(suggestion_id: str, claim: str, reviewer: str, note: str | None) -> Work:
    """File one suggestion under another claim of the catalog (named by id, or by its
    exact text as the picker may leave it)."""

    def work(con: duckdb.DuckDBPyConnection) -> Outcome:
        if not_pending(con, [suggestion_id]):
            return _stale([suggestion_id])
        found = con.execute(CLAIM_BY_ID_OR_TEXT, [claim, claim, claim]).fetchone()
        target = str(found[0]) if found else claim  # move names an unknown one
        was = move(con, suggestion_id, target, reviewer=reviewer, note=note, now=utcnow())
        return Outcome(review_queue.moved(suggestion_id, was, target), True)

    return work


def many(ids: Sequence[str], decision: str, reviewer: str, note: str | None) -> Work:
    """Decide the suggestions named by id, all or none."""

    def work(con: duckdb.DuckDBPyConnection) -> Outcome:
        gone = not_pending(con, ids)
        if gone:
            return _stale(gone)
        decide(con, ids, decision, reviewer=reviewer, note=note, now=utcnow())
        return Outcome(outcome(decision, len(set(ids)), " selected"), True)

    return work


def of_filter(
    chosen: Filter, expected: int, decision: str, reviewer: str, note: str | None
) -> Work:
    """Decide every pending suggestion of the filter, as `claimwatch review confirm --claim
    ... --above ...` does; refused when the filter now selects another number than the
    reviewer saw (a pass or another reviewer changed the queue meanwhile)."""

    def work(con: duckdb.DuckDBPyConnection) -> Outcome:
        picked = select_pending(
            con, claim_id=chosen.claim or None, above=chosen.above, below=chosen.below
        )
        if len(picked) != expected:
            return Outcome(
                f"the filter now selects {len(picked)} pending, not the {expected} shown: "
                "nothing recorded; look at the list again",
                False,
            )
        if not picked:
            return Outcome("no pending suggestion matches this filter: nothing recorded", False)
        decide(con, picked, decision, reviewer=reviewer, note=note, now=utcnow())
        return Outcome(outcome(decision, len(picked), f" ({chosen.words()})"), True)

    return work
