"""`claimwatch index` and `claimwatch search`: the archive searched by meaning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from claimwatch.cli.common import db_option, settings_from
from claimwatch.output.tables import FORMATS, render

log = logging.getLogger(__name__)


def _encoder(settings: Any) -> Any:
    from claimwatch.matching.encoder import archive_encoder

    encoder = archive_encoder(settings.encoder, settings.cache_dir)
    if encoder is None:
        raise click.ClickException(
            f"the archive is searched with the multilingual encoder; CLAIMWATCH_ENCODER is "
            f"{settings.encoder!r}: set it to 'auto' or 'use'"
        )
    return encoder


@click.command("index")
@db_option
@click.option("--limit", type=click.IntRange(min=1), help="Index at most this many articles.")
def index_command(db: Path | None, limit: int | None) -> None:
    """Store the terms of the stored articles that lack them (`rematch --claim` looks
    them up), then embed the sentences the index lacks, so that `search` finds them.
    A pass does neither (embedding would take longer than extracting its pages);
    scheduled runs (`claimwatch serve`) index after each pass. Stopped (Ctrl-C,
    SIGTERM), it keeps every whole batch it stored; run it again to go on.

    Example:

        claimwatch index --db warehouse/lake
    """
    from claimwatch.archive.index import IndexStats, index_archive
    from claimwatch.archive.terms import TermStats, index_terms
    from claimwatch.stopping import stop_requests

    settings = settings_from(db=db)

    def stored(stats: TermStats, total: int) -> None:
        click.echo(f"stored the terms of {stats.articles} of {total} articles", err=True)

    with stop_requests() as stop:
        terms = index_terms(settings.db, stop=stop, progress=stored, wait=settings.lock_wait)
    if terms.stopped:
        raise click.ClickException(
            f"stopped by {stop.name}: the terms of {terms.articles} articles stored, "
            f"{terms.left} left; run `claimwatch index` again to go on"
        )
    encoder = _encoder(settings)

    def progress(stats: IndexStats, total: int) -> None:
        click.echo(
            f"indexed {stats.articles} of {total} articles ({stats.sentences} sentences, "
            f"{stats.seconds:.0f} s)",
            err=True,
        )

    with stop_requests() as stop:
        stats = index_archive(
            settings.db, encoder, limit=limit, stop=stop, progress=progress, wait=settings.lock_wait
        )
    if stats.stopped:
        raise click.ClickException(
            f"stopped by {stop.name}: {stats.articles} articles indexed and stored, "
            f"{stats.left} left; run `claimwatch index` again to go on"
        )
    click.echo(f"{settings.db}: {stats.articles} articles indexed ({stats.sentences} sentences)")


@click.command("search")
@click.argument("text")
@db_option
@click.option("--limit", type=click.IntRange(min=1, max=200), default=10, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def search_command(text: str, db: Path | None, limit: int, fmt: str) -> None:
    """The stored sentences closest in meaning to TEXT, in any language, with their
    articles and the claims already found there. Covers the articles `claimwatch index`
    has indexed; says how many are not yet.

    Example:

        claimwatch search "Where NATO goes, war follows" --limit 5
    """
    from claimwatch.archive.index import pending
    from claimwatch.archive.search import search

    if not text.strip():
        raise click.UsageError("TEXT is empty: give the words or the sentence to look for")
    settings = settings_from(db=db)
    encoder = _encoder(settings)
    hits = search(settings.db, encoder, text, limit=limit, wait=settings.lock_wait)
    columns = [
        "similarity", "sentence", "outlet", "published_at", "language", "claims", "article_url"
    ]  # fmt: skip
    rows = [
        (
            h.similarity,
            h.sentence,
            h.outlet,
            h.published_at.date().isoformat() if h.published_at else None,
            h.language,
            list(h.claims) if fmt == "json" else " ".join(h.claims),
            h.article_url,
        )
        for h in hits
    ]
    click.echo(render(columns, rows, fmt), nl=fmt == "table")
    if fmt == "table":
        left = pending(settings.db, encoder.version, wait=settings.lock_wait)
        if left:
            click.echo(
                f"({left} stored articles not indexed yet: run `claimwatch index`)", err=True
            )
