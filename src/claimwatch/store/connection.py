"""Opening the warehouse, and writing to it in transactions that commit whole or retry.

Each connection is an in-memory DuckDB with the warehouse (a DuckLake, see `lake`)
attached as its default catalog. Readers see the snapshot that was current when
their query began and never wait for a writer; writers never wait for a reader.

DuckLake has no primary keys, so writers keep rows unique themselves (insert where
not exists, in `writers`), and that check must see every write committed before
theirs. Each write transaction therefore first bumps the one row of `write_fence`:
of two transactions that overlap, the second to commit conflicts on that row, rolls
back, and is run again on the newer snapshot. Writes are short (one batch), so
retries are cheap, and they work the same for every process and machine that
shares the catalog.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from claimwatch.exceptions import WarehouseError
from claimwatch.store import lake, table_stats

# has_table and retryable are defined beside the migrations, which ask them too; readers
# import them from here.
from claimwatch.store.migrations import apply_migrations, has_table, retryable, unwritable

__all__ = ["connect", "has_table", "migrate", "write"]

T = TypeVar("T")
_log = logging.getLogger("claimwatch.store")
# How long a write keeps retrying conflicts with other writers before giving up.
CONFLICT_WAIT = 120.0


@contextmanager
def connect(
    db: Path,
    *,
    read_only: bool = False,
    wait: float = 0.0,
    as_of: str | int | None = None,
    sandboxed: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse `db` (a folder, or a postgres: catalog), errors as WarehouseErrors.

    `as_of` opens it as it stood at that snapshot id or time, read-only. `sandboxed`
    opens it read-only for SQL a user typed, which then reads nothing else. `wait` is
    how long to keep retrying a catalog that another process holds busy.
    """
    location = lake.locate(db)
    if (read_only or sandboxed or as_of is not None) and not lake.exists(db):
        raise WarehouseError(f"{db}: no warehouse here yet; run `claimwatch run` first")

    def open_() -> tuple[duckdb.DuckDBPyConnection, str | None]:
        if sandboxed:
            return lake.open_sandboxed(location, as_of=as_of), None
        return lake.open_cursor(location, read_only=read_only, as_of=as_of)

    try:
        con, temporary = _retry(
            open_,
            max(wait, 5.0),
            f"{db}: catalog busy",
        )
    except duckdb.Error as exc:
        raise WarehouseError(f"{db}: cannot open: {_first_line(exc)}") from None
    stale = False
    try:
        yield con
    except BaseException as exc:
        stale = lake.stale_inlined_rows(exc)
        raise
    finally:
        con.close()
        if temporary is not None:
            lake.detach(temporary)
        if stale:  # the next connection attaches the warehouse anew
            lake.forget(location)


def write(
    db: Path,
    failure: str,
    work: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    wait: float = 0.0,
    fence: bool = True,
) -> T:
    """Run `work(con)` in one transaction on the warehouse and return what it returns.

    On a conflict with another writer the transaction is rolled back and `work` runs
    again, on a new snapshot, for up to CONFLICT_WAIT seconds (or `wait`, if longer).
    Any other error rolls back and raises WarehouseError starting with `failure`
    (e.g. "w: write failed, nothing stored"). `fence=False` leaves write_fence alone,
    for maintenance, which adds no rows another writer's not-exists check must see.
    """
    with connect(db, wait=wait) as con:
        fenced = fence and _has_fence(con)

        def attempt() -> T:
            con.execute("BEGIN TRANSACTION")
            try:
                if fenced:
                    con.execute("UPDATE write_fence SET serial = serial + 1")
                result = work(con)
                con.execute("COMMIT")
                return result
            except BaseException:
                with suppress(duckdb.Error):  # a failed COMMIT has ended it already
                    con.execute("ROLLBACK")
                raise

        try:
            return _retry(attempt, max(wait, CONFLICT_WAIT), f"{failure}: other writers")
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(f"{failure}: {_cause(exc, db)}") from None


def _has_fence(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has its write fence yet (a migration adds it). Asked of the
    table itself: information_schema reads every table's entry, 30-60 ms a write."""
    try:
        con.execute("SELECT serial FROM write_fence LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def _retry(action: Callable[[], T], wait: float, giving_up: str) -> T:
    """`action()`, run again with jittered backoff while it fails retryably."""
    deadline = time.monotonic() + wait
    delay = 0.02
    announced = False
    while True:
        try:
            return action()
        except duckdb.Error as exc:
            if not retryable(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseError(
                    f"{giving_up}; waited {wait:g} s: {_first_line(exc)}"
                ) from None
            if not announced and delay >= 0.5:
                _log.info("warehouse busy (%s); retrying", _first_line(exc))
                announced = True
            time.sleep(min(delay * (1 + random.random()), remaining))
            delay = min(delay * 2, 1.0)


def _cause(exc: BaseException, db: Path | str) -> str:
    """Why a write failed, for a person: what to check when the catalog cannot be
    written, as DuckLake's own words do not say, and what the catalog answered when it
    says more than that the commit failed."""
    if not unwritable(exc):
        return _first_line(exc)
    detail = _first_line(exc).removeprefix("Failed to commit: ")
    detail = detail.removeprefix('Failed to execute query "COMMIT": ')
    detail = detail.removeprefix("Failed to flush changes into DuckLake: ")
    detail = detail.rpartition("ERROR:")[2].strip()  # PostgreSQL's answer, not the SQL
    said = "" if any(words in detail for words in _SAYS_NOTHING) else f" ({detail})"
    if lake.locate(db).catalog.startswith("postgres:"):
        return f"cannot write the warehouse's catalog{said}: does PostgreSQL take writes?"
    return f"cannot write the warehouse{said}: is the disk full, or the folder read-only?"


# What a failed DuckLake commit may end on without saying why.
_SAYS_NOTHING = frozenset(
    {"cannot rollback - no transaction is active", "Failed to commit DuckLake transaction."}
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    # DuckLake's commit errors put the cause on the last line.
    return lines[-1] if len(lines) > 1 and "Failed to commit" in lines[0] else lines[0]


def migrate(db: Path, migrations_dir: Path) -> list[str]:
    """Create or upgrade the warehouse schema, and give new tables statistics
    (`table_stats`); return the migrations applied.

    Several processes may do this at once on a new warehouse: the catalog's creation
    and each migration are retried until one of them has done it.
    """
    # Creating a PostgreSQL catalog makes the others wait for it, then fail: retry long.
    with connect(db, wait=CONFLICT_WAIT) as con:
        try:
            applied = _retry(
                lambda: apply_migrations(con, migrations_dir), CONFLICT_WAIT, f"{db}: migrations"
            )
        except duckdb.Error as exc:  # only unwritable() errors get here
            raise WarehouseError(f"{db}: {_cause(exc, db)}") from None
        missing = table_stats.tables_without_statistics(con)
    if missing:
        write(db, f"{db}: cannot prepare the tables", _give_statistics)
    return applied


def _give_statistics(con: duckdb.DuckDBPyConnection) -> None:
    # Asked again inside the transaction: another process may have done it meanwhile.
    for table in table_stats.tables_without_statistics(con):
        table_stats.give_statistics(con, table)
