"""A claim's page (/claims/{claim_id}): its text and verdict, its mentions over time by
outlet (confirmed matches and pending suggestions apart), who said it first and who
echoed it how late, and every matching sentence, newest first, a page at a time."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.output.render import highlight_html
from claimwatch.web.data import Table, query
from claimwatch.web.exports import export_format, page
from claimwatch.web.sparkline import bucket, paired_bars, periods, sparkline

PER_PAGE = 50
OUTLETS_SHOWN = 100
SUGGESTIONS_SHOWN = 10

CLAIM = """
SELECT id, text, kind, variants, tags, document, attributed_to, said_on, in_catalog,
    source_url,
    (
        SELECT list(
            {'verdict': verdict, 'fact_checker': fact_checker, 'review_url': review_url,
             'reviewed_on': reviewed_on}
            ORDER BY reviewed_on DESC NULLS LAST, review_url
        )
        FROM fact_checks WHERE claim_id = $claim
    ) AS verdicts
FROM claims WHERE id = $claim
ORDER BY updated_at DESC LIMIT 1
"""

# Counts by (outlet, language, day) of both kinds, each group's earliest confirmed
# article, and the best few suggestions waiting: the chart, the outlets, the languages,
# who said it first (by the rule of the claim_first_seen view) and what waits for review
# all come from this one query (a query's fixed cost, its catalog lookups, is most of a
# page's time; the pending suggestions are read once).
DAYS = """
WITH waiting AS MATERIALIZED (
    SELECT id, outlet, coalesce(language, '') AS language, is_sample,
        coalesce(published_at, fetched_at) AS seen_at, title, matched_text,
        round(score, 1) AS score, article_url
    FROM claim_suggestions
    WHERE claim_id = $claim
)
SELECT a.outlet, coalesce(a.language, '') AS language, a.is_sample,
    CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day, 'confirmed' AS kind,
    count(*) AS n, min(coalesce(a.published_at, a.fetched_at)) AS first_at,
    arg_min(a.url, coalesce(a.published_at, a.fetched_at)) AS first_url,
    arg_min(a.title, coalesce(a.published_at, a.fetched_at)) AS first_title,
    NULL AS id, NULL AS matched_text, NULL AS score
FROM matches AS m JOIN articles AS a ON a.url = m.article_url
WHERE m.claim_id = $claim
GROUP BY a.outlet, a.language, a.is_sample, day
UNION ALL
SELECT outlet, language, is_sample, CAST(seen_at AS DATE), 'suggested', count(*),
    NULL, NULL, NULL, NULL, NULL, NULL
FROM waiting
GROUP BY ALL
UNION ALL
(
    SELECT outlet, language, is_sample, CAST(seen_at AS DATE), 'pending', 1, seen_at,
        article_url, title, id, matched_text, score
    FROM waiting
    ORDER BY score DESC, id
    LIMIT $shown
)
"""

# The reviews subquery is narrowed to this claim before it is grouped.
SENTENCES = """
SELECT coalesce(a.published_at, a.fetched_at) AS seen_at, a.outlet, a.title,
    m.matched_text, m.snippet, m.field, round(m.score, 1) AS score, a.language,
    a.url AS article_url, a.final_url, r.reviewer AS confirmed_by, r.decided_at AS confirmed_at
FROM matches AS m
JOIN articles AS a ON a.url = m.article_url
LEFT JOIN (
    SELECT article_url, arg_min(reviewer, decided_at) AS reviewer, min(decided_at) AS decided_at
    FROM reviews
    WHERE decision = 'confirmed' AND claim_id = $claim
    GROUP BY article_url
) AS r ON r.article_url = m.article_url
WHERE m.claim_id = $claim
ORDER BY seen_at DESC, a.url
LIMIT $limit OFFSET $offset
"""


@dataclass
class Outlet:
    """One outlet's mentions of the claim: counts of both kinds and each one's days."""

    name: str
    confirmed: int = 0
    suggested: int = 0
    first: date | None = None
    latest: date | None = None
    days: list[tuple[date, str, int]] = field(default_factory=list)

    def add(self, day: date, kind: str, n: int) -> None:
        if kind == "confirmed":
            self.confirmed += n
        else:
            self.suggested += n
        self.first = min(self.first or day, day)
        self.latest = max(self.latest or day, day)
        self.days.append((day, kind, n))


async def claim_page(request: Request) -> Response:
    claim_id = request.path_params["claim_id"]
    number = _page_number(request)
    exporting = export_format(request) != "html"
    # An export holds every matching sentence; the page shows them PER_PAGE at a time.
    limit, offset = (None, 0) if exporting else (PER_PAGE, (number - 1) * PER_PAGE)
    # Queries one after another: side by side (asyncio.gather) they took longer than
    # their sum, each DuckDB query already using every core.
    found = await query(request, CLAIM, claim=claim_id)
    _known(found, claim_id)
    sentences = await query(request, SENTENCES, claim=claim_id, limit=limit, offset=offset)
    if exporting:
        return page(request, "claim.html.j2", {}, sentences, _file_name(claim_id))
    rows = (await query(request, DAYS, claim=claim_id, shown=SUGGESTIONS_SHOWN)).rows
    days = [row for row in rows if row["kind"] != "pending"]
    pending = sorted(
        (row for row in rows if row["kind"] == "pending"), key=lambda r: (-r["score"], r["id"])
    )
    order = first_seen(days)
    context = {
        "claim": found.rows[0],
        "verdicts": found.rows[0]["verdicts"] or [],
        "pending": [
            {
                **row,
                "seen_at": row["first_at"],
                "article_url": row["first_url"],
                "title": row["first_title"],
            }
            for row in pending
        ],
        "sentences": [_with_highlight(row) for row in sentences.rows],
        "order": {row["outlet"]: row for row in order},
        "echo": _echo(order),
        "page_number": number,
        "per_page": PER_PAGE,
        **_mentions(days, claim_id),
    }
    return page(request, "claim.html.j2", context, sentences, _file_name(claim_id))


def _known(found: Table, claim_id: str) -> None:
    if not found.rows:
        raise HTTPException(404, f"No claim with id {claim_id} in the warehouse.")


def _file_name(claim_id: str) -> str:
    """A download's name: the id reduced to characters safe in a header."""
    return "claim-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", claim_id)[:80]


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(400, f"page {raw!r}: a whole number from 1")
    return int(raw)


