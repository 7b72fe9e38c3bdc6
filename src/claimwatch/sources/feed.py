"""RSS, Atom and JSON feeds: the items a feed announces, parsed as far as the feed goes."""

from __future__ import annotations

import calendar
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from claimwatch.dates import iso_to_utc
from claimwatch.exceptions import FetchError
from claimwatch.fetching.budget import OverBudget, cpu_budget
from claimwatch.fetching.charset import Decoded, decode_body, looks_binary, xml_as_utf8
from claimwatch.fetching.client import Page
from claimwatch.records import FeedItem
from claimwatch.sources.config import BaseSource, FeedSource
from claimwatch.sources.reader import SourceReader
from claimwatch.urls import normalize_url

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Servers refuse longer request lines (8 KiB is common); a longer link is junk or an attack.
MAX_URL_LENGTH = 8192
# Entities a feed's DTD may expand to, in characters: plenty for &nbsp;-style shorthands.
MAX_ENTITY_EXPANSION = 100_000
PARSE_CPU_SECONDS = 10.0

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A DOCTYPE with an internal subset, in the prolog (after the XML declaration and comments).
_DOCTYPE_SUBSET = re.compile(
    r"""\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE\b(?:[^"'\[>]|"[^"]*"|'[^']*')*\[""",
    re.DOTALL,
)
# One piece of an internal subset: space, a comment, a PI, a declaration, a PE reference, its end.
_SUBSET_TOKEN = re.compile(
    r"""\s+|<!--.*?-->|<\?.*?\?>|<!(?:[^"'>]|"[^"]*"|'[^']*')*>|%[^;\s]*;|\]""", re.DOTALL
)
_ENTITY_DECL = re.compile(
    r"""<!ENTITY\s+(%\s+)?([^\s"'>]+)\s+(?:(SYSTEM|PUBLIC)\b|(["'])(.*?)\4)""", re.DOTALL
)
_ENTITY_REF = re.compile(r"[&%]([A-Za-z_:][\w.:-]*);")


def read_feed(source: FeedSource, reader: SourceReader) -> list[FeedItem]:
    """The items of a feed source; none when the feed is unchanged since the last pass."""
    page = reader.get(source.location, accept=FEED_ACCEPT)
    return [] if page is None else parse_feed(page, source)


def parse_feed(page: Page, source: BaseSource) -> list[FeedItem]:
    """Items of an RSS, Atom or JSON feed, parsed as far as the feed goes.

    Relative links are resolved against the feed's final URL. A feed that is
    ill-formed but still yields entries is accepted (feedparser's "bozo" flag).
    The body is decoded first (claimwatch.fetching.charset), so a feed whose declaration
    lies still yields readable titles. Items whose link is no usable http(s) URL
    are skipped; hostile XML (entity expansion, external entities) is refused.
    """
    decoded = decode_body(page.content, page.charset, markup="xml")
    if looks_binary(decoded.text):
        raise FetchError(page.url, "not a feed (binary content)")
    if decoded.text.lstrip()[:1] == "{":
        entries = _json_feed_entries(page, decoded.text)
    else:
        entries = _xml_feed_entries(page, decoded)
    items: dict[str, FeedItem] = {}
    unusable = 0
    for link, title, published_at in entries:
        if not link:
            continue
        url = _item_url(link)
        if url is None:
            unusable += 1
            continue
        if url in items:
            continue
        items[url] = FeedItem(
            url=url,
            source=source.name,
            title=(title.strip() or None) if isinstance(title, str) else None,
            published_at=published_at,
            is_sample=source.sample,
            allow_private=source.allow_private,
        )
    if unusable:
        log.warning("%s: skipped %d items whose link is not a usable URL", page.url, unusable)
    return list(items.values())


_Entry = tuple[str | None, str | None, datetime | None]  # link, title, published


