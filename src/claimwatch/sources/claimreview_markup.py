"""Fact-checkers' verdicts from schema.org ClaimReview markup (pages and export files).

Pages are read with extruct, though not with its JSON-LD pass over the whole page: under
errors="ignore" one malformed <script type="application/ld+json"> drops every JSON-LD block of
the page, so each script goes to extruct's JsonLdExtractor on its own."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import extruct
import lxml.etree
import lxml.html

from claimwatch.fetching.charset import decode_body
from claimwatch.records import FactCheck
from claimwatch.urls import normalize_url

MAX_CLAIM_CHARS = 2000  # as the catalog's Text type, so a claim read here fits the catalog
MAX_NAME_CHARS = 300
MAX_URL_CHARS = 2048  # a longer "URL" is junk, and a cut one a wrong address: dropped
MAX_DEPTH = 16  # ClaimReviews sit a few levels down; hostile nesting is not walked

_JSONLD_SCRIPTS = lxml.etree.XPath('//script[@type="application/ld+json"]')
# With or without a prefix: "http://schema.org/", "https://schema.org#", "schema:".
_CLAIM_REVIEW = re.compile(r"\s*(?:.*[/#:])?ClaimReview\s*")
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


def fact_check_id(review_url: str, position: int = 1) -> str:
    """A review's id, "fc-" and 12 hex digits of the SHA-256 of its normalised URL: the same
    review under another spelling (host case, fragment, trailing slash) keeps its id. The
    second and later reviews of one URL (a round-up page) add their position."""
    try:
        key = normalize_url(review_url)
    except ValueError:  # a bad port or IPv6 host: the text as given is still a stable key
        key = review_url.strip()
    if position > 1:
        key += f"\n{position}"
    return "fc-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def reviews_in_html(html: bytes | str, page_url: str) -> list[FactCheck]:
    """The ClaimReviews of a page's JSON-LD and microdata, one per claim_id (JSON-LD first)."""
    tree = _parse_html(html)
    items = [] if tree is None else [*_jsonld_items(tree), *_microdata_items(tree, page_url)]
    return _fact_checks(items, page_url)


def reviews_in_json(data: bytes | str, origin: str) -> list[FactCheck]:
    """The ClaimReviews of an export file (an object, a list, @graph, DataFeed, JSON lines).
    ValueError when it is not JSON. Reviews without a url are left out: a file is no page."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{origin}: not UTF-8 (byte {exc.start})") from None
    return _fact_checks(_json_documents(data.removeprefix("\ufeff"), origin), None)


def _parse_html(html: bytes | str) -> lxml.html.HtmlElement | None:
    # Decoded as the fetcher decodes pages; lxml then gets UTF-8, not a stale <meta charset>.
    text = decode_body(html).text if isinstance(html, bytes) else html
    parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None


def _jsonld_items(tree: lxml.html.HtmlElement) -> Iterator[Any]:
    extractor = extruct.JsonLdExtractor()
    for script in _JSONLD_SCRIPTS(tree):
        try:
            items = extractor.extract_items(script)  # reads scripts at or below a node
        except (ValueError, RecursionError):
            continue  # this block is broken; the page's other blocks still count
        yield from items


def _microdata_items(tree: lxml.html.HtmlElement, page_url: str) -> list[Any]:
    try:
        found = extruct.extract(
            tree, base_url=page_url, syntaxes=["microdata"], uniform=True, errors="ignore"
        )
    except KeyError:  # a failed microdata pass leaves no key, which uniform=True looks up
        return []
    return list(found.get("microdata", []))


def _json_documents(text: str, origin: str) -> list[Any]:
    """The JSON document of `text`, or the documents of its lines when it is JSON lines."""
    try:
        return [json.loads(text)]
    except RecursionError:
        raise ValueError(f"{origin}: JSON nested too deeply") from None
    except json.JSONDecodeError as e:
        if e.msg != "Extra data":  # a second document after the first: JSON lines
            raise ValueError(f"{origin}: not JSON (line {e.lineno}, column {e.colno})") from None
    documents = []
    # Not splitlines(): it also cuts at U+2028 and the like, which JSON strings may hold.
    for number, line in enumerate(text.split("\n"), start=1):
        try:
            documents.append(json.loads(line) if line.strip() else None)
        except (ValueError, RecursionError):
            raise ValueError(f"{origin}: line {number}: not JSON") from None
    return documents


def _fact_checks(items: list[Any], page_url: str | None) -> list[FactCheck]:
    checks: list[FactCheck] = []
    claims_of: dict[str, list[str]] = {}  # review id -> the claims reviewed under its URL
    for review in _claim_reviews(items, 0):
        check = _fact_check(review, page_url)
        if check is None:
            continue
        claims = claims_of.setdefault(check.claim_id, [])
        if check.claim_text in claims:
            continue  # the same review again (in JSON-LD and in microdata)
        claims.append(check.claim_text)
        if len(claims) > 1:
            check = replace(check, claim_id=fact_check_id(check.review_url, len(claims)))
        checks.append(check)
    return checks


def _claim_reviews(node: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Every ClaimReview in a JSON-LD value: in lists, @graph, mainEntity, DataFeed items…"""
    if depth > MAX_DEPTH:
        return
    if isinstance(node, list):
        for child in node:
            yield from _claim_reviews(child, depth + 1)
    elif isinstance(node, dict):
        if _is_claim_review(node):
            yield node
        else:
            for child in node.values():
                yield from _claim_reviews(child, depth + 1)


