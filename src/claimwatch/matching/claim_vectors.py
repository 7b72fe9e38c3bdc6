"""Claim vectors: every wording of a catalog embedded once, then read from disk.

The file is named by a hash of the encoder's version and of the wordings, in order,
so that an edited catalog or another model never reads stale vectors, and passes,
workers and `claimwatch match` over the same catalog share one file. A catalog that
grows (a claim added, fact-checks read, a reviewer's confirmed sentence) embeds only
its new wordings: beside each file is a digest of each of its wordings, and the rows
of the newest files of the same encoder are reused. Older files are removed, so the
cache holds a few catalogs' vectors, not one per edit.
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


# Vector files of one encoder kept in the cache: the newest, for catalogs in use and
# the ones they grew from.
KEEP_FILES = 4


def cache_file(wordings: Sequence[str], encoder: Encoder, cache_dir: Path) -> Path:
    key = hashlib.sha256(encoder.version.encode())
    for wording in wordings:
        key.update(b"\0" + wording.encode())
    return cache_dir / f"claims-{_encoder_key(encoder)}-{key.hexdigest()[:24]}.npy"


def _encoder_key(encoder: Encoder) -> str:
    return hashlib.sha256(encoder.version.encode()).hexdigest()[:8]


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
    """Embed the wordings no recent file of this encoder holds, save all, prune."""
    started = time.perf_counter()
    digests = _digests(wordings)
    vectors = np.zeros((len(wordings), encoder.dimensions), dtype=np.float32)
    missing = _reuse(path, digests, vectors)
    if len(missing) > 1000:
        log.info("embedding %d new wordings of the catalog (once; kept in %s)", len(missing), path)
    if missing and encoder.batch_dependent:
        for i in missing:
            vectors[i] = encoder.encode([wordings[i]])[0]
    elif missing:
        vectors[missing] = encoder.encode([wordings[i] for i in missing])
    _save(_keys_file(path), digests)
    _save(path, vectors)  # last: the vectors' file says the pair is complete
    _prune(path)
    log.debug(
        "embedded %d of %d wordings in %.1f s",
        len(missing),
        len(wordings),
        time.perf_counter() - started,
    )
    return vectors


def _digests(wordings: Sequence[str]) -> np.ndarray:
    """A 16-byte digest of each wording, as rows of a uint8 array."""
    joined = b"".join(hashlib.blake2b(w.encode(), digest_size=16).digest() for w in wordings)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(wordings), 16)


def _reuse(path: Path, digests: np.ndarray, vectors: np.ndarray) -> list[int]:
    """Fill `vectors` with the rows the newest files of this encoder hold for the same
    wordings; return the rows still to embed."""
    # A wording may stand in several rows (two claims worded alike): each is filled.
    wanted: dict[bytes, list[int]] = {}
    for i, row in enumerate(digests):
        wanted.setdefault(row.tobytes(), []).append(i)
    for other in _siblings(path)[:KEEP_FILES]:
        try:
            known = np.load(_keys_file(other))
            stored = np.load(other, mmap_mode="r")
        except (OSError, ValueError):
            continue  # removed meanwhile, or half-written by a process that died
        if len(known) != len(stored) or stored.shape[1:] != vectors.shape[1:]:
            continue
        for row, digest in enumerate(known):
            rows = wanted.pop(digest.tobytes(), None)
            if rows is not None:
                vectors[rows] = stored[row]
        if not wanted:
            break
    return sorted(i for rows in wanted.values() for i in rows)


def _siblings(path: Path) -> list[Path]:
    """The other vector files of the same encoder that have their digests, newest first."""
    prefix = path.name.rsplit("-", 1)[0]
    found = [
        p
        for p in path.parent.glob(f"{prefix}-*.npy")
        if p != path and not p.name.endswith((".keys.npy", ".partial.npy"))
    ]
    dated = []
    for p in found:
        try:
            dated.append((p.stat().st_mtime, p))
        except FileNotFoundError:
            continue  # pruned by another process meanwhile
    return [p for _, p in sorted(dated, reverse=True) if _keys_file(p).exists()]


def _keys_file(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".npy") + ".keys.npy")


def _save(path: Path, array: np.ndarray) -> None:
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    np.save(partial, array)
    partial.replace(path)


def _prune(path: Path) -> None:
    """Remove this encoder's vector files beyond the newest KEEP_FILES."""
    for old in _siblings(path)[KEEP_FILES - 1 :]:
        for stale in (old, _keys_file(old), old.with_suffix(".lock")):
            stale.unlink(missing_ok=True)
