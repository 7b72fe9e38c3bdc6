"""Fetching over HTTP: one shared httpx client, polite limits, retries, a body-size cap.

Politeness per host: robots.txt obeyed (claimwatch.fetching.robots), at most
`max_per_host` requests at once, and `host_delay` seconds (or the site's
Crawl-delay, up to `max_crawl_delay`) between the starts of its requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpx

from claimwatch.exceptions import FetchError
from claimwatch.fetching.address_guard import PrivateAddressError, PublicOnlyTransport
from claimwatch.fetching.config import FetchConfig
from claimwatch.fetching.robots import Robots, RobotsCache, is_robots_url
from claimwatch.retry import RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)


# Statuses worth another try: the server says "later" or failed on its side.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class MediaTypes:
    """Content types a caller takes, named for errors: "not HTML (Content-Type image/png)"."""

    name: str
    prefixes: tuple[str, ...]

    def refusal(self, content_type: str) -> str | None:
        """Why a response of `content_type` is refused, or None (a missing type is let through)."""
        media = content_type.partition(";")[0].strip().lower()
        if not media or media.startswith(self.prefixes):
            return None
        return f"not {self.name} (Content-Type {media})"


HTML = MediaTypes("HTML", ("text/html", "application/xhtml+xml"))
# The Accept header of a request for a web page.
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


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
    """A thread-safe fetcher: robots.txt, a global and a per-host cap, per-host pacing."""

    def __init__(self, config: FetchConfig | None = None) -> None:
        self.config = config or FetchConfig()
        cfg = self.config
        # The semaphores below bound the requests; the pool itself is left unbounded (idle
        # connections still expire after 5 s). A bounded httpcore 1.0.9 pool may close an
        # idle connection just handed to a waiting request, which then hangs until its
        # read timeout (encode/httpcore#1110): seen here as 20 s stalls and EBADF errors.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        self._client = httpx.Client(
            headers={"User-Agent": cfg.user_agent},
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            # get() follows redirects itself, hop by hop; robots.txt lets httpx follow them.
            follow_redirects=False,
            max_redirects=cfg.max_redirects,
            limits=limits,
            transport=None if cfg.allow_private else PublicOnlyTransport(limits),
        )
        self._global = threading.BoundedSemaphore(cfg.max_connections)
        self._hosts: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(cfg.max_per_host)
        )
        self._hosts_lock = threading.Lock()
        # When each host's next request may start (time.monotonic()).
        self._next_start: dict[str, float] = {}
        self._robots = RobotsCache(self._load_robots)
        self.retry_policy = RetryPolicy(
            retries=cfg.retries, backoff=cfg.backoff_seconds, max_retry_after=cfg.max_retry_after
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        headers: Mapping[str, str] | None = None,
        expect: MediaTypes | None = None,
        stop_at: Callable[[str], bool] | None = None,
    ) -> Page:
        """GET `url`, retrying transient failures; raise FetchError with the reason.

        `headers` are sent as well (e.g. If-None-Match). A 304 Not Modified is
        returned as a Page with status 304 and no content. With `expect` (e.g.
        HTML), a response of another Content-Type fails before its body is read.
        Redirects are followed one hop at a time, each hop a request like any
        other (robots.txt, caps, delay of its own host). A redirect to a URL for
        which `stop_at` is true is not followed: the redirect is returned, with
        that URL as its final_url.
        """
        target = url
        for _ in range(self.config.max_redirects + 1):
            try:
                page = self._hop(target, accept, headers or {}, expect)
            except FetchError as exc:
                if target == url:
                    raise
                raise FetchError(url, f"redirected to {target}: {exc.reason}") from None
            location = page.headers.get("location") if page.status in REDIRECTS else None
            if not location:
                return replace(page, url=url)
            target = urljoin(target, location)
            if stop_at is not None and stop_at(target):
                return replace(page, url=url, final_url=target)
        raise FetchError(url, f"more than {self.config.max_redirects} redirects")

    def _hop(
        self, url: str, accept: str, headers: Mapping[str, str], expect: MediaTypes | None
    ) -> Page:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported scheme {scheme or '(none)'!r}; use http or https")
        delay = self.config.host_delay
        if self.config.obey_robots and not is_robots_url(url):
            delay = max(delay, self._obey_robots(url))
        return self._get(url, accept, headers, expect=expect, delay=delay)

    def _obey_robots(self, url: str) -> float:
        """Raise FetchError unless robots.txt allows `url`; return the site's Crawl-delay."""
        try:
            robots = self._robots.get(url)
        except _Refused as exc:
            raise _Refused(url, exc.reason) from None
        refusal = robots.refusal(url)
        if refusal is not None:
            raise FetchError(url, refusal)
        return min(robots.crawl_delay, self.config.max_crawl_delay)

    def _load_robots(self, robots_url: str) -> Robots:
        try:
            # Not paced: one small request a day per site, before its first page.
            page = self._get(robots_url, "text/plain", {}, robots=True)
        except _Refused:
            raise
        except FetchError as exc:
            return Robots(robots_url, unreachable=exc.reason)
        return Robots.from_response(robots_url, page.status, page.content)

    def _get(
        self,
        url: str,
        accept: str,
        headers: Mapping[str, str],
        *,
        expect: MediaTypes | None = None,
        delay: float = 0.0,
        robots: bool = False,
    ) -> Page:
        policy = self.retry_policy
        attempt = 0
        while True:
            try:
                return self._get_once(url, accept, headers, expect, delay, robots)
            except _Transient as exc:
                if not policy.allows(attempt):
                    tries = "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"
                    raise FetchError(url, f"{exc.reason} (after {tries})") from None
                wait = policy.delay(attempt, exc.retry_after)
                if wait is None:
                    reason = f"{exc.reason}; Retry-After {exc.retry_after:.0f}s is too long"
                    raise FetchError(url, reason) from None
                log.debug("retrying %s in %.1fs: %s", url, wait, exc.reason)
                time.sleep(wait)
                attempt += 1

    def _host_slot(self, host: str) -> threading.BoundedSemaphore:
        with self._hosts_lock:
            return self._hosts[host]

    def _pace(self, host: str, delay: float) -> None:
        """Wait for `host`'s turn: starts at least `delay` seconds apart."""
        if delay <= 0:
            return
        with self._hosts_lock:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + delay
        if start > now:
            time.sleep(start - now)

    def _get_once(
        self,
        url: str,
        accept: str,
        headers: Mapping[str, str],
        expect: MediaTypes | None,
        delay: float,
        robots: bool,
    ) -> Page:
        host = urlsplit(url).netloc.lower()
        # Host first, global last: a request waiting for its host's turn holds no global slot.
        with self._host_slot(host):
            self._pace(host, delay)
            with self._global:
                return self._request(url, accept, headers, expect, robots)

    def _request(
        self,
        url: str,
        accept: str,
        headers: Mapping[str, str],
        expect: MediaTypes | None,
        robots: bool,
    ) -> Page:
        """One request. For robots.txt: redirects followed here, a 4xx returned, not raised."""
        try:
            request_headers = {"Accept": accept, **headers}
            with self._client.stream(
                "GET", url, headers=request_headers, follow_redirects=robots
            ) as response:
                status = response.status_code
                if status in RETRY_STATUSES:
                    raise _Transient(
                        f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After"))
                    )
                if status >= 400 and not (robots and status < 500):
                    raise FetchError(url, f"HTTP {status}")
                content_type = response.headers.get("Content-Type", "")
                refusal = expect.refusal(content_type) if expect and status < 300 else None
                if refusal is not None:
                    raise FetchError(url, refusal)
                redirect = status in REDIRECTS and "location" in response.headers
                if redirect or status == 304 or status >= 400:
                    # No body worth keeping; a short one is read so the connection is reused.
                    _drain(response)
                    content = b""
                else:
                    content = self._read_capped(url, response)
                return Page(
                    url=url,
                    final_url=str(response.url),
                    status=status,
                    content_type=content_type,
                    content=content,
                    headers={k.lower(): v for k, v in response.headers.items()},
                )
        except PrivateAddressError as exc:
            raise _Refused(
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
        # The read timeout restarts with every byte, so a server that trickles its body
        # would never time out: the whole body also has a deadline.
        deadline = time.monotonic() + self.config.body_timeout
        # iter_bytes yields decompressed data, so the cap also holds against gzip bombs.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"body exceeds the {limit}-byte cap")
            if time.monotonic() > deadline:
                raise FetchError(url, f"body not received within {self.config.body_timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)


def _drain(response: httpx.Response, limit: int = 64 * 1024) -> None:
    """Read and drop a body of up to `limit` bytes; a longer one is left for close()."""
    size = 0
    try:
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > limit:
                return
    except httpx.HTTPError:  # unwanted anyway; the connection is just not reused
        return


class _Refused(FetchError):
    """The private-address guard refused the host: final, and robots.txt is no exception."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """A short reason, e.g. 'connection failed: [Errno -3] Temporary failure in name resolution'."""
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectTimeout: "connect timed out",
        httpx.ReadTimeout: "read timed out",
        httpx.ConnectError: "connection failed",
        httpx.ReadError: "connection lost",
        httpx.WriteError: "connection lost",
        httpx.RemoteProtocolError: "protocol error",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind


@lru_cache(maxsize=4)
def shared_fetcher(config: FetchConfig) -> Fetcher:
    """The process-wide fetcher for `config` (one client and connection pool per process)."""
    return Fetcher(config)
