"""Adding one claim to a catalog file of the workbench's catalog folder, safely.

The file is named by the user, so it is taken only as a plain file name inside the
folder of the configured catalog, with a catalog suffix: never a path. The catalog is
read with the project's strict reader, the new text is written to a temporary file
beside it and loaded back, and only a text that loads with every claim it had plus
the new one replaces the file (os.replace: readers see the old file or the new one).
A YAML file keeps its text and comments: the claim's block is inserted at the end of
its `claims:` list. A CSV file gets one row in its own columns and delimiter.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog import Catalog, Claim, load_catalog
from claimwatch.matching.catalog_tables import write_rows
from claimwatch.tablefile import delimiter_of, read_delimited, write_delimited

SUFFIXES = (".yaml", ".yml", ".csv")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_CLAIMS_KEY = re.compile(r"^claims:[ \t]*(#.*)?$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")
_ITEM = re.compile(r"^([ \t]*)- ")
# One writer at a time in this process: two additions must not both read the old file.
_LOCK = threading.Lock()


def catalog_files(folder: Path) -> list[str]:
    """The catalog files (by suffix) of `folder`, by name."""
    try:
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.suffix.lower() in SUFFIXES
            and not p.name.startswith(".")
            and p.is_file()
            and not p.is_symlink()
        )
    except OSError:
        return []


def target(folder: Path, name: str) -> Path:
    """`name` as a file of `folder`; CatalogError for anything else (a path, `..`, a
    hidden file, another suffix, a link)."""
    name = name.strip()
    if not _NAME.fullmatch(name) or ".." in name:
        raise CatalogError(
            f"{name[:100]!r}: give a file name of the catalog folder (letters, digits, "
            "- _ .), not a path"
        )
    if Path(name).suffix.lower() not in SUFFIXES:
        raise CatalogError(f"{name}: a catalog file here ends in {', '.join(SUFFIXES)}")
    path = folder / name
    if path.is_symlink() or path.resolve().parent != folder.resolve():
        raise CatalogError(f"{name}: not a file of the catalog folder")
    return path


def add_claim(folder: Path, name: str, claim: Claim) -> Path:
    """Add `claim` to catalog file `name` of `folder` (made if new); the file's path.
    CatalogError, with nothing changed, if the file does not load, already has the id,
    or would not load with the claim."""
    path = target(folder, name)
    with _LOCK:
        before: Catalog | None = load_catalog(path) if path.exists() else None
        if before is not None and any(c.id == claim.id for c in before.claims):
            raise CatalogError(f"{path.name} already has a claim {claim.id!r}: choose another id")
        old = path.read_text(encoding="utf-8") if before is not None else ""
        if path.suffix.lower() == ".csv":
            new = _csv_with(old, claim.record(), path)
        else:
            new = _yaml_with(old, claim.record(), path)
        kept = [c.id for c in before.claims] if before else []
        _replace_checked(path, new, [*kept, claim.id])
    return path


def _yaml_with(old: str, record: dict[str, Any], path: Path) -> str:
    """`old` with the claim's block inserted at the end of its `claims:` list."""
    if not old.strip():
        return "claims:\n" + _block(record, "  ")
    lines = old.splitlines(keepends=True)
    key = next((i for i, line in enumerate(lines) if _CLAIMS_KEY.match(line)), None)
    if key is None:
        raise CatalogError(
            f"{path.name}: its claims are not a block list under `claims:`; add this one by hand"
        )
    end = next((i for i in range(key + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
    # Comments and blank lines just before the next key belong to it.
    while end > key + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    items = (_ITEM.match(line) for line in lines[key + 1 : end])
    indent = next((m.group(1) for m in items if m), "  ")
    head = "".join(lines[:end])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + _block(record, indent) + "".join(lines[end:])


def _block(record: dict[str, Any], indent: str) -> str:
    """The claim as one item of a YAML list, indented by `indent`."""
    text = yaml.safe_dump([record], allow_unicode=True, sort_keys=False, width=100)
    return "".join(indent + line for line in text.splitlines(keepends=True))


def _csv_with(old: str, record: dict[str, Any], path: Path) -> str:
    """`old` with a row for the claim, in the file's own columns and delimiter."""
    written = write_rows([record], "csv")
    header, rows = read_delimited(path, written, ",", CatalogError)
    cells = next(iter(rows))[1]
    if not old.strip():
        return written
    delimiter = delimiter_of(old, "csv")
    columns, _ = read_delimited(path, old, delimiter, CatalogError)
    missing = [n for n in header if cells.get(n) and n not in columns]
    if missing:
        raise CatalogError(f"{path.name} has no {missing[0]!r} column: add this claim by hand")
    row = write_delimited([[cells.get(n, "") if n else "" for n in columns]], delimiter)
    return old + ("" if old.endswith(("\n", "\r")) else "\n") + row


def _replace_checked(path: Path, text: str, ids: list[str]) -> None:
    """Write `text` to a temporary file beside `path`, load it back, and only if it holds
    exactly `ids` in order put it in place of `path`."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".adding-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        loaded = [c.id for c in load_catalog(temp).claims]
        if loaded != ids:
            raise CatalogError(
                f"{path.name}: the claim could not be added without changing the others; "
                "add it by hand"
            )
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except CatalogError as exc:
        Path(temp).unlink(missing_ok=True)
        # The temporary file's name means nothing to the user: name theirs.
        raise CatalogError(str(exc).replace(temp, path.name).splitlines()[0]) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
