"""A pass summary in Markdown, for people who watch the runs rather than the warehouse.

The monitor flow publishes it as a Prefect artifact, so each run's page in the
UI says what the pass stored and which sources or pages failed, without SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from claimwatch.records import Failure, RunStats
from claimwatch.urls import without_credentials

MAX_LINES = 20


def summary_markdown(
    stats: RunStats, failures: Sequence[Failure], claims_found: Counter[str] | None = None
) -> str:
    """The counts of a pass, the claims it found (in the most articles first) and its
    failures."""
    lines = [
        f"# Monitoring pass: {stats.status}",
        "",
        "| sources | failed sources | links | already stored | new articles | new matches "
        "| failures |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {stats.sources_total} | {stats.sources_failed} | {stats.items_seen} "
        f"| {stats.pages_skipped} | {stats.articles_new} | {stats.matches_new} "
        f"| {stats.failures} |",
    ]
    if claims_found:
        per_claim = claims_found.most_common()
        lines += ["", "## Claims found", "", "| claim | articles |", "|---|---:|"]
        lines += [f"| {_cell(claim)} | {count} |" for claim, count in per_claim[:MAX_LINES]]
        lines += _more(len(per_claim))
    if failures:
        lines += ["", "## Failures", "", "| stage | source | url | reason |", "|---|---|---|---|"]
        lines += [
            f"| {f.stage} | {_cell(f.source)} | {_cell(f.url)} | {_cell(f.reason)} |"
            for f in failures[:MAX_LINES]
        ]
        lines += _more(len(failures))
    lines += ["", f"Run `{stats.run_id}`, started {stats.started_at:%Y-%m-%d %H:%M:%S} UTC."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """One table cell: no line breaks, pipes escaped, no credentials in URLs."""
    return " ".join(without_credentials(text).split()).replace("|", "\\|")


def _more(total: int) -> list[str]:
    return ["", f"… and {total - MAX_LINES} more."] if total > MAX_LINES else []
