"""Rendering query results for the terminal and for other programs: table, CSV, JSON.

CSV and JSON are for programs: every value whole, their bytes a contract. The table
is for people: it fits the terminal (`terminal_width`), rich measures and wraps
its text (wide characters count as two cells), and a URL is never cut or
wrapped, so that it can be opened or copied whole. Where text would have to wrap,
columns that hold nothing are left out; when the rest cannot fit beside whole URLs,
each row is shown as a block of `column  value` lines instead (`expanded`).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.text import Text

from claimwatch.tablefile import write_delimited

FORMATS = ("table", "csv", "json")
Width = int | None | Literal["terminal"]

# A wrapped text column keeps at least this many cells (shorter ones keep their width).
MIN_TEXT_WIDTH = 16
# A column whose values have no spaces (ids, dates) is kept whole up to this width.
MAX_WORD_WIDTH = 48
GAP = 2  # cells between two columns
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# Control characters that are not whitespace (whitespace is collapsed to one space): an
# escape sequence in a title would drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# Bidirectional overrides and isolates would reorder what the terminal shows.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def render(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str = "table",
    *,
    width: Width = "terminal",
) -> str:
    if fmt == "csv":
        return render_csv(columns, rows)
    if fmt == "json":
        return render_json(columns, rows)
    return render_table(columns, rows, width=width)


def terminal_width() -> int | None:
    """The width to fit: COLUMNS when set, else the terminal's that standard output is on;
    None when output goes to a file or another program and COLUMNS is unset: then rows
    stay one line each, whole, for grep and `less -S`."""
    if os.environ.get("COLUMNS", "").strip().isdigit() or _isatty(sys.stdout):
        columns = shutil.get_terminal_size().columns
        return columns if columns > 0 else None
    return None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float) or value is None:  # most cells, checked first
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    """A value as one line of text, safe to print (no control characters from the web)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = _CONTROL.sub("", str(_plain(value)).translate(_BIDI))
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    cells: list[str]
    numeric: bool  # right-aligned
    url: bool  # never wrapped or cut
    natural: int  # cells to show the name and every value on one line
    floor: int  # the fewest cells it may get: URLs, numbers and short words whole

    @property
    def empty(self) -> bool:
        return not any(self.cells)


def _column(name: str, values: Sequence[Any]) -> _Column:
    cells = [_cell(v) for v in values]
    given = [v for v in values if v is not None]
    numeric = bool(values) and all(isinstance(v, int | float) for v in given)
    url = bool(given) and all(isinstance(v, str) and _URL.match(v) for v in given)
    natural = max([cell_len(name), *(cell_len(c) for c in cells)])
    words = all(" " not in c for c in cells)
    floor = natural if url or numeric else min(natural, MAX_WORD_WIDTH if words else MIN_TEXT_WIDTH)
    # Text that carries a link ("delivered to https://…") wraps around it, never through it.
    links = [cell_len(m) for c in cells if "://" in c for m in _URL_IN_TEXT.findall(c)]
    return _Column(name, cells, numeric, url, natural, max([floor, *links]))


def render_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, width: Width = "terminal"
) -> str:
    """A text table within `width` cells ("terminal": `terminal_width()`; None: no limit)."""
    limit = terminal_width() if width == "terminal" else width
    cols = [_column(name, [r[i] for r in rows]) for i, name in enumerate(columns)]
    if not rows:
        return _layout(cols, [c.natural for c in cols]) + "\n(no rows)"
    if limit is None:
        return _layout(cols, [c.natural for c in cols])
    shown, note = cols, ""
    if sum(c.natural for c in cols) + GAP * (len(cols) - 1) > limit:  # text would wrap
        shown = [c for c in cols if not c.empty] or cols[:1]
        kept = {id(c) for c in shown}
        left_out = [c.name for c in cols if id(c) not in kept]
        note = f"\n(empty columns not shown: {', '.join(left_out)})" if left_out else ""
    if _needs(shown) > limit:
        return expanded(columns, rows, width=limit)
    return _layout(shown, _allocate(shown, limit)) + note


def _needs(cols: Sequence[_Column]) -> int:
    return sum(c.floor for c in cols) + GAP * (len(cols) - 1)


def _allocate(cols: Sequence[_Column], limit: int) -> list[int]:
    """Each column's width: its floor, then what is left shared out so that the narrow
    columns are whole and the wide ones equally wide (a water level over the floors)."""
    room = limit - GAP * (len(cols) - 1)
    if sum(c.natural for c in cols) <= room:
        return [c.natural for c in cols]
    level = 0
    while sum(max(c.floor, min(c.natural, level + 1)) for c in cols) <= room:
        level += 1
    return [max(c.floor, min(c.natural, level)) for c in cols]


