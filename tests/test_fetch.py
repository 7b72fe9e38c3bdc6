import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from claimwatch.exceptions import FetchError
from claimwatch.fetching.articles import interleave_hosts
from claimwatch.fetching.client import HTML, FetchConfig, Fetcher
from tests.faultserver import FaultServer, fault_server, reset, respond, silent, truncated, unsized
from tests.httpserver import Reply, ScriptedServer

FAST = FetchConfig(
    backoff_seconds=0.01,
    retries=2,
    connect_timeout=2,
    read_timeout=2,
    host_delay=0,
    allow_private=True,
)


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with fault_server() as state:
        yield state


def test_get_sends_user_agent_and_follows_redirects(server: ScriptedServer) -> None:
    server.add("/final", Reply(body=b"<html>ok</html>", headers={"Content-Type": "text/html"}))
    start = server.add("/start", Reply(301, headers={"Location": server.url("/final")}))
    with Fetcher(FAST) as fetcher:
        page = fetcher.get(start)
    assert page.content == b"<html>ok</html>"
    assert page.final_url == server.url("/final")
    assert page.url == start
    assert all(r.headers["User-Agent"].startswith("claimwatch/") for r in server.requests)


def test_gzip_bodies_are_decoded(server: ScriptedServer) -> None:
    body = b"<p>" + b"NATO " * 1000 + b"</p>"
    url = server.add("/gz", Reply(body=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content == body
    (request,) = [r for r in server.requests if r.path == "/gz"]
    assert "gzip" in request.headers["Accept-Encoding"]


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


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(server: ScriptedServer, status: int) -> None:
    url = server.add(
        "/busy",
        lambda request: (
            Reply(status, headers={"Retry-After": "1"}) if request.count == 1 else Reply()
        ),
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
        Fetcher(FAST.model_copy(update={"max_redirects": 3})) as fetcher,
        pytest.raises(FetchError) as info,
    ):
        fetcher.get(url)
    assert info.value.reason == "more than 3 redirects"
    assert server.hits("/loop") == 4


def test_each_redirect_hop_obeys_its_own_hosts_robots_txt(server: ScriptedServer) -> None:
    with fault_server() as outlet, Fetcher(FAST) as fetcher:
        outlet.add("/robots.txt", respond(body=b"User-agent: *\nDisallow: /private/\n"))
        target = outlet.add("/private/story", respond(body=b"story"))
        url = server.add("/go", Reply(302, headers={"Location": target}))
        with pytest.raises(FetchError) as info:
            fetcher.get(url)
    assert info.value.url == url
    assert info.value.reason == (
        f"redirected to {target}: disallowed by robots.txt ({outlet.url('/robots.txt')})"
    )
    assert outlet.hits("/private/story") == 0


def test_redirect_to_another_scheme_is_refused(server: ScriptedServer) -> None:
    url = server.add("/ftp", Reply(301, headers={"Location": "ftp://files.example/a"}))
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == (
        "redirected to ftp://files.example/a: unsupported scheme 'ftp'; use http or https"
    )


def test_unreachable_host_fails_with_reason() -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="connection failed"):
        fetcher.get("http://127.0.0.1:9/nothing-listens-here")


def test_only_http_and_https() -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="unsupported scheme 'file'"):
        fetcher.get("file:///etc/passwd")


