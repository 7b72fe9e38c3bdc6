"""docker-compose.yml and the Dockerfile, checked offline (this machine has no Docker engine).

The compose file is validated against the compose specification's schema, then
held to the code: the commands it runs exist, the CLAIMWATCH_* names it sets
are settings, the warehouse lands on the named volume, and the image carries
the files the app reads.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from claimwatch.fetching.client import FetchConfig
from claimwatch.settings import Settings
from claimwatch.store.lake import DATA_PATH_VARIABLE
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _interpolated(value: str) -> str:
    """A compose value with each ${NAME:-default} replaced by its default."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: _interpolated(str(v)) for k, v in env.items()}


def _dockerfile_env() -> dict[str, str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", line))
    return pairs


def test_compose_file_matches_the_compose_schema() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE.read_text(encoding="utf-8")
    broken.write_text(text.replace("condition: service_healthy", "condition: when_ready", 1))
    result = _check_jsonschema(broken)
    assert result.returncode != 0
    assert "condition" in result.stdout + result.stderr


def test_service_commands_are_real_commands(compose: dict[str, Any]) -> None:
    commands = {name: s["command"] for name, s in compose["services"].items() if "command" in s}
    assert commands["claimwatch"] == ["claimwatch", "serve"]
    for command in commands.values():
        program, *args = command
        words = list(itertools.takewhile(lambda a: not a.startswith("-"), args))  # subcommands
        options = [a for a in args if a.startswith("--")]
        result = subprocess.run(
            [str(BIN / program), *words, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"
        for option in options:
            assert option in result.stdout, f"{command}: {option} is not an option"


def test_claimwatch_environment_names_are_settings(compose: dict[str, Any]) -> None:
    names: dict[str, str] = {}
    for service in compose["services"].values():
        names |= {k: v for k, v in _environment(service).items() if k.startswith("CLAIMWATCH_")}
    names |= {k: v for k, v in _dockerfile_env().items() if k.startswith("CLAIMWATCH_")}
    assert "CLAIMWATCH_DB" in names
    for name in set(names) - {DATA_PATH_VARIABLE}:  # read by the warehouse when it is made
        field, _, nested = name.removeprefix("CLAIMWATCH_").lower().partition("__")
        assert field in Settings.model_fields, f"{name}: no such setting"
        if nested:
            assert nested in FetchConfig.model_fields, f"{name}: no such setting"
    # ...and the values are valid settings, with the defaults compose falls back to.
    settings = Settings(
        **{
            k.removeprefix("CLAIMWATCH_").lower(): v
            for k, v in names.items()
            if k != DATA_PATH_VARIABLE
        }
    )
    assert settings.digest_cron == Settings().digest_cron


def test_the_warehouse_is_on_the_named_volume(compose: dict[str, Any]) -> None:
    """The compose file's warehouse: its catalog in the compose PostgreSQL, in the database
    the init script creates; its data, like the image's embedded default, on the volume."""
    service = compose["services"]["claimwatch"]
    env = _environment(service)
    catalog = dict(pair.split("=", 1) for pair in env["CLAIMWATCH_DB"].split(":", 1)[1].split())
    assert env["CLAIMWATCH_DB"].startswith("postgres:") and catalog["host"] == "postgres"
    postgres = compose["services"]["postgres"]
    assert catalog["user"] == _environment(postgres)["POSTGRES_USER"]
    assert env["PGPASSWORD"] == _environment(postgres)["POSTGRES_PASSWORD"]
    init = [m.split(":") for m in postgres["volumes"] if "/docker-entrypoint-initdb.d" in m]
    scripts = "".join(p.read_text() for p in (ROOT / init[0][0]).glob("*.sql"))
    assert f"CREATE DATABASE {catalog['dbname']};" in scripts
    mounts = [m.split(":") for m in service["volumes"]]
    named = [
        (source, Path(target)) for source, target, *_ in mounts if source in compose["volumes"]
    ]
    data = Path(env[DATA_PATH_VARIABLE])
    embedded = Path(_dockerfile_env()["CLAIMWATCH_DB"])
    for path in data, embedded:
        assert any(path.is_relative_to(target) for _, target in named), (path, named)
    assert data != embedded
    assert any(f'VOLUME ["{target}"]' in DOCKERFILE.read_text() for _, target in named)


def test_start_order_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", (name, dependency)
            assert "healthcheck" in services[dependency], f"{dependency} has no health check"
    assert services["claimwatch"]["depends_on"].keys() == {"postgres", "prefect-server"}
    assert services["prefect-server"]["depends_on"].keys() == {"postgres"}


def test_server_and_app_agree_on_addresses(compose: dict[str, Any]) -> None:
    services = compose["services"]
    server = services["prefect-server"]
    assert server["ports"] == ["127.0.0.1:4200:4200"]  # the UI is for this machine only
    command = server["command"]
    port = command[command.index("--port") + 1]
    assert _environment(services["claimwatch"])["PREFECT_API_URL"] == (
        f"http://prefect-server:{port}/api"
    )
    database = _environment(server)["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert database.startswith("postgresql+asyncpg://") and "@postgres:5432/" in database
    assert port in str(server["healthcheck"]["test"])


def test_dockerfile_is_multi_stage_from_the_lock_and_copies_the_app() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert "COPY requirements.lock" in text and "pip install -r requirements.lock" in text
    # The runtime pins alone: no test or lint tools in the image.
    assert "requirements-dev" not in instructions
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert not {"pytest", "mypy", "ruff", "hypothesis"} & pinned
    copied = {
        Path(m.group(1)).as_posix().rstrip("/")
        for m in re.finditer(r"^COPY (?!--from)(\S+)", text, re.MULTILINE)
    }
    assert {"flows", "warehouse", "seeds", "src"} <= copied
    # The flows and the warehouse SQL go into the wheel (package data), not beside it.
    assert "pip wheel --no-deps" in instructions
    assert "pip install --no-deps /wheels/claimwatch-" in instructions
    assert "/app/flows" not in instructions and "/app/warehouse" not in instructions
    assert not {"CLAIMWATCH_FLOWS_DIR", "CLAIMWATCH_WAREHOUSE_DIR"} & _dockerfile_env().keys()
    assert (ROOT / "flows" / "serve.py").is_file() and (ROOT / "warehouse" / "migrations").is_dir()


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".venv/", ".git/", "warehouse/*.duckdb", "warehouse/*.duckdb.wal"} <= set(ignored)
    assert not {"flows/", "seeds/", "warehouse/", "src/", "requirements.lock"} & set(ignored)


def test_the_workbench_shares_the_warehouse_and_asks_for_sign_in(compose: dict[str, Any]) -> None:
    """The workbench listens beyond its container, so it must have users; and it works on
    the warehouse the scheduled passes write."""
    workbench, app = compose["services"]["workbench"], compose["services"]["claimwatch"]
    env = _environment(workbench)
    assert env["CLAIMWATCH_DB"] == _environment(app)["CLAIMWATCH_DB"]
    assert env["CLAIMWATCH_UI_USERS"].startswith("/data/")
    assert "warehouse:/data" in workbench["volumes"]
    command = workbench["command"]
    assert command[:2] == ["claimwatch", "ui"] and command[command.index("--host") + 1] == "0.0.0.0"
    port = command[command.index("--port") + 1]
    assert f"127.0.0.1:{port}:{port}" in workbench["ports"]
