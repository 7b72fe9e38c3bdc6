"""robots.txt, obeyed per RFC 9309: fetched once a day per site and asked before each request.

- 2xx: its rules apply to the token "claimwatch" (a group of its own, else `*`).
- 4xx ("unavailable"): everything is allowed.
- 5xx, 429, a network failure or anything else ("unreachable"): nothing is
  allowed until it is asked again a few minutes later; the last good copy,
  if any, is used meanwhile (RFC 9309 §2.4 allows it).

The fetching itself belongs to the caller (claimwatch.fetching.client), so robots.txt
goes through the same client, limits and private-address guard as any page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

log = logging.getLogger(__name__)

# The product token robots.txt groups are matched against.
AGENT = "claimwatch"
# RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours.
TTL = 24 * 3600.0
# An unreachable robots.txt blocks its site only this long before it is asked again.
UNREACHABLE_TTL = 300.0


def robots_url(url: str) -> str:
    """The robots.txt governing `url`: same scheme, host and port."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2].lower()
    return f"{parts.scheme.lower()}://{host}/robots.txt"


def is_robots_url(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


@dataclass(frozen=True, slots=True)
class Robots:
    """One site's robots.txt: its rules, none (all allowed), or why it could not be read."""

    url: str
    rules: Protego | None = None
    unreachable: str | None = None  # the reason; while set, nothing on the site is fetched

    @classmethod
    def from_response(cls, url: str, status: int, body: bytes) -> Robots:
        if 200 <= status < 300:
            return cls(url, Protego.parse(body.decode("utf-8", "replace").lstrip("\ufeff")))
        if 400 <= status < 500:
            return cls(url)
        return cls(url, unreachable=f"HTTP {status}")

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None if it may."""
        if self.unreachable is not None:
            if self.unreachable.startswith(("connection failed", "connect timed out")):
                # No connection at all: the site is down or unknown, whatever its rules say.
                return f"{self.unreachable} (asking for {self.url})"
            return f"robots.txt unreachable, so disallowed for now ({self.url}: {self.unreachable})"
        if self.rules is not None and not self.rules.can_fetch(url, AGENT):
            return f"disallowed by robots.txt ({self.url})"
        return None

    @property
    def crawl_delay(self) -> float:
        """Seconds between requests the site asks of claimwatch (0 if it names none)."""
        return (self.rules.crawl_delay(AGENT) if self.rules else None) or 0.0


class RobotsCache:
    """Each site's Robots, loaded on first use and again once expired; safe across threads.

    `load(robots_url)` fetches and parses; requests to a site wait for that
    site's one load instead of each fetching robots.txt.
    """

    def __init__(
        self, load: Callable[[str], Robots], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self._clock = clock
        self._entries: dict[str, tuple[float, Robots]] = {}
        self._site_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._lock = threading.Lock()

    def get(self, url: str) -> Robots:
        key = robots_url(url)
        with self._lock:
            site_lock = self._site_locks[key]
        with site_lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            robots = self._load(key)
            if robots.unreachable is not None and cached and cached[1].unreachable is None:
                log.info("%s unreachable (%s); keeping the last good copy", key, robots.unreachable)
                robots = cached[1]
                ttl = UNREACHABLE_TTL
            else:
                ttl = UNREACHABLE_TTL if robots.unreachable is not None else TTL
            self._entries[key] = (self._clock() + ttl, robots)
            return robots
