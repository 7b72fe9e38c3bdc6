"""Extraction: an HTML page in, the article's text and metadata out (trafilatura)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import Document

from claimwatch.fetch import Page
from claimwatch.records import Article, FeedItem

# trafilatura's own log level (WARNING, routed to Prefect) is set in claimwatch.logs.

HTML_TYPES = ("text/html", "application/xhtml+xml", "")
_LANG_ATTR = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


class ExtractError(ValueError):
    """A page has no usable article text."""


def extract_article(page: Page, item: FeedItem, *, fetched_at: datetime | None = None) -> Article:
    """Extract the main text, title, author, date, language and canonical URL of a page."""
    media_type = page.content_type.split(";")[0].strip().lower()
    if media_type not in HTML_TYPES:
        raise ExtractError(f"not HTML (Content-Type {media_type})")
    if b"\x00" in page.content[:4096]:
        raise ExtractError("not HTML (binary content)")
    doc = trafilatura.bare_extraction(
        page.content, url=page.final_url, with_metadata=True, include_comments=False
    )
    text = (doc.text or "").strip() if isinstance(doc, Document) else ""
    if not text or not isinstance(doc, Document):
        raise ExtractError("no article text found")
    canonical = doc.url if doc.url and doc.url != page.final_url else None
    title = (doc.title or "").strip() or item.title
    return Article(
        url=item.url,
        final_url=page.final_url,
        canonical_url=canonical,
        source=item.source,
        is_sample=item.is_sample,
        outlet=doc.sitename or urlsplit(canonical or page.final_url).hostname or "",
        title=title,
        author=doc.author or None,
        text=text,
        language=doc.language or _declared_language(page.content),
        published_at=item.published_at or _parse_date(doc.date),
        fetched_at=fetched_at or datetime.now(UTC).replace(tzinfo=None),
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _declared_language(content: bytes) -> str | None:
    found = _LANG_ATTR.search(content[:8192])
    return found.group(1).decode("ascii").lower() if found else None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None
