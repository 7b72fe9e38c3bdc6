"""The DuckLake warehouse against the single-file DuckDB warehouse it replaced, in one run.

    python benchmarks/bench_warehouse.py [pass|small|all] [--copies N] [--pages N]
        [--repeat N] [--passes N] [--maintain-every N]

pass    a pass over the shared corpus's real pages (each under --copies URLs, 1,100
        pages by default) on the new warehouse and on the single-file warehouse of
        the last commit before the move (BASELINE), alternated (new, old, new, old...):
        median times, new/old, peak RSS; then both warehouses' size on disk for the
        same data, the new one before and after `claimwatch warehouse maintain`.
small   --passes small passes (a handful of articles and matches each), stored through
        the store's own steps (begin_pass, store_batch, finish_pass): Parquet files and
        bytes of data/ and catalog.sqlite, without maintenance and after
        `claimwatch warehouse maintain` at the end; and a second series maintained every
        --maintain-every passes. The store step's time, last passes against first.

The baseline is the BASELINE commit extracted from this repository (git archive) and
run by this same virtualenv with its src/ first on PYTHONPATH, its warehouse/ and
flows/ folders linked into its package as an install maps them; each of its passes is
checked to have written one DuckDB file. Pages are served locally as bench_pass.py
serves them, with the same settings for both (host_delay 0, 16 connections per host).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_pass import BIN, Site, _peak_rss, serve  # noqa: E402
from benchmarks.corpus import (  # noqa: E402
    CORPUS_PAGES,
    articles,
    corpus_pages,
    seed_catalog,
    sentence_pools,
)
from claimwatch.records import Article, Match, RunStats  # noqa: E402
from claimwatch.sources.config import SourceList  # noqa: E402
from claimwatch.store import lake  # noqa: E402
from claimwatch.store.connection import connect  # noqa: E402
from claimwatch.store.maintenance import maintain, storage  # noqa: E402
from claimwatch.store.passes import begin_pass, finish_pass, store_batch  # noqa: E402
from claimwatch.store.warehouse_sql import migrations_dir  # noqa: E402

BASELINE = "df23f13"  # the last commit with the single-file warehouse
CLAIMS = ROOT / "seeds" / "claims.yaml"
PASS_ENV = {
    "CLAIMWATCH_FETCH__HOST_DELAY": "0",
    "CLAIMWATCH_FETCH__MAX_PER_HOST": "16",
    "CLAIMWATCH_FETCH__OBEY_ROBOTS": "0",
    "CLAIMWATCH_LOCK_WAIT": "0",
}
CATALOG = seed_catalog()
RUN_SQL = (
    "SELECT date_diff('millisecond', started_at, finished_at) / 1000.0, articles_new,"
    " matches_new, failures FROM runs ORDER BY started_at DESC LIMIT 1"
)


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def extract_baseline(into: Path) -> Path:
    """The BASELINE commit's files under `into`, importable as the package an install makes."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BASELINE], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / "src" / "claimwatch"
    for folder in ("warehouse", "flows"):
        (package / folder).symlink_to(into / folder, target_is_directory=True)
    return into / "src"


