"""Indexing the archive: every stored article's sentences embedded once, batch by batch.

Embedding every sentence costs more than extracting the page did (on the shared corpus's
real pages, about 1.4x trafilatura's time), so a pass does not do it: the `index` flow
(`claimwatch index`, scheduled after passes) catches up with what passes stored. Each
batch is one transaction: stopped at any point, the index holds whole articles, and the
next run starts where this one stopped. An article whose text changed, or an index made
by another model, is indexed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from claimwatch.archive.codes import WORDS, quantized, sign_codes
from claimwatch.archive.schema import read_or_explain
from claimwatch.archive.sentences import indexed_sentences
from claimwatch.dates import utcnow
from claimwatch.matching.encoder import Encoder
from claimwatch.store.connection import connect, migrate, write
from claimwatch.store.warehouse_sql import migrations_dir

BATCH = 64

_PENDING = """
    FROM articles AS a
    WHERE NOT EXISTS (
        SELECT 1 FROM indexed_articles AS i
        WHERE i.article_url = a.url AND i.model = $model
          AND i.content_sha256 IS NOT DISTINCT FROM a.content_sha256)
"""


@dataclass
class IndexStats:
    articles: int = 0
    sentences: int = 0
    seconds: float = 0.0
    stopped: bool = False
    left: int = 0


def pending(db: Path, model: str, *, wait: float = 0.0) -> int:
    """How many stored articles the index does not cover yet."""
    with connect(db, read_only=True, wait=wait) as con:
        row = read_or_explain(db, con, f"SELECT count(*) {_PENDING}", {"model": model}).fetchone()
    return int(row[0]) if row else 0


def index_archive(
    db: Path,
    encoder: Encoder,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[IndexStats, int], None] = lambda stats, total: None,
    wait: float = 0.0,
) -> IndexStats:
    """Index the stored articles the index lacks (at most `limit`), until done or `stop()`."""
    stats = IndexStats()
    started = time.perf_counter()
    migrate(db, migrations_dir())  # a warehouse an older claimwatch made gains the index
    total = pending(db, encoder.version, wait=wait)
    if limit is not None:
        total = min(total, limit)
    while stats.articles < total:
        if stop():
            stats.stopped = True
            break
        with connect(db, read_only=True, wait=wait) as con:
            rows = con.execute(
                f"SELECT a.url, a.title, a.text, a.content_sha256 {_PENDING} "
                "ORDER BY a.url LIMIT $n",
                {"model": encoder.version, "n": min(batch, total - stats.articles)},
            ).fetchall()
        if not rows:
            break
        sentences = _embed(rows, encoder)
        write(
            db,
            f"{db}: indexing failed, nothing of this batch stored",
            _store(rows, sentences, encoder.version),
            wait=wait,
        )
        stats.articles += len(rows)
        stats.sentences += len(sentences["article_url"])
        stats.seconds = time.perf_counter() - started
        progress(stats, total)
    stats.left = max(total - stats.articles, 0) if stats.stopped else 0
    stats.seconds = time.perf_counter() - started
    return stats


def _embed(rows: list[tuple], encoder: Encoder) -> dict[str, list | np.ndarray]:
    """The batch's sentences, as the columns of sentence_index."""
    columns: dict[str, list] = {
        "article_url": [],
        "field": [],
        "sentence_start": [],
        "sentence_end": [],
    }
    texts = []
    for url, title, text, _ in rows:
        for sentence in indexed_sentences(title, text or ""):
            columns["article_url"].append(url)
            columns["field"].append(sentence.field)
            columns["sentence_start"].append(sentence.start)
            columns["sentence_end"].append(sentence.end)
            texts.append(sentence.text)
    vectors = encoder.encode(texts) if texts else np.zeros((0, encoder.dimensions), np.float32)
    codes = sign_codes(vectors) if texts else np.zeros((0, WORDS), np.uint64)
    components, scales = quantized(vectors)
    found: dict[str, list | np.ndarray] = dict(columns)
    for word in range(WORDS):
        found[f"h{word}"] = codes[:, word]
    found["vector"] = [row.tobytes() for row in components]
    found["scale"] = scales
    return found


def _store(
    rows: list[tuple], sentences: dict[str, list | np.ndarray], model: str
) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def store(con: duckdb.DuckDBPyConnection) -> None:
        urls = [row[0] for row in rows]
        counts: dict[str, int] = {}
        for url in sentences["article_url"]:
            counts[url] = counts.get(url, 0) + 1
        # The articles' earlier entries, from another text or model, are replaced.
        con.execute(
            "DELETE FROM sentence_index WHERE list_contains($urls, article_url)", {"urls": urls}
        )
        con.execute(
            "DELETE FROM indexed_articles WHERE list_contains($urls, article_url)", {"urls": urls}
        )
        first = con.execute("SELECT coalesce(max(sentence_no), 0) FROM sentence_index").fetchone()
        start = int(first[0]) + 1 if first else 1
        count = len(sentences["article_url"])
        table = pa.table(
            {
                "sentence_no": pa.array(range(start, start + count), pa.int64()),
                **{
                    name: sentences[name]
                    for name in ("article_url", "field", "sentence_start", "sentence_end")
                },
                **{f"h{w}": pa.array(sentences[f"h{w}"], pa.uint64()) for w in range(WORDS)},
                "vector": pa.array(sentences["vector"], pa.binary()),
                "scale": pa.array(sentences["scale"], pa.float32()),
            }
        )
        con.register("new_sentences", table)
        con.execute("INSERT INTO sentence_index BY NAME SELECT * FROM new_sentences")
        con.unregister("new_sentences")
        covered = pa.table(
            {
                "article_url": urls,
                "content_sha256": [row[3] for row in rows],
                "model": [model] * len(rows),
                "sentences": pa.array([counts.get(url, 0) for url in urls], pa.int32()),
                "indexed_at": [utcnow()] * len(rows),
            }
        )
        con.register("new_covered", covered)
        con.execute("INSERT INTO indexed_articles BY NAME SELECT * FROM new_covered")
        con.unregister("new_covered")

    return store
