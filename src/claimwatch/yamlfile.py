"""Reading the user's YAML files: safe loading and one-line errors that point at the fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from claimwatch.exceptions import ConfigError
from claimwatch.userfile import position, read_text

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

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # PyYAML keeps the last of two equal keys: the first value would be lost unsaid.
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key.value!r} appears twice", key.start_mark
                    )
                seen.add((key.tag, key.value))
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


# A date stays the text it was written as: fields such as a claim's said_on take text
# (YYYY, YYYY-MM or YYYY-MM-DD alike), and an impossible date (2020-13-01) would otherwise
# be a crash in PyYAML, not a message.
_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


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
        at = f" (column {mark.column + 1})" if mark else ""
        raise error(f"{where}: invalid YAML: {exc.problem}{at}") from None
    except yaml.reader.ReaderError as exc:  # a control character: names a position alone
        line, column = position(text, exc.position)
        what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "a byte"
        raise error(
            f"{path}:{line}: invalid YAML: {what} is not allowed in YAML (column {column})"
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None


# Past this many, a file has a systematic fault: the first ones show it.
MAX_LISTED_ERRORS = 100
# What a pattern of the models allows, in words, for a value that does not fit it.
PATTERN_WORDS = {
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "lowercase letters, digits and single hyphens (such as "
    "state-media)",
    r"^[a-z0-9]+([-_][a-z0-9]+)*$": "lowercase letters, digits and single hyphens or "
    "underscores (such as nato-news)",
    r"^[a-z]{2,3}$": "a two- or three-letter language code in lowercase (such as en or fr)",
    r"^\d{4}(-\d{2}(-\d{2})?)?$": "a date as YYYY, YYYY-MM or YYYY-MM-DD",
    r"^https?://\S+$": "a web address starting with http:// or https://",
}


def describe_validation_error(path: Path, exc: ValidationError, items: list[Any], key: str) -> str:
    """Every error of `exc`, one a line, each naming the file, the item (by its id or name)
    and the field."""
    errors = own_errors(exc)
    lines = [describe_error(path, error, items, key) for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"{path}: {len(errors) - MAX_LISTED_ERRORS} more errors not listed")
    return "\n".join(lines)


def own_errors(exc: ValidationError) -> list[ErrorDetails]:
    """The errors of `exc` but those that only follow from others: a list whose items all
    failed is also "too short", which says nothing more."""
    errors = exc.errors()
    within = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}
    return [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in within)]


def describe_error(path: Path, error: ErrorDetails, items: list[Any], key: str) -> str:
    """One line naming the file, the item (by its id or name) and the field of one error."""
    loc = list(error["loc"])
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
    if error["type"] == "unknown_kind":  # a tagged union (source kinds) got an unknown tag
        loc.append("kind")
    field = ".".join(str(part) for part in loc) or "(top level)"
    message = plain_message(error)
    if field == "(top level)":
        return f"{where}: {message}"
    return f"{where}: field {field!r}: {message}"


def plain_message(error: ErrorDetails) -> str:
    """Pydantic's message for one error, a pattern it names said in words."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error["type"] == "string_pattern_mismatch" and pattern in PATTERN_WORDS:
        return f"{error['input']!r} does not fit: use {PATTERN_WORDS[pattern]}"
    return error["msg"].removeprefix("Value error, ")


def validate(model: type[BaseModel], data: Any, path: Path, key: str, error: type[ConfigError]):
    """Validate `data` against `model`, turning pydantic's report into a line per error."""
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping with a top-level {key!r} list")
    items = data.get(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(
            describe_validation_error(path, exc, items if isinstance(items, list) else [], key)
        ) from None
