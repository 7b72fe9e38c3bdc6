"""Named reports: SQL files in warehouse/reports/ with a title, a description and parameters.

A report file starts with comment lines that declare it:

    -- title: Latest matches
    -- description: The newest matches with their evidence.
    -- param limit: 20  # how many rows
    -- param include_sample: true

Each parameter's default also sets its type (integer, number, boolean or text;
`null` means optional text); words after ` #` describe it. Values are always
bound (`$limit`), never formatted in.

Reads open the warehouse read-only with external access switched off, so a
report or an ad-hoc query can neither change the warehouse nor touch other files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from claimwatch.exceptions import ClaimwatchError, ReportError
from claimwatch.store import lake
from claimwatch.store.connection import connect
from claimwatch.store.migrations import schema_behind
from claimwatch.store.snapshots import AsOf
from claimwatch.store.warehouse_sql import migrations_dir

if TYPE_CHECKING:
    import pyarrow as pa  # only Arrow output needs it: a report printed as text loads less

_HEADER = re.compile(r"^--\s*(title|description|param\s+([a-z_][a-z0-9_]*))\s*:\s*(.*)$")
_PARAM_DOC = re.compile(r"\s+#\s*")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    default: Any
    description: str = ""

    @property
    def type_name(self) -> str:
        if isinstance(self.default, bool):
            return "boolean"
        if isinstance(self.default, int):
            return "integer"
        if isinstance(self.default, float):
            return "number"
        return "text"

    def convert(self, raw: str) -> Any:
        """A command-line string as this parameter's type."""
        kind = self.type_name
        try:
            if kind == "boolean":
                lowered = raw.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            if kind == "integer":
                return int(raw)
            if kind == "number":
                return float(raw)
        except ValueError:
            raise ReportError(f"parameter {self.name!r} expects {kind}, got {raw!r}") from None
        return raw


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    sql: str
    path: Path

    def bind(self, given: dict[str, str]) -> dict[str, Any]:
        """Defaults overridden by `given` (strings from the command line), typed."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            raise ReportError(
                f"report {self.name!r} has no parameter {unknown[0]!r} (parameters: {names})"
            )
        values = {p.name: p.default for p in self.parameters}
        values.update({k: known[k].convert(v) for k, v in given.items()})
        return values


def _parse_default(raw: str) -> Any:
    raw = raw.strip()
    if raw == "null":
        return None
    if raw in ("true", "false"):
        return raw == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw.strip("'\"")


def load_report(path: Path) -> Report:
    title = description = ""
    parameters = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        header = _HEADER.match(line)
        if not header:
            continue
        key, param, value = header.groups()
        if param:
            doc = _PARAM_DOC.search(value)
            default, text = (value[: doc.start()], value[doc.end() :]) if doc else (value, "")
            parameters.append(Parameter(param, _parse_default(default), text.strip()))
        elif key == "title":
            title = value.strip()
        else:
            description = value.strip()
    if not title:
        raise ReportError(f"{path}: a report starts with a '-- title: ...' line")
    return Report(path.stem, title, description, tuple(parameters), path.read_text("utf-8"), path)


def list_reports(directory: Path) -> list[Report]:
    return [load_report(p) for p in sorted(directory.glob("*.sql"))]


def get_report(directory: Path, name: str) -> Report:
    path = directory / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not path.is_file():
        names = ", ".join(r.name for r in list_reports(directory))
        raise ReportError(f"no report named {name!r} (reports: {names})")
    return load_report(path)


@dataclass(frozen=True, slots=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_report(
    db: Path,
    report: Report,
    given: dict[str, str] | None = None,
    *,
    wait: float = 0.0,
    as_of: AsOf | None = None,
) -> Result:
    """Run a report read-only against the warehouse (as it stood at `as_of`, if given)."""
    values = report.bind(given or {})
    return _fetch(db, report.sql, values, str(report.path), wait, _rows, as_of, trusted=True)


def report_arrow(
    db: Path,
    report: Report,
    given: dict[str, str] | None = None,
    *,
    wait: float = 0.0,
    as_of: AsOf | None = None,
) -> pa.Table:
    """A report's result as an Arrow table, with the warehouse's column types (for Parquet)."""
    values = report.bind(given or {})
    return _fetch(db, report.sql, values, str(report.path), wait, _arrow, as_of, trusted=True)


def run_sql(
    db: Path,
    sql: str,
    params: dict[str, str] | None = None,
    *,
    wait: float = 0.0,
    as_of: AsOf | None = None,
) -> Result:
    """An ad-hoc query, read-only; `params` are bound as text values ($name)."""
    return _fetch(db, sql, params or {}, "sql", wait, _rows, as_of)


def sql_arrow(
    db: Path,
    sql: str,
    params: dict[str, str] | None = None,
    *,
    wait: float = 0.0,
    as_of: AsOf | None = None,
) -> pa.Table:
    return _fetch(db, sql, params or {}, "sql", wait, _arrow, as_of)


def run_query(
    db: Path, sql: str, params: dict[str, Any] | None = None, *, wait: float = 0.0
) -> Result:
    """One of claimwatch's own queries (not a user's: it runs unsandboxed), read-only, its
    values bound as parameters ($name)."""
    return _fetch(db, sql, params or {}, "query", wait, _rows, trusted=True)


def _rows(relation: duckdb.DuckDBPyRelation | None) -> Result:
    if relation is None:
        return Result([], [])
    return Result(list(relation.columns), relation.fetchall())


def _arrow(relation: duckdb.DuckDBPyRelation | None) -> pa.Table:
    import pyarrow as pa

    return relation.to_arrow_table() if relation is not None else pa.table({})


def _fetch(
    db: Path,
    sql: str,
    values: dict[str, Any],
    origin: str,
    wait: float,
    out: Any,
    as_of: AsOf | None = None,
    *,
    trusted: bool = False,
) -> Any:
    """`out` of the result of `sql`, read-only. SQL a user typed runs sandboxed (it reads
    nothing but the warehouse); the reports are claimwatch's own, shipped with the
    package, and run on the process's shared connection, which saves starting a DuckDB
    instance for them (a third of a second) in a command that already has one."""
    snapshot = as_of.snapshot if as_of is not None else None
    for attempt in (1, 2):
        with connect(db, read_only=True, wait=wait, as_of=snapshot, sandboxed=not trusted) as con:
            if as_of is not None:
                # Periods relative to now() (reports' `days`, the views' "last 7 days") end
                # at the as-of time: a temporary macro shadows the built-in for this
                # connection. The literal is our own datetime's ISO form, never user text.
                con.execute(f"CREATE TEMP MACRO now() AS TIMESTAMPTZ '{as_of.now.isoformat()}'")
            try:
                return out(con.sql(sql, params=values or None))
            except duckdb.Error as exc:
                stale = attempt == 1 and lake.stale_inlined_rows(exc)
                if not stale:
                    message = f"{origin}: {str(exc).splitlines()[0]}"
                    if isinstance(exc, duckdb.CatalogException | duckdb.BinderException):
                        message += schema_hint(con)
                    raise ReportError(message) from None
        # Read again, the warehouse attached anew (see lake.stale_inlined_rows).
        lake.forget(lake.locate(db))
    raise AssertionError("unreachable: the second attempt returns or raises")


def schema_hint(con: duckdb.DuckDBPyConnection) -> str:
    """A hint when an older claimwatch made the warehouse: a migration or the current views
    may hold the table or column a query needs."""
    try:
        behind = schema_behind(con, migrations_dir())
    except (duckdb.Error, ClaimwatchError, ValueError):
        return ""
    if not behind:
        return ""
    return f" (the warehouse lacks {', '.join(behind)}: run `claimwatch migrate`)"
