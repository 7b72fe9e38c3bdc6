"""Ranking benchmark on CLEF CheckThat! 2020 task 2 (tweets against 10,375 fact-checked claims).

    python benchmarks/bench_rank.py [--split dev|train] [--repeat N]

quality  MAP@5 of `claimwatch match --top 5` run as a command over the split's tweets,
         with the encoder and with CLAIMWATCH_ENCODER=none, against plain BM25 over
         claim and title (bm25s, no stemming) in the same run.
speed    the one-off cost of embedding the catalog (an empty cache), then the median
         time per query on one core once the cache is warm.

The fusion weights were tuned on the train split (src/claimwatch/matching/retrieval.py):
report dev. The test split is not in ../shared/corpora on purpose.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bm25s
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CORPORA  # noqa: E402

CLEF = CORPORA / "clef2020"
CLAIMWATCH = Path(sys.executable).parent / "claimwatch"


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return rows[1:]


def catalog_rows() -> list[tuple[str, str, str]]:
    """(claim id, claim, fact-check title) for every verified claim."""
    return [
        (f"vclaim-{r[0]}", r[1], r[2] if len(r) > 2 else "")
        for r in read_tsv(CLEF / "verified_claims.docs.tsv")
    ]


def split(name: str) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    tweets = [(r[0], r[1]) for r in read_tsv(CLEF / name / "tweets.queries.tsv")]
    relevant: dict[str, set[str]] = {}
    for line in (CLEF / name / "tweet-vclaim-pairs.qrels").read_text().splitlines():
        tweet, _, claim, _ = line.split()
        relevant.setdefault(tweet, set()).add(f"vclaim-{claim}")
    return tweets, relevant


def average_precision_at_5(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for place, claim in enumerate(ranked[:5], start=1):
        if claim in relevant:
            hits += 1
            total += hits / place
    return total / min(len(relevant), 5)


def map_at_5(ranking: dict[str, list[str]], relevant: dict[str, set[str]]) -> float:
    return float(
        np.mean([average_precision_at_5(ranking.get(t, []), r) for t, r in relevant.items()])
    )


def write_catalog(path: Path, rows: list[tuple[str, str, str]]) -> None:
    claims = [
        {"id": cid, "text": text, **({"variants": [title]} if title and title != text else {})}
        for cid, text, title in rows
    ]
    path.write_text(yaml.safe_dump({"claims": claims}, allow_unicode=True), encoding="utf-8")


def run_match(
    catalog: Path, tweets: list[tuple[str, str]], env: dict[str, str]
) -> tuple[dict[str, list[str]], float]:
    """`claimwatch match --top 5` over the tweets: each tweet's ranked claim ids, and seconds."""
    lines = "".join(json.dumps({"id": t, "text": text}) + "\n" for t, text in tweets)
    started = time.perf_counter()
    done = subprocess.run(
        [str(CLAIMWATCH), "match", "--claims", str(catalog), "--top", "5"],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"claimwatch match failed: {done.stderr.strip()[-500:]}")
    ranking: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        out = json.loads(line)
        ranking.setdefault(str(out["id"]), []).append(out["claim_id"])
    return ranking, seconds


def plain_bm25(
    rows: list[tuple[str, str, str]], tweets: list[tuple[str, str]]
) -> dict[str, list[str]]:
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([f"{text} {title}" for _, text, title in rows], show_progress=False),
        show_progress=False,
    )
    found, _ = retriever.retrieve(
        bm25s.tokenize([text for _, text in tweets], show_progress=False), k=5, show_progress=False
    )
    return {t: [rows[d][0] for d in docs] for (t, _), docs in zip(tweets, found, strict=True)}


def per_query_ms(catalog: Path, tweets: list[tuple[str, str]], cache: Path, repeat: int) -> float:
    from claimwatch.matching.catalog import load_catalog
    from claimwatch.matching.encoder import load_encoder
    from claimwatch.matching.matcher import Matcher
    from claimwatch.matching.ranking import rank_claims
    from claimwatch.matching.retrieval import Retriever

    loaded = load_catalog(catalog)
    retriever = Retriever(loaded, load_encoder("minilm", cache), cache)
    matcher = Matcher(loaded)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _, text in tweets:
            rank_claims(retriever, matcher, text, top=5)
        runs.append((time.perf_counter() - started) / len(tweets) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not CLEF.is_dir():
        sys.exit(f"{CLEF}: not found (the CLEF CheckThat! 2020 corpus)")
    rows = catalog_rows()
    tweets, relevant = split(args.split)
    with tempfile.TemporaryDirectory() as folder:
        catalog, cache = Path(folder) / "clef.yaml", Path(folder) / "cache"
        write_catalog(catalog, rows)
        env = os.environ | {"CLAIMWATCH_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
        print(f"rank: CLEF 2020 task 2 {args.split}, {len(tweets)} tweets, {len(rows)} claims")
        baseline = map_at_5(plain_bm25(rows, tweets), relevant)
        print(f"  plain BM25 (claim + title)       MAP@5 {baseline:.3f}")
        lexical, seconds = run_match(catalog, tweets, env | {"CLAIMWATCH_ENCODER": "none"})
        score = map_at_5(lexical, relevant)
        print(f"  match --top 5, encoder none      MAP@5 {score:.3f}  ", end="")
        print(f"({score / baseline:.2f}x BM25, {seconds:.0f} s)")
        first, cold = run_match(catalog, tweets, env)
        _, warm = run_match(catalog, tweets, env)
        score = map_at_5(first, relevant)
        print(
            f"  match --top 5, encoder minilm    MAP@5 {score:.3f}  ({score / baseline:.2f}x BM25)"
        )
        print(
            f"  command time: {cold:.0f} s with an empty cache (embeds the catalog once), ", end=""
        )
        print(f"{warm:.0f} s warm")
        per_query = per_query_ms(catalog, tweets, cache, args.repeat)
        print(f"  per query (one core, warm, median of {args.repeat}): {per_query:.1f} ms")


if __name__ == "__main__":
    main()
