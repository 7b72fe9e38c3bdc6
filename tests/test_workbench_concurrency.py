"""The workbench and a pass at once: neither fails, pages keep answering while the pass
commits, and what the pass stored shows on the next page load."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from claimwatch.sample_server import serve_directory
from tests.commands import claimwatch, claimwatch_process
from tests.conftest import SAMPLE, SEEDS, write_sources
from tests.workbench import sample_warehouse, workbench

pytestmark = pytest.mark.slow


def test_pages_answer_while_a_pass_stores_and_the_pass_completes(
    sample_url: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    db = sample_warehouse(sample_url, tmp_path_factory)
    before = httpx.Client(timeout=60)
    with workbench(db, tmp_path) as url, serve_directory(SAMPLE) as other_copy:
        mentions_before = sum(r["mentions"] for r in before.get(url + "/?format=json").json())
        # The same pages under another address: every article is new to the warehouse.
        sources = write_sources(tmp_path / "sources.yaml", ("again", other_copy + "feed.xml"))
        answers: list[int] = []
        stop = threading.Event()

        def browse() -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    answers.append(client.get(url + "/").status_code)
                    time.sleep(0.05)

        browser = threading.Thread(target=browse)
        browser.start()
        try:
            ran = claimwatch_process(
                "run",
                "--sources",
                str(sources),
                "--claims",
                str(SEEDS / "claims.yaml"),
                "--db",
                str(db),
            )
        finally:
            stop.set()
            browser.join()
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert len(answers) >= 5, "the pages were not asked while the pass ran"
        assert set(answers) == {200}, answers
        mentions_after = sum(r["mentions"] for r in before.get(url + "/?format=json").json())
    before.close()
    assert mentions_after > mentions_before
    # The CLI agrees with the page: the warehouse is whole.
    counted = claimwatch(
        "sql", "SELECT count(*) AS n FROM matches", "--format", "json", "--db", str(db)
    )
    assert counted.returncode == 0 and f'"n": {mentions_after}' in counted.stdout, counted.stdout