def get_at_once(fetcher: Fetcher, url: str, times: int) -> None:
    """GET `url` from `times` threads started together; return when all are done."""
    threads = [threading.Thread(target=fetcher.get, args=(url,)) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_per_host_concurrency_is_capped(server: ScriptedServer) -> None:
    server.add("/slow", Reply(body=b"ok", delay=0.2))
    config = FetchConfig(max_connections=8, max_per_host=2, host_delay=0, allow_private=True)
    with Fetcher(config) as fetcher:
        get_at_once(fetcher, server.url("/slow"), 6)
    assert server.hits("/slow") == 6
    assert server.max_active == 2


def test_read_timeout_fails_with_reason(server: ScriptedServer) -> None:
    url = server.add("/stuck", Reply(body=b"late", delay=1.0))
    config = FAST.model_copy(update={"read_timeout": 0.2, "retries": 1})
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == "read timed out: timed out (after 2 attempts)"


def test_a_body_that_trickles_in_hits_the_body_deadline(faults: FaultServer) -> None:
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        with suppress(OSError):  # the client hangs up at its deadline
            for _ in range(100):
                conn.sendall(b"x")
                time.sleep(0.05)  # always within the read timeout

    url = faults.add("/trickle", trickle)
    config = FAST.model_copy(update={"read_timeout": 1.0, "body_timeout": 0.5, "retries": 0})
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == "body not received within 0.5 s"


def test_a_head_then_silence_times_out_too(faults: FaultServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    url = faults.add("/drip", silent(1.0, head))
    config = FAST.model_copy(update={"read_timeout": 0.2, "retries": 0})
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == "read timed out: timed out (after 1 attempt)"


def test_connection_reset_is_retried_then_reported(faults: FaultServer) -> None:
    url = faults.add("/reset", reset())
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason.startswith("connection lost: [Errno 104] Connection reset by peer")
    assert info.value.reason.endswith("(after 3 attempts)")
    assert faults.hits("/reset") == 3


def test_truncated_body_is_an_error_not_a_short_page(faults: FaultServer) -> None:
    url = faults.add("/cut", truncated(b"<html>" + b"a" * 94, declared=1000))
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == (
        "protocol error: peer closed connection without sending complete message body"
        " (received 100 bytes, expected 1000) (after 3 attempts)"
    )


def test_body_cap_holds_without_content_length(faults: FaultServer) -> None:
    url = faults.add("/endless", unsized(5_000_000))
    config = FAST.model_copy(update={"max_bytes": 200_000})
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.reason == "body exceeds the 200000-byte cap"
    assert faults.hits("/endless") == 1  # a cap is final, not retried


def test_control_page_from_the_fault_server(faults: FaultServer) -> None:
    url = faults.add("/fine", respond(body=b"<p>ok</p>", headers={"Content-Type": "text/html"}))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url, expect=HTML).content == b"<p>ok</p>"


@pytest.mark.parametrize(
    ("content_type", "media"),
    [
        ("application/pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("Application/Octet-Stream; name=x.bin", "application/octet-stream"),
    ],
)
def test_non_html_is_refused_before_its_body(
    faults: FaultServer, content_type: str, media: str
) -> None:
    # The head promises 10 MB and then says nothing: reading the body would time out.
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: 10000000\r\n\r\n"
    url = faults.add("/doc", silent(2.0, head.encode()))
    started = time.monotonic()
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url, expect=HTML)
    assert info.value.reason == f"not HTML (Content-Type {media})"
    assert time.monotonic() - started < 1.0
    assert faults.hits("/doc") == 1


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "application/xhtml+xml", None]
)
def test_html_and_untyped_pages_pass_the_check(server: ScriptedServer, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    url = server.add("/page", Reply(body=b"<p>hi</p>", headers=headers))
    with Fetcher(FAST) as fetcher:
        page = fetcher.get(url, expect=HTML)
    assert page.content == b"<p>hi</p>"
    assert page.content_type == (content_type or "")


def test_without_expect_any_type_is_returned(server: ScriptedServer) -> None:
    url = server.add("/a.pdf", Reply(body=b"%PDF", headers={"Content-Type": "application/pdf"}))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url).content == b"%PDF"


def test_not_modified_passes_the_check(server: ScriptedServer) -> None:
    url = server.add("/feed", Reply(304, headers={"Content-Type": "application/rss+xml"}))
    with Fetcher(FAST) as fetcher:
        page = fetcher.get(url, headers={"If-None-Match": '"v1"'}, expect=HTML)
    assert (page.status, page.content) == (304, b"")


def starts_of(server: ScriptedServer, path: str) -> list[float]:
    """Route `path` to a page that records when each request reached the server."""
    starts: list[float] = []

    def route(request: object) -> Reply:
        starts.append(time.monotonic())
        return Reply(body=b"ok")

    server.add(path, route)
    return starts


def test_requests_to_one_host_start_host_delay_apart(server: ScriptedServer) -> None:
    starts = starts_of(server, "/paced")
    config = FAST.model_copy(update={"host_delay": 0.25, "max_per_host": 2})
    with Fetcher(config) as fetcher:
        asked = time.monotonic()
        get_at_once(fetcher, server.url("/paced"), 4)
    assert len(starts) == 4
    # The k-th request may not start before k turns of host_delay from when all were
    # asked. A loaded machine only delays arrivals, so this bound holds under any load
    # (gaps between arrivals do not: a late first arrival shortens the next gap).
    offsets = [start - asked for start in sorted(starts)]
    assert all(offset >= k * 0.25 for k, offset in enumerate(offsets)), offsets


def test_host_delay_is_per_host_and_robots_txt_is_not_paced(server: ScriptedServer) -> None:
    other_starts: list[float] = []
    config = FAST.model_copy(update={"host_delay": 2.0})
    with Fetcher(config) as fetcher, fault_server() as other:
        other.add("/x", lambda conn: (other_starts.append(time.monotonic()), respond()(conn)))
        server.add("/x", Reply(body=b"ok"))
        started = time.monotonic()
        fetcher.get(server.url("/x"))  # after its robots.txt, with no delay between
        fetcher.get(other.url("/x"))  # another host: its own turn, not this one's
        assert time.monotonic() - started < 1.0
    assert server.hits("/robots.txt") == 1 and other.hits("/robots.txt") == 1


def test_interleave_hosts_takes_turns_and_keeps_each_hosts_order() -> None:
    urls = ["http://a/1", "http://a/2", "http://a/3", "http://B/1", "http://c/1", "http://b/2"]
    assert interleave_hosts(urls, str) == [
        "http://a/1",
        "http://B/1",
        "http://c/1",
        "http://a/2",
        "http://b/2",
        "http://a/3",
    ]
    assert interleave_hosts([], str) == []
