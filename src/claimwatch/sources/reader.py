"""Incremental reading of sources: conditional requests, a body-hash guard, and a tally.

Each URL a source is read from (a feed, a sitemap, a home page) keeps its
validators between passes: ETag, Last-Modified and a SHA-256 of the body.
The next poll sends If-None-Match / If-Modified-Since and treats 304 as
"nothing new". Some servers answer 304 (or keep the ETag) for a changed body,
so when a 304 comes more than `verify_after` since the body was last fetched
in full, the body is fetched again at once and its hash compared; a URL caught
lying is no longer asked conditionally.
An unconditional 200 whose body hash is unchanged is also "nothing new".
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import Fetcher, Page
from claimwatch.records import SourceTally, Validator


@dataclass
class SourceReader:
    """The fetcher as one source's discovery sees it: conditional, counted.

    `get` is for documents that change in place (feeds, sitemaps, home pages)
    and returns None when nothing changed since the last pass. `get_fresh`
    is for one-off requests (API queries, robots.txt, redirect resolution).
    """

    fetcher: Fetcher
    validators: Mapping[str, Validator]
    now: datetime
    verify_after: timedelta = timedelta(hours=6)
    updated: dict[str, Validator] = field(default_factory=dict)
    tally: SourceTally = field(default_factory=SourceTally)

    def get(self, url: str, *, accept: str = "*/*") -> Page | None:
        known = self.updated.get(url) or self.validators.get(url)
        conditional = known is not None and known.conditional and bool(_conditional_headers(known))
        page = self._fetch(url, accept, _conditional_headers(known) if conditional else {})
        trusted = known.conditional if known else True
        if page.status == 304 and known is not None:
            if self.now - known.verified_at < self.verify_after:
                self.tally.not_modified += 1
                return None
            # Due for a check: does the body really match what the 304 vouched for?
            page = self._fetch(url, accept, {})
            digest = hashlib.sha256(page.content).hexdigest()
            trusted = digest == known.body_sha256
        else:
            digest = hashlib.sha256(page.content).hexdigest()
        if known is not None and digest == known.body_sha256:
            self.tally.not_modified += 1
            self.updated[url] = replace(
                _validator(url, page, digest, known.changed_at, self.now), conditional=trusted
            )
            return None
        self.tally.ok += 1
        self.updated[url] = replace(
            _validator(url, page, digest, self.now, self.now), conditional=trusted
        )
        return page

    def get_fresh(
        self,
        url: str,
        *,
        accept: str = "*/*",
        headers: Mapping[str, str] | None = None,
        stop_at: Callable[[str], bool] | None = None,
    ) -> Page:
        page = self._fetch(url, accept, headers or {}, stop_at)
        self.tally.ok += 1
        return page

    def _fetch(
        self,
        url: str,
        accept: str,
        headers: Mapping[str, str],
        stop_at: Callable[[str], bool] | None = None,
    ) -> Page:
        self.tally.requests += 1
        started = time.perf_counter()
        try:
            page = self.fetcher.get(url, accept=accept, headers=headers, stop_at=stop_at)
        except FetchError:
            self.tally.errors += 1
            raise
        finally:
            self.tally.seconds += time.perf_counter() - started
        self.tally.bytes += len(page.content)
        return page


def _conditional_headers(known: Validator | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if known is None:
        return headers
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers


def _validator(url: str, page: Page, digest: str, changed_at: datetime, now: datetime) -> Validator:
    lower = {k.lower(): v for k, v in page.headers.items()}
    return Validator(
        url=url,
        etag=lower.get("etag"),
        last_modified=lower.get("last-modified"),
        body_sha256=digest,
        changed_at=changed_at,
        verified_at=now,
    )
