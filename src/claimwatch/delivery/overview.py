"""The HTML overview a digest run writes beside its digests, and its summary table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claimwatch.delivery.config import OverviewOptions
from claimwatch.output.html_report import overview_page
from claimwatch.output.period import DIGEST_FILE
from claimwatch.store.reports import get_report, run_report


@dataclass(frozen=True, slots=True)
class Overview:
    """The page written, and the claims it covers as rows of text (for a table artifact)."""

    path: Path
    days: int
    rows: list[dict[str, str]]


def write_overview(
    db: Path, reports_dir: Path, options: OverviewOptions, *, wait: float = 0.0
) -> Overview:
    """Write the overview page atomically; return it with the `overview` report's rows."""
    given = {"days": str(options.days), "include_sample": str(options.include_sample).lower()}
    # The page's period comes from the digest file, and says so.
    page = overview_page(db, reports_dir, given, wait=wait, control=DIGEST_FILE)
    write_file(options.path, page)
    summary = run_report(db, get_report(reports_dir, "overview"), given)
    rows = [dict(zip(summary.columns, map(str, row), strict=True)) for row in summary.rows]
    return Overview(options.path, options.days, rows)


def write_file(path: Path, text: str) -> None:
    """Write `text` atomically: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("." + path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