# One console measures and wraps every cell: plain text, no colour, no markup.
_CONSOLE = Console(
    file=io.StringIO(),
    width=80,
    color_system=None,
    force_terminal=False,
    no_color=True,
    highlight=False,
    markup=False,
    emoji=False,
)


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells: at spaces, a long word folded, a URL in
    it whole (on a line of its own, past `width` if it must)."""
    if cell_len(text) <= width:
        return [text]
    if "://" not in text or not _URL_IN_TEXT.search(text):
        return _fold(text, width)
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        joined = f"{current} {word}" if current else word
        if cell_len(joined) <= width:
            current = joined
            continue
        if current:
            lines.append(current)
        if cell_len(word) <= width or _URL_IN_TEXT.match(word):
            current = word
        else:
            *whole, current = _fold(word, width)
            lines.extend(whole)
    return [*lines, current] if current else lines or [""]


def _fold(text: str, width: int) -> list[str]:
    lines = Text(text).wrap(_CONSOLE, width, overflow="fold")
    return [line.plain.rstrip() for line in lines] or [""]


def _layout(cols: Sequence[_Column], widths: Sequence[int]) -> str:
    """Header, dashes, then each row over as many lines as its tallest cell; URLs never
    wrapped (their width is theirs)."""

    def line(parts: Sequence[str], numeric: Sequence[bool]) -> str:
        cells = [
            " " * (w - cell_len(p)) + p if num else set_cell_size(p, w)
            for p, w, num in zip(parts, widths, numeric, strict=True)
        ]
        return (" " * GAP).join(cells).rstrip()

    def block(texts: Sequence[str], numeric: Sequence[bool]) -> list[str]:
        wrapped = [
            [t] if c.url else _wrap(t, w) for t, c, w in zip(texts, cols, widths, strict=True)
        ]
        height = max(len(w) for w in wrapped)
        return [line([w[i] if i < len(w) else "" for w in wrapped], numeric) for i in range(height)]

    out = block([c.name for c in cols], [False] * len(cols))
    out.append((" " * GAP).join("-" * w for w in widths))
    for texts in zip(*(c.cells for c in cols), strict=True):
        out.extend(block(texts, [c.numeric for c in cols]))
    return "\n".join(out)


def expanded(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, width: int | None = None
) -> str:
    """Each row as a block of `column  value` lines, text wrapped to `width`; a URL that
    does not fit beside its column's name stands whole on a line of its own."""
    label = max((cell_len(c) for c in columns), default=0)
    room = None if width is None else max(width - label - GAP, MIN_TEXT_WIDTH)
    indent = " " * (label + GAP)
    blocks: list[list[str]] = []
    for row in rows:
        lines: list[str] = []
        for name, value in zip(columns, row, strict=True):
            text = _cell(value)
            if text and _URL.match(text):
                fits = room is None or cell_len(text) <= room
                lines += [set_cell_size(name, label) + " " * GAP + text] if fits else [name, text]
                continue
            parts = [text] if room is None else _wrap(text, room)
            lines.append((set_cell_size(name, label) + " " * GAP + parts[0]).rstrip())
            lines.extend(indent + part for part in parts[1:])
        blocks.append(lines)
    if not blocks:
        return "(no rows)"
    # One ruler width for all: the widest line, but no wider than the terminal (a URL may be).
    ruler = min(max(cell_len(x) for b in blocks for x in b), width or 1_000_000)
    out = []
    for number, lines in enumerate(blocks, 1):
        head = f"-[ row {number} ]"
        out += [head + "-" * max(ruler - cell_len(head), 0), *lines]
    return "\n".join(out)


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV as Python's csv writer writes it, except that a cell holding a lone \r is quoted
    (tablefile.write_delimited), so that `claimwatch review import` reads the sheet back."""
    lines = [list(map(str, columns)), *([_csv_text(v) for v in row] for row in rows)]
    # csv marks a row of one empty cell as "" (a blank line would be no row at all).
    text = "".join('""\n' if row == [""] else write_delimited([row], ",") for row in lines)
    return text.rstrip("\n")


def _csv_text(value: Any) -> str:
    """A value as csv's writer spells it: None empty, anything else its str()."""
    plain = _plain(value)
    return "" if plain is None else str(plain)


def render_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    records = [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=2)
