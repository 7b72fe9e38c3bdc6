"""`${NAME}` and `${NAME:-default}` in a sources file's values, filled from the environment.

The offline sample's source names its port so (`${SAMPLE_PORT:-8765}`): the sample
server sets SAMPLE_PORT to the port it bound for the command it runs, and the source
follows. As in a shell, `:-` takes the default when the variable is unset or empty.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claimwatch.exceptions import ConfigError
from claimwatch.userfile import position

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def expand_environment(
    data: Any,
    path: Path,
    error: type[ConfigError],
    environ: Mapping[str, str] | None = None,
) -> Any:
    """`data` (as read from YAML) with every reference in its string values replaced."""
    env = os.environ if environ is None else environ

    def fill(found: re.Match[str]) -> str:
        name, default = found.group(1), found.group(3)
        value = env.get(name)
        if default is not None and not value:
            return default
        if value is None:
            raise error(
                f"{_where(path, found.group(0))}: {found.group(0)} is not set; set {name} "
                f"in the environment or give a default: ${{{name}:-value}}"
            )
        return value

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _REFERENCE.sub(fill, value) if "${" in value else value
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(data)


def _where(path: Path, reference: str) -> str:
    """`path:line:column` of the reference's first occurrence in the file."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return str(path)
    at = text.find(reference)
    if at < 0:
        return str(path)
    line, column = position(text, at)
    return f"{path}:{line}:{column}"
