"""Which library loggers reach Prefect's run logs, and at what level.

Prefect attaches its handlers (console and API) to the loggers named in
PREFECT_LOGGING_EXTRA_LOGGERS when it is first imported, so the variable must
be set before that import, in every process that runs a flow; child processes
(the runs `claimwatch serve` starts) inherit it. The levels keep the run logs
useful: claimwatch's own INFO lines, but only the warnings and errors of httpx
(which logs every request at INFO) and trafilatura (which logs every page it
finds hard to parse).
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

from claimwatch.exceptions import ClaimwatchError

LEVELS: dict[str, int] = {
    "claimwatch": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "trafilatura": logging.WARNING,
}

EXTRA_LOGGERS_VARIABLE = "PREFECT_LOGGING_EXTRA_LOGGERS"


def extra_loggers(existing: str | None) -> str:
    """`existing` (a comma-separated list, maybe empty) with every logger of LEVELS added."""
    names = [name.strip() for name in (existing or "").split(",") if name.strip()]
    names += [name for name in LEVELS if name not in names]
    return ",".join(names)


def route_to_prefect(environ: MutableMapping[str, str] | None = None) -> None:
    """Name claimwatch's loggers in PREFECT_LOGGING_EXTRA_LOGGERS (call before importing Prefect).

    Keeps any loggers the user already listed there.
    """
    env = os.environ if environ is None else environ
    env[EXTRA_LOGGERS_VARIABLE] = extra_loggers(env.get(EXTRA_LOGGERS_VARIABLE))
    # The library also logs outside flow runs (in tests, in scripts): there the lines go
    # to the console only, instead of a warning that they cannot reach the API.
    env.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")


# Prefect's loggers for failed task and flow runs, which log a traceback.
RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


class ExpectedErrorsFilter(logging.Filter):
    """Keeps Prefect's line about a run that failed on a ClaimwatchError, without the
    traceback: the error's own message already names what to fix, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ClaimwatchError):
            record.exc_info = None
            record.exc_text = None
        return True


def set_levels() -> None:
    """Set the level of each routed logger, and quiet expected errors, in this process."""
    for name, level in LEVELS.items():
        logging.getLogger(name).setLevel(level)
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExpectedErrorsFilter) for f in logger.filters):
            logger.addFilter(ExpectedErrorsFilter())
