"""Batches detected in the worker processes a few at a time, each result as it comes.

A re-match once scheduled every batch of the archive at once: the texts of all of them
waited in the pool's queue and every result was kept until the end (1.6 GB for 10^5
articles; 10.6 GB and climbing at 10^6). Here at most `window` batches are in flight,
the next read only as one finishes, so memory holds a window whatever the archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait

from claimwatch.matching.detector import Detection
from claimwatch.records import StoredText
from claimwatch.workers.pool import PagePool

# How often a wait for the workers looks whether it was asked to stop (seconds).
POLL = 0.2


def detected(
    pool: PagePool,
    batches: Iterable[list[StoredText]],
    window: int,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[list[str], Detection]]:
    """Each batch's URLs and what detection found in it, in the order batches finish.

    Reads a batch only when fewer than `window` are in flight. Ends early, with the
    batches in flight cancelled, once `stop()` is true (looked at every POLL seconds)
    or when the caller stops iterating.
    """
    pending: dict[Future[Detection], list[str]] = {}
    source = iter(batches)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < window and not stop():
                texts = next(source, None)
                if texts is None:
                    exhausted = True
                else:
                    pending[pool.detect(texts)] = [t.url for t in texts]
                    del texts  # the worker has its copy
            if stop() or not pending:
                return
            done, _ = wait(pending, timeout=POLL, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
    finally:
        for future in pending:
            future.cancel()


def grouped(
    results: Iterable[tuple[list[str], Detection]], batches: int
) -> Iterator[tuple[int, list[str], Detection]]:
    """`results` joined `batches` at a time (the last group maybe fewer): how many batches,
    their URLs and what was found in them. Every result that came is in a group, also
    when `results` ends early."""
    urls: list[str] = []
    found: list[Detection] = []
    for batch_urls, detection in results:
        urls += batch_urls
        found.append(detection)
        if len(found) == batches:
            yield len(found), urls, Detection.combined(found)
            urls, found = [], []
    if found:
        yield len(found), urls, Detection.combined(found)
