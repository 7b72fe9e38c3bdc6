"""Reading the user's YAML files: safe loading and one-line errors that point at the fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from claimwatch.exceptions import ConfigError

# Files an analyst edits are small; anything bigger is a mistake (or an alias bomb in disguise).
MAX_YAML_BYTES = 5 * 1024 * 1024
# Values aliases may add to a document. PyYAML shares an aliased node, but everything that
# reads the data (pydantic, the catalog) walks the expansion: nine nested aliases of ten
# ("billion laughs") in a few hundred bytes would hang it. A shared tag list reused by
# every claim adds a few thousand.
MAX_ALIAS_EXPANSION = 100_000


class _AliasBomb(yaml.YAMLError):
    """A document whose aliases expand too far, or into themselves."""


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags) that also measures what its aliases expand to."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
        return super().compose_node(parent, index)

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None and self.aliases:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Raise _AliasBomb if the document, aliases expanded, has too many more values than nodes."""
    sizes: dict[int, int] = {}  # node id -> values under it, aliases expanded
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_:
            raise _AliasBomb("an alias refers to the collection that holds it")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_EXPANSION:
        raise _AliasBomb(
            f"its aliases expand it to {sizes[id(root)]} values, more than "
            f"{MAX_ALIAS_EXPANSION} beyond what it spells out (a YAML bomb?)"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_text(path: Path, error: type[ConfigError], limit: int) -> str:
    """The UTF-8 text of a file the user named (a byte-order mark dropped), at most
    `limit` bytes; raise `error` naming the file otherwise."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    if size > limit:
        raise error(f"{path}: file is {size} bytes, more than the {limit} allowed")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None


def read_yaml(path: Path, error: type[ConfigError]) -> Any:
    """Parse `path` with the safe loader; raise `error` with file and line on failure.

    No Python tags (`!!python/object`), no alias bombs, no nesting deep enough to
    exhaust the parser: each is an `error` naming the file, never a crash or a hang.
    """
    text = read_text(path, error, MAX_YAML_BYTES)
    try:
        return yaml.load(text, Loader=_SafeLoader)  # a SafeLoader: no Python tags
    except _AliasBomb as exc:
        raise error(f"{path}: refused: {exc}") from None
    except RecursionError:
        raise error(f"{path}: invalid YAML: nested too deeply") from None
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
