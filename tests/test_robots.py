import threading
import time

import pytest

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.fetching.robots import TTL, UNREACHABLE_TTL, Robots, RobotsCache, robots_url
from claimwatch.settings import load_settings
from tests.faultserver import fault_server, reset
from tests.httpserver import Reply, ScriptedServer

FAST = FetchConfig(backoff_seconds=0.01, retries=2, host_delay=0, allow_private=True)

RULES = b"""\
User-agent: *
Disallow: /private/
Crawl-delay: 5

User-agent: claimwatch
Disallow: /no-monitors/
Crawl-delay: 0.3
"""


def robots(body: bytes, status: int = 200) -> Robots:
    return Robots.from_response("http://h/robots.txt", status, body)


def test_own_group_wins_over_the_star_group() -> None:
    rules = robots(RULES)
    assert (
        rules.refusal("http://h/no-monitors/a") == "disallowed by robots.txt (http://h/robots.txt)"
    )
    assert rules.refusal("http://h/private/a") is None  # only `*` forbids it
    assert rules.crawl_delay == 0.3


def test_star_group_applies_without_an_own_group() -> None:
    rules = robots(b"\xef\xbb\xbfUser-agent: *\nDisallow: /private/\n")  # with a UTF-8 BOM
    assert rules.refusal("http://h/private/a?x=1") is not None
    assert rules.refusal("http://h/public") is None
    assert rules.crawl_delay == 0.0


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_4xx_means_everything_is_allowed(status: int) -> None:
    assert robots(b"User-agent: *\nDisallow: /\n", status).refusal("http://h/a") is None


@pytest.mark.parametrize("status", [500, 503, 302])
def test_other_statuses_mean_nothing_is_allowed(status: int) -> None:
    assert robots(b"", status).refusal("http://h/a") == (
        f"robots.txt unreachable, so disallowed for now (http://h/robots.txt: HTTP {status})"
    )


