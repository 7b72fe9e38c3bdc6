"""A worker that crashes costs the suite its test, not the run (tests/scheduling.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Groups run in this order on one worker: "before" finishes, then the worker dies in
# "crash", leaving a test of that group and two single-test groups to a new worker.
SUITE = """
import os
import pytest

@pytest.mark.xdist_group("before")
def test_before_1(): pass

@pytest.mark.xdist_group("before")
def test_before_2(): pass

@pytest.mark.xdist_group("crash")
def test_dies(): os._exit(3)

@pytest.mark.xdist_group("crash")
def test_after_in_its_group(): pass

@pytest.mark.xdist_group("single-1")
def test_single_1(): pass

@pytest.mark.xdist_group("single-2")
def test_single_2(): pass
"""

CONFTEST = """
from tests.scheduling import CrashSafeGroupScheduling

def pytest_xdist_make_scheduler(config, log):
    return CrashSafeGroupScheduling(config, log)
"""


def test_a_crashed_worker_costs_its_test_and_the_rest_run(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_groups.py").write_text(SUITE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # xdist's own scheduler hangs here until killed; this one must end within the timeout.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "1", "--dist", "loadgroup", "-p", "no:cacheprovider",
         "-rA", "test_groups.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out
    assert "1 failed, 5 passed" in out, out
    assert "FAILED test_groups.py::test_dies" in out, out
    # The test it died on ran once: not again on the new worker.
    assert out.count("replacing crashed worker") == 1, out
