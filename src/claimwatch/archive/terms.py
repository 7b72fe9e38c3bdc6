"""The archive's terms: each stored article's word beginnings, kept so that a focused
re-match (`rematch --claim ID`, store/rematch.py) finds the articles holding a claim's
terms by looking them up, not by scanning every stored text.

They are the terms the matcher weighs (matching/terms.py), read from the text as stored:
each word's first PREFIX letters, folded as the matcher folds them (ё as е, ß as ss);
and, in an article in Chinese or Japanese or of no known language, each pair of adjacent
CJK characters, not folded from traditional to simplified (a translate() over every text
doubled the cost of a scan, and a quote in them lies near its wording in meaning, which
the sentence index answers for). SQL writes them from the stored text, a batch of articles per
transaction, so that a stopped run keeps whole batches; each article's terms are kept
for the text they came from (content_sha256), and an article whose text changed is
scanned until its terms are written again. At 10^5 stored articles they took 91 MB of
disk (3.5% of the warehouse) and 33 s to write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from claimwatch.archive.schema import read_or_explain
from claimwatch.matching.terms import CJK_CHARACTERS, PREFIX
from claimwatch.store.connection import connect, migrate, write
from claimwatch.store.warehouse_sql import migrations_dir
from claimwatch.store.writers import url_table

# Articles per transaction.
BATCH = 2_000

# An article's title and text, as its terms are read from them (`searched`).
SEARCHED = "coalesce(title, '') || ' ' || text"
# A word `w` folded as normalize_text folds it, as far as Latin and Cyrillic terms go.
FOLDED = "replace(replace(lower(w), 'ё', 'е'), 'ß', 'ss')"
# The languages whose texts are read for CJK character pairs (`language`: the article's).
CJK_LANGUAGE = "(language IS NULL OR language LIKE 'zh%' OR language LIKE 'ja%')"
WORD = r"[\pL\pN_]+"

# Every pair of adjacent CJK characters of `searched`, as terms.py pairs them.
CJK_PAIRS = f"""flatten(list_transform(
    regexp_extract_all(searched, '[{CJK_CHARACTERS}]{{2,}}'),
    r -> list_transform(range(1, length(r)), i -> substr(r, i, 2))))"""

_TERMS = f"""list_distinct(
    list_transform(regexp_extract_all(searched, '{WORD}'), w -> left({FOLDED}, {PREFIX}))
    || CASE WHEN {CJK_LANGUAGE} THEN {CJK_PAIRS} ELSE []::VARCHAR[] END)"""


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
    rows = con.execute(f"SELECT a.url {_PENDING} ORDER BY a.url LIMIT ?", [batch]).fetchall()
    if not rows:
        return 0
    con.register("term_batch", url_table(url for (url,) in rows))
    chosen = "article_url IN (SELECT url FROM term_batch)"
    # Terms read from an older text are replaced. Most articles never had any: a delete
    # over every article's terms for each batch would make the first run's cost grow
    # with the square of the archive.
    changed = con.execute(f"SELECT count(*) FROM term_indexed_articles WHERE {chosen}").fetchone()
    if changed and changed[0]:
        con.execute(f"DELETE FROM article_terms WHERE {chosen}")
        con.execute(f"DELETE FROM term_indexed_articles WHERE {chosen}")
    con.execute(
        f"""INSERT INTO article_terms
            SELECT url, unnest({_TERMS}) FROM (
                SELECT url, language, {SEARCHED} AS searched FROM articles
                WHERE url IN (SELECT url FROM term_batch))"""
    )
    con.execute(
        """INSERT INTO term_indexed_articles
           SELECT url, content_sha256 FROM articles WHERE url IN (SELECT url FROM term_batch)"""
    )
    con.unregister("term_batch")
    return len(rows)
