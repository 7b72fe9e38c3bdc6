"""Catalogs as tables: CSV, TSV and JSON lines, one claim a row, read and written.

Columns are the claim's YAML keys (`id`, `text`, `variants`, `language`, `kind`, `tags`,
`threshold`, `suggest_threshold`, `required_terms`, `attributed_to`, `said_on`,
`source_url`, `document`); only `id` and `text` are needed. In CSV and TSV a list
(`variants`, `tags`, `required_terms`) is its items separated by `|`, or a JSON list,
which can also give a variant's language (`[{"text": "...", "language": "fr"}]`); an
empty cell is no value; `tags` may also be separated by `;`. A CSV file may separate its
cells with `;` (as spreadsheets in some locales save it) when its header has no comma.
A document a row names is listed by its id alone: titles and authors of documents are
kept by YAML catalogs only.

The file is read strictly (tablefile.py): a quote that never closes or a row with the
wrong number of cells is an error naming the line and column, never a claim lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from claimwatch.exceptions import CatalogError
from claimwatch.tablefile import (
    MAX_TABLE_BYTES,
    delimiter_of,
    read_delimited,
    read_json_lines,
    write_delimited,
)
from claimwatch.userfile import read_text

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
COLUMNS = (
    "id",
    "text",
    "variants",
    "language",
    "kind",
    "tags",
    "threshold",
    "suggest_threshold",
    "required_terms",
    "attributed_to",
    "said_on",
    "source_url",
    "document",
)
LISTS = ("variants", "tags", "required_terms")


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, fields) for each claim of a table file; CatalogError naming the file, line
    and column at fault."""
    text = read_text(path, CatalogError, MAX_TABLE_BYTES)
    return _json_lines(path, text) if fmt == "jsonl" else _delimited(path, text, fmt)


def _delimited(path: Path, text: str, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row) for each row of a CSV or TSV file with a header row."""
    header, rows = read_delimited(path, text, delimiter_of(text, fmt), CatalogError)
    if not header:
        return iter(())
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        raise CatalogError(
            f"{path}: line 1: unknown column {unknown[0]!r}; columns are {', '.join(COLUMNS)}"
        )
    for missing in ("id", "text"):
        if missing not in header:
            raise CatalogError(f"{path}: line 1: no {missing!r} column")
    return ((line, _typed(path, line, cells)) for line, cells in rows)


def _typed(path: Path, line: int, cells: dict[str, str]) -> dict[str, Any]:
    """A row's cells as a claim's fields: empty cells left out, lists split."""
    row: dict[str, Any] = {}
    for name, cell in cells.items():
        cell = cell.strip()
        if not cell:
            continue
        # Other cells stay text: pydantic reads "90" as a number, and names a bad one.
        row[name] = _list_cell(path, line, name, cell) if name in LISTS else cell
    return row


def _list_cell(path: Path, line: int, name: str, cell: str) -> list[Any]:
    if cell.startswith("["):
        try:
            items = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise CatalogError(
                f"{path}: line {line}: column {name!r}: not a JSON list ({exc.msg}); "
                "separate plain items with |"
            ) from None
        if isinstance(items, list):
            return items
    return [item.strip() for item in cell.split("|") if item.strip()]


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) for each non-blank line of a JSON lines file."""
    for number, row in read_json_lines(path, text, CatalogError):
        unknown = [name for name in row if name not in COLUMNS]
        if unknown:
            raise CatalogError(
                f"{path}: line {number}: unknown field {unknown[0]!r}; "
                f"fields are {', '.join(COLUMNS)}"
            )
        yield number, row


def write_rows(records: list[dict[str, Any]], fmt: str) -> str:
    """Claims' fields (as `Claim.record()` gives them) as CSV, TSV or JSON lines text."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    rows = [[_cell(record.get(name)) for name in COLUMNS] for record in records]
    return write_delimited([COLUMNS, *rows], "," if fmt == "csv" else "\t")


def _cell(value: Any) -> str:
    """A field as a table cell: lists joined by |, or as JSON when an item needs it."""
    if value is None:
        return ""
    if isinstance(value, list):
        if all(isinstance(v, str) and "|" not in v and not v.startswith("[") for v in value):
            return "|".join(value)
        return json.dumps(value, ensure_ascii=False)
    return str(value)
