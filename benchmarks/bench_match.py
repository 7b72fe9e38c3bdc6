"""Matching benchmarks; every ratio compares two things measured in the same run.

    python benchmarks/bench_match.py [brute|extract|scale|all] [--repeat N] [--articles N]

brute    the matcher against brute force (rapidfuzz cdist of every wording against
         every window) on the same articles: time ratio, and each one's recall
         on the development set.
extract  matcher time against trafilatura extraction time on the same pages: the
         offline sample's, then real pages from ../shared/corpora/pages if present.
scale    25 to 100,000 claims over the same articles, each size in a fresh process
         so peak RSS is its own: catalog load and validation, detector build,
         detection time per article and peak memory, against 1,000 claims.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trafilatura
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import (  # noqa: E402
    CORPUS_PAGES,
    DEVSET,
    articles,
    catalog_data,
    catalog_of,
    corpus_pages,
    sample_pages,
    seed_catalog,
    sentence_pools,
)
from claimwatch.matching.catalog import load_catalog  # noqa: E402
from claimwatch.matching.claim_vectors import claim_vectors, wording_rows  # noqa: E402
from claimwatch.matching.detector import Detector  # noqa: E402
from claimwatch.matching.encoder import load_encoder  # noqa: E402
from claimwatch.matching.evaluate import load_judgements  # noqa: E402
from claimwatch.matching.matcher import MIN_WINDOW_SHARE, Matcher  # noqa: E402
from claimwatch.matching.normalize import normalize, normalize_text  # noqa: E402
from claimwatch.matching.windows import candidate_windows  # noqa: E402

SCALE_SIZES = (25, 1000, 10_000, 100_000)
# Articles each size detects in per pass: 100,000 claims take ~0.1 s an article.
SCALE_ARTICLES = 500


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class BruteForce:
    """Every wording against every window with partial_ratio: the baseline."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.wordings = [normalize_text(w) for w in matcher._wordings]
        self.claims = matcher._claim_of_row
        self.lengths = np.array([len(w) for w in self.wordings])

    def find(self, text: str) -> set[str]:
        windows = candidate_windows(normalize(text).text)
        if not windows:
            return set()
        scores = process.cdist(
            self.wordings, [w.text for w in windows], scorer=fuzz.partial_ratio, workers=1
        )
        lengths = np.array([len(w.text) for w in windows])
        scores[lengths[None, :] < self.lengths[:, None] * MIN_WINDOW_SHARE] = 0
        best = scores.max(axis=1)
        return {
            c for c, s in zip(self.claims, best, strict=True) if s >= self.matcher.threshold_of(c)
        }


def recall(find: Callable[[str], set[str]], matcher: Matcher) -> tuple[float, float]:
    """(recall on positives, false-hit rate on negatives) of the development set."""
    judgements = load_judgements(DEVSET, seed_catalog())
    positives = [j for j in judgements if j.label]
    negatives = [j for j in judgements if not j.label]
    found = sum(j.claim_id in find(j.text) for j in positives) / len(positives)
    false = sum(j.claim_id in find(j.text) for j in negatives) / len(negatives)
    return found, false


def bench_brute(repeat: int, count: int) -> None:
    _, article_pool = sentence_pools()
    texts = articles(count, article_pool)
    matcher = Matcher(seed_catalog())
    brute = BruteForce(matcher)
    fast = median_seconds(lambda: [matcher.find(t) for t in texts], repeat)
    slow = median_seconds(lambda: [brute.find(t) for t in texts], repeat)
    m_recall, m_false = recall(lambda t: {h.claim_id for h in matcher.find(t)}, matcher)
    b_recall, b_false = recall(brute.find, matcher)
    claims = len(matcher.claim_ids)
    print(f"brute: {count} articles, seed catalog ({claims} claims), median of {repeat}")
    for name, seconds, found, false in (
        ("matcher", fast, m_recall, m_false),
        ("brute force", slow, b_recall, b_false),
    ):
        per_article = seconds / count * 1000
        print(
            f"  {name:<12} {per_article:8.2f} ms/article  devset recall {found:.3f}"
            f"  false-hit rate {false:.3f}"
        )
    print(f"  speed-up: {slow / fast:.1f}x")


