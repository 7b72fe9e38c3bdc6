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
from claimwatch.store.review_queue import DETAIL_COLUMNS, detailed, pending_details
from claimwatch.store.reviews import PENDING_COLUMNS
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.data import Table, config_of, query

# The columns of `claimwatch review --format json`, in its order.
COLUMNS = [*PENDING_COLUMNS, *DETAIL_COLUMNS]
CATALOG = "SELECT id, text, tags FROM claims WHERE in_catalog ORDER BY id"
# The pending ones of a filter in `claimwatch review`'s order (pending_details'), without
# their article text: a page reads the text of the one it shows only.
OF_FILTER = """
FROM claim_suggestions
WHERE ($claim = '' OR claim_id = $claim)
  AND ($above::DOUBLE IS NULL OR score > $above)
  AND ($below::DOUBLE IS NULL OR score < $below)
"""
ORDER = "ORDER BY score DESC, suggested_at, id"
# The count of them all by a subquery: a window count over every row here failed now and
# then in DuckDB 1.5.5 ("INTERNAL Error: Attempted to access index 0 within vector of
# size 0", a race in its parallel window; duckdb/duckdb#25713), and an internal error
# leaves the process's database unusable (store/lake.py then starts it anew).
TOTAL = f"(SELECT count(*) {OF_FILTER}) AS total"
AT = f"SELECT id, {TOTAL} {OF_FILTER} {ORDER} LIMIT 1 OFFSET $skip"
LISTED = f"""
SELECT id, claim_id, claim_text, article_url, score, matched_text, outlet, {TOTAL}
{OF_FILTER} {ORDER} LIMIT $limit
"""
# One suggestion as pending_details gives it, with the stored text around its sentence.
ONE = """
SELECT s.*, coalesce(a.final_url, s.article_url) AS link,
       CASE WHEN s.field = 'title' THEN a.title ELSE a.text END AS field_text
FROM claim_suggestions AS s JOIN articles AS a ON a.url = s.article_url
WHERE s.id = $id
"""


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


def _bound(chosen: Filter) -> dict[str, Any]:
    return {"claim": chosen.claim, "above": chosen.above, "below": chosen.below}


async def at(request: Request, chosen: Filter, skip: int) -> tuple[dict[str, Any] | None, int, int]:
    """The suggestion `skip` places down the filter's queue (past its end: round again
    from the best), its place and how many are pending."""
    found = (await query(request, AT, skip=skip, **_bound(chosen))).rows
    if not found and skip:
        found = (await query(request, AT, skip=0, **_bound(chosen))).rows
        skip = 0
    if not found:
        return None, 0, 0
    row = await detail(request, str(found[0]["id"]))
    return row, skip, int(found[0]["total"])


async def detail(request: Request, suggestion_id: str) -> dict[str, Any] | None:
    """One pending suggestion with the columns of pending_details (None once decided)."""
    rows = (await query(request, ONE, id=suggestion_id)).rows
    if not rows:
        return None
    row = rows[0]
    text = row.pop("field_text")
    return detailed(row, text, row["match_start"], row["match_end"])


async def listed(request: Request, chosen: Filter, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` pending suggestions of the filter, and how many there are."""
    rows = (await query(request, LISTED, limit=limit, **_bound(chosen))).rows
    return rows, int(rows[0]["total"]) if rows else 0


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
