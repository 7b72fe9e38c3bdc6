"""Saved pages in a local folder: HTML files and WARC archives, read with no network.

Discovery lists the pages (an HTML file's canonical URL or its file:// URI; a WARC
response record's target URI) and marks each item with where it lives on disk,
`path` or `path#offset`; the fetch step then reads it with `read_archive`.
The cursor is a digest of the folder's listing (names, sizes, modification
times), so an unchanged folder is not read again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from claimwatch.dates import iso_to_utc
from claimwatch.exceptions import FetchError
from claimwatch.fetching.archive import WARC_SUFFIXES, html_target, read_page
from claimwatch.fetching.markup import html_document
from claimwatch.records import Discovery, FeedItem
from claimwatch.sources.config import DirectorySource
from claimwatch.urls import normalize_url

log = logging.getLogger(__name__)

PAGE_SUFFIXES = (".html", ".htm")
# Files one poll lists; a folder larger than this is read in part (logged).
MAX_FILES = 20_000
# Nesting deeper than this is a link loop or an accident, not an archive's layout.
MAX_DEPTH = 16
# A WARC of a large crawl holds millions of records; one file gives at most this many pages.
MAX_RECORDS_PER_WARC = 100_000


def read_directory(source: DirectorySource, cursor: str | None) -> Discovery:
    """Pages saved in the folder, and the digest of its listing (the cursor); none when the
    listing is unchanged. Raise FetchError if the folder cannot be read."""
    try:
        root = source.path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise FetchError(str(source.path), f"cannot open the folder: {exc}") from None
    if not root.is_dir():
        raise FetchError(str(source.path), "not a folder")
    files = _listing(root)
    digest = _digest(root, files)
    if cursor == digest:
        return Discovery([], cursor)
    items: dict[str, FeedItem] = {}
    complete = True
    for path in files:
        try:
            found = _warc_items(path, source) if _is_warc(path) else [_page_item(path, source)]
        except (OSError, ValueError) as exc:
            log.warning("%s: skipped %s: %s", source.name, path, exc)
            complete = False
            continue
        for item in found:
            items.setdefault(item.url, item)
    # A file skipped this time (unreadable, half written) is tried again next poll.
    return Discovery(list(items.values()), digest if complete else None)


def _listing(root: Path) -> list[Path]:
    """Page and WARC files under `root`, depth first in name order; symlinks leading out
    of `root` are skipped with a warning."""
    files: list[Path] = []
    seen = {root}

    def walk(folder: Path, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            log.warning("skipped folder %s: %s", folder, exc)
            return
        for entry in entries:
            if len(files) >= MAX_FILES:
                return
            path = Path(entry.path)
            try:
                target = path.resolve(strict=True)
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except (OSError, RuntimeError) as exc:
                log.warning("skipped %s: %s", path, exc)
                continue
            if not target.is_relative_to(root):
                log.warning("skipped %s: a symlink leading out of %s", path, root)
            elif is_dir and depth < MAX_DEPTH and target not in seen:
                seen.add(target)
                walk(path, depth + 1)
            elif is_file and (_is_warc(path) or path.name.lower().endswith(PAGE_SUFFIXES)):
                files.append(path)

    walk(root, 0)
    if len(files) >= MAX_FILES:
        log.warning(
            "%s holds more than %d pages and archives; the rest are not read", root, MAX_FILES
        )
    return files


def _digest(root: Path, files: list[Path]) -> str:
    listing = hashlib.sha256()
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        name = path.relative_to(root).as_posix()
        listing.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return f"listing:{listing.hexdigest()}"


def _is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def _page_item(path: Path, source: DirectorySource) -> FeedItem:
    content = read_page(path)
    canonical, title = _page_meta(content)
    return FeedItem(
        url=canonical or path.as_uri(),
        source=source.name,
        title=title,
        is_sample=source.sample,
        allow_private=source.allow_private,
        archive=str(path),
    )


def _page_meta(content: bytes) -> tuple[str | None, str | None]:
    """The page's http(s) canonical URL and its title, where it has them."""
    doc = html_document(content)
    if doc is None:
        return None, None
    canonical = None
    for link in doc.xpath("//link[@href]"):
        href = link.get("href").strip()
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and href.lower().startswith(("http://", "https://")):
            try:
                canonical = normalize_url(href)
            except ValueError:  # a malformed host or port
                continue
            break
    title = " ".join((doc.findtext(".//title") or "").split()) or None
    return canonical, title


def _warc_items(path: Path, source: DirectorySource) -> list[FeedItem]:
    """One item per HTML response record, kept as far as the file reads."""
    items: list[FeedItem] = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        try:
            for count, record in enumerate(records):
                if count >= MAX_RECORDS_PER_WARC:
                    log.warning("%s: only the first %d records read", path, count)
                    break
                target = html_target(record)
                try:
                    url = normalize_url(target) if target else None
                except ValueError:  # a malformed host or port
                    url = None
                if url is None:
                    continue
                items.append(
                    FeedItem(
                        url=url,
                        source=source.name,
                        published_at=iso_to_utc(record.rec_headers.get_header("WARC-Date")),
                        is_sample=source.sample,
                        allow_private=source.allow_private,
                        archive=f"{path}#{records.get_record_offset()}",
                    )
                )
        except Exception as exc:  # warcio raises assorted errors on a malformed record
            log.warning("%s: unreadable past its first %d pages: %s", path, len(items), exc)
    return items
