"""Cross-lingual ranking: English claims found from sentences in ten other languages.

    python benchmarks/bench_xling.py [--split report|tune|all] [--languages de,fr,...]

The catalog is every distinct English sentence of benchmarks/data/xling/tatoeba.jsonl
(8,865 claims); each sentence in another language is a query whose relevant claim is
its English translation. `claimwatch match --top 5` runs as a command over the split's
queries, and over the same queries in English (each the claim's own wording, so
English is at or near 1.0 and the ratio is the cross-lingual MAP@5 itself). In the
same run, the multilingual encoder alone ranks the same queries, as a reference.
Weights are tuned on "tune"; quote "report".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_rank import run_match  # noqa: E402

SET = ROOT / "benchmarks" / "data" / "xling" / "tatoeba.jsonl"


def claim_id(english: str) -> str:
    return "t" + hashlib.sha256(english.encode()).hexdigest()[:10]


def half(english: str) -> str:
    """'tune' or 'report', by the English side: a claim's queries all fall in one half."""
    return "tune" if hashlib.sha256(english.encode()).digest()[0] % 2 == 0 else "report"


def load(split: str, languages: list[str] | None) -> tuple[list[dict], list[str]]:
    """The set's records of the split (all languages given), and every English sentence."""
    records = [json.loads(line) for line in SET.read_text("utf-8").splitlines()]
    english = sorted({r["english"] for r in records})
    chosen = [
        r
        for r in records
        if split in ("all", half(r["english"])) and (not languages or r["language"] in languages)
    ]
    return chosen, english


def write_catalog(path: Path, english: list[str]) -> None:
    claims = [{"id": claim_id(e), "text": e} for e in english]
    path.write_text(yaml.safe_dump({"claims": claims}, allow_unicode=True), encoding="utf-8")


def queries(records: list[dict]) -> dict[str, list[tuple[str, str, str]]]:
    """(query id, text, relevant claim) per language, English included once per claim."""
    by_language: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    seen = set()
    for n, r in enumerate(records):
        relevant = claim_id(r["english"])
        by_language[r["language"]].append((f"{r['language']}-{n}", r["text"], relevant))
        if r["english"] not in seen:
            seen.add(r["english"])
            by_language["en"].append((f"en-{n}", r["english"], relevant))
    return by_language


def average_precision_at_5(ranked: list[str], relevant: str) -> float:
    for place, claim in enumerate(ranked[:5], start=1):
        if claim == relevant:
            return 1 / place
    return 0.0


def encoder_alone(
    english: list[str], by_language: dict[str, list[tuple[str, str, str]]], cache: Path
) -> dict[str, float]:
    """MAP@5 per language of the multilingual encoder's cosine alone."""
    from claimwatch.matching.claim_vectors import claim_vectors
    from claimwatch.matching.encoder import load_encoder

    encoder = load_encoder("use", cache)
    assert encoder is not None
    vectors = claim_vectors(english, encoder, cache)
    ids = np.array([claim_id(e) for e in english])
    scores = {}
    for language, items in by_language.items():
        query_vectors = encoder.encode([text for _, text, _ in items])
        top = np.argsort(-(query_vectors @ vectors.T), axis=1)[:, :5]
        scores[language] = float(
            np.mean(
                [
                    average_precision_at_5(list(ids[row]), relevant)
                    for row, (_, _, relevant) in zip(top, items, strict=True)
                ]
            )
        )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("report", "tune", "all"), default="report")
    parser.add_argument("--languages", help="comma-separated, e.g. de,ru,zh (default: all ten)")
    args = parser.parse_args()
    languages = args.languages.split(",") if args.languages else None
    records, english = load(args.split, languages)
    by_language = queries(records)
    with tempfile.TemporaryDirectory() as folder:
        catalog, cache = Path(folder) / "xling.yaml", Path(folder) / "cache"
        write_catalog(catalog, english)
        env = os.environ | {"CLAIMWATCH_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
        items = [item for group in by_language.values() for item in group]
        print(
            f"xling: Tatoeba, {args.split} half, {len(items)} queries "
            f"({len(by_language) - 1} languages and English) against {len(english)} claims"
        )
        ranking, seconds = run_match(catalog, [(q, text) for q, text, _ in items], env)
        alone = encoder_alone(english, by_language, cache)
    scores = {
        language: float(
            np.mean([average_precision_at_5(ranking.get(q, []), rel) for q, _, rel in group])
        )
        for language, group in by_language.items()
    }
    english_score = scores.pop("en")
    print(f"  {'':4} {'queries':>8} {'MAP@5':>7} {'/ English':>10} {'encoder alone':>14}")
    english_count = len(by_language["en"])
    print(f"  {'en':4} {english_count:8} {english_score:7.3f} {1:10.2f} {alone['en']:14.3f}")
    for language, score in scores.items():
        print(
            f"  {language:4} {len(by_language[language]):8} {score:7.3f} "
            f"{score / english_score:10.2f} {alone[language]:14.3f}"
        )
    mean = float(np.mean(list(scores.values())))
    mean_alone = float(np.mean([alone[language] for language in scores]))
    print(
        f"  mean of the languages: MAP@5 {mean:.3f}, {mean / english_score:.3f}x English "
        f"(target 0.9x); encoder alone {mean_alone:.3f}, {mean_alone / alone['en']:.3f}x"
    )
    print(f"  command time {seconds:.0f} s for {len(items)} queries (empty cache)")


if __name__ == "__main__":
    main()