def _is_claim_review(node: dict[str, Any]) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(name, str) and _CLAIM_REVIEW.fullmatch(name) for name in names)


def _fact_check(review: dict[str, Any], page_url: str | None) -> FactCheck | None:
    claim_text = _text(review.get("claimReviewed"), MAX_CLAIM_CHARS)
    review_url = _url(review.get("url"), page_url) or page_url
    if not claim_text or not review_url:
        return None
    rating = _first_object(review.get("reviewRating"))
    claim = _first_object(review.get("itemReviewed"))
    return FactCheck(
        claim_id=fact_check_id(review_url),
        review_url=review_url,
        claim_text=claim_text,
        verdict=_text(rating.get("alternateName")),
        rating_value=_number(rating.get("ratingValue")),
        fact_checker=_text(review.get("author")),
        fact_checker_url=_url(review.get("author"), page_url),
        reviewed_on=_iso_date(review.get("datePublished")),
        claim_author=_text(claim.get("author")),
        claim_date=_iso_date(claim.get("datePublished")),
        appearance_url=_url(claim.get("firstAppearance") or claim.get("appearance"), page_url),
        language=_language(review.get("inLanguage")),
    )


def _first(value: Any) -> Any:
    # schema.org allows many of any property; a JSON-LD value object stands for its @value.
    if isinstance(value, list):
        value = next((item for item in value if item is not None), None)
    return value.get("@value") if isinstance(value, dict) and "@value" in value else value


def _first_object(value: Any) -> dict[str, Any]:
    value = _first(value)
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = MAX_NAME_CHARS) -> str | None:
    """A string, or the name of a thing (an author given as a Person or Organization)."""
    value = _first(value)
    if isinstance(value, dict):
        value = _first(value.get("name"))
    if not isinstance(value, str):
        return None
    return " ".join(value.split())[:limit] or None


def _url(value: Any, base: str | None) -> str | None:
    """An http(s) URL given as a string or as the url of a thing, resolved against `base`."""
    value = _first(value)
    if isinstance(value, dict):
        value = _first(value.get("url"))
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        return None
    try:
        url = urljoin(base, value.strip()) if base else value.strip()
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket and the like
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _number(value: Any) -> float | None:
    value = _first(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _iso_date(value: Any) -> str | None:
    # The date as written, not shifted to UTC: the day the publisher dated it.
    text = _text(value, 64)
    try:
        return date.fromisoformat(text[:10]).isoformat() if text else None
    except ValueError:
        return None


def _language(value: Any) -> str | None:
    """A language tag's primary subtag ("en-US" → "en"), else the value as given."""
    value = _first(value)
    if isinstance(value, dict):  # a schema.org Language, whose code is its alternateName
        value = value.get("alternateName") or value
    text = _text(value, 64)
    tag = _LANGUAGE_TAG.fullmatch(text) if text else None
    return tag.group(1).lower() if tag else text
