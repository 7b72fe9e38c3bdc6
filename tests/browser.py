"""Debian's Chromium (installed by `make browser`) driven by Playwright, for the tests
that look at pages the way a user does.

A test module gets one browser (`browser`, stopped after the module) and each test a
fresh page (`page`). Not pytest-playwright's fixtures: its browser lives for the whole
test session, and while Playwright's synchronous API runs, the thread it started in has
an event loop marked as running, so Prefect's synchronous calls in any later test of
that worker return coroutines instead (seen in test_maintenance). Playwright's own
browser download needs the network; Chromium's sandbox needs user namespaces, which
containers often lack.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def chromium() -> str:
    """Its path; missing outside CI skips the test, in CI fails it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed: run `make browser` (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
