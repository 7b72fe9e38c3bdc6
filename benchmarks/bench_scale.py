"""Costs against the size of the archive, and stories against the size of the candidate pool.

    python benchmarks/bench_scale.py [pass|stories|all] [--sizes 1000 100000] [--repeat N]
        [--keep DIR]

pass     warehouses of each size (articles stored) are built through the store's own
         write path (`store_batch`, batches of 5,000; `--keep DIR` keeps them there for
         the next run), then on a fresh copy of each, the sizes taking turns: a pass
         over the 17 pages of seeds/sample served locally (`claimwatch run`, its
         own time from the `runs` table and the peak RSS of it and its workers), then
         `digest --dry-run` and every report with its defaults (each a `claimwatch`
         process: wall time and peak RSS). Ratios are largest size against smallest.
         The archive's digests went out as it grew (each batch's matches delivered to
         the bench's digest channel, recorded through the digest ledger's own write),
         so `digest --dry-run` finds what a desk's daily digest finds: the last pass's
         matches; `digest-pending` with its defaults lists every match ever stored.
         A built warehouse is maintained once (`claimwatch warehouse maintain`), as the
         nightly deployment keeps one.
stories  synthetic archives of unrelated originals (sentences drawn from one small pool,
         so texts share much of their wording) and copies of some of them with edits
         (cut to 80-90 %, a new intro, boilerplate, a few words replaced): how often an
         unrelated original joins another story and how often a copy finds its original,
         by the old rule (12 bits of one 64-bit half) and the one stored now (24 bits of
         both halves). Every query is compared with every stored sketch, so the rate per
         pair gives the rate in a candidate pool of 10^6 (1 - (1 - p)^(10^6)).

The archive's articles are 12 sentences of the benchmarks' article pool (corpus.py),
fetched over the two years before now from 50 outlets; one in ten is a copy of an
article three before it, one in five carries a match of a seed claim.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_pass import BIN, Site, _peak_rss, run_pass, serve  # noqa: E402
from benchmarks.corpus import seed_catalog, sentence_pools  # noqa: E402
from claimwatch.dates import utcnow  # noqa: E402
from claimwatch.delivery.config import load_digest_config  # noqa: E402
from claimwatch.delivery.destinations import destination_key  # noqa: E402
from claimwatch.records import Article, Match, RunStats  # noqa: E402
from claimwatch.sources.config import SourceList  # noqa: E402
from claimwatch.store.connection import write  # noqa: E402
from claimwatch.store.maintenance import maintain  # noqa: E402
from claimwatch.store.passes import begin_pass, finish_pass, store_batch  # noqa: E402
from claimwatch.store.reports import Report, get_report, list_reports, run_report  # noqa: E402
from claimwatch.store.stories import HALF_DISTANCE, MAX_DISTANCE, simhashes  # noqa: E402
from claimwatch.store.warehouse_sql import migrations_dir, reports_dir  # noqa: E402
from claimwatch.store.writers import insert_rows  # noqa: E402

SAMPLE = sorted((ROOT / "seeds" / "sample" / "articles").glob("*.html"))
BATCH = 5000
SPAN = timedelta(days=730)


def build(db: Path, size: int, digests: Path | None = None) -> float:
    """A warehouse of `size` articles written through store_batch; seconds it took. With
    a digest file, each batch's matches are recorded as delivered to its first channel."""
    channel = load_digest_config(digests).channels[0] if digests else None
    _, pool = sentence_pools()
    catalog = seed_catalog()
    claims = [c for c in catalog.claims]
    rng = random.Random(size)
    sources = SourceList.model_validate(
        {"sources": [{"name": "archive", "url": "http://archive.example/feed.xml"}]}
    )
    started = time.perf_counter()
    begin_pass(db, migrations_dir(), sources=sources, catalog=catalog)
    end = utcnow() - timedelta(hours=1)
    texts: list[str] = []
    for first in range(0, size, BATCH):
        articles, matches = [], []
        for i in range(first, min(first + BATCH, size)):
            if i % 10 == 9:  # a copy of an earlier article, a sentence added
                text = texts[i - 3] + " " + rng.choice(pool) + "."
            else:
                text = ". ".join(rng.choice(pool) for _ in range(12)) + "."
            texts.append(text)
            fetched = end - SPAN * (1 - i / size)
            url = f"http://archive.example/{i}"
            art = Article(
                url, url, None, "archive", False, f"Outlet {i % 50}", f"Archive story {i}",
                None, text, "en", fetched - timedelta(hours=rng.randint(1, 12)), fetched,
                hashlib.sha256(text.encode()).hexdigest(),
            )  # fmt: skip
            articles.append(art)
            if i % 5 == 0:
                claim = claims[i % len(claims)]
                quote = text.split(".")[0]
                matches.append(
                    Match(url, claim.id, 95.0, "text", claim.text, quote, 0, len(quote), quote)
                )
        run_id = f"build-{first // BATCH}"
        store_batch(db, run_id=run_id, articles=articles, matches=matches, failures=[], attempts=[])
        at = articles[-1].fetched_at
        stats = RunStats(run_id, at, at, "completed", 1, 0, len(articles), 0, 0, 0, 0, 0)
        finish_pass(db, stats=stats, polled=[], log=[], failures=[])
        if channel is not None:
            _delivered(db, channel, matches, at)
    # As the nightly `maintain` deployment leaves it: the batches' small writes (inlined
    # in the catalog below 1,000 rows, as each batch's matches are) flushed to Parquet.
    maintain(db, retention=timedelta(days=30))
    return time.perf_counter() - started


