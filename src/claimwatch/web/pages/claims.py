"""The claims page (/): every catalog claim, how often and where it was seen, what waits
for review, and its fact-check verdict; filtered by text and tag."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.web.data import query
from claimwatch.web.exports import page
from claimwatch.web.sparkline import bucket, periods, sparkline

CLAIMS = """
WITH seen AS (
    SELECT m.claim_id, count(*) AS mentions, count(DISTINCT a.outlet) AS outlets,
        min(coalesce(a.published_at, a.fetched_at)) AS first_seen,
        max(coalesce(a.published_at, a.fetched_at)) AS latest_seen
    FROM matches AS m JOIN articles AS a ON a.url = m.article_url
    GROUP BY m.claim_id
),
waiting AS (
    SELECT claim_id, count(*) AS pending_suggestions FROM claim_suggestions GROUP BY claim_id
),
verdicts AS (
    SELECT claim_id, arg_max(verdict, reviewed_on) AS verdict,
        arg_max(fact_checker, reviewed_on) AS fact_checker
    FROM fact_checks GROUP BY claim_id
)
SELECT c.id AS claim_id, c.text AS claim_text, c.tags,
    coalesce(s.mentions, 0) AS mentions, coalesce(s.outlets, 0) AS outlets,
    s.first_seen, s.latest_seen, coalesce(w.pending_suggestions, 0) AS pending_suggestions,
    v.verdict, v.fact_checker
FROM claims AS c
LEFT JOIN seen AS s ON s.claim_id = c.id
LEFT JOIN waiting AS w ON w.claim_id = c.id
LEFT JOIN verdicts AS v ON v.claim_id = c.id
WHERE c.in_catalog
  AND ($text = '' OR c.text ILIKE '%' || $text || '%' OR c.id ILIKE '%' || $text || '%')
  AND ($tag = '' OR list_contains(c.tags, $tag))
ORDER BY mentions DESC, c.id
"""

DAYS = """
SELECT m.claim_id, CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day, count(*) AS n
FROM matches AS m JOIN articles AS a ON a.url = m.article_url
GROUP BY ALL
"""

TAGS = "SELECT DISTINCT unnest(tags) AS tag FROM claims WHERE in_catalog ORDER BY tag"


async def claims_page(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()
    tag = request.query_params.get("tag", "").strip()
    claims = await query(request, CLAIMS, text=text, tag=tag)
    days = await query(request, DAYS)
    tags = [row["tag"] for row in (await query(request, TAGS)).rows]
    charts = _charts(days.rows)
    return page(
        request,
        "claims.html.j2",
        {"claims": claims.rows, "charts": charts, "q": text, "tag": tag, "tags": tags},
        claims,
        "claims",
    )


def _charts(days: list[dict]) -> dict[str, object]:
    """Each claim's mentions over the whole archive's span, in equal periods."""
    if not days:
        return {}
    first: date = min(r["day"] for r in days)
    last: date = max(r["day"] for r in days)
    starts = periods(first, last)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for row in days:
        counts[row["claim_id"]][bucket(starts, row["day"])] += row["n"]
    span = f"{first.isoformat()} to {last.isoformat()}"
    return {
        claim: sparkline(values, f"{sum(values)} mentions, {span}")
        for claim, values in counts.items()
    }


routes = [Route("/", claims_page, name="claims")]
