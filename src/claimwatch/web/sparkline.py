"""Small inline SVG charts: counts over time in a table cell."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT = 120, 24


def periods(first: date, last: date, count: int = 24) -> list[date]:
    """`count` equal periods from `first` to `last` (their start days)."""
    days = max((last - first).days + 1, count)
    step = days / count
    return [first + timedelta(days=int(i * step)) for i in range(count)]


def bucket(starts: Sequence[date], day: date) -> int:
    """The index of the period of `starts` that holds `day`."""
    index = 0
    for i, start in enumerate(starts):
        if day >= start:
            index = i
    return index


def sparkline(counts: Sequence[int], label: str) -> Markup:
    """Bars of `counts`, scaled to the largest; `label` says what they are (a tooltip and
    the text a screen reader reads)."""
    top = max(counts, default=0) or 1
    width = WIDTH / max(len(counts), 1)
    bars = []
    for i, count in enumerate(counts):
        if count:
            height = max(1.5, HEIGHT * count / top)
            bars.append(
                f'<rect x="{i * width:.1f}" y="{HEIGHT - height:.1f}" '
                f'width="{max(width - 1, 1):.1f}" height="{height:.1f}"/>'
            )
    return Markup(
        f'<svg class="spark" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f"{''.join(bars)}</svg>"
    )