def _delivered(db: Path, channel: Any, matches: list[Match], at: datetime) -> None:
    """`matches` recorded as one digest delivered to `channel`, as the ledger records one."""
    attempt = uuid.uuid4().hex
    digest = {
        "attempt_id": attempt, "digest_id": attempt[:16], "channel": channel.name,
        "channel_kind": channel.kind, "destination": str(channel.path),
        "destination_key": destination_key(channel), "status": "delivered", "detail": "",
        "matches": len(matches), "claims": len({m.claim_id for m in matches}),
        "first_matched_at": at, "last_matched_at": at, "since": None, "attempts": 1,
        "started_at": at, "finished_at": at,
    }  # fmt: skip
    items = [
        {"attempt_id": attempt, "channel": channel.name, "article_url": m.article_url,
         "claim_id": m.claim_id, "score": m.score}
        for m in matches
    ]  # fmt: skip

    def record(con: duckdb.DuckDBPyConnection) -> None:
        insert_rows(con, "digests", [digest])
        insert_rows(con, "digest_items", items)

    write(db, "bench: digest ledger", record)


def timed_command(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one claimwatch command."""
    started = time.perf_counter()
    command = subprocess.Popen(
        [str(BIN / "claimwatch"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    peak, _ = _peak_rss(command)
    _, stderr = command.communicate()
    if command.returncode != 0:
        raise RuntimeError(f"{args}: {stderr.decode()[-1000:]}")
    return time.perf_counter() - started, peak / 2**20


def bench_pass(sizes: list[int], repeat: int, keep: Path | None) -> None:
    site = Site([p.read_bytes() for p in SAMPLE])
    names = [r.name for r in list_reports(reports_dir())]
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch, serve(site) as base:
        home = keep or Path(scratch)  # where the built warehouses and the digest file live
        home.mkdir(parents=True, exist_ok=True)
        digests = home / "digest.yaml"
        digests.write_text(
            "channels:\n  - name: desk\n    kind: directory\n"
            f"    path: {home / 'sent'}\n    format: html\n"
            "subscriptions:\n  - name: everything\n    channels: [desk]\n"
            "    include_sample: true\n",
            encoding="utf-8",
        )
        built = {size: _built(home, size, digests) for size in sizes}
        # Passes alternate between the sizes (a pass on each, then again), so that the
        # machine's drift falls on all of them alike; each on a fresh copy.
        passes: dict[int, list[float]] = {size: [] for size in sizes}
        peaks: dict[int, list[float]] = {size: [] for size in sizes}
        last: dict[int, Path] = {}
        for number in range(repeat):
            for size in sizes:
                work = Path(scratch) / f"work-{size}-{number}"
                work.mkdir()
                shutil.copytree(built[size], work / "bench-lake")
                # The copy's writes go to disk first: at 10^6 (772 MB) their write-back
                # otherwise overlaps what is timed next (a digest took 2.3 s, not 1.5 s).
                os.sync()
                ran = run_pass(base, site, work)
                assert ran["articles_new"] == len(SAMPLE), ran
                passes[size].append(ran["seconds"])
                peaks[size].append(ran["rss_mib"])
                if size in last:
                    shutil.rmtree(last[size])
                last[size] = work
        small, large = min(sizes), max(sizes)
        pairs = statistics.median(b / a for a, b in zip(passes[small], passes[large], strict=True))
        for size in sizes:
            row = {"pass": (statistics.median(passes[size]), statistics.median(peaks[size]))}
            db = str(last[size] / "bench-lake")
            digest = ["digest", "--dry-run", "--config", str(digests), "--db", db]
            runs = [timed_command(digest) for _ in range(repeat)]
            row["digest --dry-run"] = _medians(runs)
            for name in names:
                runs = [
                    timed_command(["report", name, "--db", db, "--format", "csv"])
                    for _ in range(repeat)
                ]
                row[f"report {name}"] = _medians(runs)
                report = get_report(reports_dir(), name)
                query = [_query_seconds(Path(db), report) for _ in range(repeat)]
                row[f"  {name}: query alone"] = (statistics.median(query), float("nan"))
            results[size] = row
    print(f"\nmedians of {repeat}; seconds and peak MiB; ratios {large:,} / {small:,} stored")
    print(f"{'':36} {small:>9,}         {large:>9,}         ratio")
    for key in results[small]:
        (s_time, s_mem), (l_time, l_mem) = results[small][key], results[large][key]
        if s_mem != s_mem:  # a query timed in this process: no memory of its own
            print(f"{key:36} {s_time:6.2f} s {'':9} {l_time:6.2f} s {'':9} {l_time / s_time:4.2f}x")
            continue
        print(
            f"{key:36} {s_time:6.2f} s {s_mem:5.0f} MiB {l_time:6.2f} s {l_mem:5.0f} MiB"
            f" {l_time / s_time:4.2f}x {l_mem / s_mem:4.2f}x"
        )
    print(f"pass, median of the {repeat} alternated pairs' time ratios: {pairs:.2f}x")


def _built(home: Path, size: int, digests: Path) -> Path:
    """The warehouse of `size` articles kept in `home`, built first if it is not there."""
    built = home / f"built-{size}"
    if (built / "catalog.sqlite").is_file():
        print(f"{size:>9,} articles: the warehouse kept in {built}", flush=True)
    else:
        seconds = build(built, size, digests)
        print(f"{size:>9,} articles built in {seconds:.0f} s", flush=True)
    return built


def _query_seconds(db: Path, report: Report) -> float:
    started = time.perf_counter()
    run_report(db, report, {})
    return time.perf_counter() - started


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def bench_stories(stored: int, queries: int) -> None:
    """False joins of unrelated originals and copies found, per pair and in pools."""
    _, pool = sentence_pools()
    rng = random.Random(5)

    def original() -> str:
        return ". ".join(rng.choice(pool) for _ in range(30)) + "."

    def copy(text: str) -> str:
        sentences = text.split(". ")
        kind = rng.randrange(4)
        if kind == 0:
            sentences = sentences[: int(len(sentences) * rng.choice((0.8, 0.9)))]
        elif kind == 1:
            sentences = [rng.choice(pool) for _ in range(2)] + sentences[2:]
        elif kind == 2:
            sentences = ["Sign up for our newsletter", *sentences, "Share this article"]
        words = " . ".join(sentences).split()
        for _ in range(rng.randint(0, 6)):
            words[rng.randrange(len(words))] = rng.choice(pool).split()[0]
        return " ".join(words)

    started = time.perf_counter()
    archive = [original() for _ in range(stored)]
    halves = _sketches(archive)
    unrelated = _sketches([original() for _ in range(queries)])
    copies = _sketches([copy(text) for text in archive[:queries]])
    print(f"sketched {stored + 2 * queries:,} texts in {time.perf_counter() - started:.0f} s")
    pairs = stored * queries
    old = new = 0
    for first, second in unrelated:
        d1 = _bits(first, halves[:, 0])
        d2 = _bits(second, halves[:, 1])
        old += int((d1 <= 12).sum())
        new += int((d1 + d2 <= MAX_DISTANCE).sum())
    c1 = _bits(copies[:, 0], halves[:queries, 0])
    c2 = _bits(copies[:, 1], halves[:queries, 1])
    print(f"stories: {queries:,} unrelated originals and copies against {stored:,} stored")
    print(f"{'rule':32} {'per pair':>9} {'10^4':>7} {'10^5':>7} {'10^6':>7}  copies found")
    rules = [
        ("old: 12 bits of one half", old, (c1 <= 12).mean()),
        (f"now: {MAX_DISTANCE} bits of both halves", new, (c1 + c2 <= MAX_DISTANCE).mean()),
        (f"old sketches: {HALF_DISTANCE} bits of one", None, (c1 <= HALF_DISTANCE).mean()),
    ]
    for name, hits, found in rules:
        if hits is None:
            print(f"{name:32} {'':>9} {'':>7} {'':>7} {'':>7}  {found:6.1%}")
            continue
        # Zero hits: at most 3 / pairs (95 % upper bound), shown as "<".
        p, mark = (hits / pairs, " ") if hits else (3 / pairs, "<")
        pools = [1 - (1 - p) ** n for n in (10**4, 10**5, 10**6)]
        print(
            f"{name:32} {mark}{p:8.1e} " + " ".join(f"{x:6.2%}" for x in pools) + f"  {found:6.1%}"
        )


def _sketches(texts: list[str]) -> np.ndarray:
    rows = [simhashes(text) for text in texts]
    return np.array([r for r in rows if r is not None], dtype=np.uint64)


def _bits(a: np.ndarray | np.uint64, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["pass", "stories", "all"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the warehouses in this folder and reuse them on later runs "
        "(10^6 articles take about 50 minutes to build)",
    )
    args = parser.parse_args()
    if args.what in ("stories", "all"):
        bench_stories(args.stored, args.queries)
    if args.what in ("pass", "all"):
        bench_pass(sorted(args.sizes), args.repeat, args.keep)


if __name__ == "__main__":
    main()
