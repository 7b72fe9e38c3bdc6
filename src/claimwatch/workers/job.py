"""What a worker process does with one fetched page: extract its article, find the claims
(or, for a re-match, with stored articles: find the claims).

Runs only inside the pool's worker processes (pool.py). Each worker builds its
detector (matcher, and encoder if any) once, when it starts, so a batch pays for the
catalog and the model once per worker.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from claimwatch.matching.detector import Detection, Detector, DetectorSpec
from claimwatch.records import Article, Failure, FeedItem, Match, StoredText, Suggestion
from claimwatch.store.stories import Halves, simhashes

if TYPE_CHECKING:
    from claimwatch.fetching.client import Page

# Tests set this to make a worker crash or hang on a page that carries a fault marker.
FAULTS_VARIABLE = "CLAIMWATCH_TEST_FAULTS"
FAULT_MARKER = b"claimwatch-test-fault:"

_detector: Detector | None = None


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """One page's result: its article, matches and suggestions, or why there is no article."""

    article: Article | None
    failure: Failure | None
    matches: tuple[Match, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    # The article's story sketch (store.stories), made here rather than in the process
    # that stores it: its CPU would hold that process's lock while it feeds the workers.
    sketch: Halves = None


def start_worker(spec: DetectorSpec | None, parent: int) -> None:
    """Pool initializer: no core files, leave with the parent, build the detector once."""
    global _detector
    # A parser crash ends the worker; its core file would only fill the disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()
    _detector = spec.build() if spec is not None else None


def detect_texts(texts: list[StoredText]) -> Detection:
    """Find the worker's catalog in stored articles (a re-match: nothing to extract)."""
    if _detector is None:
        raise RuntimeError("a re-match needs workers started with a detector")
    return Detection.combined(
        _detector.detect(t.url, t.text, title=t.title, meaning=t.meaning, near=t.near)
        for t in texts
    )


def process_page(page: Page, item: FeedItem, cpu_seconds: float) -> PageOutcome:
    """Extract `page` within `cpu_seconds` of CPU (the kernel ends the worker past it), then
    find the worker's catalog in the article."""
    # Imported here: a re-match's workers never extract, and trafilatura, lxml and httpx
    # took 22 MB in each of them.
    from claimwatch.fetching.extract import ExtractError, extract_article

    try:
        with cpu_limit(cpu_seconds):
            _test_fault(page)
            article = extract_article(page, item)
    except ExtractError as exc:
        return PageOutcome(None, Failure(item.source, item.url, "extract", str(exc)))
    except Exception as exc:  # one hostile page must not take the batch with it
        reason = f"extractor error: {exc!r}"[:500]
        return PageOutcome(None, Failure(item.source, item.url, "extract", reason))
    halves = simhashes(article.text)
    if _detector is None:
        return PageOutcome(article, None, sketch=halves)
    found = _detector.detect(article.url, article.text, title=article.title)
    return PageOutcome(article, None, tuple(found.matches), tuple(found.suggestions), halves)


@contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Let the kernel stop this process (SIGXCPU) once the block has used `seconds` of CPU.

    A limit on the whole process, set per page: a worker handles one page at a time.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    limit = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _exit_with(parent: int) -> None:
    """End this worker once the process that started it is gone (even if it was SIGKILLed)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _test_fault(page: Page) -> None:
    """Crash or hang on a marked page, only where tests ask for it (CLAIMWATCH_TEST_FAULTS=1)."""
    if os.environ.get(FAULTS_VARIABLE) != "1" or FAULT_MARKER not in page.content:
        return
    fault = page.content.split(FAULT_MARKER, 1)[1][:16].split()[0].decode("ascii", "replace")
    if fault == "abort":
        os.abort()
    elif fault == "segfault":
        ctypes.string_at(0)
    elif fault == "spin":
        while True:
            pass
    elif fault == "sleep":
        time.sleep(3600)
    elif fault == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
