"""The archive searched by meaning: indexing cost, disk, and `claimwatch search` at scale.

    python benchmarks/bench_archive.py [--articles N] [--repeat N]

A warehouse holds the extracted pages of the offline sample and of the shared corpus,
each stored many times under distinct URLs (as bench_rematch builds it), about N
articles in all, each with its sentences' terms stored (as `claimwatch index` stores
them first, timed). One copy of the pages is indexed for real (`index_archive`, the
multilingual encoder on one core): that gives the indexing time per article, against
extracting the same pages with trafilatura (metadata included) in the same run. Its
sentence rows are then copied for every other copy of the pages, so the index covers
the whole warehouse, and a search over it is timed: in one process (`search()`), and
as the command (`claimwatch search`, process start and model load included).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_rematch import build_warehouse, document_count, timed_rematch  # noqa: E402
from benchmarks.corpus import corpus_pages, sample_pages, seed_catalog  # noqa: E402
from claimwatch.archive.index import index_archive  # noqa: E402
from claimwatch.archive.near import near_articles  # noqa: E402
from claimwatch.archive.search import search  # noqa: E402
from claimwatch.archive.terms import index_terms  # noqa: E402
from claimwatch.matching.encoder import load_encoder  # noqa: E402
from claimwatch.matching.focus import focus_terms  # noqa: E402
from claimwatch.store.connection import connect, write  # noqa: E402
from claimwatch.store.rematch import count_stored_texts  # noqa: E402

CLAIMWATCH = Path(sys.executable).parent / "claimwatch"
QUERIES = [
    "Where NATO goes, war follows",
    "Wo die NATO hingeht, folgt der Krieg",
    "北约走到哪里，哪里就有战争",
    "Die Kindersitze fielen im Test durch",
    "China is helping Russia fight its war in Ukraine",
]


def extraction_seconds() -> float:
    started = time.perf_counter()
    for body in sample_pages() + corpus_pages():
        trafilatura.extract(body, with_metadata=True)
    return time.perf_counter() - started


def replicate(db: Path, copies: int) -> int:
    """Copy copy 0's index rows to every other copy's URLs; the rows in all."""
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT * FROM sentence_index ORDER BY sentence_no").to_arrow_table()
        covered = con.execute("SELECT * FROM indexed_articles").to_arrow_table()
    for first in range(1, copies, 50):
        chunk = range(first, min(first + 50, copies))
        tables = [_renamed(rows, c, c * len(rows)) for c in chunk]
        done = [_renamed(covered, c, None) for c in chunk]

        def store(con, tables=tables, done=done):  # type: ignore[no-untyped-def]
            for name, parts in (("sentence_index", tables), ("indexed_articles", done)):
                con.register("copied", pa.concat_tables(parts))
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM copied")
                con.unregister("copied")

        write(db, "replicating the index failed", store)
    return len(rows) * copies


def _renamed(table: pa.Table, copy: int, numbered_from: int | None) -> pa.Table:
    urls = pc.replace_substring(
        table["article_url"], "http://h0.example/", f"http://h{copy}.example/"
    )
    table = table.set_column(table.schema.get_field_index("article_url"), "article_url", urls)
    if numbered_from is not None:  # each copy's sentences numbered after the last copy's
        numbers = pc.add(table["sentence_no"], numbered_from)
        table = table.set_column(
            table.schema.get_field_index("sentence_no"), "sentence_no", numbers
        )
    return table


def _stored(db: Path) -> int:
    with connect(db, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    return int(row[0]) if row else 0


def table_bytes(db: Path, table: str) -> int:
    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT sum(data_file_size_bytes) FROM ducklake_list_files(current_database(), ?)",
            [table],
        ).fetchone()
    return int(row[0] or 0) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--rematch",
        metavar="CLAIM",
        default="where-nato-goes-war-is-most-likely",
        help="also time `claimwatch rematch --claim CLAIM` with the index ('' skips)",
    )
    parser.add_argument(
        "--without-index",
        action="store_true",
        help="and again with the index emptied (minutes at 10^5: most articles are read)",
    )
    args = parser.parse_args()
    copies = max(1, round(args.articles / document_count()))
    with tempfile.TemporaryDirectory() as folder:
        db, cache = Path(folder) / "lake", Path(folder) / "cache"
        encoder = load_encoder("use", cache)
        assert encoder is not None
        total = build_warehouse(db, copies)
        extract = extraction_seconds()
        with connect(db) as con:  # copy 0 alone is pending: the others are added after
            con.execute("DELETE FROM articles WHERE url NOT LIKE 'http://h0.example/%'")
        first = index_archive(db, encoder)
        # Measured before the copies: Parquet would store identical copies' vectors once.
        disk = table_bytes(db, "sentence_index")
        build_warehouse(db, copies, first=1)  # the other copies stored again
        sentences = replicate(db, copies)
        terms = index_terms(db)  # what `claimwatch index` stores before embedding
        print(
            f"archive: {total:,} articles ({copies} copies of {document_count()} pages), "
            f"medians of {args.repeat}"
        )
        print(
            f"  indexing one copy: {first.articles} articles, {first.sentences} sentences, "
            f"{first.seconds / first.articles * 1000:.1f} ms an article; trafilatura "
            f"(metadata included) {extract / first.articles * 1000:.1f} ms: "
            f"{first.seconds / extract:.2f}x extraction"
        )
        print(
            f"  index on disk: {disk / first.articles / 1024:.1f} KiB an article, "
            f"{disk / first.sentences:.0f} bytes a sentence; searched: {sentences:,} sentences"
        )
        per_article = max(terms.articles, 1)
        print(
            f"  sentence terms: {terms.articles:,} articles in {terms.seconds:.0f} s, "
            f"{terms.seconds / per_article * 1000:.2f} ms an article; on disk "
            f"{table_bytes(db, 'sentence_terms') / per_article / 1024:.2f} KiB an article"
        )
        search(db, encoder, QUERIES[0])  # warm the file cache
        for query in QUERIES:
            runs = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                hits = search(db, encoder, query)
                runs.append(time.perf_counter() - started)
            best = hits[0].similarity if hits else None
            print(f"  search() {statistics.median(runs) * 1000:6.0f} ms  {query!r}: top {best}")
        env = os.environ | {"CLAIMWATCH_CACHE_DIR": str(cache)}
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run(
                [str(CLAIMWATCH), "search", QUERIES[1], "--db", str(db), "--format", "json"],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
            runs.append(time.perf_counter() - started)
        print(f"  claimwatch search (a process, the model loaded): {statistics.median(runs):.2f} s")
        if args.rematch:
            rematch_with_and_without_index(db, Path(folder), args.rematch, args.without_index)


def rematch_with_and_without_index(db: Path, scratch: Path, claim: str, without: bool) -> None:
    """`claimwatch rematch --claim CLAIM` on a copy of the indexed warehouse, then, with
    `without`, of the same warehouse with its index emptied (articles read as before it)."""
    catalog = seed_catalog()
    started = time.perf_counter()
    cache = scratch / "cache"
    near = near_articles(db, catalog, [claim], load_encoder("use", cache), cache)
    asked = time.perf_counter()
    read = count_stored_texts(db, focus_terms(catalog, (claim,)), near)
    print(
        f"  rematch --claim {claim}: reads {read:,} of {_stored(db):,}"
        f" articles ({len(near.urls):,} near in meaning); the index answered in"
        f" {asked - started:.1f} s, the selection counted in {time.perf_counter() - asked:.1f} s"
    )
    runs = [("with the index", timed_rematch(db, scratch, ["--claim", claim]))]
    if without:
        with connect(db) as con:
            con.execute("DELETE FROM indexed_articles")
            con.execute("DELETE FROM sentence_index")
        runs.append(("without", timed_rematch(db, scratch, ["--claim", claim])))
    for name, (seconds, peak) in runs:
        print(f"  rematch --claim {claim} {name}: {seconds:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
