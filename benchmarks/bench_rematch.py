"""A re-match for one claim just added (`claimwatch rematch --claim ID`) against a full one.

    python benchmarks/bench_rematch.py [--copies N] [--repeat N]
    python benchmarks/bench_rematch.py --command --articles N [--repeat N] [--claim ID]

A warehouse holds the extracted pages of the offline sample and of the shared corpus
(when present), each stored N times under distinct URLs. Both re-matches read the
stored texts from DuckDB and run detection with meaning, as the rematch flow does;
the focused one reads only the articles its filter lets through. Each claim of the
seed catalog takes its turn as the one just added; the ratio is their median.

With --command, the real commands run instead (`claimwatch rematch --claim ID`, then
`claimwatch rematch`), each on a fresh copy of a warehouse of about N articles: wall
time and the peak RSS of the command and every process it started (workers, Prefect's
temporary server), medians of the repeats.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402

from benchmarks.bench_scale import timed_command  # noqa: E402
from benchmarks.corpus import corpus_pages, sample_pages, seed_catalog, sentence_pools  # noqa: E402
from claimwatch.fetching.client import Page  # noqa: E402
from claimwatch.fetching.extract import ExtractError, extract_article  # noqa: E402
from claimwatch.matching.detector import DetectorSpec  # noqa: E402
from claimwatch.records import FeedItem  # noqa: E402
from claimwatch.store.connection import connect  # noqa: E402
from claimwatch.store.migrations import apply_migrations  # noqa: E402
from claimwatch.store.rematch import iter_stored_texts  # noqa: E402
from claimwatch.store.warehouse_sql import migrations_dir  # noqa: E402


def build_warehouse(db: Path, copies: int, first: int = 0) -> int:
    """Pages extracted as a pass extracts them (title, text, language), stored `copies`
    times (copies `first` to `copies - 1`, when the first ones are stored already)."""
    docs = []
    for i, body in enumerate(sample_pages() + corpus_pages()):
        url = f"http://h.example/{i}"
        try:
            docs.append(
                extract_article(Page(url, url, 200, "text/html", body, {}), FeedItem(url, "b"))
            )
        except ExtractError:
            continue
    now = datetime.now(UTC).replace(tzinfo=None)
    stored = range(first, copies)
    urls = [f"http://h{copy}.example/{i}" for copy in stored for i in range(len(docs))]
    # Through Arrow: row by row, 10^5 articles took minutes.
    rows = pa.table(
        {
            "url": urls,
            "title": [d.title for _ in stored for d in docs],
            "text": [d.text for _ in stored for d in docs],
            "language": [d.language for _ in stored for d in docs],
        }
    )
    with connect(db) as con:
        apply_migrations(con, migrations_dir())
        con.register("built", rows)
        con.execute(
            """INSERT INTO articles (url, final_url, source, is_sample, outlet, title, text,
                   language, fetched_at, content_sha256, run_id)
               SELECT url, url, 'bench', false, 'bench', title, text, language, ?, '', 'bench'
               FROM built""",
            [now],
        )
    return len(urls)


def build_synthetic(db: Path, count: int) -> int:
    """`count` articles of 12 sentences of the article pool, as bench_scale's archive: a
    size where the old re-match's memory showed (1.6 GB at 10^5), built in seconds."""
    rng = random.Random(count)
    _, pool = sentence_pools()
    texts = [". ".join(rng.choice(pool) for _ in range(12)) + "." for _ in range(count)]
    rows = pa.table(
        {
            "url": [f"http://archive.example/{i}" for i in range(count)],
            "title": [f"Archive story {i}" for i in range(count)],
            "text": texts,
        }
    )
    with connect(db) as con:
        apply_migrations(con, migrations_dir())
        con.register("built", rows)
        con.execute(
            """INSERT INTO articles (url, final_url, source, is_sample, outlet, title, text,
                   language, fetched_at, content_sha256, run_id)
               SELECT url, url, 'bench', false, 'bench', title, text, 'en', ?, '', 'bench'
               FROM built""",
            [datetime.now(UTC).replace(tzinfo=None)],
        )
    return count


