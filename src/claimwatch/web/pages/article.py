"""The article page (/article?url=...): a stored article's text with every matched and
suggested span marked, its metadata, the claims it matches, and the other outlets that
carried the same story."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.web.data import Table, query
from claimwatch.web.exports import page
from claimwatch.web.highlight import Span, marked, paragraphs

ARTICLE = """
SELECT url, final_url, canonical_url, source, outlet, title, author, text, language,
    published_at, fetched_at, is_sample
FROM articles WHERE url = $url
LIMIT 1
"""

# Confirmed matches and suggestions (pending or decided) of the article, one row each.
SPANS = """
SELECT 'match' AS kind, m.claim_id, c.text AS claim_text, m.field, m.match_start,
    m.match_end, m.matched_text, round(m.score, 1) AS score, 'confirmed' AS status
FROM matches AS m LEFT JOIN claims AS c ON c.id = m.claim_id
WHERE m.article_url = $url
UNION ALL
SELECT 'suggestion', s.claim_id, c.text, s.field, s.match_start, s.match_end,
    s.matched_text, round(s.score, 1),
    coalesce(r.decision, 'pending')
FROM suggestions AS s
LEFT JOIN claims AS c ON c.id = s.claim_id
LEFT JOIN (
    SELECT suggestion_id, arg_max(decision, decided_at) AS decision
    FROM reviews GROUP BY suggestion_id
) AS r ON r.suggestion_id = s.id
WHERE s.article_url = $url
ORDER BY field, match_start, kind, claim_id
"""

# Other articles of the article's story (each with its outlet), oldest first.
STORY = """
SELECT a.url, a.outlet, a.title, coalesce(a.published_at, a.fetched_at) AS seen_at
FROM article_stories AS s
JOIN articles AS a ON a.url = s.article_url
WHERE s.story_id IN (SELECT story_id FROM article_stories WHERE article_url = $url)
  AND a.url <> $url
ORDER BY seen_at, a.url
LIMIT $limit
"""
STORY_SHOWN = 50
COLUMNS = [
    "kind",
    "status",
    "claim_id",
    "claim_text",
    "field",
    "match_start",
    "match_end",
    "matched_text",
    "score",
]


def _label(row: dict[str, Any]) -> str:
    what = "match" if row["kind"] == "match" else f"suggestion, {row['status']}"
    return f"{row['claim_id']} ({what}, score {row['score']})"


def _spans(rows: list[dict[str, Any]], field: str) -> list[Span]:
    return [
        Span(r["match_start"], r["match_end"], r["kind"], _label(r))
        for r in rows
        if r["field"] == field
    ]


async def article_page(request: Request) -> Response:
    url = request.query_params.get("url", "")
    # Three reads at once: none needs another's result.
    found, spans, stories = await asyncio.gather(
        query(request, ARTICLE, url=url),
        query(request, SPANS, url=url),
        query(request, STORY, url=url, limit=STORY_SHOWN),
    )
    if not found.rows:
        raise HTTPException(404, "no stored article has this URL")
    article, story = found.rows[0], stories.rows
    title = article["title"] or ""
    claims: dict[str, dict[str, Any]] = {}
    for row in spans.rows:
        entry = claims.setdefault(
            row["claim_id"],
            {"claim_id": row["claim_id"], "claim_text": row["claim_text"], "kinds": set()},
        )
        entry["kinds"].add("match" if row["kind"] == "match" else f"suggestion ({row['status']})")
    context = {
        "article": article,
        "title_html": marked(title, 0, len(title), _spans(spans.rows, "title")),
        "text_html": paragraphs(article["text"], _spans(spans.rows, "text")),
        "spans": spans.rows,
        "claims": list(claims.values()),
        "story": story,
        "story_shown": STORY_SHOWN,
    }
    table = Table(COLUMNS, [{c: r[c] for c in COLUMNS} for r in spans.rows])
    return page(request, "article.html.j2", context, table, "article")


routes = [Route("/article", article_page, name="article")]
