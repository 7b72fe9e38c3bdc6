"""The archive's terms: the terms of each sentence of each stored article, kept so that a
focused re-match (`rematch --claim ID`, store/rematch.py) finds the articles where a
claim's terms stand close together by looking them up, not by reading every stored text.

They are the terms the fuzzy matcher weighs (matching/terms.py: word beginnings, and pairs
of CJK characters), of each sentence as it reads them: the text with its furniture blanked
and normalised, cut into sentences (matching/windows.py), and the title as one more
(numbered -1). A quote lies within one sentence or two adjacent ones, so the re-match
reads an article for quotes when two adjacent sentences hold enough of a claim's terms:
over the 127 sample and corpus pages and the 28 seed claims, 68 (page, claim) pairs do,
where 242 hold them anywhere in the page.

They are written a batch of articles per transaction, so that a stopped run keeps whole
batches; each article's terms are kept for the text they came from (content_sha256), and
an article whose text changed, or whose terms are not stored, is scanned for them
(store/rematch.py: word beginnings of the raw text, folded as the matcher folds them,
anywhere in it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from claimwatch.archive.schema import read_or_explain
from claimwatch.matching.furniture import blank_furniture
from claimwatch.matching.normalize import normalize, normalize_text, sentence_spans
from claimwatch.matching.terms import terms
from claimwatch.store.connection import connect, migrate, write
from claimwatch.store.warehouse_sql import migrations_dir
from claimwatch.store.writers import url_table

# Articles per transaction.
BATCH = 2_000
# The title's sentence number.
TITLE = -1


def sentence_terms(title: str | None, text: str) -> Iterator[tuple[int, str]]:
    """(sentence number, term) of each sentence the fuzzy matcher reads in an article."""
    if title:
        for term in terms(normalize_text(title)):
            yield TITLE, term
    prose = normalize(blank_furniture(text)).text
    for number, (start, end) in enumerate(sentence_spans(prose)):
        for term in terms(prose[start:end]):
            yield number, term


def uncovered(alias: str) -> str:
    """An SQL condition on the article `alias`: its terms are missing, or were read from
    another text."""
    return f"""NOT EXISTS (
        SELECT 1 FROM term_indexed_articles AS t
        WHERE t.article_url = {alias}.url
          AND t.content_sha256 IS NOT DISTINCT FROM {alias}.content_sha256)"""


_PENDING = f"FROM articles AS a WHERE {uncovered('a')}"


@dataclass
class TermStats:
    articles: int = 0
    seconds: float = 0.0
    stopped: bool = False
    left: int = 0


def pending_terms(db: Path, *, wait: float = 0.0) -> int:
    """How many stored articles lack their terms."""
    with connect(db, read_only=True, wait=wait) as con:
        row = read_or_explain(db, con, f"SELECT count(*) {_PENDING}").fetchone()
    return int(row[0]) if row else 0


def index_terms(
    db: Path,
    *,
    batch: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[TermStats, int], None] = lambda stats, total: None,
    wait: float = 0.0,
) -> TermStats:
    """Store the terms of the articles that lack them, until done or `stop()`."""
    stats = TermStats()
    started = time.perf_counter()
    migrate(db, migrations_dir())  # a warehouse an older claimwatch made gains the tables
    total = pending_terms(db, wait=wait)
    while stats.articles < total:
        if stop():
            stats.stopped = True
            break
        failure = f"{db}: storing terms failed, nothing of this batch stored"
        done = write(db, failure, lambda con: _store_batch(con, batch), wait=wait)
        if not done:
            break
        stats.articles += done
        stats.seconds = time.perf_counter() - started
        progress(stats, total)
    stats.left = max(total - stats.articles, 0) if stats.stopped else 0
    stats.seconds = time.perf_counter() - started
    return stats


def _store_batch(con: duckdb.DuckDBPyConnection, batch: int) -> int:
    """The terms of up to `batch` articles lacking them, replacing any older ones, read and
    written in one transaction; how many articles."""
    rows = con.execute(
        f"SELECT a.url, a.title, a.text {_PENDING} ORDER BY a.url LIMIT ?", [batch]
    ).fetchall()
    if not rows:
        return 0
    con.register("term_batch", url_table(url for url, _, _ in rows))
    chosen = "article_url IN (SELECT url FROM term_batch)"
    # Terms read from an older text are replaced. Most articles never had any: a delete
    # over every article's terms for each batch would make the first run's cost grow
    # with the square of the archive.
    changed = con.execute(f"SELECT count(*) FROM term_indexed_articles WHERE {chosen}").fetchone()
    if changed and changed[0]:
        con.execute(f"DELETE FROM sentence_terms WHERE {chosen}")
        con.execute(f"DELETE FROM term_indexed_articles WHERE {chosen}")
    urls, numbers, found = [], [], []
    for url, title, text in rows:
        for number, term in sentence_terms(title, text):
            urls.append(url)
            numbers.append(number)
            found.append(term)
    table = pa.table(
        {
            "article_url": pa.array(urls, pa.string()),
            "sentence": pa.array(numbers, pa.int32()),
            "term": pa.array(found, pa.string()),
        }
    )
    con.register("batch_terms", table)
    con.execute("INSERT INTO sentence_terms BY NAME SELECT * FROM batch_terms")
    con.execute(
        """INSERT INTO term_indexed_articles
           SELECT url, content_sha256 FROM articles WHERE url IN (SELECT url FROM term_batch)"""
    )
    con.unregister("batch_terms")
    con.unregister("term_batch")
    return len(rows)
