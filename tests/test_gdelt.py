"""The gdelt kind against a local server that answers like the GDELT DOC 2.0 API."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources.config import GdeltSource
from claimwatch.sources.discover import Poll, poll_source
from tests.httpserver import Reply, Request, Route, ScriptedServer

NOW = datetime(2026, 11, 25, 12, 0)
CONFIG = FetchConfig(allow_private=True, retries=0, host_delay=0)
STAMP = "%Y%m%d%H%M%S"


class PathRoutes(dict[str, Route]):
    """Routes found by path alone, so one route sees every query string."""

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(urlsplit(path).path, default)


def gdelt(server: ScriptedServer, seen: list[datetime]) -> list[Request]:
    """Serve articles seen at `seen` like GDELT: the window's newest 250. Return the requests."""
    server.routes = PathRoutes()
    asked: list[Request] = []

    def route(request: Request) -> Reply:
        asked.append(request)
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        assert query["mode"] == "ArtList" and query["format"] == "json"
        assert query["maxrecords"] == "250" and query["sort"] == "datedesc"
        low = datetime.strptime(query["startdatetime"], STAMP)
        high = datetime.strptime(query["enddatetime"], STAMP)
        rows = [
            {
                "url": f"https://outlet.example/{when:%H%M%S}-{n}",
                "title": f"Story {n}",
                "seendate": when.strftime("%Y%m%dT%H%M%SZ"),
                "domain": "outlet.example",
                "language": "English",
                "sourcecountry": "United States",
            }
            for n, when in enumerate(seen)
            if low <= when <= high
        ]
        rows.sort(key=lambda row: row["seendate"], reverse=True)
        body = json.dumps({"articles": rows[:250]} if rows else {}).encode()
        return Reply(body=body, headers={"Content-Type": "application/json"})

    server.add("/api/v2/doc/doc", route)
    return asked


def source(server: ScriptedServer, **options: Any) -> GdeltSource:
    options.setdefault("request_interval_seconds", 0)
    return GdeltSource(
        name="gdelt",
        kind="gdelt",  # type: ignore[arg-type]
        query='(NATO OR "North Atlantic") Taiwan',
        endpoint=server.url("/api/v2/doc/doc"),  # type: ignore[arg-type]
        allow_private=True,
        **options,
    )


def poll(src: GdeltSource, cursor: str | None = None, now: datetime = NOW) -> Poll:
    with Fetcher(CONFIG) as fetcher:
        return poll_source(src, fetcher, validators={}, cursor=cursor, now=now)


def windows(asked: list[Request]) -> list[tuple[str, str]]:
    queries = [parse_qs(urlsplit(r.path).query) for r in asked]
    return [(q["startdatetime"][0][8:12], q["enddatetime"][0][8:12]) for q in queries]


def test_full_slices_are_halved_until_nothing_is_dropped(server: ScriptedServer) -> None:
    # 10 articles between 06:00 and 09:00; 400 between 09:00 and 12:00, past the cap.
    early = [datetime(2026, 11, 25, 6, 30) + timedelta(minutes=15 * i) for i in range(10)]
    late = [datetime(2026, 11, 25, 9, 0, 10) + timedelta(seconds=27 * i) for i in range(400)]
    asked = gdelt(server, early + late)

    result = poll(source(server, timespan_hours=6, slice_hours=3))

    assert result.failure is None
    assert len({i.url for i in result.items}) == len(result.items) == 410
    assert windows(asked) == [
        ("0600", "0900"),
        ("0900", "1200"),
        ("0900", "1030"),
        ("1030", "1200"),
    ]
    assert result.cursor == "2026-11-25T12:00:00"
    item = next(i for i in result.items if i.title == "Story 0")
    assert item.published_at == datetime(2026, 11, 25, 6, 30)
    assert item.url == "https://outlet.example/063000-0" and item.allow_private


def test_a_burst_denser_than_the_smallest_slice_is_kept_in_part(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    # 300 articles in one minute: no window GDELT can be asked for holds fewer than 250.
    burst = [datetime(2026, 11, 25, 10, 0) + timedelta(milliseconds=200 * i) for i in range(300)]
    asked = gdelt(server, burst)

    with caplog.at_level(logging.WARNING, logger="claimwatch.sources.gdelt"):
        result = poll(source(server, timespan_hours=3, slice_hours=3))

    assert result.failure is None and len(result.items) == 250
    assert "some are missed" in caplog.text
    # Halving stops before a window narrower than 2 × 15 minutes is split.
    assert windows(asked) == [
        ("0900", "1200"),
        ("0900", "1030"),
        ("0900", "0945"),
        ("0945", "1030"),
        ("0945", "1007"),
        ("1007", "1030"),
        ("1030", "1200"),
    ]


def test_the_cursor_resumes_with_a_small_overlap(server: ScriptedServer) -> None:
    asked = gdelt(server, [datetime(2026, 11, 25, 11, 50)])

    result = poll(source(server), cursor="2026-11-25T11:00:00")

    assert windows(asked) == [("1045", "1200")]
    assert len(result.items) == 1 and result.cursor == "2026-11-25T12:00:00"


def test_empty_answer_yields_nothing_and_moves_the_cursor(server: ScriptedServer) -> None:
    gdelt(server, [])

    result = poll(source(server, timespan_hours=1, slice_hours=3))

    assert result.failure is None and result.items == []
    assert result.cursor == "2026-11-25T12:00:00"


def test_plain_text_error_fails_the_source(server: ScriptedServer) -> None:
    server.routes = PathRoutes()
    message = b"Please limit requests to one every 5 seconds or contact us for larger queries.\n"
    server.add("/api/v2/doc/doc", Reply(body=message, headers={"Content-Type": "text/html"}))

    result = poll(source(server), cursor="2026-11-25T10:00:00")

    assert result.failure is not None and result.failure.stage == "discover"
    assert result.failure.reason.startswith("GDELT answered: Please limit requests")
    assert "startdatetime=" in result.failure.url
    assert result.cursor == "2026-11-25T10:00:00"  # unchanged: the next poll asks again


def test_a_later_slice_failing_keeps_what_came_before(server: ScriptedServer) -> None:
    server.routes = PathRoutes()
    good = {"url": "https://outlet.example/a", "seendate": "20261125T070000Z"}
    rows = {"articles": [good, {"url": "https://[bad"}, {"url": "mailto:x@y"}, "junk"]}
    asked: list[Request] = []

    def route(request: Request) -> Reply:
        asked.append(request)
        if len(asked) == 1:
            return Reply(body=json.dumps(rows).encode())
        return Reply(body=b"Invalid query: the query was too short.")

    server.add("/api/v2/doc/doc", route)

    result = poll(source(server, timespan_hours=6, slice_hours=3))

    # The failed slice is recorded; what the first one found is kept.
    assert result.failure is not None and result.failure.stage == "discover"
    assert result.failure.reason == "GDELT answered: Invalid query: the query was too short."
    assert [i.url for i in result.items] == ["https://outlet.example/a"]
    assert result.cursor == "2026-11-25T09:00:00"


def test_requests_are_paced(server: ScriptedServer) -> None:
    asked = gdelt(server, [])

    started = time.monotonic()
    poll(source(server, timespan_hours=2, slice_hours=1, request_interval_seconds=0.3))

    assert len(asked) == 2 and time.monotonic() - started >= 0.3
