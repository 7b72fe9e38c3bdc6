"""Sentence encoders: texts in, unit vectors out, so that a dot product is a cosine.

The matcher depends only on the `Encoder` protocol; `load_encoder(name)` picks an
implementation by the name given in CLAIMWATCH_ENCODER. "none" turns ranking by
meaning off: retrieval then uses its lexical rankers alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from claimwatch.exceptions import EncoderError

ENCODERS = ("auto", "minilm", "use", "none")
# What "auto" picks for each task, on measurements (docs/architecture/matching.md#which-encoder):
# MiniLM ranks CLEF's English fact-checks best; the multilingual USE finds restatements
# and translations in articles best, and in 16 languages, and ranks texts in other
# languages beside MiniLM.
AUTO = {"ranking": "minilm", "detection": "use"}


def encoder_name(setting: str, task: str) -> str:
    """The encoder a task uses under CLAIMWATCH_ENCODER=`setting`."""
    return AUTO[task] if setting == "auto" else setting


def ranking_encoders(setting: str, cache_dir: Path) -> tuple[Encoder | None, Encoder | None]:
    """Ranking's (English, multilingual) encoders under CLAIMWATCH_ENCODER=`setting`: both
    for "auto"; a named one alone ranks every language."""
    if setting != "auto":
        return load_encoder(setting, cache_dir), None
    return load_encoder(AUTO["ranking"], cache_dir), load_encoder("use", cache_dir)


class Encoder(Protocol):
    """What retrieval needs of a sentence encoder."""

    # Names the model and its weights: cached claim vectors are keyed by it.
    version: str
    dimensions: int
    # Whether a text's vector depends on the texts embedded beside it (activations
    # quantized per batch): then a catalog's wordings are embedded one at a time, so
    # that a wording's vector is the same however the catalog grew.
    batch_dependent: bool

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def archive_encoder(setting: str, cache_dir: Path) -> Encoder | None:
    """The encoder the archive's sentence index is made with (the multilingual one), or
    None when CLAIMWATCH_ENCODER=`setting` leaves it out."""
    if setting not in ("auto", "use"):
        return None
    return load_encoder("use", cache_dir)


def load_encoder(name: str, cache_dir: Path) -> Encoder | None:
    """The encoder called `name`, or None for "none"; `cache_dir` keeps its built model."""
    if name == "none":
        return None
    if name == "minilm":
        from claimwatch.matching.minilm import MiniLM

        return MiniLM.load(cache_dir)
    if name == "use":
        from claimwatch.matching.use import MultilingualUSE

        return MultilingualUSE.load(cache_dir)
    raise EncoderError(f"unknown encoder {name!r}: set CLAIMWATCH_ENCODER to one of {ENCODERS}")