def bench_extract(repeat: int, cache: Path) -> None:
    catalog = seed_catalog()
    fuzzy = Detector(catalog)
    meaning = Detector(catalog, encoder=load_encoder("use", cache), cache_dir=cache)
    detectors = {"fuzzy matcher": fuzzy, "with meaning": meaning}
    extract_versus_match("pages of the offline sample", sample_pages(), detectors, repeat)
    pages = corpus_pages()
    if pages:
        extract_versus_match(f"real pages from {CORPUS_PAGES}", pages, detectors, repeat)
    else:
        print(f"  (no real pages at {CORPUS_PAGES}: set CLAIMWATCH_CORPORA to measure them)")


def extract_versus_match(
    name: str, pages: list[bytes], detectors: dict[str, Detector], repeat: int
) -> None:
    """trafilatura's time on each page against detection's on what it extracted, with the
    fuzzy matcher alone and with the semantic stage (suggestions).

    They alternate within each repeat, and each ratio is the median of the repeats'
    ratios, so a machine that slows down midway skews no side.
    """
    docs = [trafilatura.bare_extraction(p, with_metadata=True) for p in pages]
    texts = [(d.text, d.title) for d in docs if d is not None and d.text]
    extract_times: list[float] = []
    detect_times: dict[str, list[float]] = {label: [] for label in detectors}
    for _ in range(repeat):
        extract_times.append(
            median_seconds(
                lambda: [trafilatura.bare_extraction(p, with_metadata=True) for p in pages], 1
            )
        )
        for label, detector in detectors.items():
            detect_times[label].append(
                median_seconds(
                    lambda d=detector: [d.detect("u", text, title=title) for text, title in texts],
                    1,
                )
            )
    n = len(pages)
    print(f"extract: {name} ({n}), median of {repeat}")
    print(f"  trafilatura    {statistics.median(extract_times) / n * 1000:8.2f} ms/page")
    for label, times in detect_times.items():
        ratio = statistics.median(m / e for m, e in zip(times, extract_times, strict=True))
        print(
            f"  {label:<14} {statistics.median(times) / n * 1000:8.2f} ms/page"
            f"  detection / extraction: {ratio:.2f}"
        )


