"""Vectors as the index stores them: sign bits to scan, and int8 components to re-score.

A unit vector's 512 signs, packed into eight 64-bit integers, make the Hamming distance
a cheap stand-in for the cosine; the int8 components (each vector scaled so its largest
component is 127) give the cosine back to within about 0.01 for the few hundred nearest.
"""

from __future__ import annotations

import numpy as np

WORDS = 8  # 64-bit integers of sign bits: 512 dimensions


def sign_codes(vectors: np.ndarray) -> np.ndarray:
    """[n, 8] uint64: bit i of the vector set where component i is positive."""
    return np.packbits(vectors > 0, axis=1).view(np.uint64).reshape(len(vectors), WORDS)


def quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([n, d] int8 components, [n] float32 scales) with vector ≈ int8 * scale / 127."""
    scales = np.abs(vectors).max(axis=1).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0)[:, None]
    return np.round(vectors / safe * 127).astype(np.int8), scales


def hamming(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Bits differing between each row of `codes` [n, 8] and the query's code [8]."""
    return column_hamming(list(codes.T), query)


def column_hamming(columns: list[np.ndarray], query: np.ndarray) -> np.ndarray:
    """`hamming` over codes kept as eight columns (as DuckDB returns them), without
    first copying them into one [n, 8] array."""
    distance = np.zeros(len(columns[0]), dtype=np.int32)
    for word, column in enumerate(columns):
        distance += np.bitwise_count(np.asarray(column, dtype=np.uint64) ^ query[word])
    return distance


def cosines(blobs: list[bytes], scales: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The cosine of the query with each stored int8 vector."""
    return (_components(blobs).astype(np.float32) @ query) * scales / 127


def vectors(blobs: list[bytes], scales: np.ndarray) -> np.ndarray:
    """The stored int8 vectors as float32 rows, scaled back."""
    found = _components(blobs).astype(np.float32)
    found *= (np.asarray(scales, np.float32) / 127)[:, None]  # in place: one copy, not two
    return found


def _components(blobs: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(blobs), -1)
