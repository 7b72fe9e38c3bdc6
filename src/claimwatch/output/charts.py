"""Small inline SVG charts drawn in Python, so an HTML report needs no script and no network.

Every label is escaped: outlet names and titles come from the web.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
BAR = "#2f6fb0"
ACCENT = "#c2410c"


def _svg(width: int, height: int, label: str, body: list[str], css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = MUTED) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="11">{escape(text)}</text>'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def buckets(start: date, end: date) -> tuple[int, list[date]]:
    """Days for up to four months, weeks beyond: bars stay wide enough to read."""
    span = max((end - start).days + 1, 1)
    step = 1 if span <= 124 else 7
    return step, [start + timedelta(days=i) for i in range(0, span, step)]


def time_bars(
    counts: Sequence[tuple[date, int]], start: date, end: date, *, label: str, width: int = 560
) -> Markup:
    """Mentions over time: one bar per day (or week) from `start` to `end`."""
    height, left, bottom, top = 130, 34, 22, 10
    step, slots = buckets(start, end)
    totals = [0] * len(slots)
    for day, count in counts:
        index = (day - start).days // step
        if 0 <= index < len(totals):
            totals[index] += count
    peak = max(totals, default=0) or 1
    plot_w, plot_h = width - left - 8, height - top - bottom
    bar_w = plot_w / len(slots)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        f'stroke="{GRID}"/>',
        _text(left - 4, top + 9, str(peak), anchor="end"),
        _text(left - 4, top + plot_h, "0", anchor="end"),
    ]
    unit = "day" if step == 1 else "week"
    for i, total in enumerate(totals):
        if not total:
            continue
        h = max(plot_h * total / peak, 2)
        x = left + i * bar_w
        body.append(
            f'<rect class="bar" x="{x + 0.5:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{BAR}">'
            f"<title>{escape(f'{slots[i]:%Y-%m-%d} ({unit}): {total}')}</title></rect>"
        )
    body.append(_text(left, height - 6, f"{start:%Y-%m-%d}"))
    body.append(_text(width - 8, height - 6, f"{end:%Y-%m-%d}", anchor="end"))
    return _svg(width, height, label, body, "time-bars")


def outlet_bars(items: Sequence[tuple[str, int]], *, label: str, width: int = 380) -> Markup:
    """Articles per outlet, largest first, as horizontal bars."""
    row, label_w = 20, 150
    height = max(len(items), 1) * row + 6
    peak = max((n for _, n in items), default=0) or 1
    body = []
    for i, (name, count) in enumerate(items):
        y = 3 + i * row
        w = max((width - label_w - 40) * count / peak, 2)
        body.append(_text(label_w - 6, y + 13, _shorten(name, 24), anchor="end", fill=INK))
        body.append(
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{BAR}"><title>{escape(f"{name}: {count}")}</title></rect>'
        )
        body.append(_text(label_w + w + 4, y + 13, str(count)))
    if not items:
        body.append(_text(4, 16, "no outlets"))
    return _svg(width, height, label, body, "outlet-bars")


def first_seen_timeline(
    points: Sequence[tuple[str, datetime, float]],
    start: datetime,
    end: datetime,
    *,
    label: str,
    width: int = 560,
) -> Markup:
    """Who carried a claim first: one row per outlet, a dot at its first article."""
    row, label_w, right = 20, 150, 70
    height = max(len(points), 1) * row + 24
    span = max((end - start).total_seconds(), 1.0)
    plot_w = width - label_w - right

    def x(moment: datetime) -> float:
        return label_w + plot_w * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    body = [
        f'<line x1="{label_w}" y1="{height - 18}" x2="{label_w + plot_w}" y2="{height - 18}" '
        f'stroke="{GRID}"/>',
        _text(label_w, height - 4, f"{start:%Y-%m-%d}"),
        _text(label_w + plot_w, height - 4, f"{end:%Y-%m-%d}", anchor="end"),
    ]
    origin = x(points[0][1]) if points else label_w
    for i, (outlet, moment, hours) in enumerate(points):
        y = 4 + i * row + row / 2
        cx = x(moment)
        colour = ACCENT if i == 0 else BAR
        delay = "first" if i == 0 else _delay(hours)
        body.append(_text(label_w - 6, y + 4, _shorten(outlet, 24), anchor="end", fill=INK))
        body.append(
            f'<line x1="{origin:.1f}" y1="{y:.1f}" x2="{cx:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="2"/>'
        )
        body.append(
            f'<circle class="dot" cx="{cx:.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{escape(f'{outlet}: {moment:%Y-%m-%d %H:%M} ({delay})')}</title></circle>"
        )
        body.append(_text(label_w + plot_w + 8, y + 4, delay))
    return _svg(width, height, label, body, "timeline")


def _delay(hours: float) -> str:
    if hours < 48:
        return f"+{hours:.0f} h"
    return f"+{hours / 24:.0f} d"
