"""Worker processes for the CPU work of a pass: a crashed or hung parser costs one page.

Extraction (trafilatura on lxml) and matching run in processes, one per core, so a
pass uses every core and a native crash (`double free or corruption`, a segfault, the
kernel's out-of-memory killer) ends one worker, not the pass. pebble's ProcessPool
replaces a worker that died or ran past its time and fails only that page's future.

A page whose worker died is tried once more in a process of its own (the crash may
have been a neighbour's doing); if that one dies too, the page is recorded as an
extraction failure with the reason, and the pass goes on.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from claimwatch.fetching.client import Page
from claimwatch.matching.detector import Detection, DetectorSpec
from claimwatch.records import Failure, FeedItem, StoredText
from claimwatch.workers.config import WorkerConfig
from claimwatch.workers.job import PageOutcome, detect_texts, process_page, start_worker

log = logging.getLogger(__name__)
T = TypeVar("T")

# Not `fork`: the pass has threads (fetching, Prefect), and a forked child inherits
# their locks in whatever state they were.
START_METHOD = "spawn"


def worker_count() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class PagePool:
    """Processes that extract and match pages, started once and fed page by page.

    `submit` returns a future that always resolves to a PageOutcome, never raises.
    """

    def __init__(
        self, spec: DetectorSpec | None = None, config: WorkerConfig | None = None
    ) -> None:
        config = config or WorkerConfig()
        self.cpu_seconds = config.cpu_seconds
        self.wall_seconds = config.wall_seconds
        self.workers = config.processes or worker_count()
        context = multiprocessing.get_context(START_METHOD)
        if multiprocessing.current_process().daemon:
            # A Dask worker runs tasks in a daemonic process, which multiprocessing forbids
            # to start children. Ours end with their parent all the same (job._exit_with).
            multiprocessing.current_process().daemon = False
        initargs = (spec, os.getpid())
        self._pool = ProcessPool(
            max_workers=self.workers, initializer=start_worker, initargs=initargs, context=context
        )
        # Second tries: a new process for each page (max_tasks=1), away from the others.
        self._fresh = ProcessPool(
            max_workers=1, max_tasks=1, initializer=start_worker, initargs=initargs, context=context
        )

    def submit(self, page: Page, item: FeedItem) -> Future[PageOutcome]:
        outcome: Future[PageOutcome] = Future()
        self._attempt(self._pool, page, item, outcome, last=False)
        return outcome

    def detect(self, texts: list[StoredText]) -> Future[Detection]:
        """Find the catalog in stored articles, in a worker (a re-match uses every core)."""
        return self._pool.schedule(detect_texts, args=(texts,))

    def _attempt(
        self,
        pool: ProcessPool,
        page: Page,
        item: FeedItem,
        outcome: Future[PageOutcome],
        *,
        last: bool,
    ) -> None:
        """Run the page in `pool`; `outcome` gets its result, or a second try if not `last`."""
        done = pool.schedule(
            process_page, args=(page, item, self.cpu_seconds), timeout=self.wall_seconds
        )
        done.add_done_callback(lambda ended: self._settle(ended, page, item, outcome, last=last))

    def _settle(
        self,
        done: Future[PageOutcome],
        page: Page,
        item: FeedItem,
        outcome: Future[PageOutcome],
        *,
        last: bool,
    ) -> None:
        reason = self._lost(done)
        if reason is None:
            outcome.set_result(done.result())
        elif last:
            outcome.set_result(_failed(item, reason))
        else:
            log.warning("%s: %s; trying it once more in a new worker", item.url, reason)
            try:
                self._attempt(self._fresh, page, item, outcome, last=True)
            except RuntimeError:  # the pool is closing: the pass is over
                outcome.set_result(_failed(item, reason))

    def _lost(self, done: Future[PageOutcome]) -> str | None:
        """Why a page's worker gave no outcome (it died or ran out of time), or None."""
        try:
            done.result()
        except ProcessExpired as exc:
            return self._death(exc.exitcode)
        except FutureTimeout:
            return f"extraction hung for over {self.wall_seconds:g} s"
        except Exception as exc:  # a result that could not be pickled back, say
            return f"extractor error: {exc!r}"[:500]
        return None

    def _death(self, exitcode: int) -> str:
        if exitcode == -signal.SIGXCPU:
            return f"extraction over its {self.cpu_seconds:g} s CPU budget"
        if exitcode < 0:
            return f"extractor crashed (signal {-exitcode})"
        return f"extractor exited with status {exitcode}"

    def close(self) -> None:
        """Stop the workers now; pages still queued are dropped (their pass is over)."""
        for pool in (self._pool, self._fresh):
            pool.stop()
            pool.join()

    def __enter__(self) -> PagePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def in_own_process(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` run in a process started for it and ended after, so that what
    it took in memory goes back to the system; a stop asked meanwhile (Ctrl-C, SIGTERM)
    ends that process too."""
    pool = ProcessPool(
        max_workers=1,
        initializer=start_worker,
        initargs=(None, os.getpid()),
        context=multiprocessing.get_context(START_METHOD),
    )
    try:
        result: T = pool.schedule(function, args=args).result()
        return result
    finally:
        pool.stop()
        pool.join()


def _failed(item: FeedItem, reason: str) -> PageOutcome:
    return PageOutcome(None, Failure(item.source, item.url, "extract", reason))


_shared: dict[tuple[str, WorkerConfig], PagePool] = {}
_shared_lock = threading.Lock()


def shared_pool(spec: DetectorSpec | None, config: WorkerConfig | None = None) -> PagePool:
    """This process's pool for `spec` (started on first use, kept for the next batch).

    Keyed by the detector's content, so a task shipped to another process (Dask) finds
    the pool it started for an earlier batch of the same pass.
    """
    config = config or WorkerConfig()
    key = (spec.key() if spec is not None else "", config)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None:
            for stale in _shared.values():  # another catalog: its pass is over
                stale.close()
            _shared.clear()
            pool = _shared[key] = PagePool(spec, config)
        return pool


@atexit.register
def close_shared_pools() -> None:
    """Stop this process's pools (the end of a pass; also at interpreter exit)."""
    with _shared_lock:
        for pool in _shared.values():
            pool.close()
        _shared.clear()
