"""Tables a user gives us (CSV, TSV, JSON lines), read strictly: a row is returned whole or
the file is refused with the line and column at fault, never folded into another row.

A quote that never closes, text after a closing quote, a row with more or fewer cells than
the header has columns, a line of JSON lines that is not one object (or repeats a key) are
each an error. Blank rows are skipped. The text comes from `userfile.read_text`, which has
already refused undecodable bytes and NUL characters.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from claimwatch.exceptions import ClaimwatchError
from claimwatch.userfile import position

# A table a user hands us: public ClaimReview archives hold about 100,000 claims (tens of
# MB); past this, a mistake.
MAX_TABLE_BYTES = 512 * 1024 * 1024
# (line the row starts on, cells by column name)
Row = tuple[int, dict[str, str]]
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_FIRST_LINE = re.compile(r"[^\r\n]*")


def delimiter_of(text: str, fmt: str) -> str:
    """The cell separator of a CSV or TSV text: a spreadsheet in a locale with decimal
    commas saves "CSV" with semicolons, which shows in a header with no comma."""
    if fmt == "tsv":
        return "\t"
    header = _FIRST_LINE.match(text)
    line = header.group() if header else ""
    return ";" if ";" in line and "," not in line else ","


class _Lines:
    """The lines of a text as csv reads them, counted, with the offset of the next one."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.number = 0  # lines handed out
        self.offset = 0  # where the next line starts

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        self.offset += len(line)
        return line


