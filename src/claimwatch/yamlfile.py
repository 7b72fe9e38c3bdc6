"""Reading the user's YAML files: safe loading and one-line errors that point at the fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from claimwatch.exceptions import ConfigError

# Files an analyst edits are small; anything bigger is a mistake (or an alias bomb in disguise).
MAX_YAML_BYTES = 5 * 1024 * 1024


def read_yaml(path: Path, error: type[ConfigError]) -> Any:
    """Parse `path` with the safe loader; raise `error` with file and line on failure."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    if size > MAX_YAML_BYTES:
        raise error(f"{path}: file is {size} bytes, more than the {MAX_YAML_BYTES} allowed")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: invalid YAML: {exc}") from None


def describe_validation_error(path: Path, exc: ValidationError, items: list[Any], key: str) -> str:
    """One line naming the file, the item (by its id or name) and the field of the first error."""
    first = exc.errors()[0]
    loc = list(first["loc"])
    where = str(path)
    if len(loc) >= 2 and loc[0] == key and isinstance(loc[1], int):
        index = loc[1]
        item = items[index] if index < len(items) else None
        label = item.get("id") or item.get("name") if isinstance(item, dict) else None
        where += f": {key[:-1]} {label!r}" if label else f": {key[:-1]} #{index + 1}"
        loc = loc[2:]
        # A tagged union (source kinds) puts its tag first, which is not a key of the item.
        if len(loc) > 1 and isinstance(item, dict) and loc[0] not in item:
            loc = loc[1:]
    if first["type"] == "unknown_kind":  # a tagged union (source kinds) got an unknown tag
        loc.append("kind")
    field = ".".join(str(part) for part in loc) or "(top level)"
    extra = f" ({exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    message = first["msg"].removeprefix("Value error, ")
    if field == "(top level)":
        return f"{where}: {message}{extra}"
    return f"{where}: field {field!r}: {message}{extra}"


def validate(model: type[BaseModel], data: Any, path: Path, key: str, error: type[ConfigError]):
    """Validate `data` against `model`, turning pydantic's report into one line."""
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping with a top-level {key!r} list")
    items = data.get(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(
            describe_validation_error(path, exc, items if isinstance(items, list) else [], key)
        ) from None
