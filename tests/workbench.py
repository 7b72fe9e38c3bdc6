"""The workbench as its tests meet it: a warehouse filled by a real pass over the sample,
`claimwatch ui` serving it on a free loopback port, and Debian's Chromium driven by
Playwright (pytest-playwright's `page` fixture, pointed at it in tests/conftest.py)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.commands import claimwatch
from tests.conftest import ROOT, SEEDS, write_sources
from tests.processes import base_env, free_port, started, wait_for

ARTIFACTS = ROOT / "test-artifacts"
_BUILT: dict[str, Path] = {}


def sample_warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of a warehouse that `claimwatch run` filled from the sample, with the
    seed catalog (one pass per test process; each caller gets its own copy to change)."""
    built = _BUILT.get(sample_url)
    if built is None:
        tmp = tmp_path_factory.mktemp("workbench-pass")
        sources = write_sources(
            tmp / "sources.yaml", ("sample", sample_url + "feed.xml"), sample=True
        )
        built = tmp / "lake"
        result = claimwatch(
            "run",
            "--sources",
            str(sources),
            "--claims",
            str(SEEDS / "claims.yaml"),
            "--db",
            str(built),
        )
        assert result.returncode == 0, result.stderr[-3000:]
        _BUILT[sample_url] = built
    copy = tmp_path_factory.mktemp("workbench") / "lake"
    shutil.copytree(built, copy)
    return copy


@contextmanager
def workbench(db: Path, log_dir: Path, *options: str, claims: Path | None = None) -> Iterator[str]:
    """`claimwatch ui` over `db` on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "claimwatch",
        "ui",
        "--db",
        str(db),
        "--port",
        str(port),
        "--claims",
        str(claims or SEEDS / "claims.yaml"),
        "--reviewer",
        "tester",
        *options,
    ]
    env = base_env(log_dir / "home")
    with started(command, env, log_dir / "ui.log") as process:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool | None:
            try:
                answer = httpx.get(f"{url}/static/workbench.css", timeout=2)
                return answer.status_code == 200 or None
            except httpx.TransportError:
                return None

        wait_for("the workbench", answers, 60, process)
        yield url


def screenshot(page: object, name: str) -> Path:
    """The page as a PNG kept in test-artifacts/ (the README's pictures come from here)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"workbench-{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
