"""Fetching over HTTP: one shared httpx client, polite limits, retries, a body-size cap."""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from claimwatch import __version__
from claimwatch.exceptions import FetchError
from claimwatch.netguard import PrivateAddressError, PublicOnlyTransport

log = logging.getLogger(__name__)

# Statuses worth another try: the server says "later" or failed on its side.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchConfig(BaseModel):
    """How politely and how patiently to fetch. Frozen, so it can key the shared client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_agent: str = f"claimwatch/{__version__} (claim monitor; +https://github.com/claimwatch)"
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_connections: int = Field(default=16, ge=1)
    max_per_host: int = Field(default=2, ge=1)
    max_redirects: int = Field(default=5, ge=0)
    retries: int = Field(default=2, ge=0)
    backoff_seconds: float = Field(default=0.5, ge=0)
    # A Retry-After longer than this is not waited for: the URL fails and the pass goes on.
    max_retry_after: float = Field(default=30.0, ge=0)
    # Connect to loopback and private networks too (local tests, the offline sample).
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """A successful response: the body and where it finally came from."""

    url: str
    final_url: str
    status: int
    content_type: str
    content: bytes
    headers: dict[str, str]

    @property
    def charset(self) -> str | None:
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'")
        return None


class Fetcher:
    """A thread-safe fetcher: a global and a per-host cap on concurrent requests."""

    def __init__(self, config: FetchConfig | None = None) -> None:
        self.config = config or FetchConfig()
        cfg = self.config
        limits = httpx.Limits(
            max_connections=cfg.max_connections,
            max_keepalive_connections=cfg.max_connections,
        )
        self._client = httpx.Client(
            headers={"User-Agent": cfg.user_agent},
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            follow_redirects=True,
            max_redirects=cfg.max_redirects,
            limits=limits,
            transport=None if cfg.allow_private else PublicOnlyTransport(limits),
        )
        self._global = threading.BoundedSemaphore(cfg.max_connections)
        self._hosts: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(cfg.max_per_host)
        )
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(
        self, url: str, *, accept: str = "*/*", headers: Mapping[str, str] | None = None
    ) -> Page:
        """GET `url`, retrying transient failures; raise FetchError with the reason.

        `headers` are sent as well (e.g. If-None-Match). A 304 Not Modified is
        returned as a Page with status 304 and no content.
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported scheme {scheme or '(none)'!r}; use http or https")
        attempt = 0
        while True:
            try:
                return self._get_once(url, accept, headers or {})
            except _Transient as exc:
                if attempt >= self.config.retries:
                    raise FetchError(url, f"{exc.reason} (after {attempt + 1} attempts)") from None
                delay = exc.retry_after
                if delay is None:
                    delay = self.config.backoff_seconds * 2**attempt * (1 + random.random())
                elif delay > self.config.max_retry_after:
                    reason = f"{exc.reason}; Retry-After {delay:.0f}s is too long"
                    raise FetchError(url, reason) from None
                log.debug("retrying %s in %.1fs: %s", url, delay, exc.reason)
                time.sleep(delay)
                attempt += 1

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            return self._hosts[host]

    def _get_once(self, url: str, accept: str, headers: Mapping[str, str]) -> Page:
        with self._global, self._host_slot(url):
            try:
                request_headers = {"Accept": accept, **headers}
                with self._client.stream("GET", url, headers=request_headers) as response:
                    if response.status_code in RETRY_STATUSES:
                        raise _Transient(
                            f"HTTP {response.status_code}",
                            parse_retry_after(response.headers.get("Retry-After")),
                        )
                    if response.status_code >= 400:
                        raise FetchError(url, f"HTTP {response.status_code}")
                    not_modified = response.status_code == 304
                    content = b"" if not_modified else self._read_capped(url, response)
                    return Page(
                        url=url,
                        final_url=str(response.url),
                        status=response.status_code,
                        content_type=response.headers.get("Content-Type", ""),
                        content=content,
                        headers=dict(response.headers),
                    )
            except PrivateAddressError as exc:
                raise FetchError(
                    url,
                    f"refused: {exc}; allow it with allow_private: true on the source"
                    " or CLAIMWATCH_ALLOW_PRIVATE_HOSTS=1",
                ) from None
            except httpx.TooManyRedirects:
                raise FetchError(url, f"more than {self.config.max_redirects} redirects") from None
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise _Transient(describe_transport_error(exc)) from None
            except httpx.HTTPError as exc:
                raise FetchError(url, describe_transport_error(exc)) from None

    def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"body of {declared} bytes exceeds the {limit}-byte cap")
        chunks: list[bytes] = []
        size = 0
        # iter_bytes yields decompressed data, so the cap also holds against gzip bombs.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"body exceeds the {limit}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """A short reason, e.g. 'connection failed: [Errno -3] Temporary failure in name resolution'."""
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectTimeout: "connect timed out",
        httpx.ReadTimeout: "read timed out",
        httpx.ConnectError: "connection failed",
        httpx.RemoteProtocolError: "protocol error",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind


@lru_cache(maxsize=4)
def shared_fetcher(config: FetchConfig) -> Fetcher:
    """The process-wide fetcher for `config` (one client and connection pool per process)."""
    return Fetcher(config)
