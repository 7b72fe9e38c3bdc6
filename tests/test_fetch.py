import gzip
import threading
import time

import pytest

from claimwatch.exceptions import FetchError
from claimwatch.fetch import FetchConfig, Fetcher, parse_retry_after
from tests.httpserver import Reply, ScriptedServer

FAST = FetchConfig(
    backoff_seconds=0.01, retries=2, connect_timeout=2, read_timeout=2, allow_private=True
)


def test_get_sends_user_agent_and_follows_redirects(server: ScriptedServer) -> None:
    server.add("/final", Reply(body=b"<html>ok</html>", headers={"Content-Type": "text/html"}))
    start = server.add("/start", Reply(301, headers={"Location": server.url("/final")}))
    with Fetcher(FAST) as fetcher:
        page = fetcher.get(start)
    assert page.content == b"<html>ok</html>"
    assert page.final_url == server.url("/final")
    assert page.url == start
    assert server.requests[0].headers["User-Agent"].startswith("claimwatch/")


def test_gzip_bodies_are_decoded(server: ScriptedServer) -> None:
    body = b"<p>" + b"NATO " * 1000 + b"</p>"
    url = server.add("/gz", Reply(body=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content == body
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]


def test_body_cap_holds_after_decompression(server: ScriptedServer) -> None:
    bomb = gzip.compress(b"\0" * 2_000_000)
    url = server.add("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with (
        Fetcher(FetchConfig(max_bytes=100_000, allow_private=True)) as fetcher,
        pytest.raises(FetchError) as info,
    ):
        fetcher.get(url)
    assert "100000-byte cap" in info.value.reason
    assert len(bomb) < 100_000  # the compressed body alone would have passed


def test_declared_length_over_cap_is_refused(server: ScriptedServer) -> None:
    url = server.add("/big", Reply(body=b"x" * 5000))
    with (
        Fetcher(FetchConfig(max_bytes=1000, allow_private=True)) as fetcher,
        pytest.raises(FetchError, match="cap"),
    ):
        fetcher.get(url)


def test_transient_errors_are_retried(server: ScriptedServer) -> None:
    url = server.add(
        "/flaky",
        lambda request: Reply(503) if request.count < 3 else Reply(body=b"finally"),
    )
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content == b"finally"
    assert server.hits("/flaky") == 3


def test_retries_give_up_with_the_reason(server: ScriptedServer) -> None:
    url = server.add("/down", Reply(502))
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == "HTTP 502 (after 3 attempts)"
    assert info.value.url == url
    assert server.hits("/down") == 3


def test_client_errors_are_not_retried(server: ScriptedServer) -> None:
    url = server.url("/missing")
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="HTTP 404"):
        fetcher.get(url)
    assert server.hits("/missing") == 1


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    url = server.add(
        "/busy",
        lambda request: Reply(429, headers={"Retry-After": "1"}) if request.count == 1 else Reply(),
    )
    started = time.monotonic()
    with Fetcher(FAST) as fetcher:
        fetcher.get(url)
    assert time.monotonic() - started >= 0.9


def test_too_long_retry_after_fails_fast(server: ScriptedServer) -> None:
    url = server.add("/later", Reply(503, headers={"Retry-After": "3600"}))
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="Retry-After 3600s is too long"):
        fetcher.get(url)
    assert server.hits("/later") == 1


def test_redirect_loops_are_bounded(server: ScriptedServer) -> None:
    url = server.add("/loop", Reply(302, headers={"Location": "/loop"}))
    with (
        Fetcher(FetchConfig(max_redirects=3, allow_private=True)) as fetcher,
        pytest.raises(FetchError, match="redirects"),
    ):
        fetcher.get(url)


def test_unreachable_host_fails_with_reason() -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="connection failed"):
        fetcher.get("http://127.0.0.1:9/nothing-listens-here")


def test_only_http_and_https() -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="unsupported scheme 'file'"):
        fetcher.get("file:///etc/passwd")


def test_per_host_concurrency_is_capped(server: ScriptedServer) -> None:
    server.add("/slow", Reply(body=b"ok", delay=0.2))
    config = FetchConfig(max_connections=8, max_per_host=2, allow_private=True)
    with Fetcher(config) as fetcher:
        threads = [
            threading.Thread(target=fetcher.get, args=(server.url("/slow"),)) for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert server.hits("/slow") == 6
    assert server.max_active == 2


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