def _xml_feed_entries(page: Page, decoded: Decoded) -> list[_Entry]:
    _refuse_entity_tricks(page.url, decoded.text)
    try:
        with cpu_budget(PARSE_CPU_SECONDS):
            parsed = feedparser.parse(
                xml_as_utf8(decoded),
                # UTF-8 that says so, as XML: feedparser's own guess trusts the declarations,
                # and it reads nothing served as text/plain or text/html, as feeds often are.
                response_headers={
                    "content-location": page.final_url,
                    "content-type": "application/xml; charset=utf-8",
                },
            )
    except OverBudget:
        raise FetchError(
            page.url, f"parsing gave up after {PARSE_CPU_SECONDS:g} s of CPU"
        ) from None
    except RecursionError:
        raise FetchError(page.url, "not a readable feed: nested too deeply") from None
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = f"not a readable feed: {parsed.get('bozo_exception')}"
        elif not parsed.get("version"):
            reason = "not a feed (no RSS, Atom or JSON Feed found)"
        else:
            return []
        raise FetchError(page.url, " ".join(reason.split())[:300])
    return [(_entry_link(e), e.get("title"), _entry_time(e)) for e in parsed.entries]


def _json_feed_entries(page: Page, text: str) -> list[_Entry]:
    """The items of a JSON Feed (jsonfeed.org), which feedparser 6 does not read."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FetchError(page.url, f"not a readable feed: invalid JSON ({exc})") from None
    except RecursionError:
        raise FetchError(page.url, "not a readable feed: JSON nested too deeply") from None
    if not isinstance(data, dict) or "jsonfeed.org/version/" not in str(data.get("version")):
        raise FetchError(page.url, "not a feed (JSON, but no JSON Feed version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FetchError(page.url, "not a readable feed: a JSON Feed without an items list")
    entries: list[_Entry] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        title = item.get("title")
        entries.append(
            (
                urljoin(page.final_url, link) if isinstance(link, str) else None,
                title if isinstance(title, str) else None,
                iso_to_utc(item.get("date_published") or item.get("date_modified")),
            )
        )
    return entries


def _item_url(link: str) -> str | None:
    """The normalised http(s) URL of an item's link, or None if it is unusable."""
    if len(link) > MAX_URL_LENGTH or _CONTROL.search(link):
        return None
    try:
        url = normalize_url(link)
        parts = urlsplit(url)
    except ValueError:  # a port that is no number, a broken IPv6 literal
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _refuse_entity_tricks(url: str, text: str) -> None:
    """Raise FetchError if the feed's DTD declares entities that are a risk to expand.

    Expat stops a billion-laughs document only after expanding megabytes (feedparser
    then spends seconds on it). It never reads external entities, but a feed that
    declares one for its content is up to no good; an external parameter entity (old
    RDF feeds pull in the XHTML entity sets so) stays unread and harmless. Internal
    parameter entities could assemble declarations this check does not see.
    """
    doctype = _DOCTYPE_SUBSET.match(text) if "<!ENTITY" in text else None
    if doctype is None:
        return
    values: dict[str, str] = {}
    position = doctype.end()
    while (token := _SUBSET_TOKEN.match(text, position)) and token.group() != "]":
        position = token.end()
        declared = _ENTITY_DECL.match(token.group())
        if declared is None:
            continue
        parameter, name, external, _, value = declared.groups()
        if parameter and not external:
            raise FetchError(url, "refused: the feed's DTD declares internal parameter entities")
        if external and not parameter:
            raise FetchError(url, f"refused: the feed declares an external entity ({name})")
        if not parameter:
            values.setdefault(name, value)
    sizes: dict[str, int] = {}

    def size(name: str, open_: frozenset[str]) -> int:
        if name not in sizes:
            if name in open_:
                raise FetchError(url, f"refused: the feed's entity {name} refers to itself")
            refs = [r for r in _ENTITY_REF.findall(values[name]) if r in values]
            sizes[name] = len(values[name]) + sum(size(r, open_ | {name}) for r in refs)
        return sizes[name]

    try:
        refs = _ENTITY_REF.findall(text, position)
        total = sum(size(r, frozenset()) for r in refs if r in values)
    except RecursionError:
        raise FetchError(url, "refused: the feed's entities are nested too deeply") from None
    if total > MAX_ENTITY_EXPANSION:
        raise FetchError(
            url,
            f"refused: the feed's entities would expand to {total} characters "
            f"(at most {MAX_ENTITY_EXPANSION}): an entity expansion attack?",
        )


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links", []):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"])
    return None


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC).replace(tzinfo=None)
            except (OverflowError, ValueError):
                continue
    return None
