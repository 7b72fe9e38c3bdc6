"""The archive searched by meaning (/meaning?q=TEXT): the stored sentences closest to a
text in any language (claimwatch.archive.search), with their articles and the claims
already found in them, and how many stored articles the index does not cover yet.

The multilingual encoder is loaded once per process, on the first question (a second or
two; building its graph the very first time takes longer), and kept per cache folder.
The search and the count of unindexed articles run in threads at once: the sign-bit
scan over the index is the bulk of the time, and no row costs a query of its own.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from claimwatch.archive.index import pending
from claimwatch.archive.search import SentenceHit, search
from claimwatch.matching.encoder import Encoder
from claimwatch.matching.encoder import archive_encoder as load_archive_encoder
from claimwatch.settings import load_settings
from claimwatch.web.data import Table, config_of
from claimwatch.web.exports import export_format, page

LIMIT, MAX_LIMIT = 20, 100
COLUMNS = [
    "similarity",
    "sentence",
    "outlet",
    "title",
    "published_at",
    "language",
    "claims",
    "article_url",
    "field",
    "start",
    "end",
]

_encoders: dict[Path, Encoder] = {}
_loading = threading.Lock()


def archive_encoder() -> Encoder:
    """The encoder the archive is indexed with, loaded on first use (CLAIMWATCH_ENCODER
    and CLAIMWATCH_CACHE_DIR as `claimwatch search` reads them)."""
    settings = load_settings()
    # One load per process even when two first questions arrive together.
    with _loading:
        encoder = _encoders.get(settings.cache_dir)
        if encoder is None:
            encoder = load_archive_encoder(settings.encoder, settings.cache_dir)
            if encoder is None:
                raise HTTPException(
                    503,
                    f"the archive is searched with the multilingual encoder; CLAIMWATCH_ENCODER "
                    f"is {settings.encoder!r}: set it to 'auto' or 'use' and restart "
                    "`claimwatch ui`",
                )
            _encoders[settings.cache_dir] = encoder
    return encoder


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(LIMIT)).strip() or str(LIMIT)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise HTTPException(400, f"limit={raw[:20]!r}: give a number from 1 to {MAX_LIMIT}")
    return int(raw)


def _row(hit: SentenceHit, fmt: str) -> dict[str, Any]:
    return {
        "similarity": hit.similarity,
        "sentence": hit.sentence,
        "outlet": hit.outlet,
        "title": hit.title,
        "published_at": hit.published_at,
        "language": hit.language,
        # JSON keeps the list, as `claimwatch search --format json` does.
        "claims": list(hit.claims) if fmt == "json" else " ".join(hit.claims),
        "article_url": hit.article_url,
        "field": hit.field,
        "start": hit.start,
        "end": hit.end,
    }


async def meaning_page(request: Request) -> Response:
    fmt = export_format(request)
    text = request.query_params.get("q", "").strip()
    limit = _limit(request)
    hits: list[SentenceHit] = []
    left = 0
    if text:
        config = config_of(request)
        encoder = await run_in_threadpool(archive_encoder)
        # The search and the count both read the warehouse; neither needs the other.
        hits, left = await asyncio.gather(
            run_in_threadpool(
                lambda: search(config.db, encoder, text, limit=limit, wait=config.wait)
            ),
            run_in_threadpool(lambda: pending(config.db, encoder.version, wait=config.wait)),
        )
    context = {"q": text, "hits": hits, "left": left, "limit": limit}
    table = Table(COLUMNS, [_row(h, fmt) for h in hits])
    return page(request, "meaning.html.j2", context, table, "meaning")


routes = [Route("/meaning", meaning_page, name="meaning")]
