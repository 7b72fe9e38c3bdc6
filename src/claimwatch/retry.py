"""One retry policy for every network step: exponential backoff, optional jitter, Retry-After.

The fetcher (fetching/client.py) and the digest channels (delivery/channels.py)
both ask `RetryPolicy.delay` how long to wait before the next attempt. A server's
Retry-After is honoured when given; one longer than `max_retry_after` is not
waited for (None: give up now and say why).
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many more tries a passing failure gets, and how long to wait before each."""

    retries: int = 2  # tries after the first
    backoff: float = 0.5  # seconds before the first retry; doubled for each next one
    jitter: bool = True  # wait up to twice as long, at random, so clients do not align
    max_retry_after: float = 30.0  # a longer Retry-After is not waited for

    def allows(self, attempt: int) -> bool:
        """Whether attempt `attempt` (0 = the first) failing leaves another try."""
        return attempt < self.retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed attempt `attempt` (0 = the first), or None if the
        server's Retry-After is longer than this policy waits."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        wait = self.backoff * 2**attempt
        return wait * (1 + random.random()) if self.jitter else wait


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
