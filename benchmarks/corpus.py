"""Deterministic inputs for the benchmarks: pages, articles and large catalogs.

The sentences of six words or more of the offline sample and the development
set's negatives are split in two pools, alternately: one for claims, one for
articles.

Recipe for a catalog of N claims: the seed catalog first (cut to N when N is
smaller), then synthetic claims. Each synthetic claim is a stretch of 6-14 words
from a sentence of the claim pool, with one or two words swapped for random
words of that pool. They share the seed claims' vocabulary (NATO, China,
Indo-Pacific...), so candidate generation meets realistic overlap, yet they are
not copied into the articles.

Articles are 30 sentences drawn from the article pool; one in five also carries
a development-set text that states a seed claim.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import trafilatura

from claimwatch.matching.catalog import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PAGES = sorted((ROOT / "seeds" / "sample" / "articles").glob("*.html"))
DEVSET = ROOT / "tests" / "data" / "devset.jsonl"
# Saved real web pages (third-party, not in the project): used when present.
CORPORA = Path(os.environ.get("CLAIMWATCH_CORPORA") or ROOT.parent / "shared" / "corpora")
CORPUS_PAGES = CORPORA / "pages"


def sample_pages() -> list[bytes]:
    return [p.read_bytes() for p in SAMPLE_PAGES]


def corpus_pages() -> list[bytes]:
    """The real pages of the shared corpora, or none where they are absent."""
    return [p.read_bytes() for p in sorted(CORPUS_PAGES.glob("*.html"))]


def _devset() -> list[dict]:
    return [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line]


def sentence_pools() -> tuple[list[str], list[str]]:
    """(claim pool, article pool)."""
    pool = []
    for page in sample_pages():
        text = trafilatura.extract(page) or ""
        pool += [s.strip() for s in text.replace("\n", " ").split(". ")]
    pool += [d["text"] for d in _devset() if d["tier"] == "negative"]
    # Synthetic claims are 6-14 word stretches; this also leaves out texts in
    # scripts written without spaces.
    pool = [s for s in pool if len(s.split()) >= 6]
    return pool[0::2], pool[1::2]


def seed_catalog() -> Catalog:
    return load_catalog(ROOT / "seeds" / "claims.yaml")


def catalog_data(size: int, pool: list[str], seed: int = 7) -> dict:
    """A catalog of `size` claims as plain data, as a loader reads it from a file (the
    recipe above); `Catalog.model_validate` makes it a catalog."""
    base = seed_catalog()
    claims = [c.model_dump(mode="json", exclude_defaults=True) for c in base.claims[:size]]
    rng = random.Random(seed)
    vocabulary = sorted({w for s in pool for w in s.split()})
    while len(claims) < size:
        words = rng.choice(pool).split()
        length = rng.randint(6, min(14, len(words)))
        start = rng.randint(0, len(words) - length)
        stretch = words[start : start + length]
        for _ in range(rng.randint(1, 2)):
            stretch[rng.randrange(length)] = rng.choice(vocabulary)
        claims.append({"id": f"synthetic-{len(claims)}", "text": " ".join(stretch)})
    documents = [d.model_dump(mode="json", exclude_defaults=True) for d in base.documents]
    return {"documents": documents, "claims": claims}


def catalog_of(size: int, pool: list[str], seed: int = 7) -> Catalog:
    return Catalog.model_validate(catalog_data(size, pool, seed))


def articles(count: int, pool: list[str], seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    positives = [d["text"] for d in _devset() if d["label"]]
    out = []
    for i in range(count):
        sentences = [rng.choice(pool) for _ in range(30)]
        if i % 5 == 0:
            sentences.insert(rng.randrange(30), rng.choice(positives))
        out.append(". ".join(sentences) + ".")
    return out
