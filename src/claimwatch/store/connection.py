"""Opening the warehouse: DuckDB with a wait for a busy file, and one transaction helper."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError

# has_table is defined beside the migrations, which ask it too; readers import it from here.
from claimwatch.store.migrations import apply_migrations, has_table

__all__ = ["connect", "has_table", "migrate", "transaction"]

_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_log = logging.getLogger("claimwatch.store")


@contextmanager
def connect(
    db: Path, *, read_only: bool = False, wait: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, turning DuckDB's errors into one-line WarehouseErrors.

    DuckDB refuses a file to every other process while one holds it for writing
    (a pass's store step, about a second). With `wait` > 0 a busy file is retried
    for up to that many seconds, announced once as a warning on the `claimwatch`
    logger, before giving up.
    """
    if read_only and not db.exists():
        raise WarehouseError(f"{db}: no warehouse here yet; run `claimwatch run` first")
    if not read_only:
        db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.05
    announced = False
    while True:
        try:
            con = duckdb.connect(str(db), read_only=read_only)
            break
        except duckdb.IOException as exc:
            holder = _LOCK_HOLDER.search(str(exc))
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"{db}: cannot open: {str(exc).splitlines()[0]}") from None
            who = f" (process {holder.group(1)})" if holder else ""
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waited = f"; waited {wait:g} s" if wait else ""
                raise WarehouseError(
                    f"{db}: in use by another process{who}{waited}; try again later"
                ) from None
            if not announced:
                _log.warning("%s: in use by another process%s; waiting up to %g s", db, who, wait)
                announced = True
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise WarehouseError(f"{db}: cannot open: {str(exc).splitlines()[0]}") from None
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, failure: str) -> Iterator[None]:
    """Run the block in one transaction; on error roll back and raise WarehouseError.

    `failure` starts the message, e.g. "w.duckdb: write failed, nothing stored".
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except (duckdb.Error, OSError) as exc:
        # A failed COMMIT (say, on a full disk) has already ended the transaction.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WarehouseError(f"{failure}: {first}") from None


def migrate(db: Path, migrations_dir: Path) -> list[str]:
    """Create or upgrade the warehouse schema; return the migrations applied."""
    with connect(db) as con:
        return apply_migrations(con, migrations_dir)
