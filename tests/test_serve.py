"""`claimwatch serve` against a real `prefect server start`: deployments, manual and scheduled runs.

Both run as separate processes on 127.0.0.1 with their own PREFECT_HOME; the
offline sample is served from this process. Each process is started in its
own process group and stopped by its id at the end, also when a test fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.utilities.importtools import load_script_as_module

from claimwatch.exceptions import ConfigError
from claimwatch.settings import Settings
from claimwatch.store.connection import connect
from tests.conftest import ROOT, SEEDS, write_sources
from tests.processes import PREFECT, Process, base_env, free_port, started, wait_for

pytestmark = pytest.mark.slow

# The monitor's schedule here: every minute, as cron, since the scheduler bug that
# SQLAlchemy 2.1 brings (DESIGN.md) stops cron runs while manual runs still work.
EVERY_MINUTE = "* * * * *"


@dataclass
class Served:
    api: str
    db: Path
    process: Process


@pytest.fixture(scope="module")
def served(
    prefect_server: tuple[str, Process], sample_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`claimwatch serve` against the server, monitoring the sample every minute into a tmp db."""
    api, _ = prefect_server
    tmp = tmp_path_factory.mktemp("serve")
    sources = write_sources(tmp / "sources.yaml", ("sample", sample_url + "feed.xml"), sample=True)
    db = tmp / "warehouse.duckdb"
    env = base_env(tmp / "home") | {
        "PREFECT_API_URL": api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "CLAIMWATCH_SOURCES": str(sources),
        "CLAIMWATCH_CLAIMS": str(SEEDS / "claims.yaml"),
        "CLAIMWATCH_DB": str(db),
        "CLAIMWATCH_ALLOW_PRIVATE_HOSTS": "1",
        "CLAIMWATCH_MONITOR_CRON": EVERY_MINUTE,
        "CLAIMWATCH_TIMEZONE": "Europe/Brussels",
    }
    command = [sys.executable, "-m", "claimwatch", "serve"]
    with (
        started(command, env, tmp / "serve.log") as process,
        temporary_settings({PREFECT_API_URL: api}),
    ):
        yield Served(api, db, process)


def _client() -> SyncPrefectClient:
    return get_client(sync_client=True)


def _monitor_runs(client: SyncPrefectClient, deployment_id: Any) -> list[FlowRun]:
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    )


def _deployment(client: SyncPrefectClient, name: str, served: Served) -> Any:
    def found() -> Any:
        with suppress(Exception):
            return client.read_deployment_by_name(name)
        return None

    return wait_for(f"deployment {name}", found, 60, served.process)


def test_deployments_exist_with_their_schedules(served: Served) -> None:
    with _client() as client:
        monitor = _deployment(client, "monitor/claimwatch", served)
        # A module path: each run imports the installed flow, not a file of a checkout.
        assert monitor.entrypoint == "claimwatch.flows.monitor.monitor"
        [schedule] = monitor.schedules
        assert schedule.active
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (
            EVERY_MINUTE,
            "Europe/Brussels",
        )
        assert not monitor.paused
        assert set(monitor.tags) == {"claimwatch", "monitor"}
        assert monitor.global_concurrency_limit is not None
        assert monitor.global_concurrency_limit.limit == 1
        assert monitor.parameters == {
            "sources": str((served.db.parent / "sources.yaml").resolve()),
            "claims": str((SEEDS / "claims.yaml").resolve()),
            "db": str(served.db.resolve()),
        }
        # Flows written by other issues are served as soon as their file exists.
        if (ROOT / "flows" / "rematch.py").exists():
            rematch = _deployment(client, "rematch/claimwatch", served)
            assert rematch.schedules == []
            assert rematch.global_concurrency_limit.limit == 1
        if (ROOT / "flows" / "digest.py").exists():
            digest = _deployment(client, "digest/claimwatch", served)
            [daily] = digest.schedules
            assert (daily.schedule.cron, daily.schedule.timezone) == (
                "0 7 * * *",
                "Europe/Brussels",
            )


def test_run_through_the_api_completes_and_publishes_a_summary(served: Served) -> None:
    with _client() as client:
        _deployment(client, "monitor/claimwatch", served)
        run = run_deployment("monitor/claimwatch", timeout=150, poll_interval=2)
        assert run.state is not None and run.state.is_completed(), (
            f"{run.state}\n{served.process.tail()}"
        )
        assert not run.auto_scheduled
        artifacts = [a for a in client.read_artifacts() if a.flow_run_id == run.id]
        assert [a.key for a in artifacts] == ["monitor-summary"]
        assert str(artifacts[0].data).startswith("# Monitoring pass: completed")


