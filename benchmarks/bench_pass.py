"""Whole-pass benchmarks: every ratio compares two things measured in the same run.

    python benchmarks/bench_pass.py [throughput|rerun|memory|all] [--pages N] [--repeat N]

throughput  a pass over the shared corpus's real pages, each served under --copies
        URLs (1,100 pages by default), against trafilatura.extract(with_metadata=True)
        over the same pages in one plain process (metadata included, as the pass
        needs it); and the pass's peak memory with its workers.

rerun   a first pass over fresh feeds against a second pass over the same,
        unchanged feeds: the second sends only conditional feed requests,
        fetches no page and adds no row; its time as a share of the first's.
memory  peak RSS of a pass over 500 pages against one over 5,000 pages,
        each pass in a fresh process.

Pages are generated articles served by a local server (ETag and 304 supported),
100 items per feed. Passes run the real monitor flow through `claimwatch run`
in a subprocess, with host_delay 0 and 16 connections per host: the server is
one local host, and this measures the pass, not politeness. Pass times are
the `runs` table's own (start to finish of the flow), without process start.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from benchmarks.corpus import CORPUS_PAGES, articles, corpus_pages, sentence_pools  # noqa: E402
from claimwatch.store.connection import connect  # noqa: E402

PER_FEED = 100
BIN = Path(sys.executable).parent


def generated_pages(pages: int) -> list[bytes]:
    _, pool = sentence_pools()
    return [
        (
            f"<html lang='en'><head><title>Article {n}</title></head><body>"
            f"<nav>Home | World | Asia</nav><article><h1>Article {n}</h1>"
            + "".join(f"<p>{p}.</p>" for p in text.split(". "))
            + "</article><footer>Cookies help us</footer></body></html>"
        ).encode()
        for n, text in enumerate(articles(pages, pool))
    ]


class Site:
    """Pages and feeds listing them, built once and served from memory."""

    def __init__(self, bodies: list[bytes]) -> None:
        pages = len(bodies)
        self.pages = {f"/a/{n}.html": body for n, body in enumerate(bodies)}
        self.feeds = {}
        for first in range(0, pages, PER_FEED):
            items = "".join(
                f"<item><title>Article {n}</title><link>/a/{n}.html</link></item>"
                for n in range(first, min(first + PER_FEED, pages))
            )
            body = f"<rss version='2.0'><channel><title>f</title>{items}</channel></rss>"
            self.feeds[f"/feed-{first // PER_FEED}.xml"] = body.encode()
        self.requests: dict[str, int] = {"feed": 0, "conditional": 0, "page": 0}
        self._lock = threading.Lock()

    def count(self, kind: str) -> None:
        with self._lock:
            self.requests[kind] += 1


@contextmanager
def serve(site: Site) -> Iterator[str]:
    modified = format_datetime(datetime(2026, 11, 1, tzinfo=UTC), usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in site.feeds:
                body = site.feeds[self.path]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                site.count("feed")
                if self.headers.get("If-None-Match") == etag:
                    site.count("conditional")
                    self.send_response(304)
                    self.end_headers()
                    return
                self._send(body, "application/rss+xml", {"ETag": etag, "Last-Modified": modified})
            elif self.path in site.pages:
                site.count("page")
                self._send(site.pages[self.path], "text/html; charset=utf-8", {})
            elif self.path == "/robots.txt":
                self._send(b"User-agent: *\nAllow: /\n", "text/plain", {})
            else:
                self.send_error(404)

        def _send(self, body: bytes, kind: str, headers: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def run_pass(base: str, site: Site, work: Path, extra_env: dict[str, str] | None = None) -> dict:
    """One `claimwatch run` in fresh processes: the pass's own time (the `runs` table's, start
    to finish of the flow), the command's wall time, and the peak of the summed RSS of the
    pass and its workers (Prefect's temporary API server apart), sampled every 50 ms."""
    sources = work / "sources.yaml"
    lines = ["sources:"]
    for path in site.feeds:
        name = path.strip("/").removesuffix(".xml")
        lines += [f"  - name: {name}", f"    url: {base}{path}", "    allow_private: true"]
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = work / "bench-lake"
    env = (
        os.environ
        | {
            "CLAIMWATCH_FETCH__HOST_DELAY": "0",
            "CLAIMWATCH_FETCH__MAX_PER_HOST": "16",
            "CLAIMWATCH_FETCH__OBEY_ROBOTS": "0",
            "CLAIMWATCH_LOCK_WAIT": "0",
        }
        | (extra_env or {})
    )
    started = time.perf_counter()
    command = subprocess.Popen(
        [BIN / "claimwatch", "run", "--sources", str(sources), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    peak, server_peak = _peak_rss(command)
    _, stderr = command.communicate()
    wall = time.perf_counter() - started
    if command.returncode != 0:
        raise RuntimeError(f"claimwatch run failed: {stderr.decode()[-2000:]}")
    with connect(db, read_only=True) as con:
        seconds, articles_new, failures = con.execute(
            "SELECT date_diff('millisecond', started_at, finished_at) / 1000.0, articles_new,"
            " failures FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    return {
        "seconds": seconds,
        "wall": wall,
        "articles_new": articles_new,
        "failures": failures,
        "rss_mib": peak / 2**20,
        "server_mib": server_peak / 2**20,
    }


def _peak_rss(command: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Peak summed RSS of `command` and its descendants, and of the API server among them."""
    root = psutil.Process(command.pid)
    peak = server_peak = 0
    while command.poll() is None:
        total = server = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for process in tree:
            try:
                rss = process.memory_info().rss
                is_server = "uvicorn" in " ".join(process.cmdline())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if is_server:
                server += rss
            else:
                total += rss
        peak, server_peak = max(peak, total), max(server_peak, server)
        time.sleep(0.05)
    return peak, server_peak


def bench_rerun(pages: int, repeat: int) -> None:
    print(f"rerun: {pages} pages in {pages // PER_FEED} feeds, medians of {repeat}")
    site = Site(generated_pages(pages))
    firsts, seconds = [], []
    with serve(site) as base:
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as work:
                site.requests.update(feed=0, conditional=0, page=0)
                first = run_pass(base, site, Path(work))
                after_first = dict(site.requests)
                second = run_pass(base, site, Path(work))
                feeds = site.requests["feed"] - after_first["feed"]
                conditional = site.requests["conditional"] - after_first["conditional"]
                page_requests = site.requests["page"] - after_first["page"]
            assert first["articles_new"] == pages, first
            assert second["articles_new"] == 0 and page_requests == 0, (second, page_requests)
            assert conditional == feeds == len(site.feeds), (conditional, feeds)
            firsts.append(first["seconds"])
            seconds.append(second["seconds"])
    one, two = statistics.median(firsts), statistics.median(seconds)
    print(f"  first pass:  {one:.2f} s ({pages} pages fetched, extracted, matched, stored)")
    print(f"  second pass: {two:.2f} s ({len(site.feeds)} conditional requests, all 304;")
    print("               0 pages fetched, 0 rows added)")
    print(f"  second / first: {two / one:.1%} (target: at most 10%)")


def bench_throughput(copies: int, repeat: int) -> None:
    """A pass over real pages against trafilatura.extract over the same pages, one process,
    asked for metadata as the pass asks (title, author, date, site)."""
    real = corpus_pages()
    if not real:
        print("throughput: skipped, no saved pages in", CORPUS_PAGES)
        return
    bodies = [body for _ in range(copies) for body in real]
    site = Site(bodies)
    print(
        f"throughput: {len(bodies)} pages ({len(real)} real pages under {copies} URLs each),"
        f" {len(site.feeds)} feeds, 32 connections, medians of {repeat}"
    )
    plain, passes = [], []
    with serve(site) as base:
        for _ in range(repeat):
            started = time.perf_counter()
            for body in bodies:
                trafilatura.extract(body, with_metadata=True)
            plain.append(time.perf_counter() - started)
            with tempfile.TemporaryDirectory() as work:
                passes.append(run_pass(base, site, Path(work)))
    stored = {p["articles_new"] for p in passes}
    flow = statistics.median(p["seconds"] for p in passes)
    wall = statistics.median(p["wall"] for p in passes)
    alone = statistics.median(plain)
    print(f"  trafilatura.extract(with_metadata=True), one process: {alone:.1f} s")
    print(
        f"  pass (fetch, extract, match, store; the flow's own time): {flow:.1f} s;"
        f" articles stored {sorted(stored)}, failures {passes[-1]['failures']}"
    )
    print(f"  pass as a command (process start and Prefect's API server included): {wall:.1f} s")
    print(
        f"  speed-up of the pass over extraction alone: {alone / flow:.2f}x (target: >= 1.5x);"
        f" as a command {alone / wall:.2f}x"
    )
    rss = statistics.median(p["rss_mib"] for p in passes)
    server = statistics.median(p["server_mib"] for p in passes)
    print(
        f"  peak RSS of the pass and its workers: {rss:.0f} MiB (target: <= 600 MiB);"
        f" Prefect's temporary API server beside it: {server:.0f} MiB"
    )


def bench_memory(sizes: list[int]) -> None:
    print("memory: peak RSS of one pass, each in a fresh process")
    peaks = {}
    for pages in sizes:
        site = Site(generated_pages(pages))
        with serve(site) as base, tempfile.TemporaryDirectory() as work:
            result = run_pass(base, site, Path(work))
        assert result["articles_new"] == pages, result
        peaks[pages] = result["rss_mib"]
        print(
            f"  {pages:>5} pages: {result['rss_mib']:.0f} MiB peak (pass and workers;"
            f" API server {result['server_mib']:.0f} MiB), {result['seconds']:.1f} s"
        )
    small, large = min(sizes), max(sizes)
    print(f"  {large} / {small} pages: {peaks[large] / peaks[small]:.2f}x (target: <= 1.2x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "which", nargs="?", default="all", choices=["throughput", "rerun", "memory", "all"]
    )
    parser.add_argument("--copies", type=int, default=10, help="URLs per real page")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.which in ("throughput", "all"):
        bench_throughput(args.copies, args.repeat)
    if args.which in ("rerun", "all"):
        bench_rerun(args.pages, args.repeat)
    if args.which in ("memory", "all"):
        bench_memory([500, 5000])


if __name__ == "__main__":
    main()
