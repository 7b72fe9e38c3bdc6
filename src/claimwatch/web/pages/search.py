"""The search page (/search): the stored articles by words and "quoted phrases", filtered
by outlet, source, language, claim and dates, newest first, each with the sentences that
hold the words; from any sentence, "make this a claim" (pages/new_claim.py)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.web.data import Table, query
from claimwatch.web.exports import page
from claimwatch.web.highlight import snippets, word_pattern, words_marked
from claimwatch.web.search_query import PER_PAGE, Search, parse_terms

MAX_PAGE = 500
# Every filter's choices in one query (each query opens the warehouse once).
CHOICES = """
SELECT * FROM (
    SELECT 'outlet' AS kind, outlet AS value, outlet AS label FROM articles GROUP BY outlet
    UNION ALL
    SELECT 'source', source, source FROM articles GROUP BY source
    UNION ALL
    SELECT 'language', language, language FROM articles WHERE language IS NOT NULL
        GROUP BY language
    UNION ALL
    SELECT 'claim', id, id || ': ' || left(text, 80) FROM claims WHERE in_catalog
)
ORDER BY kind, value
"""
COLUMNS = ["article_url", "title", "outlet", "source", "language", "seen_at", "snippets"]


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}={value[:40]!r}: give a date as YYYY-MM-DD") from None


def search_of(request: Request) -> Search:
    """The search the query string asks for."""
    params = request.query_params
    raw_page = params.get("page", "1").strip() or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise HTTPException(400, f"page={raw_page[:20]!r}: give a page from 1 to {MAX_PAGE}")
    return Search(
        terms=parse_terms(params.get("q", "")),
        outlet=params.get("outlet", "").strip(),
        source=params.get("source", "").strip(),
        language=params.get("language", "").strip(),
        claim=params.get("claim", "").strip(),
        since=_day(request, "since"),
        until=_day(request, "until"),
        page=int(raw_page),
    )


async def _found(request: Request, search: Search, asked: bool) -> list[dict[str, Any]]:
    if not asked:
        return []
    sql, params = search.sql()
    return (await query(request, sql, **params)).rows


async def search_page(request: Request) -> Response:
    search = search_of(request)
    asked = bool(search.terms) or search != Search(terms=[], page=search.page)
    # The filters' choices are read while the search runs.
    rows, options = await asyncio.gather(_found(request, search, asked), query(request, CHOICES))
    choices: dict[str, list[dict[str, Any]]] = {}
    for row in options.rows:
        choices.setdefault(row["kind"], []).append(row)
    total = rows[0]["total"] if rows else 0
    pattern = word_pattern(search.terms)
    results = []
    for row in rows:
        sentences = snippets(row["text"], pattern) or [row["text"][:300].strip()]
        results.append({**row, "snippets": [(s, words_marked(s, pattern)) for s in sentences]})
    table = Table(
        COLUMNS,
        [
            {
                "article_url": r["url"],
                "title": r["title"],
                "outlet": r["outlet"],
                "source": r["source"],
                "language": r["language"],
                "seen_at": r["seen_at"],
                "snippets": " … ".join(s for s, _ in r["snippets"]),
            }
            for r in results
        ],
    )
    pages = (total + PER_PAGE - 1) // PER_PAGE
    context = {
        "q": request.query_params.get("q", ""),
        "search": search,
        "asked": asked,
        "results": results,
        "total": total,
        "pages": min(pages, MAX_PAGE),
        "first": (search.page - 1) * PER_PAGE + 1,
        "choices": choices,
    }
    return page(request, "search.html.j2", context, table, "search")


routes = [Route("/search", search_page, name="search")]
