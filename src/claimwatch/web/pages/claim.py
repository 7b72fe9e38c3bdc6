"""A claim's page (/claims/{claim_id}): its text and verdict, its mentions over time by
outlet (confirmed matches and pending suggestions apart), who said it first and who
echoed it how late, and every matching sentence, newest first, a page at a time."""

from __future__ import annotations

import asyncio
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
    source_url
FROM claims WHERE id = $claim
ORDER BY updated_at DESC LIMIT 1
"""

VERDICTS = """
SELECT verdict, fact_checker, review_url, reviewed_on, claim_author
FROM fact_checks WHERE claim_id = $claim
ORDER BY reviewed_on DESC NULLS LAST, review_url
"""

# Counts by (outlet, language, day) of both kinds: the chart, the outlets and languages
# come from these few rows, not from one query each.
DAYS = """
SELECT a.outlet, coalesce(a.language, '') AS language,
    CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day, 'confirmed' AS kind,
    count(*) AS n
FROM matches AS m JOIN articles AS a ON a.url = m.article_url
WHERE m.claim_id = $claim
GROUP BY ALL
UNION ALL
SELECT outlet, coalesce(language, ''), CAST(coalesce(published_at, fetched_at) AS DATE),
    'suggested', count(*)
FROM claim_suggestions
WHERE claim_id = $claim
GROUP BY ALL
"""

FIRST_SEEN = """
SELECT outlet, is_sample, first_seen, first_url, first_title, outlet_rank, hours_after_first
FROM claim_first_seen WHERE claim_id = $claim
ORDER BY is_sample, outlet_rank
"""

STORIES = """
SELECT title, copies, outlets, outlet_names, first_seen, first_url
FROM claim_stories WHERE claim_id = $claim AND outlets > 1
ORDER BY outlets DESC, copies DESC, first_seen
LIMIT 5
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

PENDING = """
SELECT id, coalesce(published_at, fetched_at) AS seen_at, outlet, title, matched_text,
    round(score, 1) AS score, article_url
FROM claim_suggestions WHERE claim_id = $claim
ORDER BY score DESC, id
LIMIT $limit
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
    if exporting:
        found, sentences = await asyncio.gather(
            query(request, CLAIM, claim=claim_id),
            query(request, SENTENCES, claim=claim_id, limit=limit, offset=offset),
        )
        _known(found, claim_id)
        return page(request, "claim.html.j2", {}, sentences, _file_name(claim_id))
    # The queries run side by side (each on its own cursor): the page waits for the
    # slowest, not for their sum.
    found, verdicts, days, first_seen, stories, pending, sentences = await asyncio.gather(
        query(request, CLAIM, claim=claim_id),
        query(request, VERDICTS, claim=claim_id),
        query(request, DAYS, claim=claim_id),
        query(request, FIRST_SEEN, claim=claim_id),
        query(request, STORIES, claim=claim_id),
        query(request, PENDING, claim=claim_id, limit=SUGGESTIONS_SHOWN),
        query(request, SENTENCES, claim=claim_id, limit=limit, offset=offset),
    )
    _known(found, claim_id)
    context = {
        "claim": found.rows[0],
        "verdicts": verdicts.rows,
        "stories": stories.rows,
        "pending": pending.rows,
        "sentences": [_with_highlight(row) for row in sentences.rows],
        # Each outlet's place in the order of outlets (the first row for an outlet: real
        # articles before the sample's).
        "order": {r["outlet"]: r for r in reversed(first_seen.rows)},
        "echo": _echo(first_seen),
        "page_number": number,
        "per_page": PER_PAGE,
        **_mentions(days.rows, claim_id),
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


def _echo(first_seen: Table) -> dict[str, Any] | None:
    """Who carried the claim first, and how long the others took to repeat it."""
    rows = [r for r in first_seen.rows if not r["is_sample"]] or first_seen.rows
    if not rows:
        return None
    lags = [r["hours_after_first"] for r in rows[1:]]
    return {
        "first": rows[0],
        "echoes": len(lags),
        "median_hours": statistics.median(lags) if lags else None,
        "last_hours": max(lags) if lags else None,
    }


routes = [Route("/claims/{claim_id:path}", claim_page, name="claim")]
