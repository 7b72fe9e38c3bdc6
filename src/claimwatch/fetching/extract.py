"""Extraction: an HTML page in, the article's text and metadata out (trafilatura)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import Document

from claimwatch.fetching.charset import decode_body, looks_binary
from claimwatch.fetching.client import Page
from claimwatch.records import Article, FeedItem

# trafilatura's own log level (WARNING, routed to Prefect) is set in claimwatch.logs.

HTML_TYPES = ("text/html", "application/xhtml+xml", "")
_LANG_ATTR = re.compile(r"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)

# About a book: longer "articles" are generated filler, and matching cost follows length.
MAX_TEXT_CHARS = 1_000_000

T = TypeVar("T")


class ExtractError(ValueError):
    """A page has no usable article text."""


def extract_article(page: Page, item: FeedItem, *, fetched_at: datetime | None = None) -> Article:
    """Extract the main text, title, author, date, language and canonical URL of a page.

    Some hostile shapes (a paragraph of 100 000 inline elements) cost trafilatura hours
    and some crash lxml: passes call this in worker processes (claimwatch.workers), which
    a CPU limit ends and a crash costs only their page.
    """
    media_type = page.content_type.split(";")[0].strip().lower()
    if media_type not in HTML_TYPES:
        raise ExtractError(f"not HTML (Content-Type {media_type})")
    # trafilatura gets text, not bytes: it would guess the encoding itself, ignoring the
    # HTTP header and the page's own declaration.
    html = decode_body(page.content, page.charset).text
    if looks_binary(html):
        raise ExtractError("not HTML (binary content)")
    doc = _run_extraction(
        lambda: trafilatura.bare_extraction(
            html, url=page.final_url, with_metadata=True, include_comments=False
        )
    )
    text = (doc.text or "").strip() if isinstance(doc, Document) else ""
    if not text or not isinstance(doc, Document):
        raise ExtractError("no article text found")
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractError(f"article text of {len(text)} characters, over {MAX_TEXT_CHARS}")
    canonical = doc.url if doc.url and doc.url != page.final_url else None
    title = (doc.title or "").strip() or item.title
    return Article(
        url=item.url,
        final_url=page.final_url,
        canonical_url=canonical,
        source=item.source,
        is_sample=item.is_sample,
        outlet=_outlet(doc.sitename, item.outlet, canonical or page.final_url),
        title=title,
        author=doc.author or None,
        text=text,
        language=doc.language or _declared_language(html),
        published_at=item.published_at or _parse_date(doc.date),
        fetched_at=fetched_at or datetime.now(UTC).replace(tzinfo=None),
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _run_extraction(extract: Callable[[], T]) -> T:
    """Call `extract`, turning a parser's exhaustion into an ExtractError."""
    try:
        return extract()
    except RecursionError:
        raise ExtractError("page nested too deeply to parse") from None
    except MemoryError:
        raise ExtractError("page too large to parse") from None


def _outlet(site_name: str | None, named: str | None, url: str) -> str:
    """The page's own site name, else the outlet its source named (Google News), else the host.

    trafilatura falls back to the host name when a page names no site: that counts as none.
    """
    host = urlsplit(url).hostname or ""
    if site_name and site_name.lower() not in (host, host.removeprefix("www.")):
        return site_name
    return named or site_name or host


def _declared_language(html: str) -> str | None:
    found = _LANG_ATTR.search(html[:8192])
    return found.group(1).lower() if found else None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None