def document_count() -> int:
    return len(sample_pages() + corpus_pages())


def timed_rematch(built: Path, scratch: Path, args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of `claimwatch rematch ARGS` on a fresh copy of `built`."""
    db = scratch / "work"
    shutil.rmtree(db, ignore_errors=True)
    shutil.copytree(built, db)
    return timed_command(["rematch", "--db", str(db), *args])


def bench_command(
    articles: int, repeat: int, claim: str, full: bool = True, synthetic: bool = False
) -> None:
    runs: dict[str, list[tuple[float, float]]] = {"one claim": [], "all claims": []}
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / "built"
        if synthetic:
            total = build_synthetic(built, articles)
        else:
            total = build_warehouse(built, max(1, round(articles / document_count())))
        for _ in range(repeat):  # alternated, so drift falls on both alike
            runs["one claim"].append(timed_rematch(built, Path(folder), ["--claim", claim]))
            if full:
                runs["all claims"].append(timed_rematch(built, Path(folder), []))
    kind = "synthetic 12-sentence" if synthetic else "real"
    print(f"claimwatch rematch over {total:,} stored {kind} articles, medians of {repeat}")
    for name, measured in runs.items():
        if not measured:
            continue
        seconds = statistics.median(s for s, _ in measured)
        peak = statistics.median(m for _, m in measured)
        print(
            f"  {name:10}  {seconds:7.1f} s  peak RSS {peak:6.0f} MiB (command and its processes)"
        )


def rematch_seconds(db: Path, spec: DetectorSpec) -> tuple[float, int]:
    """Read what the re-match reads and detect: seconds (the detector's one-off build, about
    0.3 s, left out) and articles read."""
    detector = spec.build()
    started = time.perf_counter()
    read = 0
    for batch in iter_stored_texts(db, 200, spec.focus_terms()):
        read += len(batch)
        for stored in batch:
            detector.detect(stored.url, stored.text, title=stored.title)
    return time.perf_counter() - started, read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--command", action="store_true", help="time the real commands")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--claim", default="ukraine-today-asia-tomorrow")
    parser.add_argument("--one-claim-only", action="store_true", help="with --command")
    parser.add_argument(
        "--synthetic", action="store_true", help="with --command: 12-sentence articles"
    )
    args = parser.parse_args()
    if args.command:
        bench_command(
            *(args.articles, args.repeat, args.claim),
            full=not args.one_claim_only,
            synthetic=args.synthetic,
        )
        return
    catalog = seed_catalog()
    with tempfile.TemporaryDirectory() as folder:
        db, cache = Path(folder) / "w.duckdb", Path(folder)
        total = build_warehouse(db, args.copies)
        full = DetectorSpec(catalog, encoder="use", cache_dir=cache)
        rematch_seconds(db, full)  # the model graph and catalog vectors, built once
        full_s = statistics.median(rematch_seconds(db, full)[0] for _ in range(args.repeat))
        ratios, shares = [], []
        for claim in catalog.claims:
            focused = DetectorSpec(catalog, encoder="use", cache_dir=cache, focus=(claim.id,))
            seconds, read = rematch_seconds(db, focused)
            ratios.append(seconds / full_s)
            shares.append(read / total)
    print(f"rematch: {total} stored articles, detection with meaning, median of {args.repeat}")
    print(f"  all {len(catalog.claims)} claims     {full_s:7.2f} s  (every article read)")
    print(
        f"  one claim added    {statistics.median(ratios) * full_s:7.2f} s  median over the"
        f" {len(ratios)} claims; articles read: median {statistics.median(shares):.0%},"
        f" at most {max(shares):.0%}"
    )
    print(f"  one claim / all: {statistics.median(ratios):.2f} (worst {max(ratios):.2f})")


if __name__ == "__main__":
    main()
