"""The period a page covers, said with the option that changes it, and what lies before it.

An overview over the last 90 days of a warehouse whose pages are from 2018 shows
nothing; without a word on the period, that reads as "claimwatch found nothing".
Every page therefore names its period, the option that changes it, and, when it is
empty while older matches exist, the latest of them and a command that includes it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from claimwatch.dates import utcnow
from claimwatch.store.connection import connect
from claimwatch.store.reports import Report


@dataclass(frozen=True, slots=True)
class PeriodControl:
    """How a reader changes the period: the option's name and, where there is one, the command
    that made the page (its `-p days` left out), for the note to complete."""

    option: str = "-p days N"
    command: str | None = "claimwatch report overview --format html"
    tail: str = ""  # the command's options that follow its parameters (--db, -o)


# The overview a digest run writes takes its period from the digest file.
DIGEST_FILE = PeriodControl(option="days: N under overview: in the digest file", command=None)


@dataclass(frozen=True, slots=True)
class Period:
    """The last `days` days up to `end` (all time for 0), and the matches before it."""

    days: int
    start: date | None  # None: all time, where no match gives a first day
    end: date
    control: PeriodControl
    before: int = 0  # matches the other filters allow, older than the period
    latest_before: datetime | None = None  # the newest of them

    @property
    def label(self) -> str:
        """As the page says it: the last 90 days (2026-09-06 to 2026-12-05), or all time."""
        if self.start is None:
            return f"all time (to {self.end:%Y-%m-%d})"
        span = f"({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"
        return f"the last {self.days} days {span}" if self.days > 0 else f"all time {span}"

    @property
    def change(self) -> str:
        return f"change it with {self.control.option} (0: all time)"

    @property
    def all_time(self) -> str:
        return self.control.option.replace("N", "0", 1)

    def note(self, now: datetime, *, empty: bool) -> str:
        """One line for a text form: the period and its option; for an empty period, what
        lies before it and what includes it."""
        if not empty:
            return f"Period: {self.label}; {self.change}."
        if self.latest_before is None:
            return f"No matches in {self.label}, nor before it; {self.change}."
        them = "it" if self.before == 1 else "them"
        return (
            f"No matches in {self.label}. The warehouse has {self.before} older "
            f"match{'es' if self.before != 1 else ''}, the latest seen "
            f"{self.latest_before:%Y-%m-%d}; to include {them}: {self.widened(now)} "
            f"(or {self.all_time} for all time)."
        )

    def widened(self, now: datetime) -> str | None:
        """What includes the latest match before the period: a command, or the setting."""
        if self.latest_before is None:
            return None
        days = (now - self.latest_before).days + 1
        if self.control.command is None:
            return self.control.option.replace("N", str(days), 1)
        return f"{self.control.command} -p days {days}{self.control.tail}"


def overview_period(
    db: Path,
    values: dict[str, Any],
    start: datetime | None,
    end: datetime,
    control: PeriodControl,
    *,
    wait: float = 0.0,
) -> Period:
    """The overview's period for its bound parameters (days, claim_id, min_score,
    include_sample), with the matches those filters allow before it."""
    days = int(values["days"])
    before, latest = 0, None
    if days > 0 and start is not None:
        before, latest = matches_before(
            db,
            start,
            claim_id=values.get("claim_id"),
            min_score=float(values.get("min_score") or 0.0),
            include_sample=bool(values.get("include_sample", True)),
            wait=wait,
        )
    return Period(days, start.date() if start else None, end.date(), control, before, latest)


def report_period(
    db: Path, report: Report, given: dict[str, str], control: PeriodControl, *, wait: float = 0.0
) -> Period:
    """The period of a report with a `days` parameter (the overview's text forms)."""
    values = report.bind(given)
    now = utcnow()
    days = int(values["days"])
    start = now - timedelta(days=days) if days > 0 else None
    return overview_period(db, values, start, now, control, wait=wait)


def matches_before(
    db: Path,
    moment: datetime,
    *,
    claim_id: str | None,
    min_score: float,
    include_sample: bool,
    wait: float = 0.0,
) -> tuple[int, datetime | None]:
    """How many matches were seen before `moment`, and the latest of them ("seen": the
    publication time, or the fetch time where a page gave none, as the reports read it)."""
    with connect(db, read_only=True, wait=wait) as con:
        row = con.execute(
            """
            SELECT count(*), max(coalesce(published_at, fetched_at))
            FROM claim_matches
            WHERE coalesce(published_at, fetched_at) < ?
              AND (?::VARCHAR IS NULL OR claim_id = ?)
              AND score >= ?
              AND (NOT is_sample OR ?)
            """,
            [moment, claim_id, claim_id, min_score, include_sample],
        ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def report_control(name: str, fmt: str, given: dict[str, str], extra: list[str]) -> PeriodControl:
    """The command line that reproduces a report, for its `days` to be added (`extra`: the
    options after its parameters)."""
    words = ["claimwatch", "report", name]
    if fmt != "table":
        words += ["--format", fmt]
    for key, value in given.items():
        if key != "days":
            words += ["-p", key, value]
    tail = " " + shlex.join(extra) if extra else ""
    return PeriodControl(command=shlex.join(words), tail=tail)
