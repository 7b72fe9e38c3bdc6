"""Conditional reading of sources: 304s, unchanged bodies, lying validators (a real server)."""

from datetime import datetime, timedelta

import pytest

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources.reader import SourceReader, Validator
from tests.httpserver import Reply, Request, ScriptedServer

NOW = datetime(2026, 11, 25, 12, 0)


def _reader(fetcher: Fetcher, validators: dict[str, Validator], now: datetime) -> SourceReader:
    return SourceReader(fetcher, validators, now, verify_after=timedelta(hours=6))


def _poll(
    fetcher: Fetcher, url: str, validators: dict[str, Validator], now: datetime = NOW
) -> tuple[bytes | None, dict[str, Validator], SourceReader]:
    reader = _reader(fetcher, validators, now)
    page = reader.get(url)
    return (page.content if page else None), {**validators, **reader.updated}, reader


def test_etag_and_last_modified_are_sent_and_304_means_nothing_new(
    server: ScriptedServer,
) -> None:
    def feed(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304)
        return Reply(body=b"<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Tue, 24 Nov"})

    url = server.add("/feed", feed)
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        body, validators, _ = _poll(fetcher, url, {})
        assert body == b"<rss/>"
        body, validators, reader = _poll(fetcher, url, validators, NOW + timedelta(minutes=15))
    assert body is None
    assert (reader.tally.requests, reader.tally.not_modified, reader.tally.bytes) == (1, 1, 0)
    second = server.requests[-1].headers
    assert second["If-None-Match"] == '"v1"' and second["If-Modified-Since"] == "Tue, 24 Nov"


def test_unchanged_body_without_validators_is_nothing_new(server: ScriptedServer) -> None:
    url = server.add("/feed", Reply(body=b"<rss>same</rss>"))
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        _, validators, _ = _poll(fetcher, url, {})
        body, _, reader = _poll(fetcher, url, validators)
    assert body is None
    assert "If-None-Match" not in server.requests[-1].headers  # no validator to send
    assert (reader.tally.ok, reader.tally.not_modified) == (0, 1)


def test_changed_body_is_read(server: ScriptedServer) -> None:
    url = server.add("/feed", lambda r: Reply(body=b"<rss>%d</rss>" % r.count))
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        _, validators, _ = _poll(fetcher, url, {})
        body, _, _ = _poll(fetcher, url, validators)
    assert body == b"<rss>2</rss>"


def test_a_server_that_answers_304_for_a_changed_body_is_caught(server: ScriptedServer) -> None:
    """The ETag never changes and every conditional request gets 304, whatever the body."""
    bodies = iter([b"<rss>1</rss>", b"<rss>2</rss>", b"<rss>3</rss>"])
    current = {"body": next(bodies)}

    def lying(request: Request) -> Reply:
        if "If-None-Match" in request.headers:
            return Reply(304)
        return Reply(body=current["body"], headers={"ETag": '"forever"'})

    url = server.add("/feed", lying)
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        _, validators, _ = _poll(fetcher, url, {})
        current["body"] = next(bodies)
        # Within verify_after the 304 is believed: that is the lower-rate part of the guard.
        body, validators, _ = _poll(fetcher, url, validators, NOW + timedelta(hours=1))
        assert body is None
        # Due for a check: the body is fetched in full, found changed, and the server
        # is no longer asked conditionally.
        body, validators, _ = _poll(fetcher, url, validators, NOW + timedelta(hours=7))
        assert body == b"<rss>2</rss>"
        assert not validators[url].conditional
        current["body"] = next(bodies)
        body, _, _ = _poll(fetcher, url, validators, NOW + timedelta(hours=8))
    assert body == b"<rss>3</rss>"
    assert "If-None-Match" not in server.requests[-1].headers


def test_an_honest_304_survives_the_check(server: ScriptedServer) -> None:
    def honest(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304)
        return Reply(body=b"<rss>1</rss>", headers={"ETag": '"v1"'})

    url = server.add("/feed", honest)
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        _, validators, _ = _poll(fetcher, url, {})
        body, validators, reader = _poll(fetcher, url, validators, NOW + timedelta(hours=7))
    assert body is None and validators[url].conditional
    assert validators[url].verified_at == NOW + timedelta(hours=7)
    assert reader.tally.requests == 2  # the 304, then the full body to compare


def test_errors_are_counted(server: ScriptedServer) -> None:
    url = server.add("/gone", Reply(404))
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        reader = _reader(fetcher, {}, NOW)
        with pytest.raises(FetchError, match="HTTP 404"):
            reader.get(url)
    assert (reader.tally.requests, reader.tally.errors) == (1, 1)
