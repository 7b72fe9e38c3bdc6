"""The review queue as the workbench reads it: the pending suggestions of a filter, in the
order `claimwatch review` lists them, and the catalog's claims to move one to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from claimwatch.store.connection import connect
from claimwatch.store.review_queue import DETAIL_COLUMNS, pending_details
from claimwatch.store.reviews import PENDING_COLUMNS
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.data import Table, config_of, query

# The columns of `claimwatch review --format json`, in its order.
COLUMNS = [*PENDING_COLUMNS, *DETAIL_COLUMNS]
CATALOG = "SELECT id, text, tags FROM claims WHERE in_catalog ORDER BY id"


@dataclass(frozen=True, slots=True)
class Filter:
    """Which pending suggestions a reviewer works through: of one claim and/or scored
    over `above` or under `below` (strictly, as `claimwatch review confirm --above`)."""

    claim: str = ""
    above: float | None = None
    below: float | None = None

    def keeps(self, row: dict[str, Any]) -> bool:
        score = float(row["score"])
        return (self.above is None or score > self.above) and (
            self.below is None or score < self.below
        )

    def params(self) -> dict[str, str]:
        """The filter as query parameters (only those given)."""
        given = {"claim": self.claim, "above": _number(self.above), "below": _number(self.below)}
        return {k: v for k, v in given.items() if v}

    def url(self, path: str, **extra: Any) -> str:
        params = {**self.params(), **{k: str(v) for k, v in extra.items() if v}}
        return path + ("?" + urlencode(params) if params else "")

    def words(self) -> str:
        """The filter as a reader says it ('' for none)."""
        parts = [f"claim {self.claim}"] if self.claim else []
        if self.above is not None:
            parts.append(f"score over {_number(self.above)}")
        if self.above is not None and self.below is not None:
            parts.append("and")
        if self.below is not None:
            parts.append(f"score under {_number(self.below)}")
        return " ".join(parts)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def filter_of(values: Any) -> Filter:
    """The filter given by query parameters or form fields; a 400 for a score not a number."""
    return Filter(
        claim=str(values.get("claim") or "").strip(),
        above=_score(values, "above"),
        below=_score(values, "below"),
    )


def _score(values: Any, name: str) -> float | None:
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise HTTPException(400, f"{name}={text!r}: give a score, e.g. 60") from None


def skip_of(values: Any) -> int:
    text = str(values.get("skip") or "0").strip()
    if not text.isdigit():
        raise HTTPException(400, f"skip={text!r}: give a number of suggestions to skip")
    return int(text)


def read_pending(config: WorkbenchConfig, chosen: Filter) -> list[dict[str, Any]]:
    """The pending suggestions of the filter, best first, as `claimwatch review` lists them."""
    with connect(config.db, read_only=True, wait=config.wait) as con:
        rows = pending_details(con, chosen.claim or None)
    return [row for row in rows if chosen.keeps(row)]


async def pending(request: Request, chosen: Filter) -> list[dict[str, Any]]:
    """`read_pending` off the event loop."""
    return await run_in_threadpool(read_pending, config_of(request), chosen)


async def catalog(request: Request) -> list[dict[str, Any]]:
    """Every claim of the catalog (id, text, tags): the claims a suggestion can move to."""
    return (await query(request, CATALOG)).rows


def export_table(rows: list[dict[str, Any]], fmt: str) -> Table:
    """The rows as `claimwatch review` exports them: signals an object in JSON, its JSON
    text in CSV (a cell holds text)."""
    if fmt != "csv":
        return Table(list(COLUMNS), rows)
    flat = [{**r, "signals": json.dumps(r.get("signals") or {}, sort_keys=True)} for r in rows]
    return Table(list(COLUMNS), flat)
