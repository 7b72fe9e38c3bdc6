"""The directory kind: saved HTML pages and WARC files, listed and read from disk only."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from claimwatch.dates import utcnow
from claimwatch.fetching import archive
from claimwatch.fetching.articles import fetch_articles
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.records import FeedItem
from claimwatch.sources.config import DirectorySource
from claimwatch.sources.discover import Poll, poll_source

TEXT = (
    "<p>Officials at the summit said the alliance would deepen its partnerships in the "
    "Indo-Pacific, and several delegations repeated that Ukraine today may be East Asia "
    "tomorrow, a phrase first used by the Japanese prime minister in a speech in London.</p>"
    "<p>Critics answered that where NATO goes, war is most likely, and warned against "
    "extending the alliance's reach into Asia, where its members have no treaty obligations "
    "and where regional powers see the move as a provocation rather than deterrence.</p>"
)


def page(title: str, canonical: str | None = None) -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title>{link}</head>"
        f"<body><article><h1>{title}</h1>{TEXT}</article></body></html>"
    ).encode()


def write_warc(path: Path) -> None:
    """A WARC holding an HTML page, an image, a redirect and a request record."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=path.name.endswith(".gz"))
        records = [
            ("https://outlet.example/warc-story", "200 OK", "text/html; charset=utf-8", page("W")),
            ("https://outlet.example/logo.png", "200 OK", "image/png", b"\x89PNG"),
            ("https://outlet.example/moved", "301 Moved Permanently", "text/html", b"moved"),
        ]
        for url, status, content_type, body in records:
            http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": "2026-11-25T09:45:00Z"},
                )
            )
        writer.write_record(writer.create_warc_record("https://outlet.example/x", "request"))


def source(path: Path) -> DirectorySource:
    return DirectorySource(name="saved", kind="directory", path=path)  # type: ignore[arg-type]


def poll(src: DirectorySource, cursor: str | None = None) -> Poll:
    with Fetcher(FetchConfig()) as fetcher:
        return poll_source(src, fetcher, validators={}, cursor=cursor, now=utcnow())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "saved"
    (root / "b-sub").mkdir(parents=True)
    (root / "a.html").write_bytes(page("A", canonical="https://Outlet.example/a/?utm_source=x"))
    (root / "b-sub" / "b.htm").write_bytes(page("B"))
    (root / "notes.txt").write_text("not a page")
    write_warc(root / "c.warc.gz")
    return root


def test_pages_and_warc_records_are_listed(folder: Path) -> None:
    result = poll(source(folder))

    assert result.failure is None
    assert [i.url for i in result.items] == [
        "https://outlet.example/a",
        (folder / "b-sub" / "b.htm").as_uri(),
        "https://outlet.example/warc-story",
    ]
    a, b, warc = result.items
    assert a.title == "A" and a.archive == str(folder / "a.html") and a.source == "saved"
    assert b.archive == str(folder / "b-sub" / "b.htm")
    assert warc.published_at == datetime(2026, 11, 25, 9, 45)
    assert warc.archive is not None and warc.archive.startswith(f"{folder / 'c.warc.gz'}#")
    assert result.tally.requests == 0


def test_listed_pages_are_read_from_disk(folder: Path) -> None:
    items = poll(source(folder)).items

    # No server runs: a network fetch of these URLs could only fail.
    with Fetcher(FetchConfig(retries=0)) as fetcher:
        articles, failures = fetch_articles(items, fetcher)

    assert failures == []
    by_url = {a.url: a for a in articles}
    assert by_url["https://outlet.example/a"].title == "A"
    story = by_url["https://outlet.example/warc-story"]
    assert story.final_url == "https://outlet.example/warc-story"
    assert "Ukraine today may be East Asia tomorrow" in story.text


def test_uncompressed_warc_is_read_too(tmp_path: Path) -> None:
    write_warc(tmp_path / "crawl.warc")

    (item,) = poll(source(tmp_path)).items
    with Fetcher(FetchConfig(retries=0)) as fetcher:
        (article,), _ = fetch_articles([item], fetcher)

    assert article.title == "W" and article.published_at == datetime(2026, 11, 25, 9, 45)


def test_a_missing_archive_is_a_fetch_failure_naming_the_file(tmp_path: Path) -> None:
    gone = tmp_path / "gone.warc.gz"
    items = [
        FeedItem("https://outlet.example/w", "saved", archive=f"{gone}#0"),
        FeedItem("https://outlet.example/p", "saved", archive=str(tmp_path / "gone.html")),
    ]
    with Fetcher(FetchConfig(retries=0)) as fetcher:
        articles, failures = fetch_articles(items, fetcher)

    assert articles == []
    assert [f.stage for f in failures] == ["fetch", "fetch"]
    assert f"cannot read {gone}#0" in failures[0].reason
    assert str(tmp_path / "gone.html") in failures[1].reason


def test_symlinks_leading_out_are_skipped(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.html").write_bytes(page("Secret"))
    (folder / "link.html").symlink_to(outside / "secret.html")
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    (folder / "inside.html").symlink_to(folder / "b-sub" / "b.htm")

    with caplog.at_level(logging.WARNING, logger="claimwatch.sources.directory"):
        result = poll(source(folder))

    urls = [i.url for i in result.items]
    assert not any("secret" in u for u in urls)
    assert all(i.title != "Secret" for i in result.items)
    assert (folder / "inside.html").as_uri() in urls
    assert caplog.text.count("a symlink leading out of") == 2


def test_broken_and_malformed_files_are_skipped(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (folder / "broken.html").symlink_to(folder / "nowhere.html")
    (folder / "junk.warc").write_bytes(b"<html>not a warc</html>\n")

    with caplog.at_level(logging.WARNING, logger="claimwatch.sources.directory"):
        result = poll(source(folder))

    assert result.failure is None and len(result.items) == 3
    assert "broken.html" in caplog.text and "junk.warc" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_are_skipped(folder: Path) -> None:
    locked = folder / "locked.html"
    locked.write_bytes(page("Locked"))
    locked.chmod(0)

    result = poll(source(folder))

    assert result.failure is None and len(result.items) == 3
    assert result.cursor is None  # read again next poll


def test_oversized_pages_are_skipped_and_tried_again_next_poll(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(archive, "MAX_PAGE_BYTES", 4000)
    (folder / "huge.html").write_bytes(page("Huge") * 10)

    with caplog.at_level(logging.WARNING, logger="claimwatch.sources.directory"):
        result = poll(source(folder))

    assert len(result.items) == 3 and result.cursor is None
    assert "huge.html: larger than 4000 bytes" in caplog.text


def test_an_unchanged_folder_yields_nothing(folder: Path) -> None:
    first = poll(source(folder))
    second = poll(source(folder), first.cursor)
    (folder / "b-sub" / "new.html").write_bytes(page("New"))
    third = poll(source(folder), second.cursor)

    assert len(first.items) == 3 and second.items == [] and second.cursor == first.cursor
    assert len(third.items) == 4


def test_a_missing_folder_fails_the_source(tmp_path: Path) -> None:
    result = poll(source(tmp_path / "absent"))

    assert result.failure is not None and result.failure.stage == "discover"
    assert result.failure.url == str(tmp_path / "absent")
    assert result.failure.reason.startswith("cannot open the folder")
