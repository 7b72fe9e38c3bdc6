"""Claim vectors: every wording of a catalog embedded once, then read from disk.

The file is named by a hash of the encoder's version and of the wordings, in order,
so that an edited catalog or another model never reads stale vectors, and passes,
workers and `claimwatch match` over the same catalog share one file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import Encoder

log = logging.getLogger(__name__)


def wording_rows(catalog: Catalog) -> tuple[list[str], np.ndarray]:
    """Every wording of the catalog, claim by claim, and the row each claim's wordings
    start at (a claim's rows are contiguous, so `np.ufunc.reduceat` groups them)."""
    wordings = [w for c in catalog.claims for w in c.wordings]
    counts = np.array([len(c.wordings) for c in catalog.claims], dtype=np.int64)
    return wordings, np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def cache_file(wordings: Sequence[str], encoder: Encoder, cache_dir: Path) -> Path:
    key = hashlib.sha256(encoder.version.encode())
    for wording in wordings:
        key.update(b"\0" + wording.encode())
    return cache_dir / f"claims-{key.hexdigest()[:24]}.npy"


def claim_vectors(wordings: Sequence[str], encoder: Encoder, cache_dir: Path) -> np.ndarray:
    """One unit vector per wording, from the cache when the same wordings were embedded.

    Processes that start together (a pass's workers) embed a new catalog once: the
    first takes a lock on the file and embeds; the others wait for it, then read.
    """
    path = cache_file(wordings, encoder, cache_dir)
    cached = _read(path, len(wordings), encoder.dimensions)
    if cached is not None:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        cached = _read(path, len(wordings), encoder.dimensions)
        return cached if cached is not None else _embed(path, wordings, encoder)


def _read(path: Path, rows: int, dimensions: int) -> np.ndarray | None:
    if not path.exists():
        return None
    vectors = np.load(path)
    return vectors if vectors.shape == (rows, dimensions) else None


def _embed(path: Path, wordings: Sequence[str], encoder: Encoder) -> np.ndarray:
    started = time.perf_counter()
    if len(wordings) > 1000:
        log.info("embedding the catalog's %d wordings (once; kept in %s)", len(wordings), path)
    vectors = encoder.encode(wordings)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    np.save(partial, vectors)
    partial.replace(path)
    log.debug("embedded %d wordings in %.1f s", len(wordings), time.perf_counter() - started)
    return vectors
