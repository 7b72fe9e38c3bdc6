"""Claim vectors: every wording of a catalog embedded once, then read from disk.

The file is named by a hash of the encoder's version and of the wordings, in order,
so that an edited catalog or another model never reads stale vectors, and passes,
workers and `claimwatch match` over the same catalog share one file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from claimwatch.matching.encoder import Encoder

log = logging.getLogger(__name__)


def cache_file(wordings: Sequence[str], encoder: Encoder, cache_dir: Path) -> Path:
    key = hashlib.sha256(encoder.version.encode())
    for wording in wordings:
        key.update(b"\0" + wording.encode())
    return cache_dir / f"claims-{key.hexdigest()[:24]}.npy"


def claim_vectors(wordings: Sequence[str], encoder: Encoder, cache_dir: Path) -> np.ndarray:
    """One unit vector per wording, from the cache when the same wordings were embedded."""
    path = cache_file(wordings, encoder, cache_dir)
    if path.exists():
        vectors = np.load(path)
        if vectors.shape == (len(wordings), encoder.dimensions):
            return vectors
    started = time.perf_counter()
    if len(wordings) > 1000:
        log.info("embedding the catalog's %d wordings (once; kept in %s)", len(wordings), path)
    vectors = encoder.encode(wordings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    np.save(partial, vectors)
    partial.replace(path)
    log.debug("embedded %d wordings in %.1f s", len(wordings), time.perf_counter() - started)
    return vectors
