"""The index flow: the stored articles' terms stored (archive/terms.py), and their sentences
embedded for search by meaning.

Scheduled between passes (CLAIMWATCH_INDEX_CRON, twice an hour by default); the same
work as `claimwatch index`. A pass does not embed every sentence (that would cost more
than extracting its pages), so the index trails the archive by at most one schedule.
Each batch commits alone: stopped, it keeps what it stored, and the next run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, get_run_logger

from claimwatch.archive.index import IndexStats, index_archive
from claimwatch.archive.terms import TermStats, index_terms
from claimwatch.logs import set_levels
from claimwatch.matching.encoder import archive_encoder
from claimwatch.settings import load_settings
from claimwatch.stopping import stop_requests

set_levels()

# Progress lines: one every this many articles.
PROGRESS_EVERY = 2000


@flow(name="index")
def index(db: str | None = None, limit: int | None = None) -> int:
    """Store the terms, then the sentences, the archive lacks; returns articles indexed."""
    logger = get_run_logger()
    settings = load_settings(db=db)
    if not _terms_stored(settings.db, settings.lock_wait):
        return 0
    encoder = archive_encoder(settings.encoder, settings.cache_dir)
    if encoder is None:
        logger.info("CLAIMWATCH_ENCODER=%s: no index by meaning to keep", settings.encoder)
        return 0
    with stop_requests() as stop:
        stats = index_archive(
            settings.db,
            encoder,
            limit=limit,
            stop=stop,
            progress=_progress_lines(),
            wait=settings.lock_wait,
        )
    logger.info(
        "%s: %d articles indexed (%d sentences) in %.0f s%s",
        settings.db,
        stats.articles,
        stats.sentences,
        stats.seconds,
        f"; stopped with {stats.left} left" if stats.stopped else "",
    )
    return stats.articles


def _progress_lines() -> Callable[[IndexStats, int], None]:
    """A progress line every PROGRESS_EVERY articles indexed, and at the end."""
    logger = get_run_logger()
    logged = [0]  # articles at the last progress line

    def progress(stats: IndexStats, total: int) -> None:
        if stats.articles - logged[0] >= PROGRESS_EVERY or stats.articles == total:
            logged[0] = stats.articles
            logger.info(
                "indexed %d of %d articles (%d sentences)", stats.articles, total, stats.sentences
            )

    return progress


def _terms_stored(db: Path, wait: float) -> bool:
    """Store the terms the archive lacks; False when stopped before the end."""
    logger = get_run_logger()

    def progress(stats: TermStats, total: int) -> None:
        logger.info("stored the terms of %d of %d articles", stats.articles, total)

    with stop_requests() as stop:
        stats = index_terms(db, stop=stop, progress=progress, wait=wait)
    if stats.stopped:
        logger.info("%s: stopped with the terms of %d articles left to store", db, stats.left)
    return not stats.stopped
