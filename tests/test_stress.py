"""Five passes in a row over 1,100 real pages each, at 32 connections and no delay.

Every saved page of the shared corpus is served under ten URLs per pass (new URLs each
pass), listed by eleven feeds. Each pass must end normally, with every page stored or
recorded as a failure: no abort, no page lost.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claimwatch.store.connection import connect
from tests.commands import claimwatch
from tests.conftest import ROOT, SEEDS
from tests.httpserver import Reply, ScriptedServer

CORPORA = Path(os.environ.get("CLAIMWATCH_CORPORA") or ROOT.parent / "shared" / "corpora")
PAGES = sorted((CORPORA / "pages").glob("*.html"))
PASSES = 5
COPIES = 10
PER_FEED = 100

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not PAGES, reason=f"no corpora at {CORPORA} (set CLAIMWATCH_CORPORA to their folder)"
    ),
]


def _serve_pass(server: ScriptedServer, number: int) -> list[str]:
    """This pass's pages and feeds (the feeds keep their paths; their items change)."""
    html = {"Content-Type": "text/html"}
    urls = [
        server.add(f"/p{number}/{copy}/{page.name}", Reply(body=page.read_bytes(), headers=html))
        for copy in range(COPIES)
        for page in PAGES
    ]
    rss = {"Content-Type": "application/rss+xml"}
    for feed, first in enumerate(range(0, len(urls), PER_FEED)):
        items = "".join(f"<item><link>{u}</link></item>" for u in urls[first : first + PER_FEED])
        body = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
        server.add(f"/feed-{feed}.xml", Reply(body=body.encode(), headers=rss))
    return urls


def test_five_passes_over_a_thousand_real_pages_lose_nothing(
    server: ScriptedServer, tmp_path: Path
) -> None:
    feeds = -(-len(PAGES) * COPIES // PER_FEED)
    lines = ["sources:"]
    for feed in range(feeds):
        lines += [f"  - name: feed-{feed}", f"    url: {server.url(f'/feed-{feed}.xml')}"]
        lines += ["    allow_private: true"]
    sources = tmp_path / "sources.yaml"
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    env = os.environ | {
        "CLAIMWATCH_FETCH__MAX_CONNECTIONS": "32",
        "CLAIMWATCH_FETCH__MAX_PER_HOST": "32",
        "CLAIMWATCH_FETCH__HOST_DELAY": "0",
        "CLAIMWATCH_FETCH__OBEY_ROBOTS": "0",
    }
    for number in range(PASSES):
        urls = set(_serve_pass(server, number))
        assert len(urls) >= 1000
        result = claimwatch(
            "run", "--sources", str(sources), "--claims", str(SEEDS / "claims.yaml"),
            "--db", str(db), env=env,
        )  # fmt: skip
        assert result.returncode == 0, (number, result.stderr[-3000:])
        with connect(db, read_only=True) as con:
            stored = {u for (u,) in con.execute("SELECT url FROM articles").fetchall()}
            failed = {u for (u,) in con.execute("SELECT url FROM fetch_failures").fetchall()}
        missing = urls - stored - failed
        assert missing == set(), (number, sorted(missing)[:5])
        assert len(urls & stored) >= 0.9 * len(urls), (number, len(urls & stored))
