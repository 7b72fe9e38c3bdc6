"""Debian's Chromium, the one browser the tests use (installed by `make browser`)."""

from __future__ import annotations

import os
import shutil

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