def test_robots_url_is_per_scheme_host_and_port() -> None:
    assert (
        robots_url("HTTPS://user@Example.org:8443/a/b?c") == "https://example.org:8443/robots.txt"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_reloads_after_a_day() -> None:
    loads: list[str] = []
    clock = Clock()

    def load(url: str) -> Robots:
        loads.append(url)
        return Robots(url)

    cache = RobotsCache(load, clock=clock)
    cache.get("http://a/1")
    cache.get("http://a/2")
    cache.get("http://b/1")
    assert loads == ["http://a/robots.txt", "http://b/robots.txt"]
    clock.now += TTL + 1
    cache.get("http://a/3")
    assert loads[-1] == "http://a/robots.txt" and len(loads) == 3


def test_unreachable_is_cached_briefly_and_a_good_copy_is_kept() -> None:
    answers = [Robots("u", unreachable="HTTP 503"), Robots("u"), Robots("u", unreachable="x")]
    clock = Clock()
    cache = RobotsCache(lambda url: answers.pop(0), clock=clock)
    assert cache.get("http://a/").unreachable == "HTTP 503"
    clock.now += UNREACHABLE_TTL - 1
    assert cache.get("http://a/").unreachable == "HTTP 503"  # not asked again yet
    clock.now += 2
    assert cache.get("http://a/").unreachable is None  # asked again: now readable
    clock.now += TTL + 1
    kept = cache.get("http://a/")  # unreachable again: the last good copy stands in
    assert kept.unreachable is None and answers == []


def test_concurrent_first_requests_share_one_load() -> None:
    loads: list[str] = []

    def slow_load(url: str) -> Robots:
        loads.append(url)
        time.sleep(0.2)
        return Robots(url)

    cache = RobotsCache(slow_load)
    threads = [threading.Thread(target=cache.get, args=("http://a/x",)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["http://a/robots.txt"]


# Against a real server, through the Fetcher.


def test_disallowed_page_is_never_requested(server: ScriptedServer) -> None:
    server.add("/robots.txt", Reply(body=RULES, headers={"Content-Type": "text/plain"}))
    server.add("/no-monitors/a", Reply(body=b"secret"))
    ok = server.add("/news/1", Reply(body=b"news"))
    with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.get(server.url("/no-monitors/a"))
        assert fetcher.get(ok).content == b"news"
    assert info.value.reason == f"disallowed by robots.txt ({server.url('/robots.txt')})"
    assert info.value.url == server.url("/no-monitors/a")
    assert server.hits("/no-monitors/a") == 0
    assert server.hits("/robots.txt") == 1  # asked once for both pages
    assert "claimwatch/" in server.requests[0].headers["User-Agent"]


def test_missing_robots_txt_allows_everything(server: ScriptedServer) -> None:
    url = server.add("/a", Reply(body=b"a"))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content == b"a"
    assert [r.path for r in server.requests] == ["/robots.txt", "/a"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_txt_server_error_blocks_the_site(server: ScriptedServer, status: int) -> None:
    server.add("/robots.txt", Reply(status))
    a, b = server.add("/a", Reply(body=b"a")), server.add("/b", Reply(body=b"b"))
    with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.get(a)
        with pytest.raises(FetchError):
            fetcher.get(b)
    assert info.value.reason == (
        f"robots.txt unreachable, so disallowed for now ({server.url('/robots.txt')}:"
        f" HTTP {status} (after 3 attempts))"
    )
    assert server.hits("/robots.txt") == 3  # retried once per pass, not once per page
    assert server.hits("/a") == server.hits("/b") == 0


def test_robots_txt_network_failure_blocks_the_site() -> None:
    with fault_server() as faults, Fetcher(FAST) as fetcher:
        faults.add("/robots.txt", reset())
        with pytest.raises(FetchError) as info:
            fetcher.get(faults.url("/a"))
    assert info.value.reason.startswith(
        f"robots.txt unreachable, so disallowed for now ({faults.url('/robots.txt')}:"
        " connection lost: [Errno 104] Connection reset by peer"
    )
    assert faults.hits("/a") == 0


def test_crawl_delay_spaces_requests_and_is_capped(server: ScriptedServer) -> None:
    server.add("/robots.txt", Reply(body=b"User-agent: *\nCrawl-delay: 3600\n"))
    url = server.add("/a", Reply(body=b"a"))
    config = FAST.model_copy(update={"max_crawl_delay": 0.3})
    with Fetcher(config) as fetcher:
        started = time.monotonic()
        for _ in range(3):
            fetcher.get(url)
        elapsed = time.monotonic() - started
    assert 0.6 <= elapsed < 2.0  # two gaps of the capped 0.3 s, not of an hour


def test_robots_can_be_ignored(server: ScriptedServer) -> None:
    server.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n"))
    url = server.add("/a", Reply(body=b"a"))
    with Fetcher(FAST.model_copy(update={"obey_robots": False})) as fetcher:
        assert fetcher.get(url).content == b"a"
    assert server.hits("/robots.txt") == 0


def test_robots_txt_itself_is_fetched_as_a_page(server: ScriptedServer) -> None:
    url = server.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n"))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content.startswith(b"User-agent")
    assert server.hits("/robots.txt") == 1


def test_politeness_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_FETCH__OBEY_ROBOTS", "0")
    monkeypatch.setenv("CLAIMWATCH_FETCH__HOST_DELAY", "1.5")
    fetch = load_settings().fetch
    assert fetch.obey_robots is False and fetch.host_delay == 1.5
    assert FetchConfig().obey_robots is True and FetchConfig().host_delay == 0.5


def test_robots_txt_goes_through_the_private_address_guard(server: ScriptedServer) -> None:
    url = server.add("/a", Reply(body=b"a"))
    guarded = FetchConfig(retries=2, host_delay=0)
    with Fetcher(guarded) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    # The page's own refusal, not a robots.txt verdict: the host is what is refused.
    assert info.value.reason.startswith("refused: 127.0.0.1 resolves to non-public address")
    assert server.requests == []


def test_a_site_that_cannot_be_reached_is_reported_as_such() -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get("http://127.0.0.1:9/feed.xml")  # nothing listens on port 9
    assert info.value.reason.startswith("connection failed: ")
    assert info.value.reason.endswith("(asking for http://127.0.0.1:9/robots.txt)")