def write_sources(site: Site, base: str, path: Path) -> Path:
    lines = ["sources:"]
    for feed in site.feeds:
        name = feed.strip("/").removesuffix(".xml")
        lines += [f"  - name: {name}", f"    url: {base}{feed}", "    allow_private: true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_one(sources: Path, db: Path, baseline_src: Path | None) -> dict:
    """One `claimwatch run` in fresh processes: the new code's, or the baseline's when
    `baseline_src` is given. Its flow time (the `runs` table's), wall time and peak RSS."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | PASS_ENV
    command = [str(BIN / "claimwatch")]
    if baseline_src is not None:
        env["PYTHONPATH"] = str(baseline_src)
        command = [sys.executable, "-m", "claimwatch"]
    command += ["run", "--sources", str(sources), "--claims", str(CLAIMS), "--db", str(db)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=db.parent
    )
    peak, _ = _peak_rss(process)
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"claimwatch run failed: {stderr.decode()[-2000:]}")
    if baseline_src is not None:
        # The old code must have written one DuckDB file, not a lake folder.
        assert db.is_file() and db.read_bytes()[8:12] == b"DUCK", db
        assert not (db.parent / lake.CATALOG_FILE).exists()
        # The old single-file warehouse can only be read as a DuckDB file.
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute(RUN_SQL).fetchone()
    else:
        assert (db / lake.CATALOG_FILE).is_file(), db
        with connect(db, read_only=True) as con:
            row = con.execute(RUN_SQL).fetchone()
    assert row is not None
    seconds, articles_new, matches_new, failures = row
    return {
        "seconds": float(seconds),
        "wall": wall,
        "articles": articles_new,
        "matches": matches_new,
        "failures": failures,
        "rss": peak,
    }


def folder_sizes(folder: Path) -> dict[str, int]:
    """Parquet files and bytes under data/, and the catalog's bytes (its WAL included)."""
    data = [p.stat().st_size for p in (folder / lake.DATA_FOLDER).rglob("*") if p.is_file()]
    parquet = len(list((folder / lake.DATA_FOLDER).rglob("*.parquet")))
    catalog = sum(p.stat().st_size for p in folder.glob(lake.CATALOG_FILE + "*"))
    return {"files": parquet, "data": sum(data), "catalog": catalog}


def show_folder(label: str, folder: Path) -> int:
    size = folder_sizes(folder)
    total = size["data"] + size["catalog"]
    print(
        f"    {label}: {mib(total)} ({size['files']} Parquet files, data/ {mib(size['data'])},"
        f" catalog.sqlite {mib(size['catalog'])})"
    )
    return total


def cli_maintain(db: Path) -> None:
    subprocess.run(
        [BIN / "claimwatch", "warehouse", "maintain", "--db", str(db)],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ | {"CLAIMWATCH_LOCK_WAIT": "0"},
    )


def bench_pass(work: Path, copies: int, pages: int | None, repeat: int) -> None:
    real = corpus_pages()
    if not real:
        print("pass: skipped, no saved pages in", CORPUS_PAGES)
        return
    real = real[:pages] if pages else real
    bodies = [body for _ in range(copies) for body in real]
    site = Site(bodies)
    print(
        f"pass: {len(bodies)} pages ({len(real)} real pages under {copies} URLs each),"
        f" {len(site.feeds)} feeds; new warehouse against {BASELINE}'s single file,"
        f" alternated, medians of {repeat} each"
    )
    results: dict[str, list[dict]] = {"new": [], "old": []}
    with serve(site) as base:
        (work / "baseline").mkdir()
        baseline_src = extract_baseline(work / "baseline")
        sources = write_sources(site, base, work / "sources.yaml")
        for n in range(repeat):
            for kind in ("new", "old"):
                place = work / f"{kind}-{n}"
                place.mkdir()
                db = place / ("lake" if kind == "new" else "claimwatch.duckdb")
                done = run_one(sources, db, baseline_src if kind == "old" else None)
                results[kind].append(done)
                print(
                    f"    {kind} {n + 1}: flow {done['seconds']:.1f} s, command"
                    f" {done['wall']:.1f} s, peak RSS {mib(done['rss'])}",
                    flush=True,
                )
        new, old = results["new"], results["old"]
        for kind, runs in results.items():
            stored = sorted({(r["articles"], r["matches"], r["failures"]) for r in runs})
            print(f"  {kind}: (articles, matches, failures) stored per pass {stored}")
        assert {r["articles"] for r in new} == {r["articles"] for r in old}
        for key, what in (("seconds", "flow's own time"), ("wall", "as a command")):
            one, two = (
                statistics.median(r[key] for r in new),
                statistics.median(r[key] for r in old),
            )
            # On a shared machine the load drifts: each new pass against the old one run
            # just after it is steadier than the medians alone.
            pairs = statistics.median(a[key] / b[key] for a, b in zip(new, old, strict=True))
            print(
                f"  pass, {what}: new {one:.1f} s, old {two:.1f} s;"
                f" new / old {one / two:.2f}x (target: <= 1.1x); median of the"
                f" {len(new)} pairs' ratios {pairs:.2f}x"
            )
        one, two = (
            statistics.median(r["rss"] for r in new),
            statistics.median(r["rss"] for r in old),
        )
        print(
            f"  peak RSS of the pass and its workers: new {mib(one)}, old {mib(two)};"
            f" new / old {one / two:.2f}x"
        )
        last = repeat - 1
        old_file = work / f"old-{last}" / "claimwatch.duckdb"
        old_size = sum(p.stat().st_size for p in old_file.parent.glob("claimwatch.duckdb*"))
        folder = work / f"new-{last}" / "lake"
        print(f"  size for the same data (one pass of {new[-1]['articles']} articles):")
        print(f"    old single file: {mib(old_size)}")
        before = show_folder("new warehouse after the pass", folder)
        cli_maintain(folder)
        after = show_folder("new warehouse after `claimwatch warehouse maintain`", folder)
        print(
            f"  new / old: {before / old_size:.2f}x after the pass,"
            f" {after / old_size:.2f}x maintained"
        )


def ids_of() -> list[str]:
    return [c.id for c in CATALOG.claims]


def small_pass(db: Path, n: int, texts: list[str], catalog_ids: list[str]) -> float:
    """One pass of len(texts) new articles, every other one matching a claim; the store
    step's seconds."""
    sources = SourceList.model_validate(
        {"sources": [{"name": "wire", "url": "http://wire.example/feed.xml"}]}
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    arts, matches = [], []
    for i, text in enumerate(texts):
        url = f"http://wire.example/{n}/{i}"
        art = Article(
            url, url, None, "wire", False, "Wire", f"Story {n}-{i}", None, text, "en",
            now - timedelta(hours=i), now, f"{n:08d}{i:08d}".ljust(64, "0"),
        )  # fmt: skip
        arts.append(art)
        if i % 2 == 0:
            quote = text.split(". ")[0]
            snippet = f"…{quote}…"
            claim = catalog_ids[(n + i) % len(catalog_ids)]
            matches.append(Match(url, claim, 90.0, "text", quote, quote, 0, len(quote), snippet))
    begin_pass(db, migrations_dir(), sources=sources, catalog=CATALOG)
    started = time.perf_counter()
    articles_new, matches_new = store_batch(
        db, run_id=f"small-{n}", articles=arts, matches=matches, failures=[], attempts=[]
    )
    seconds = time.perf_counter() - started
    assert (articles_new, matches_new) == (len(arts), len(matches))
    stats = RunStats(
        f"small-{n}", now, now, "completed", 1, 0, len(arts), 0, len(arts), articles_new,
        matches_new, 0,
    )  # fmt: skip
    finish_pass(db, stats=stats, polled=[], log=[], failures=[])
    return seconds


def small_series(db: Path, passes: int, per_pass: int, every: int, first: int = 0) -> list[float]:
    """The series in a process of its own, as passes run, and so that no other warehouse
    is attached beside this one; the store step's seconds of each pass."""
    command = [sys.executable, __file__, "series", "--db", str(db), "--passes", str(passes)]
    command += ["--per-pass", str(per_pass), "--maintain-every", str(every), "--first", str(first)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return [float(line) for line in done.stdout.split()]


def run_series(db: Path, passes: int, per_pass: int, every: int, first: int) -> None:
    _, pool = sentence_pools()
    texts = articles((first + passes) * per_pass, pool)
    ids = ids_of()
    for n in range(first, first + passes):
        print(small_pass(db, n, texts[n * per_pass : (n + 1) * per_pass], ids), flush=True)
        if every and (n + 1) % every == 0 and n + 1 < passes:
            cli_maintain(db)


def show_times(times: list[float]) -> None:
    head, tail = times[:10], times[-10:]
    print(
        f"    store step: first pass {times[0] * 1000:.0f} ms, last {times[-1] * 1000:.0f} ms;"
        f" medians of the first and last 10: {statistics.median(head) * 1000:.0f} ms,"
        f" {statistics.median(tail) * 1000:.0f} ms;"
        f" last / first {statistics.median(tail) / statistics.median(head):.2f}x"
    )


def bench_small(work: Path, passes: int, per_pass: int, every: int) -> None:
    print(
        f"small passes: {passes} passes of {per_pass} new articles and {(per_pass + 1) // 2}"
        " matches each, through begin_pass/store_batch/finish_pass"
    )
    db = work / "small" / "lake"
    times = small_series(db, passes, per_pass, 0)
    print("  without maintenance:")
    show_folder(f"after {passes} passes", db)
    show_times(times)
    current = storage(db)
    print(f"    the current snapshot reads {current.files} files; {current.snapshots} snapshots")
    started = time.perf_counter()
    cli_maintain(db)
    took = time.perf_counter() - started
    print(f"  `claimwatch warehouse maintain` at the end ({took:.1f} s, defaults):")
    show_folder("after maintain", db)
    current = storage(db)
    print(
        f"    the current snapshot reads {current.files} files; {current.snapshots} snapshots"
        " (older files stay for time travel, and a file goes only once an hour old)"
    )
    maintain(db, retention=timedelta(0), margin=timedelta(0))
    show_folder("after maintain once snapshots and files are past retention and margin", db)
    # The store step against a maintained warehouse: one pass more.
    extra = small_series(db, 1, per_pass, 0, first=passes)[0]
    print(f"    store step of one more pass after that: {extra * 1000:.0f} ms")
    if every:
        db = work / f"small-every-{every}" / "lake"
        times = small_series(db, passes, per_pass, every)
        cli_maintain(db)
        print(f"  `claimwatch warehouse maintain` every {every} passes and at the end:")
        show_folder(f"after {passes} passes", db)
        show_times(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "which", nargs="?", default="all", choices=["pass", "small", "all", "series"]
    )
    parser.add_argument("--copies", type=int, default=10, help="URLs per real page")
    parser.add_argument("--pages", type=int, default=None, help="real pages used (all: none)")
    parser.add_argument("--repeat", type=int, default=3, help="passes of each warehouse")
    parser.add_argument("--passes", type=int, default=100, help="small passes")
    parser.add_argument("--per-pass", type=int, default=5, help="articles per small pass")
    parser.add_argument("--maintain-every", type=int, default=10, help="0: no such series")
    # For `series`, which `small` runs in a process of its own:
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.which == "series":
        run_series(args.db, args.passes, args.per_pass, args.maintain_every, args.first)
        return
    # One folder for the whole run: this process keeps each warehouse it opened attached
    # until it ends, and a write fails once an attached warehouse's folder is gone.
    with tempfile.TemporaryDirectory() as tmp:
        if args.which in ("pass", "all"):
            bench_pass(Path(tmp), args.copies, args.pages, args.repeat)
        if args.which in ("small", "all"):
            bench_small(Path(tmp), args.passes, args.per_pass, args.maintain_every)


if __name__ == "__main__":
    main()
