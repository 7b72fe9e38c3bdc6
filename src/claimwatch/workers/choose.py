"""What a focused re-match reads, chosen in a process of its own (flows/rematch.py), apart
from the workers, which need none of this."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Mapping
from pathlib import Path

from claimwatch.archive.near import near_articles
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import archive_encoder
from claimwatch.matching.focus import FocusTerms
from claimwatch.records import SentenceSpan
from claimwatch.store.rematch import select_stored
from claimwatch.store.sentence_near import Near

# The choice runs on two threads at most, whatever the cores: DuckDB's allocator keeps
# each thread's working memory. It scans the texts of the articles whose terms are not
# stored (archive/terms.py): every text, in a warehouse never indexed. While each text
# was lowered and folded before the search, two threads took this process from 441 MB
# to 662 MB at 10^6 articles, and the command to 988 MiB. Searched as stored, the scan
# of 10^5 takes 243-257 MB and 4.5-6.6 s on two threads (205-208 MB and 7.9-8.3 s on
# one), and the process peaked at 539 MB at 10^6. With the terms of each sentence stored,
# the choice takes 1.8-2.0 s at 10^5 and 21-22 s at 10^6.
SCAN_THREADS = 2
# DuckDB's memory for the choice, past which it writes to a temporary folder: summing the
# terms of each pair of adjacent sentences (store/rematch.py) took 1.8 GB of it at 10^6
# articles, and the process 1,337 MB. At 10^6 the process took 638 MB limited to 400 MB,
# 559-561 MB to 250-300 MB, in about the same time; at 150 MB, reading DuckLake's
# catalog failed for want of memory.
MEMORY = "300MB"


def choose_articles(
    db: Path,
    catalog: Catalog,
    focus: tuple[str, ...],
    terms: FocusTerms,
    encoder: tuple[str, Path],
    wait: float,
) -> tuple[dict[str, bool], Mapping[str, tuple[SentenceSpan, ...]]]:
    """The articles a re-match of `catalog` for the claims of `focus` reads, each with
    whether to look for meaning in it (store/rematch.py's select_stored), and the
    sentences of each that the sentence index, when there is one, found near (`encoder`:
    the CLAIMWATCH_ENCODER setting and the cache folder)."""
    near = _near(db, catalog, focus, encoder, wait)
    chosen = select_stored(db, terms, near, wait=wait, threads=SCAN_THREADS, memory=MEMORY)
    return chosen, near.sentences if near is not None else {}


def _near(
    db: Path, catalog: Catalog, focus: tuple[str, ...], encoder: tuple[str, Path], wait: float
) -> Near | None:
    """The index's answer; its model, and what the scan of the index took, are given
    back before the texts are read."""
    model = archive_encoder(*encoder)
    if model is None:
        return None
    near = near_articles(db, catalog, focus, model, encoder[1], wait=wait)
    del model
    _give_back_freed_memory()
    return near


def _give_back_freed_memory() -> None:
    """Return the heap's free pages to the system. glibc keeps what was freed for later:
    at 10^6 articles this process still held 447 MB once the index had answered and its
    model was let go (253 MB so), and peaked at 793 MB reading the texts (609 MB so)."""
    gc.collect()
    # Linux with a C library other than glibc (musl) has no malloc_trim.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(AttributeError):
            ctypes.CDLL(None).malloc_trim(0)
