"""The workbench's pages against the size of the archive: server time of each page.

    python benchmarks/bench_ui.py [--sizes 1000 100000] [--repeat N] [--keep DIR]

Warehouses of each size (articles stored) are built through the store's write path, as
bench_scale.py builds them (`--keep DIR` keeps them there for the next run, and reuses
those bench_scale.py kept), with one article in twenty also suggested for a claim (the
review queue's pending suggestions, added once to a warehouse that has none). Then each
page is requested in this process through Starlette's test client over
`claimwatch.web.create_app` (no network, no browser: the server's own time, rendering
included), the sizes taking turns: the first request of each page apart (its warehouse
attached, its plan cold), then the median of `--repeat` more. Pages:

    /                          the claims
    /claims/ID                 the claim with most matches
    /review                    the review queue
    /article?url=URL           the newest article matching that claim
    /search?q=WORD, ?q="A B C"  a word and a phrase of that article
    /sources                   the sources

A page whose route the application does not have yet is left out. Targets, at 10^5
articles stored: 300 ms a page, 1 s a search. Ratios are largest size against smallest.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from starlette.routing import Match
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import build  # noqa: E402
from claimwatch.store.connection import write  # noqa: E402
from claimwatch.web import create_app  # noqa: E402
from claimwatch.web.config import WorkbenchConfig  # noqa: E402
from claimwatch.web.data import read  # noqa: E402

PAGE_TARGET, SEARCH_TARGET = 0.300, 1.0

# One article in twenty suggested for a claim (by its position in time): its second
# sentence, scored 60 to 89. Stable ids, as the matcher makes them.
SUGGEST = """
INSERT INTO suggestions
WITH a AS (
    SELECT url, text, row_number() OVER (ORDER BY fetched_at, url) AS n FROM articles
),
c AS (
    SELECT id, text, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS claims
    FROM claims WHERE in_catalog
),
s AS (
    SELECT a.url, a.n, a.text AS body, c.id AS claim_id, c.text AS variant,
        trim(split_part(a.text, '.', 2)) AS sentence
    FROM a JOIN c ON c.k = a.n % c.claims
    WHERE a.n % 20 = 7
)
SELECT substr(md5(url || claim_id), 1, 12) AS id, url AS article_url, claim_id,
    60.0 + n % 30 AS score, 'text' AS field, variant, sentence AS matched_text,
    position(sentence IN body) - 1 AS match_start,
    position(sentence IN body) - 1 + length(sentence) AS match_end, sentence AS snippet,
    '{"meaning": 0.8}' AS signals, now() AT TIME ZONE 'UTC' AS suggested_at,
    'bench-ui' AS run_id