def _with_highlight(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "highlighted": highlight_html(row["snippet"], row["matched_text"])}


def _mentions(days: list[dict[str, Any]], claim_id: str) -> dict[str, Any]:
    """The chart of both kinds over the claim's period, each outlet's counts and small
    chart, and the languages, all from the per-day counts."""
    outlets: dict[str, Outlet] = {}
    languages: dict[str, int] = defaultdict(int)
    for row in days:
        outlet = outlets.setdefault(row["outlet"], Outlet(row["outlet"]))
        outlet.add(row["day"], row["kind"], row["n"])
        if row["kind"] == "confirmed":
            languages[row["language"] or "unknown"] += row["n"]
    ranked = sorted(outlets.values(), key=lambda o: (-o.confirmed, -o.suggested, o.name))
    totals = {
        "confirmed": sum(o.confirmed for o in ranked),
        "suggested": sum(o.suggested for o in ranked),
    }
    result: dict[str, Any] = {
        "outlets": ranked[:OUTLETS_SHOWN],
        "outlets_total": len(ranked),
        "languages": sorted(languages.items(), key=lambda item: (-item[1], item[0])),
        "totals": totals,
        "chart": Markup(""),
        "outlet_charts": {},
        "span": None,
    }
    if not days:
        return result
    first = min(row["day"] for row in days)
    last = max(row["day"] for row in days)
    starts = periods(first, last, 36)
    both: dict[str, list[int]] = {"confirmed": [0] * 36, "suggested": [0] * 36}
    for row in days:
        both[row["kind"]][bucket(starts, row["day"])] += row["n"]
    span = f"{first.isoformat()} to {last.isoformat()}"
    result["span"] = span
    result["chart"] = paired_bars(
        both["confirmed"],
        both["suggested"],
        starts,
        f"{claim_id}: {totals['confirmed']} confirmed, {totals['suggested']} suggested, {span}",
    )
    small = periods(first, last)
    charts = {}
    for outlet in result["outlets"]:
        counts = {"confirmed": [0] * len(small), "suggested": [0] * len(small)}
        for day, kind, n in outlet.days:
            counts[kind][bucket(small, day)] += n
        charts[outlet.name] = (
            sparkline(counts["confirmed"], f"{outlet.confirmed} confirmed, {span}"),
            sparkline(counts["suggested"], f"{outlet.suggested} suggested, {span}", "suggested"),
        )
    result["outlet_charts"] = charts
    return result


def first_seen(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each outlet's first confirmed article, in the order the outlets first carried the
    claim, with its place and hours after the first, as the claim_first_seen view ranks
    them; the sample's articles count only where there are no others."""
    confirmed = [r for r in days if r["kind"] == "confirmed"]
    rows = [r for r in confirmed if not r["is_sample"]] or confirmed
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        known = firsts.get(row["outlet"])
        if known is None or row["first_at"] < known["first_seen"]:
            firsts[row["outlet"]] = {
                "outlet": row["outlet"],
                "first_seen": row["first_at"],
                "first_url": row["first_url"],
                "first_title": row["first_title"],
            }
    ordered = sorted(firsts.values(), key=lambda r: (r["first_seen"], r["outlet"]))
    for rank, row in enumerate(ordered, 1):
        lag = (row["first_seen"] - ordered[0]["first_seen"]).total_seconds() / 3600
        row.update(outlet_rank=rank, hours_after_first=round(lag, 1))
    return ordered


def _echo(order: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Who carried the claim first, and how long the others took to repeat it."""
    if not order:
        return None
    lags = [r["hours_after_first"] for r in order[1:]]
    return {
        "first": order[0],
        "echoes": len(lags),
        "median_hours": statistics.median(lags) if lags else None,
        "last_hours": max(lags) if lags else None,
    }


routes = [Route("/claims/{claim_id:path}", claim_page, name="claim")]