def memory_kib(field: str) -> int:
    """This process's VmHWM (peak resident size) or VmRSS (resident now). Not ru_maxrss,
    which starts from the parent's size at fork and so overstates a child of a large
    process."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(status.read().split(f"{field}:")[1].split()[0])


def scale_one(size: int, count: int, cache: Path) -> None:
    """Run in a child process, talking to bench_scale over stdin and stdout: load a catalog
    of `size` claims from a JSON lines file, as `--claims` does, build a detector, then for each
    line read detect in `count` articles, with the semantic stage (the catalog's vectors
    embedded beforehand, cached), and print the seconds taken; at the end of input, print
    the memory used."""
    claim_pool, article_pool = sentence_pools()
    texts = articles(count, article_pool)
    path = cache / f"catalog-{size}.jsonl"
    claims = catalog_data(size, claim_pool)["claims"]
    path.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
    del claims
    encoder = load_encoder("use", cache)
    base = memory_kib("VmRSS")
    started = time.perf_counter()
    catalog = load_catalog(path)  # read, parsed and validated
    load = time.perf_counter() - started
    started = time.perf_counter()
    detector = Detector(catalog, encoder=encoder, cache_dir=cache)
    build = time.perf_counter() - started
    for text in texts[:10]:  # first calls (onnxruntime, caches) are not what a pass costs
        detector.detect("u", text)
    print(json.dumps({"load_s": load, "build_s": build}), flush=True)
    while sys.stdin.readline():
        started = time.perf_counter()
        for text in texts:
            detector.detect("u", text)
        print(time.perf_counter() - started, flush=True)
    peak, resident = memory_kib("VmHWM"), memory_kib("VmRSS")
    print(json.dumps({"peak_mb": peak / 1024, "added_mb": (resident - base) / 1024}), flush=True)


def bench_scale(repeat: int, count: int, cache: Path, sizes: list[int]) -> None:
    """Each size in its own process, so that peak RSS is its own. The processes take turns
    at each pass over the articles, and each ratio is the median of the passes' ratios, so
    a machine that slows down midway skews no size."""
    encoder = load_encoder("use", cache)
    assert encoder is not None
    claim_pool = sentence_pools()[0]
    # Each catalog's vectors are embedded once, beforehand, as a pass's first worker does.
    # The largest first: it takes them all, and the smaller catalogs (its first claims)
    # reuse its rows.
    largest = max(sizes)
    started = time.perf_counter()
    claim_vectors(wording_rows(catalog_of(largest, claim_pool))[0], encoder, cache)
    embedded = time.perf_counter() - started
    for size in sizes:
        claim_vectors(wording_rows(catalog_of(size, claim_pool))[0], encoder, cache)
    children: dict[int, subprocess.Popen[str]] = {}
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        command = [sys.executable, __file__, "scale-one", "--size", str(size)]
        command += ["--articles", str(count), "--cache", str(cache)]
        children[size] = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        results[size] = json.loads(_answer(children[size]))
    passes: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeat):
        for size, child in children.items():
            assert child.stdin is not None
            child.stdin.write("pass\n")
            child.stdin.flush()
            passes[size].append(float(_answer(child)) / count * 1000)
    for size, child in children.items():
        assert child.stdin is not None
        child.stdin.close()
        results[size] |= json.loads(_answer(child))
        child.wait()
    base = 1000 if 1000 in sizes else sizes[0]
    print(
        f"scale: {count} articles, detection with meaning, median of {repeat} passes,"
        f" each size in its own process; ratios against {base:,} claims"
    )
    print(
        "     claims  load s  build s  ms/article   ratio  peak RSS MiB   ratio"
        "  catalog and matching MiB"
    )
    for size, r in results.items():
        ratio = statistics.median(a / b for a, b in zip(passes[size], passes[base], strict=True))
        print(
            f"  {size:>9,}  {r['load_s']:6.2f}  {r['build_s']:7.2f}"
            f"  {statistics.median(passes[size]):10.2f}  {ratio:5.2f}x"
            f"  {r['peak_mb']:13.1f}  {r['peak_mb'] / results[base]['peak_mb']:5.2f}x"
            f"  {r['added_mb']:24.1f}"
        )
    print(f"  the {largest:,} claims' vectors were embedded once, beforehand, in {embedded:.1f} s")


def _answer(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        raise RuntimeError(f"scale-one exited with {child.wait()}")
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "which", nargs="?", default="all", choices=["brute", "extract", "scale", "all", "scale-one"]
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--size", type=int, default=25)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SCALE_SIZES))
    parser.add_argument("--cache", type=Path, help="Cache of model and catalog vectors.")
    args = parser.parse_args()
    if args.which == "scale-one":
        scale_one(args.size, args.articles, args.cache)
        return
    with tempfile.TemporaryDirectory() as folder:
        cache = args.cache or Path(folder)
        if args.which in ("brute", "all"):
            bench_brute(args.repeat, min(args.articles, 200))
        if args.which in ("extract", "all"):
            bench_extract(max(args.repeat, 5), cache)
        if args.which in ("scale", "all"):
            bench_scale(args.repeat, min(args.articles, SCALE_ARTICLES), cache, args.sizes)


if __name__ == "__main__":
    main()
