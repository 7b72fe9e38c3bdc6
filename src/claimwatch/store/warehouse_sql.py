"""Where the warehouse SQL is: the package data of `claimwatch.warehouse`.

Migrations, `views.sql` and named reports ship inside the installed package (in a
checkout they are the top-level `warehouse/` folder, which the editable install maps
to that package), so every command finds them from wherever it runs and whatever
its working directory, never through a source tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from claimwatch.exceptions import WarehouseError

PACKAGE = "claimwatch.warehouse"


def sql_dir() -> Path:
    """The folder holding `migrations/`, `views.sql` and `reports/`."""
    try:
        folder = files(PACKAGE)
    except ModuleNotFoundError:
        raise WarehouseError(f"{PACKAGE}: not installed (reinstall claimwatch)") from None
    # Wheels install as plain files; a zipped install would need extracting first.
    if not isinstance(folder, Path) or not (folder / "migrations").is_dir():
        raise WarehouseError(f"{folder}: the warehouse SQL is missing (reinstall claimwatch)")
    return folder


def migrations_dir() -> Path:
    """The ordered migrations (`views.sql` beside them)."""
    return sql_dir() / "migrations"


def reports_dir() -> Path:
    """The named reports, one SQL file each."""
    return sql_dir() / "reports"
