"""Reports as self-contained HTML pages: charts inline as SVG, styles inline, no script.

`overview` gets its own page: for a period and per claim, mentions over time,
the outlets, who carried it first, and the latest evidence. Any other report is
written as a plain table. The pages forbid scripts and remote loads through
their Content-Security-Policy, so a hostile headline can do nothing even if it
slipped past escaping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup

from claimwatch import __version__
from claimwatch.dates import utcnow
from claimwatch.output import charts
from claimwatch.output.period import PeriodControl, overview_period
from claimwatch.output.provenance import confirmed_label, confirmed_summary
from claimwatch.output.render import render_html
from claimwatch.store.reports import Report, get_report, run_report

# The named reports the overview page is drawn from, each bound with its own parameters.
PARTS = ("overview", "mentions-per-day", "first-seen", "claim-evidence")


@dataclass
class Evidence:
    seen_at: datetime | None
    outlet: str
    title: str | None
    score: float
    matched_text: str
    snippet: str
    link: str | None
    confirmed: str | None = None  # "confirmed by ana on 2026-12-05", for a person's match


@dataclass
class ClaimPanel:
    claim_id: str
    claim_text: str
    mentions: int
    outlets: int
    stories: int
    first_seen: datetime
    first_outlet: str
    last_seen: datetime
    best_score: float
    top_outlets: list[str]
    best_machine_score: float | None = None
    confirmed: str | None = None  # who confirmed matches of the claim, and when
    mentions_chart: Markup = field(default_factory=Markup)
    outlets_chart: Markup = field(default_factory=Markup)
    timeline_chart: Markup = field(default_factory=Markup)
    evidence: list[Evidence] = field(default_factory=list)


def overview_page(
    db: Path,
    reports_dir: Path,
    given: dict[str, str] | None = None,
    *,
    wait: float = 0.0,
    control: PeriodControl | None = None,
) -> str:
    """The overview report as one HTML page; `control` says how a reader changes its period."""
    given = dict(given or {})
    parts = {name: get_report(reports_dir, name) for name in PARTS}
    known = parts["overview"].parameters
    values = parts["overview"].bind(given)  # checks names and types once, for every part

    def run(name: str) -> list[dict[str, Any]]:
        report = parts[name]
        own = {p.name for p in report.parameters}
        result = run_report(db, report, {k: v for k, v in given.items() if k in own}, wait=wait)
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    summary, per_day, firsts, evidence = (run(name) for name in PARTS)
    now = utcnow()
    days = int(values["days"])
    if days > 0:
        start = now - timedelta(days=days)
    else:
        start = min((r["first_seen"] for r in summary), default=now - timedelta(days=30))
    end = max([now, *(r["last_seen"] for r in summary)])
    start_day, end_day = start.date(), end.date()

    daily: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for row in per_day:
        daily[row["claim_id"]].append((row["day"], row["mentions"]))
    outlets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in firsts:
        outlets[row["claim_id"]].append(row)
    latest: dict[str, list[Evidence]] = defaultdict(list)
    for row in evidence:
        latest[row["claim_id"]].append(
            Evidence(
                row["seen_at"],
                row["outlet"],
                row["title"],
                row["score"],
                row["matched_text"],
                row["snippet"],
                row["link"],
                confirmed_label(row.get("confirmed_by"), row.get("confirmed_at")),
            )
        )

    top = int(values["top"])
    panels = []
    for row in summary:
        claim = row["claim_id"]
        ordered = outlets[claim]
        by_count = sorted(ordered, key=lambda r: (-r["articles"], r["first_seen"]))
        panel = ClaimPanel(**{k: row[k] for k in ClaimPanel.__dataclass_fields__ if k in row})
        panel.confirmed = confirmed_summary(
            row.get("confirmed", 0), row.get("confirmed_by"), row.get("last_confirmed_at")
        )
        panel.mentions_chart = charts.time_bars(
            daily[claim], start_day, end_day, label=f"Mentions over time: {claim}"
        )
        panel.outlets_chart = charts.outlet_bars(
            [(r["outlet"], r["articles"]) for r in by_count[: max(top, 8)]],
            label=f"Articles per outlet: {claim}",
        )
        panel.timeline_chart = charts.first_seen_timeline(
            [(r["outlet"], r["first_seen"], r["hours_after_first"]) for r in ordered[:12]],
            min(start, *(r["first_seen"] for r in ordered)) if ordered else start,
            end,
            label=f"First appearance per outlet: {claim}",
        )
        panel.evidence = latest[claim]
        panels.append(panel)

    all_days: dict[date, int] = defaultdict(int)
    for row in per_day:
        all_days[row["day"]] += row["mentions"]
    return render_html(
        "overview.html.j2",
        title="claimwatch overview",
        version=__version__,
        generated_at=now,
        period=overview_period(db, values, start, end, control or PeriodControl(), wait=wait),
        parameters=[(p.name, "null" if values[p.name] is None else values[p.name]) for p in known],
        panels=panels,
        totals={
            "mentions": sum(p.mentions for p in panels),
            "claims": len(panels),
            "outlets": len({r["outlet"] for r in firsts}),
        },
        overall_chart=charts.time_bars(
            sorted(all_days.items()),
            start_day,
            end_day,
            label="Mentions of all claims over time",
            width=1000,
        ),
        unit="day" if charts.buckets(start_day, end_day)[0] == 1 else "week",
        sources=", ".join(PARTS),
    )


def table_page(report: Report | None, title: str, columns: list[str], rows: list[Any]) -> str:
    """Any result as a self-contained HTML table."""
    return render_html(
        "table.html.j2",
        title=title,
        description=report.description if report else "",
        version=__version__,
        generated_at=utcnow(),
        columns=columns,
        rows=rows,
    )


def report_page(
    db: Path,
    reports_dir: Path,
    name: str,
    given: dict[str, str],
    *,
    wait: float = 0.0,
    control: PeriodControl | None = None,
) -> str:
    """A named report as HTML: the overview page for `overview`, a table otherwise."""
    if name == "overview":
        return overview_page(db, reports_dir, given, wait=wait, control=control)
    report = get_report(reports_dir, name)
    result = run_report(db, report, given, wait=wait)
    return table_page(report, report.title, result.columns, result.rows)
