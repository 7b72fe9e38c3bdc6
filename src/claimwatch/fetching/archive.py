"""Pages saved on disk: an HTML file, or one HTML response record of a WARC file.

A `directory` source marks each item with where its page lives, `path` or
`path#offset`; the fetch step reads it from there with `read_archive`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import Page
from claimwatch.records import FeedItem

WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_TYPES = ("text/html", "application/xhtml+xml")
# The fetcher's default body cap: a bigger page is not an article.
MAX_PAGE_BYTES = 8 * 1024 * 1024


def read_archive(item: FeedItem) -> Page:
    """The page an item from a `directory` source points to, read from disk.

    Raise FetchError naming the file if it cannot be read.
    """
    archive = item.archive or ""
    head, sep, offset = archive.rpartition("#")
    try:
        if sep and offset.isdigit() and head.lower().endswith(WARC_SUFFIXES):
            return _warc_page(Path(head), int(offset), item)
        return _file_page(Path(archive), item)
    except Exception as exc:  # warcio raises assorted errors on a malformed record
        raise FetchError(item.url, f"cannot read {archive}: {exc}"[:500]) from None


def read_page(path: Path) -> bytes:
    with path.open("rb") as stream:
        content = stream.read(MAX_PAGE_BYTES + 1)
    if len(content) > MAX_PAGE_BYTES:
        raise ValueError(f"larger than {MAX_PAGE_BYTES} bytes")
    return content


def html_target(record: Any) -> str | None:
    """The target URI of a successful HTML response record; None for any other record."""
    if record.rec_type != "response":
        return None
    http = record.http_headers
    if http is None or not (http.get_statuscode() or "").startswith("2"):
        return None
    media_type = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
    # WARC 1.1 writers sometimes wrap the URI in angle brackets.
    target = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
    if media_type not in HTML_TYPES or not target.lower().startswith(("http://", "https://")):
        return None
    return str(target)


def _file_page(path: Path, item: FeedItem) -> Page:
    content = read_page(path)
    return Page(item.url, item.url, 200, "text/html", content, {})


def _warc_page(path: Path, offset: int, item: FeedItem) -> Page:
    with path.open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)), None)
        target = None if record is None else html_target(record)
        if record is None or target is None:
            raise ValueError(f"no HTML response record at offset {offset}")
        content = record.content_stream().read(MAX_PAGE_BYTES + 1)
        if len(content) > MAX_PAGE_BYTES:
            raise ValueError(f"record at offset {offset} is larger than {MAX_PAGE_BYTES} bytes")
        http = record.http_headers
        return Page(
            url=item.url,
            final_url=target,
            status=int(http.get_statuscode() or 200),
            content_type=http.get_header("Content-Type") or "text/html",
            content=content,
            headers={key: value for key, value in http.headers},
        )
