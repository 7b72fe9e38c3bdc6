"""The monitor flow on Dask clusters finds what the default runner finds.

Submitted tasks (discover; fetch, extract, match and store each batch) run in the
Dask worker processes, which commit their batches to the warehouse themselves
(tests/test_postgres_catalog.py shows PostgreSQL recording who commits). One
test runs a local two-worker cluster the flow starts itself; another starts a
scheduler and workers as separate processes (as on other machines) and
selects them through the settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prefect.flows import load_flow_from_entrypoint
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from claimwatch.store.connection import connect
from tests.conftest import ROOT, SEEDS, write_sources
from tests.processes import dask_processes, free_port, wait_for_port

pytestmark = pytest.mark.slow
ENTRYPOINT = f"{ROOT / 'flows' / 'monitor.py'}:monitor"


@pytest.fixture(scope="module")
def harness(prefect_harness: None) -> Iterator[None]:
    yield


def _pairs(db: Path) -> set[tuple[str, str]]:
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT article_url, claim_id FROM claim_matches").fetchall()
    return {(url, claim) for url, claim in rows}


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def dask_log() -> Iterator[_Recorder]:
    """What the Dask task runner logs: proof that it, not the default runner, ran the tasks.

    Installed after a first run, once Prefect has configured logging in this process.
    """
    logger = logging.getLogger("prefect.task_runner.dask")
    recorder, level = _Recorder(), logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.INFO)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)


def test_dask_runner_finds_the_same_matches(harness: None, sample_url: str, tmp_path: Path) -> None:
    monitor: Any = load_flow_from_entrypoint(ENTRYPOINT)
    sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
    args = {"sources": str(sources), "claims": str(SEEDS / "claims.yaml")}

    threads = monitor(**args, db=str(tmp_path / "threads.duckdb"))
    with dask_log() as log:
        on_dask = monitor.with_options(
            task_runner=DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": 2,
                    "threads_per_worker": 1,
                    "processes": True,
                    "dashboard_address": ":0",  # never collide with another cluster's 8787
                }
            )
        )(**args, db=str(tmp_path / "dask.duckdb"))

    assert any("Creating a new Dask cluster" in m for m in log.messages), log.messages
    assert on_dask.stats.articles_new == threads.stats.articles_new >= 12
    assert on_dask.stats.matches_new == threads.stats.matches_new >= 20
    expected = _pairs(tmp_path / "threads.duckdb")
    assert len(expected) == threads.stats.matches_new
    assert _pairs(tmp_path / "dask.duckdb") == expected


def test_separate_scheduler_and_workers_chosen_by_settings(
    harness: None, sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = ["--dashboard-address", "127.0.0.1:0"]
    scheduler = ["scheduler", "--host", "127.0.0.1", "--port", str(port), *quiet]
    workers = ["worker", address, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1"]
    with dask_processes(scheduler, tmp_path), dask_processes([*workers, *quiet], tmp_path):
        wait_for_port(port, 30)
        monkeypatch.setenv("CLAIMWATCH_TASK_RUNNER", "dask")
        monkeypatch.setenv("CLAIMWATCH_DASK_ADDRESS", address)
        monitor: Any = load_flow_from_entrypoint(ENTRYPOINT)
        sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
        with dask_log() as log:
            summary = monitor(
                sources=str(sources), claims=str(SEEDS / "claims.yaml"), db=str(tmp_path / "w.db")
            )
    assert any(f"existing Dask cluster at {address}" in m for m in log.messages), log.messages
    assert summary.stats.failures == 0
    assert summary.stats.matches_new >= 20
    assert len(_pairs(tmp_path / "w.db")) == summary.stats.matches_new


def test_task_runner_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(load_flow_from_entrypoint(ENTRYPOINT).task_runner, ThreadPoolTaskRunner)
    monkeypatch.setenv("CLAIMWATCH_TASK_RUNNER", "dask")
    monkeypatch.setenv("CLAIMWATCH_DASK_ADDRESS", "tcp://dask-scheduler:8786")
    runner = load_flow_from_entrypoint(ENTRYPOINT).task_runner
    assert isinstance(runner, DaskTaskRunner)
    assert runner.address == "tcp://dask-scheduler:8786"  # not contacted: the flow is only loaded
