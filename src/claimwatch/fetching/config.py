"""How politely and how patiently to fetch: the settings of the HTTP client.

Apart from the client so that reading the settings (every command does) does not
import httpx and the rest of the fetching stack.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from claimwatch import __version__


class FetchConfig(BaseModel):
    """How politely and how patiently to fetch. Frozen, so it can key the shared client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_agent: str = f"claimwatch/{__version__} (claim monitor; +https://github.com/claimwatch)"
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    # The whole body, however slowly it trickles in.
    body_timeout: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    # Requests in flight over all hosts (and fetch_articles' threads). With max_per_host 2,
    # 16 served 8 hosts at a time: 18x one-by-one over 20 hosts; 32 gives 24x (bench_fetch).
    max_connections: int = Field(default=32, ge=1)
    max_per_host: int = Field(default=2, ge=1)
    # Seconds between the starts of two requests to one host (robots.txt requests aside).
    host_delay: float = Field(default=0.5, ge=0)
    obey_robots: bool = True
    # A robots.txt Crawl-delay raises host_delay for its site, but never above this.
    max_crawl_delay: float = Field(default=30.0, ge=0)
    max_redirects: int = Field(default=5, ge=0)
    retries: int = Field(default=2, ge=0)
    backoff_seconds: float = Field(default=0.5, ge=0)
    # A Retry-After longer than this is not waited for: the URL fails and the pass goes on.
    max_retry_after: float = Field(default=30.0, ge=0)
    # Connect to loopback and private networks too (local tests, the offline sample).
    allow_private: bool = False
