"""Reading the warehouse for a page: claimwatch's own SQL, values always bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from claimwatch.store.reports import run_query
from claimwatch.web.config import WorkbenchConfig


@dataclass(frozen=True, slots=True)
class Table:
    """A query's result: its columns, and each row as a dict of them."""

    columns: list[str]
    rows: list[dict[str, Any]]

    def cells(self) -> list[list[Any]]:
        return [[row[c] for c in self.columns] for row in self.rows]


def config_of(request: Request) -> WorkbenchConfig:
    config = request.app.state.config
    assert isinstance(config, WorkbenchConfig)
    return config


def read(config: WorkbenchConfig, sql: str, **params: Any) -> Table:
    """Rows of `sql` over the warehouse (the newest snapshot: a pass committing meanwhile
    neither waits for this nor shows half its batch)."""
    result = run_query(config.db, sql, params, wait=config.wait)
    return Table(
        result.columns, [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    )


async def query(request: Request, sql: str, **params: Any) -> Table:
    """`read` off the event loop: other requests are answered while DuckDB works."""
    return await run_in_threadpool(read, config_of(request), sql, **params)
