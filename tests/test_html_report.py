"""The HTML overview: self-contained, escaped, and rendered by a real headless Chromium."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from tests.browser import chromium
from tests.commands import claimwatch
from tests.conftest import ROOT
from tests.warehouses import UKRAINE, WAR_QUOTE, populated_warehouse

ARTIFACTS = ROOT / "test-artifacts"


def headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    db = populated_warehouse(tmp / "w.duckdb", catalog)
    out = tmp / "overview.html"
    result = claimwatch(
        "report", "overview", "-p", "days", "0", "--format", "html", "-o", str(out), "--db", str(db)
    )
    assert result.returncode == 0, result.stderr
    return out


def test_the_page_is_self_contained_and_escaped(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; NATO &amp; the “Pacific”" in html
    assert not re.search(r'(?:src|href)="(?!#|http://(?:wire|state-daily|demo)\.example/)', html)
    assert "default-src 'none'" in html
    assert html.count('<svg class="chart') == 1 + 3 * 2  # overall, then 3 per claim
    assert f"<mark>{WAR_QUOTE}</mark>" in html
    assert f'id="claim-{UKRAINE}"' in html


def test_chromium_renders_the_charts_and_the_escaped_title(page: Path, tmp_path: Path) -> None:
    browser = chromium()
    dom = headless(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    # The charts are in the rendered DOM, with their bars and dots.
    assert rendered.count('<svg class="chart') == 7
    assert len(re.findall(r'<rect class="bar"', rendered)) >= 6
    assert '<circle class="dot"' in rendered
    # The headline's script is text, not an element: the DOM shows it escaped.
    assert "&lt;script&gt;alert('x')&lt;/script&gt; NATO &amp; the “Pacific”" in rendered
    assert "<script" not in rendered.lower()

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "overview.png"
    shot.unlink(missing_ok=True)
    done = headless(
        browser,
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000, "the screenshot looks blank"
