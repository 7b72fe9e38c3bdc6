"""Small inline SVG charts: counts over time in a table cell."""

from __future__ import annotations

from bisect import bisect_right
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
    return max(bisect_right(starts, day) - 1, 0)


def sparkline(counts: Sequence[int], label: str, css_class: str = "") -> Markup:
    """Bars of `counts`, scaled to the largest; `label` says what they are (a tooltip and
    the text a screen reader reads); `css_class` colours them (e.g. "suggested")."""
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
        f'<svg class="{escape(("spark " + css_class).strip())}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f"{''.join(bars)}</svg>"
    )


def paired_bars(
    confirmed: Sequence[int], suggested: Sequence[int], starts: Sequence[date], label: str
) -> Markup:
    """Two series over the same periods, side by side in each: confirmed matches and
    pending suggestions (coloured by the stylesheet: no inline style under the CSP)."""
    width, height, bottom = 720, 120, 16
    plot = height - bottom
    top = max([*confirmed, *suggested, 0]) or 1
    slot = width / max(len(starts), 1)
    bars = []
    for i, start in enumerate(starts):
        for j, (kind, counts) in enumerate((("confirmed", confirmed), ("suggested", suggested))):
            if counts[i]:
                h = max(1.5, (plot - 12) * counts[i] / top)
                tip = escape(f"from {start.isoformat()}: {counts[i]} {kind}")
                bars.append(
                    f'<rect class="{kind}" x="{i * slot + j * slot / 2:.1f}" y="{plot - h:.1f}" '
                    f'width="{max(slot / 2 - 1, 1):.1f}" height="{h:.1f}">'
                    f"<title>{tip}</title></rect>"
                )
    ends = (
        f'<text x="0" y="{height - 3}">{starts[0].isoformat()}</text>'
        f'<text x="{width}" y="{height - 3}" text-anchor="end">{starts[-1].isoformat()}</text>'
        f'<text x="0" y="10">{top}</text>'
        if starts
        else ""
    )
    return Markup(
        f'<svg class="series" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f"{''.join(bars)}{ends}</svg>"
    )
