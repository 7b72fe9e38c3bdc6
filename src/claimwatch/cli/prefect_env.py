"""What the command line tells Prefect before Prefect is imported, and Prefect's start-up
failure told in one line.

Prefect reads its settings from the environment when it is first imported, and the
processes it starts (its temporary API server, flow runs) inherit them, so the defaults
are set once, as the command starts, and only where the user has set nothing.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
# Prefect waits 20 s for its temporary API server; on a busy machine (a test suite, other
# passes) its start-up, migrations included, can take longer.
STARTUP_TIMEOUT_SECONDS = "90"
DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # offline: telemetry only logs errors
    STARTUP_TIMEOUT_VARIABLE: STARTUP_TIMEOUT_SECONDS,
}
# The start of the RuntimeError Prefect raises when its temporary server did not answer.
_TIMED_OUT = "Timed out while attempting to connect to ephemeral Prefect API server"


def set_prefect_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Prefect's settings that claimwatch needs, where the user has not set them."""
    env = os.environ if environ is None else environ
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)


def startup_failure(exc: BaseException) -> str | None:
    """The one-line message for Prefect's temporary server failing to start in time, or
    None when `exc` is something else."""
    if not (isinstance(exc, RuntimeError) and str(exc).startswith(_TIMED_OUT)):
        return None
    seconds = os.environ.get(STARTUP_TIMEOUT_VARIABLE, STARTUP_TIMEOUT_SECONDS)
    return (
        f"Prefect's temporary API server did not start within {seconds} s "
        "(is the machine busy?), so nothing ran: run the command again, allow more time "
        f"with {STARTUP_TIMEOUT_VARIABLE}, or start a server (`prefect server start`) "
        "and set PREFECT_API_URL"
    )
