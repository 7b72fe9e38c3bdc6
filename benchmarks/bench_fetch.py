"""Fetch benchmark: the Fetcher one page at a time against the Fetcher in a thread pool.

    python benchmarks/bench_fetch.py [--pages 500] [--hosts 20] [--latency 0.1] [--repeat 5]
                                     [--sequential N] [--max-connections N]

A server in a child process (so it does not share our GIL) listens on
127.0.0.2 … 127.0.0.(hosts+1), each address a host of its own for the
per-host cap, answers every request `latency` seconds after it arrives and
records, per host, the most requests it held at once. `pages` pages, spread
evenly over the hosts, are fetched

- one by one (the sequential baseline; `--sequential N` times only the first
  N and scales up, said in the output: an overestimate, as every host's
  robots.txt falls among the first pages), and
- through a thread pool sized like claimwatch.fetching.articles.fetch_articles
  (min(max_connections, pages) workers), median of `repeat` runs: in the
  order claimwatch.fetching.articles.interleave_hosts gives, and grouped by host (the
  order a batch of feed items arrives in).

Every run uses a fresh Fetcher (cold robots.txt cache, new connections) with
the default FetchConfig except allow_private=True and host_delay=0: the delay
would measure itself, not the fetcher.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from claimwatch.fetching.articles import interleave_hosts  # noqa: E402
from claimwatch.fetching.client import FetchConfig, Fetcher  # noqa: E402

PAGE = b"<html><body>" + b"<p>NATO and the Indo-Pacific.</p>" * 300 + b"</body></html>"


def serve(hosts: int, latency: float) -> None:
    """Child process: serve until stdin closes; print the base URLs as one JSON line."""
    lock = threading.Lock()
    active: defaultdict[str, int] = defaultdict(int)
    peak: defaultdict[str, int] = defaultdict(int)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            host = str(self.server.server_address[0])
            if self.path == "/_peaks":
                with lock:
                    self._send(200, json.dumps(peak).encode(), "application/json")
                    peak.clear()
                return
            with lock:
                active[host] += 1
                peak[host] = max(peak[host], active[host])
            time.sleep(latency)
            # Counted down before answering: the client holds its slot until it has the
            # answer, so a request counted here is always one the client still has open.
            with lock:
                active[host] -= 1
            if self.path == "/robots.txt":
                self._send(404, b"", "text/plain")
            else:
                self._send(200, PAGE, "text/html; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # read by listen(), so a class attribute

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the client closing idle keep-alive connections is no news

    servers = []
    for n in range(2, hosts + 2):
        server = Server((f"127.0.0.{n}", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    print(
        json.dumps([f"http://127.0.0.{n}:{s.server_address[1]}/" for n, s in enumerate(servers, 2)])
    )
    sys.stdout.flush()
    sys.stdin.read()


def peaks(base: str) -> dict[str, int]:
    with Fetcher(FetchConfig(allow_private=True, obey_robots=False)) as fetcher:
        return dict(json.loads(fetcher.get(base + "_peaks").content))


def sequential(config: FetchConfig, urls: list[str]) -> float:
    with Fetcher(config) as fetcher:
        started = time.perf_counter()
        for url in urls:
            fetcher.get(url)
        return time.perf_counter() - started


def pooled(config: FetchConfig, urls: list[str]) -> float:
    # As claimwatch.fetching.articles.fetch_articles sizes its pool.
    workers = max(1, min(config.max_connections, len(urls)))
    with (
        Fetcher(config) as fetcher,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="claimwatch-fetch") as pool,
    ):
        started = time.perf_counter()
        pages = list(pool.map(fetcher.get, urls))
        seconds = time.perf_counter() - started
    assert all(p.content == PAGE for p in pages)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve"])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sequential", type=int, default=0, help="time only N pages one by one")
    parser.add_argument("--max-connections", type=int, default=FetchConfig().max_connections)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.hosts, args.latency)
        return

    config = FetchConfig(allow_private=True, host_delay=0, max_connections=args.max_connections)
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "serve",
            "--hosts",
            str(args.hosts),
            "--latency",
            str(args.latency),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        bases: list[str] = json.loads(child.stdout.readline())
        # Grouped by host, as a batch of feed items comes; then as interleave_hosts reorders it.
        grouped = [f"{base}p/{i}" for base in bases for i in range(args.pages // len(bases))]
        grouped += [f"{bases[0]}p/extra{i}" for i in range(args.pages - len(grouped))]
        interleaved = interleave_hosts(grouped, str)
        print(
            f"fetch: {args.pages} pages over {args.hosts} hosts, {args.latency * 1000:.0f} ms per"
            f" response; max_connections={config.max_connections}"
            f" max_per_host={config.max_per_host} host_delay={config.host_delay}"
            f" (robots.txt obeyed: {config.obey_robots}, 404 here)"
        )
        count = args.sequential or args.pages
        one_by_one = sequential(config, interleaved[:count]) * args.pages / count
        scaled = f" (timed on {count}, scaled to {args.pages})" if count < args.pages else ""
        print(f"  one by one             {one_by_one:6.2f} s{scaled}")
        peaks(bases[0])
        results = {}
        for name, urls in (("interleave_hosts", interleaved), ("grouped by host", grouped)):
            times = [pooled(config, urls) for _ in range(args.repeat)]
            seen = peaks(bases[0])
            results[name] = statistics.median(times)
            top = max(seen.values())
            verdict = "ok" if top <= config.max_per_host else "EXCEEDED"
            speedup = one_by_one / results[name]
            print(
                f"  pool, {name:<16} {results[name]:5.2f} s  median of {args.repeat}"
                f" (min {min(times):.2f}, max {max(times):.2f});  {speedup:5.1f}x"
                f";  peak per host {top} (max_per_host {config.max_per_host}: {verdict})"
            )
        lanes = min(config.max_connections, args.hosts * config.max_per_host)
        best = args.pages / lanes * args.latency
        print(
            f"  bound set by the caps ({lanes} requests at once): {best:.2f} s"
            f" ({one_by_one / best:.0f}x)"
        )
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=10)


if __name__ == "__main__":
    main()
