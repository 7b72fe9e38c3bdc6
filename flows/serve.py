"""The scheduled deployments, served by one long-running process.

`claimwatch serve` (or `python flows/serve.py`) registers each deployment with
the Prefect server at PREFECT_API_URL and then runs the flow runs the server
schedules or that someone starts, each in a subprocess, until it is stopped.
Prefect's temporary local API runs flows but never schedules them, so a real
server is required. prefect.yaml declares the same deployments for a work pool
and `prefect worker start`, for teams that run workers instead.

Each deployment allows one run at a time (a slow pass never overlaps the next),
and stopping the serving process leaves the schedules active
(pause_on_shutdown=False), so a restart resumes them with no manual step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron, Interval, Schedule
from prefect.settings import get_current_settings
from prefect.types.entrypoint import EntrypointType

from claimwatch.exceptions import ConfigError
from claimwatch.settings import Settings, load_settings

# Deployments are named "<flow>/claimwatch", e.g. `prefect deployment run monitor/claimwatch`.
DEPLOYMENT_NAME = "claimwatch"
TAGS = ["claimwatch"]
# Flow parameters that name a setting of another name.
PARAMETER_SETTINGS = {"config": "digest"}


@dataclass(frozen=True)
class Plan:
    """One deployment: the flow (function `flow` of claimwatch.flows.<flow>) and its schedule."""

    flow: str
    schedule: Schedule | None
    description: str


def plans(settings: Settings) -> list[Plan]:
    """Every deployment claimwatch knows."""
    return [
        Plan(
            "monitor",
            _cron(settings.monitor_cron, settings.timezone)
            if settings.monitor_cron
            else Interval(timedelta(minutes=settings.monitor_interval_minutes)),
            "One monitoring pass: new articles from every source, matched and stored.",
        ),
        Plan(
            "rematch",
            None,  # on demand, e.g. after the catalog changed
            "Match the stored articles again with the current catalog.",
        ),
        # The digest, daily at 07:00 in the configured time zone by default
        # (CLAIMWATCH_DIGEST_CRON, CLAIMWATCH_TIMEZONE).
        Plan(
            "digest",
            _cron(settings.digest_cron, settings.timezone),
            "Build and deliver the alert digest of recent matches.",
        ),
        # The sentence index of search by meaning, twice an hour between passes by default
        # (CLAIMWATCH_INDEX_CRON).
        Plan(
            "index",
            _cron(settings.index_cron, settings.timezone),
            "Embed the stored articles' sentences for search by meaning.",
        ),
        # Warehouse maintenance, daily at 03:30 by default (CLAIMWATCH_MAINTAIN_CRON).
        Plan(
            "maintain",
            _cron(settings.maintain_cron, settings.timezone),
            "Keep the warehouse small: merge small files, expire old snapshots, "
            "delete unneeded files.",
        ),
    ]


def _cron(expression: str, timezone: str) -> Schedule:
    try:
        return Cron(expression, timezone=timezone)
    except ValueError as exc:
        raise ConfigError(f"bad schedule setting: {exc}") from None


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """A deployment for each plan, its flow loaded by entrypoint like Prefect.

    Entrypoints are module paths (`claimwatch.flows.monitor.monitor`), so each run
    imports the installed flow, whatever the serving process's working directory.
    """
    built = []
    for plan in plans(settings):
        flow: Any = load_flow_from_entrypoint(f"claimwatch.flows.{plan.flow}:{plan.flow}")
        built.append(
            flow.to_deployment(
                name=DEPLOYMENT_NAME,
                entrypoint_type=EntrypointType.MODULE_PATH,
                schedules=[plan.schedule] if plan.schedule else None,
                parameters=file_parameters(flow, settings),
                tags=[*TAGS, plan.flow],
                description=plan.description,
                concurrency_limit=1,
            )
        )
    return built


def file_parameters(flow: Any, settings: Settings) -> dict[str, str]:
    """The flow's parameters that name a configured file (sources, claims, db, digest config).

    Absolute, so a run finds them whatever its working directory.
    """
    values = {}
    for name in flow.parameters.properties:
        value = getattr(settings, PARAMETER_SETTINGS.get(name, name), None)
        if isinstance(value, Path):
            values[name] = str(value.resolve())
    return values


def require_server() -> str:
    """The API URL of a running Prefect server, or a ConfigError that says what to do."""
    url = get_current_settings().api.url
    if not url:
        raise ConfigError(
            "serve needs a Prefect server: start one with `prefect server start` and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
        )
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        reason = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        raise ConfigError(f"no Prefect server answers at {url}: {reason}")
    return url


def main(settings: Settings | None = None) -> None:
    """Register the deployments and run them until stopped (SIGINT or SIGTERM)."""
    settings = settings or load_settings()
    planned = deployments(settings)  # a bad schedule fails here, before any server is needed
    require_server()
    # limit=2: a digest or maintenance need not wait for a pass (the warehouse takes
    # readers and writers at once); more runs at once would only share the cores.
    serve(*planned, pause_on_shutdown=False, limit=2)


if __name__ == "__main__":
    main()