def test_scheduler_runs_a_pass_by_itself(served: Served) -> None:
    with _client() as client:
        deployment = _deployment(client, "monitor/claimwatch", served)

        def completed_scheduled_run() -> FlowRun | None:
            runs = _monitor_runs(client, deployment.id)
            return next(
                (r for r in runs if r.auto_scheduled and r.state and r.state.is_completed()), None
            )

        run = wait_for("a scheduled run", completed_scheduled_run, 150, served.process)
        assert run.created_by is not None and run.created_by.type == "SCHEDULE"


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local webhook endpoint; yields its URL and the JSON bodies posted to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_failed_run_sends_the_documented_notification(served: Served, tmp_path: Path) -> None:
    with webhook_receiver() as (url, received), _client() as client:
        block = CustomWebhookNotificationBlock(
            name="claimwatch-test",
            url=url,
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
        ).save("claimwatch-alerts", overwrite=True)
        automation = tmp_path / "failed-runs.yaml"
        automation.write_text(
            (ROOT / "automations" / "failed-runs.yaml")
            .read_text(encoding="utf-8")
            .replace("BLOCK_DOCUMENT_ID", str(block)),
            encoding="utf-8",
        )
        created = subprocess.run(
            [str(PREFECT), "automation", "create", "--from-file", str(automation)],
            env=base_env(tmp_path / "home") | {"PREFECT_API_URL": served.api},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        _deployment(client, "monitor/claimwatch", served)
        missing = tmp_path / "no-such-claims.yaml"
        run = run_deployment(
            "monitor/claimwatch", parameters={"claims": str(missing)}, timeout=150, poll_interval=2
        )
        assert run.state is not None and run.state.is_failed(), run.state
        wait_for("the notification", lambda: received or None, 60, served.process)
    [message] = received
    assert message["subject"] == f"claimwatch: monitor run {run.name} is Failed"
    assert str(missing) in message["body"]


def test_warehouse_holds_every_completed_run(served: Served) -> None:
    with _client() as client:
        deployment = _deployment(client, "monitor/claimwatch", served)

        def completed() -> list[FlowRun] | None:
            done = [
                r
                for r in _monitor_runs(client, deployment.id)
                if r.state and r.state.is_completed()
            ]
            return done or None

        runs = wait_for("a completed run", completed, 150, served.process)
    # DuckDB lets one process hold the file: stop serving before reading it.
    served.process.stop()
    with connect(served.db, read_only=True) as con:
        stored_runs = {row[0] for row in con.execute("SELECT run_id FROM runs").fetchall()}
        matches = con.execute("SELECT count(*) FROM claim_matches").fetchone()
    assert {str(r.id) for r in runs} <= stored_runs
    assert matches is not None and matches[0] >= 20


def test_default_schedules_come_from_the_settings() -> None:
    serve = load_script_as_module(str(ROOT / "flows" / "serve.py"))
    by_flow = {plan.flow: plan.schedule for plan in serve.plans(Settings())}
    assert by_flow["monitor"].interval.total_seconds() == 30 * 60
    assert by_flow["rematch"] is None
    assert (by_flow["digest"].cron, by_flow["digest"].timezone) == ("0 7 * * *", "UTC")
    assert by_flow["index"].cron == "15,45 * * * *"
    quarter = serve.plans(Settings(monitor_cron="*/15 * * * *", timezone="Asia/Tokyo"))[0]
    assert (quarter.schedule.cron, quarter.schedule.timezone) == ("*/15 * * * *", "Asia/Tokyo")
    with pytest.raises(ConfigError, match="bad schedule setting"):
        serve.plans(Settings(digest_cron="at seven"))


def test_prefect_yaml_matches_the_served_deployments() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    by_flow = {d["entrypoint"].split(":")[1]: d for d in spec["deployments"]}
    defaults = Settings()
    assert by_flow["monitor"]["schedules"] == [{"interval": defaults.monitor_interval_minutes * 60}]
    assert "schedules" not in by_flow["rematch"]
    assert by_flow["digest"]["schedules"] == [
        {"cron": defaults.digest_cron, "timezone": defaults.timezone}
    ]
    assert by_flow["index"]["schedules"] == [
        {"cron": defaults.index_cron, "timezone": defaults.timezone}
    ]
    for name, deployment in by_flow.items():
        assert deployment["entrypoint"] == f"claimwatch.flows.{name}:{name}"
        assert deployment["concurrency_limit"] == 1
        assert deployment["tags"] == ["claimwatch", name]


def test_prefect_deploy_registers_prefect_yaml(
    prefect_server: tuple[str, Process], tmp_path: Path
) -> None:
    api, _ = prefect_server
    env = base_env(tmp_path / "home") | {"PREFECT_API_URL": api, "PWD": str(ROOT)}

    def prefect(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(PREFECT), "--no-prompt", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return result

    prefect("work-pool", "create", "claimwatch", "--type", "process", "--overwrite")
    flows = [f for f in ("monitor", "rematch", "digest") if (ROOT / "flows" / f"{f}.py").exists()]
    prefect("deploy", *(arg for flow in flows for arg in ("--name", f"{flow}/claimwatch-worker")))
    with temporary_settings({PREFECT_API_URL: api}), _client() as client:
        monitor = client.read_deployment_by_name("monitor/claimwatch-worker")
        assert monitor.work_pool_name == "claimwatch"
        assert [s.schedule.interval.total_seconds() for s in monitor.schedules] == [1800]
        assert monitor.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ]
        if "digest" in flows:
            digest = client.read_deployment_by_name("digest/claimwatch-worker")
            assert [(s.schedule.cron, s.schedule.timezone) for s in digest.schedules] == [
                ("0 7 * * *", "UTC")
            ]


def test_serve_without_a_server_says_so_in_one_line(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home")
    missing = subprocess.run(
        [sys.executable, "-m", "claimwatch", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "Error: serve needs a Prefect server: start one with `prefect server start` and set "
        "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
    ]
    nobody = f"http://127.0.0.1:{free_port()}/api"
    down = subprocess.run(
        [sys.executable, "-m", "claimwatch", "serve"],
        env=env | {"PREFECT_API_URL": nobody},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert down.returncode == 1
    [line] = down.stderr.strip().splitlines()
    assert line.startswith(f"Error: no Prefect server answers at {nobody}: ")
