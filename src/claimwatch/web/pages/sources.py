"""The sources page (/sources): each configured source's health (source_health), its last
poll, the new articles of the last pass and of 7 days, and its latest failures with
their reasons; filtered by name."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.web.data import Table, query
from claimwatch.web.exports import page

FAILURES_SHOWN = 5

# A re-match (status 'rematch' or 'rematch stopped') reads no source: it is no pass here.
LAST_PASS = """SELECT run_id, started_at, status FROM runs WHERE status NOT LIKE 'rematch%'
    ORDER BY started_at DESC LIMIT 1"""

# source_health's own columns, with the fetch log's last poll (of any age: the view's
# last_polled_at covers 7 days) and the last pass's new articles.
SOURCES = f"""
WITH latest AS ({LAST_PASS}),
log AS (
    SELECT source,
        max(logged_at) FILTER (WHERE polled) AS last_poll_at,
        sum(articles_new) FILTER (WHERE run_id IN (SELECT run_id FROM latest))
            AS new_last_pass
    FROM fetch_log
    GROUP BY source
)
SELECT h.source, h.kind, h.status, h.enabled, l.last_poll_at,
    coalesce(l.new_last_pass, 0) AS new_last_pass, h.articles_7d, h.articles, h.matches,
    h.failures, h.failed_passes_in_a_row, h.last_failure_at, h.last_failure, h.url, h.is_sample
FROM source_health AS h
LEFT JOIN log AS l ON l.source = h.source
WHERE $name = '' OR h.source ILIKE '%' || $name || '%'
ORDER BY h.source
"""

# The latest few failures of each source shown.
FAILURES = """
SELECT source, failed_at, stage, reason, url
FROM (
    SELECT *, row_number() OVER (PARTITION BY source ORDER BY failed_at DESC, url) AS nth
    FROM fetch_failures
    WHERE $name = '' OR source ILIKE '%' || $name || '%'
)
WHERE nth <= $shown
ORDER BY source, failed_at DESC, url
"""


async def sources_page(request: Request) -> Response:
    name = request.query_params.get("q", "").strip()
    # One after another (side by side they took longer than their sum), the failures
    # only where a source has some.
    sources = await query(request, SOURCES, name=name)
    latest = (
        await query(request, FAILURES, name=name, shown=FAILURES_SHOWN)
        if any(row["failures"] for row in sources.rows)
        else Table([], [])
    )
    passes = await query(request, LAST_PASS)
    failures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in latest.rows:
        failures[row["source"]].append(row)
    last_pass = passes.rows
    context = {
        "sources": sources.rows,
        "failures": failures,
        "q": name,
        "last_pass": last_pass[0] if last_pass else None,
        "shown": FAILURES_SHOWN,
    }
    return page(request, "sources.html.j2", context, sources, "sources")


routes = [Route("/sources", sources_page, name="sources")]