class _Table:
    """One delimited file being read: its text, its csv reader and where it stands."""

    def __init__(self, path: Path, text: str, delimiter: str, error: type[ClaimwatchError]):
        self.path, self.text, self.delimiter, self.error = path, text, delimiter, error
        self.lines = _Lines(text)
        self.reader = csv.reader(self.lines, delimiter=delimiter, strict=True)

    def fail(self, offset: int, message: str) -> ClaimwatchError:
        line, column = position(self.text, offset)
        return self.error(f"{self.path}: line {line}, column {column}: {message}")

    def record(self) -> tuple[int, int, list[str]] | None:
        """(line, offset, cells) of the next non-blank record, or None at the end."""
        while True:
            line, offset = self.lines.number + 1, self.lines.offset
            try:
                cells = next(self.reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise self._fault(line, offset, str(exc)) from None
            if any(cell.strip() for cell in cells):
                return line, offset, cells

    def _fault(self, line: int, offset: int, reason: str) -> ClaimwatchError:
        """The error for a record csv refused, at the quote that caused it."""
        _, _, fault = _scan(self.text, offset, self.delimiter)
        if fault is None:  # not a quote: a cell past csv's size limit
            if "field larger than field limit" in reason:
                reason = f"a cell longer than {csv.field_size_limit()} characters"
            return self.error(f"{self.path}: line {line}: {reason}")
        at, opened = fault
        if at < 0:
            return self.fail(opened, "a quote opens here and never closes")
        quote_line, _ = position(self.text, opened)
        text_line, text_column = position(self.text, at)
        if quote_line != text_line:
            return self.fail(
                opened,
                "a quote opens here and is not closed on its line (the quote that closes it, "
                f"on line {text_line}, column {text_column - 1}, is followed by text)",
            )
        return self.fail(
            at,
            "text after the closing quote of a cell: write a quote inside a quoted cell "
            'as two quotes ("")',
        )

    def cells_fault(self, offset: int, cells: int, columns: int) -> ClaimwatchError:
        """The error for a row of `cells` cells under a header of `columns` columns."""
        starts, end, _ = _scan(self.text, offset, self.delimiter)
        if cells > columns:
            separator = DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
            return self.fail(
                starts[columns],
                f"cell {columns + 1} of a row under a header of {columns} columns "
                f"(a cell holding a {separator} must be in double quotes)",
            )
        return self.fail(end, f"the row ends after {cells} cells; the header has {columns}")


def _scan(text: str, start: int, delimiter: str) -> tuple[list[int], int, tuple[int, int] | None]:
    """Walk one CSV record from `start` as csv does: (offsets where its cells start, offset
    where it ends, fault). A fault is (offset of text after a closing quote, offset of that
    cell's opening quote), or (-1, offset of a quote that never closes)."""
    starts, state, opened, i = [start], "start", -1, start
    while i < len(text):
        char = text[i]
        if state == "quoted":  # jump to the next quote: a quoted cell may be long
            i = text.find('"', i)
            if i < 0:
                return starts, len(text), (-1, opened)
            state = "closed"
        elif state == "closed" and char not in (delimiter, "\r", "\n"):
            if char != '"':
                return starts, i, (i, opened)
            state = "quoted"  # a doubled quote inside the cell
        elif char == delimiter:
            starts.append(i + 1)
            state = "start"
        elif char in "\r\n":
            return starts, i, None
        elif state == "start" and char == '"':
            state, opened = "quoted", i
        elif state == "start":
            state = "plain"
        i += 1
    return starts, len(text), (-1, opened) if state == "quoted" else None


def read_delimited(
    path: Path, text: str, delimiter: str, error: type[ClaimwatchError]
) -> tuple[tuple[str, ...], Iterator[Row]]:
    """The header (names stripped) and the rows of a CSV or TSV text, lazily; `error` for
    the first fault, naming the file, line and column."""
    table = _Table(path, text, delimiter, error)
    first = table.record()
    if first is None:
        return (), iter(())
    _, offset, cells = first
    header = tuple(cell.strip() for cell in cells)
    for index, name in enumerate(header):
        if name and name in header[:index]:
            starts, _, _ = _scan(text, offset, delimiter)
            raise table.fail(starts[index], f"column {name!r} appears twice")
    return header, _rows(table, header)


def _rows(table: _Table, header: tuple[str, ...]) -> Iterator[Row]:
    while (record := table.record()) is not None:
        line, offset, cells = record
        if len(cells) != len(header):
            raise table.cells_fault(offset, len(cells), len(header))
        for index, name in enumerate(header):
            # Spreadsheets keep columns a user emptied: harmless while their cells are too.
            if not name and cells[index].strip():
                starts, _, _ = _scan(table.text, offset, table.delimiter)
                raise table.fail(starts[index], "a value under a column with no name")
        yield line, {name: cell for name, cell in zip(header, cells, strict=True) if name}


def write_delimited(rows: Iterable[Sequence[str]], delimiter: str) -> str:
    """Rows as CSV or TSV text, one line each ending in \\n, a cell quoted when it holds the
    delimiter, a quote or a line end (Python 3.11's csv writer leaves a lone \\r unquoted
    under a \\n line end, which every reader takes for the end of the row)."""

    def cell(value: str) -> str:
        # Four `in` tests, not a loop over them: a report of 10^5 rows has 10^6 cells.
        if delimiter in value or '"' in value or "\r" in value or "\n" in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(map(cell, row)) + "\n" for row in rows)


class _Refused(ValueError):
    """A JSON value read but refused: a key given twice, NaN or Infinity."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):  # rare: then find which key
        keys = [key for key, _ in pairs]
        twice = next(key for n, key in enumerate(keys) if key in keys[:n])
        raise _Refused(json.dumps(twice, ensure_ascii=False), "appears twice in one object")
    return found


def _no_constant(name: str) -> Any:
    raise _Refused(name, "is not a number JSON allows")


# One decoder for every line: json.loads with options would build one per call.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def read_json_lines(
    path: Path, text: str, error: type[ClaimwatchError]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) for each non-blank line of a JSON lines text, lazily; `error` naming
    the file, line and column of a line that is not exactly one JSON object."""
    for number, raw in enumerate(io.StringIO(text, newline=""), start=1):
        if not raw.strip():
            continue
        try:
            value = _DECODER.decode(raw)
        except json.JSONDecodeError as exc:
            raise error(
                f"{path}: line {number}: not JSON: {exc.msg} at column {exc.colno}"
            ) from None
        except _Refused as exc:
            token, problem = exc.args
            found = [m.start() for m in re.finditer(re.escape(token), raw)]
            column = found[-1] + 1 if found else 1
            raise error(f"{path}: line {number}, column {column}: {token} {problem}") from None
        if not isinstance(value, dict):
            raise error(f"{path}: line {number}: expected a JSON object ({{...}}), one a line")
        yield number, value
