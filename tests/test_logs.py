"""Library loggers reach Prefect's run logs (console and API) at the intended levels."""

import json
import logging
import os
import subprocess
import sys

from claimwatch.exceptions import WarehouseError
from claimwatch.logs import ExpectedErrorsFilter, extra_loggers, route_to_prefect

PROBE = """
import json, logging
from claimwatch.logs import route_to_prefect, set_levels
route_to_prefect()
from prefect.logging.configuration import ensure_logging_setup
ensure_logging_setup()  # as a flow run does; reads PREFECT_LOGGING_EXTRA_LOGGERS
set_levels()
print(json.dumps({
    name: [logging.getLevelName(logging.getLogger(name).level),
           sorted(type(h).__name__ for h in logging.getLogger(name).handlers)]
    for name in ("claimwatch", "httpx", "trafilatura", "mylib")
}))
"""


def test_extra_loggers_keeps_the_users_and_adds_ours() -> None:
    assert extra_loggers(None) == "claimwatch,httpx,httpcore,trafilatura"
    assert extra_loggers("mylib, httpx") == "mylib,httpx,claimwatch,httpcore,trafilatura"


def test_route_to_prefect_sets_the_environment_prefect_reads() -> None:
    env = {"PREFECT_LOGGING_EXTRA_LOGGERS": "mylib"}
    route_to_prefect(env)
    assert env == {
        "PREFECT_LOGGING_EXTRA_LOGGERS": "mylib,claimwatch,httpx,httpcore,trafilatura",
        # Outside a flow run, library lines go to the console without a warning.
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    }


def test_prefect_handlers_are_attached_in_a_fresh_process() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    env["PREFECT_LOGGING_EXTRA_LOGGERS"] = "mylib"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loggers = json.loads(result.stdout)
    assert loggers["claimwatch"][0] == "INFO"
    assert loggers["httpx"][0] == loggers["trafilatura"][0] == "WARNING"
    for name in ("claimwatch", "httpx", "trafilatura", "mylib"):
        assert "APILogHandler" in loggers[name][1], loggers


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except type(exc):
        return logging.LogRecord(
            "prefect.task_runs", logging.ERROR, "", 0, "failed", (), sys.exc_info()
        )


def test_expected_errors_lose_their_traceback_and_others_keep_it() -> None:
    expected = _record(WarehouseError("w.duckdb: write failed"))
    unexpected = _record(RuntimeError("a bug"))
    for record in (expected, unexpected):
        assert ExpectedErrorsFilter().filter(record)
    assert expected.exc_info is None
    assert unexpected.exc_info is not None and unexpected.exc_info[0] is RuntimeError