FROM s
"""


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    target: float


def warehouse(home: Path, size: int) -> Path:
    """The warehouse of `size` articles kept in `home`, built first if it is not there,
    with its suggestions."""
    built = home / f"built-{size}"
    if (built / "catalog.sqlite").is_file():
        print(f"{size:>9,} articles: the warehouse kept in {built}", flush=True)
    else:
        seconds = build(built, size)
        print(f"{size:>9,} articles built in {seconds:.0f} s", flush=True)
    config = WorkbenchConfig(db=built, claims=ROOT / "seeds" / "claims.yaml")
    if not read(config, "SELECT 1 FROM suggestions LIMIT 1").rows:
        write(built, "bench: suggestions", lambda con: con.execute(SUGGEST))
    pending = read(config, "SELECT count(*) AS n FROM claim_suggestions").rows[0]["n"]
    print(f"{size:>9,} articles: {pending:,} suggestions pending", flush=True)
    return built


def pages_of(config: WorkbenchConfig) -> list[Page]:
    """The pages to time over this warehouse: its busiest claim, an article of it, and a
    word and a phrase of that article."""
    busiest = read(
        config,
        "SELECT claim_id FROM matches GROUP BY claim_id ORDER BY count(*) DESC, claim_id LIMIT 1",
    ).rows[0]["claim_id"]
    article = read(
        config,
        "SELECT a.url, a.text FROM matches AS m JOIN articles AS a ON a.url = m.article_url "
        "WHERE m.claim_id = $claim ORDER BY a.fetched_at DESC LIMIT 1",
        claim=busiest,
    ).rows[0]
    words = article["text"].split(".")[1].split()
    word = max(words, key=len).strip(",;:'\"")
    phrase = " ".join(words[:3]).strip(",;:'\"")
    print(f"  claim {busiest}, word {word!r}, phrase {phrase!r}", flush=True)
    return [
        Page("/", "/", PAGE_TARGET),
        Page("/claims/ID", f"/claims/{busiest}", PAGE_TARGET),
        Page("/review", "/review", PAGE_TARGET),
        Page("/article?url=URL", "/article?" + urlencode({"url": article["url"]}), PAGE_TARGET),
        Page("/search?q=WORD", "/search?" + urlencode({"q": word}), SEARCH_TARGET),
        Page('/search?q="A PHRASE"', "/search?" + urlencode({"q": f'"{phrase}"'}), SEARCH_TARGET),
        Page("/sources", "/sources", PAGE_TARGET),
    ]


def served(client: TestClient, path: str) -> bool:
    """Whether the application has a route for `path` (others add theirs as they go)."""
    scope = {"type": "http", "path": path, "method": "GET"}
    return any(route.matches(scope)[0] == Match.FULL for route in client.app.routes)  # type: ignore[attr-defined]


def timed(client: TestClient, url: str, errors: list[str]) -> float:
    """Seconds to answer `url`; an answer other than 200 is kept in `errors` (and timed:
    another helper's page failing should not stop the others' figures)."""
    started = time.perf_counter()
    answer = client.get(url)
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        found = re.search(r'<p class="error">(.*?)</p>', answer.text, re.S)
        errors.append(f"{url}: {answer.status_code} {found[1] if found else answer.text[:200]}")
    return seconds


def bench(sizes: list[int], repeat: int, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    clients, pages = {}, {}
    for size in sizes:
        config = WorkbenchConfig(db=warehouse(home, size), claims=ROOT / "seeds" / "claims.yaml")
        clients[size] = TestClient(create_app(config))
        pages[size] = pages_of(config)
    names = [p.name for p in pages[sizes[0]]]
    skipped = [
        p.name for p in pages[sizes[0]] if not served(clients[sizes[0]], p.url.split("?")[0])
    ]
    first: dict[tuple[int, str], float] = {}
    runs: dict[tuple[int, str], list[float]] = {}
    errors: list[str] = []
    # The sizes take turns, page by page, so that the machine's drift falls on all alike.
    for number in range(repeat + 1):
        for size in sizes:
            for page in pages[size]:
                if page.name in skipped:
                    continue
                seconds = timed(clients[size], page.url, errors)
                if number == 0:
                    first[size, page.name] = seconds
                else:
                    runs.setdefault((size, page.name), []).append(seconds)
    small, large = min(sizes), max(sizes)
    print(
        f"\nserver time in ms, medians of {repeat} (the first request apart); "
        f"ratios {large:,} / {small:,} stored"
    )
    print(
        f"{'page':32} {f'{small:,} first':>13} {f'{small:,}':>9} "
        f"{f'{large:,} first':>14} {f'{large:,}':>9} {'ratio':>6}  target"
    )
    targets = {p.name: p.target for p in pages[small]}
    for name in names:
        if name in skipped:
            print(f"{name:32} (no such page yet)")
            continue
        low = statistics.median(runs[small, name])
        high = statistics.median(runs[large, name])
        verdict = "met" if high <= targets[name] else "MISSED"
        print(
            f"{name[:32]:32} {first[small, name] * 1000:13.0f} {low * 1000:9.0f} "
            f"{first[large, name] * 1000:14.0f} {high * 1000:9.0f} {high / low:5.2f}x  "
            f"{targets[name] * 1000:.0f} ms {verdict}"
        )
    for error in errors:
        print(f"not answered: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the warehouses in this folder and reuse them on later runs "
        "(10^5 articles take about 4 minutes to build)",
    )
    args = parser.parse_args()
    if args.keep is not None:
        bench(sorted(args.sizes), args.repeat, args.keep)
        return
    with tempfile.TemporaryDirectory() as scratch:
        bench(sorted(args.sizes), args.repeat, Path(scratch))


if __name__ == "__main__":
    main()
