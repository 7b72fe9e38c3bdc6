"""claimwatch built as a wheel and installed outside the checkout runs a pass, a report,
the review queue and a digest.

The wheel is built from a copy of the package's sources with this virtualenv's setuptools
(no build isolation, no index: nothing is downloaded) and installed into a fresh
virtualenv in a temporary folder. That virtualenv finds its dependencies in this one
through a `.pth` line, which puts them after its own site-packages: its claimwatch is the
wheel's, and this checkout's editable install is never loaded there (its finder is a
`.pth` of this virtualenv, which a plain path line does not run). The commands run with
the new virtualenv's console script, from a working folder of their own holding small
seeds/, so every path into the checkout would fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SEEDS, write_sources

pytestmark = pytest.mark.slow

# What the wheel is built from (as the Dockerfile copies it), never local state.
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "src", "flows", "warehouse")
LEFT_OUT = shutil.ignore_patterns(
    "__pycache__", "*.egg-info", "build", "*.duckdb", "*.duckdb.wal", "*.pass-lock", "*.digest.lock"
)
CLAIMS = (
    "ukraine-today-asia-tomorrow",
    "where-nato-goes-war-is-most-likely",
    "wherever-nato-shows-up-turmoil-follows",
)


@dataclass(frozen=True)
class Installed:
    venv: Path
    site_packages: Path

    @property
    def claimwatch(self) -> Path:
        return self.venv / "bin" / "claimwatch"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _checked(command: list[str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return str(done.stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in PACKAGE_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=LEFT_OUT)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = base / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    offline = ["--no-deps", "--no-index"]
    _checked(
        [*pip, "wheel", *offline, "--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
        "building the wheel (needs setuptools>=70.1 in the venv: requirements-dev.lock)",
    )
    [wheel] = wheels.glob("claimwatch-*.whl")
    venv = base / "venv"
    _checked([sys.executable, "-m", "venv", "--without-pip", str(venv)], "making the virtualenv")
    _checked(
        [*pip, "--python", str(venv / "bin" / "python"), "install", *offline, str(wheel)],
        "installing the wheel",
    )
    site = Path(
        _checked(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            "finding site-packages",
        ).strip()
    )
    (site / "zz-claimwatch-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(venv, site)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, sample_url: str) -> Path:
    """A folder of the user's, outside the checkout: seeds/ with three claims, the offline
    sample as the one source, a digest to standard output; the warehouse by default."""
    work = tmp_path_factory.mktemp("analyst")
    seeds = work / "seeds"
    seeds.mkdir()
    write_sources(seeds / "sources.yaml", ("sample", sample_url + "feed.xml"), sample=True)
    seed_claims = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    claims = [
        {k: v for k, v in claim.items() if k != "document"}
        for claim in seed_claims
        if claim["id"] in CLAIMS
    ]
    assert len(claims) == len(CLAIMS)
    (seeds / "claims.yaml").write_text(
        yaml.safe_dump({"claims": claims}, allow_unicode=True), encoding="utf-8"
    )
    (seeds / "digest.yaml").write_text(
        "digest:\n  title: installed digest\n"
        "channels:\n  - name: terminal\n    kind: stdout\n    format: text\n"
        "subscriptions:\n  - name: everything\n    channels: [terminal]\n"
        "    include_sample: true\n",
        encoding="utf-8",
    )
    return work


def _environment(work: Path) -> dict[str, str]:
    """The user's environment: no claimwatch settings but the test's, no path into here."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "CLAIMWATCH_")) and k not in {"PYTHONPATH", "COLUMNS"}
    }
    return kept | {
        "PREFECT_HOME": str(work / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The temporary API server of a pass starts slowly on a busy machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "CLAIMWATCH_ALLOW_PRIVATE_HOSTS": "1",
        "CLAIMWATCH_FETCH__HOST_DELAY": "0",
        "CLAIMWATCH_CACHE_DIR": os.environ["CLAIMWATCH_CACHE_DIR"],
    }


@dataclass(frozen=True)
class Said:
    returncode: int
    stdout: str
    stderr: str


def _run(command: list[str | Path], work: Path) -> Said:
    done = subprocess.run(
        [str(c) for c in command],
        cwd=work,
        env=_environment(work),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Said(done.returncode, done.stdout, done.stderr)


def test_the_wheel_carries_the_flows_and_the_warehouse_sql(
    installed: Installed, tmp_path: Path
) -> None:
    probe = (
        "import json, claimwatch, claimwatch.flows.monitor as monitor\n"
        "from claimwatch.store.warehouse_sql import sql_dir\n"
        "folder = sql_dir()\n"
        "print(json.dumps({'package': claimwatch.__file__, 'flow': monitor.__file__,"
        " 'sql': str(folder), 'files': sorted(str(p.relative_to(folder))"
        " for p in folder.rglob('*.sql'))}))\n"
    )
    said = _run([installed.python, "-c", probe], tmp_path)
    assert said.returncode == 0, said.stderr
    found = json.loads(said.stdout)
    for key in ("package", "flow", "sql"):
        assert Path(found[key]).is_relative_to(installed.site_packages), (key, found[key])
    warehouse = ROOT / "warehouse"
    assert found["files"] == sorted(str(p.relative_to(warehouse)) for p in warehouse.rglob("*.sql"))


def test_serve_builds_its_deployments_from_the_installed_flows(
    installed: Installed, tmp_path: Path
) -> None:
    probe = (
        "from claimwatch.flows.serve import deployments\n"
        "from claimwatch.settings import load_settings\n"
        "print(' '.join(d.entrypoint for d in deployments(load_settings())))\n"
    )
    said = _run([installed.python, "-c", probe], tmp_path)
    assert said.returncode == 0, said.stderr
    assert said.stdout.split() == [
        "claimwatch.flows.monitor.monitor",
        "claimwatch.flows.rematch.rematch",
        "claimwatch.flows.digest.digest",
        "claimwatch.flows.index.index",
        "claimwatch.flows.maintain.maintain",
    ]


@pytest.fixture(scope="module")
def passed(installed: Installed, workdir: Path) -> Said:
    """`claimwatch run` with every default: seeds/ and warehouse/ of the working folder."""
    return _run([installed.claimwatch, "run"], workdir)


def test_a_pass_outside_the_checkout(passed: Said, workdir: Path) -> None:
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-3000:]
    assert "Pass completed: 1 sources" in passed.stdout
    assert "0 failures." in passed.stdout
    assert "New matches (" in passed.stdout
    assert (workdir / "warehouse" / "lake" / "catalog.sqlite").is_file()


def test_a_report_outside_the_checkout(installed: Installed, passed: Said, workdir: Path) -> None:
    said = _run([installed.claimwatch, "report", "latest-matches", "--format", "json"], workdir)
    assert said.returncode == 0, said.stderr
    rows = json.loads(said.stdout)
    assert {row["claim_id"] for row in rows} == set(CLAIMS)
    assert all(row["article_url"].startswith("http://127.0.0.1:") for row in rows)
    table = _run([installed.claimwatch, "report", "latest-matches"], workdir)
    assert table.returncode == 0, table.stderr
    assert all(claim in table.stdout for claim in CLAIMS)


def test_the_review_queue_outside_the_checkout(
    installed: Installed, passed: Said, workdir: Path
) -> None:
    said = _run([installed.claimwatch, "review", "--format", "json"], workdir)
    assert said.returncode == 0, said.stderr
    pending = json.loads(said.stdout)
    assert all(row["claim_id"] in CLAIMS for row in pending)
    listed = _run([installed.claimwatch, "review"], workdir)
    assert listed.returncode == 0, listed.stderr
    if pending:
        assert all(row["id"] in listed.stdout for row in pending)
    else:
        assert listed.stdout.strip() == "no suggestions are waiting for review"


def test_a_digest_dry_run_outside_the_checkout(
    installed: Installed, passed: Said, workdir: Path
) -> None:
    said = _run([installed.claimwatch, "digest", "--dry-run"], workdir)
    assert said.returncode == 0, said.stderr
    assert "Dry run: nothing was sent or marked as sent." in said.stderr
    assert said.stdout.startswith("installed digest: ")
    texts = {
        c["id"]: c["text"]
        for c in yaml.safe_load((workdir / "seeds" / "claims.yaml").read_text())["claims"]
    }
    assert all(f"== {texts[claim]}" in said.stdout for claim in CLAIMS)


def test_the_workbench_outside_the_checkout(
    installed: Installed, passed: Said, workdir: Path
) -> None:
    """Its templates, stylesheet and script come from the installed package."""
    probe = (
        "from starlette.testclient import TestClient\n"
        "from claimwatch.settings import load_settings\n"
        "from claimwatch.web import WorkbenchConfig, create_app\n"
        "s = load_settings()\n"
        "client = TestClient(create_app(WorkbenchConfig(db=s.db, claims=s.claims)))\n"
        "for path in ('/', '/static/workbench.css', '/static/workbench.js'):\n"
        "    answer = client.get(path)\n"
        "    print(path, answer.status_code, len(answer.content))\n"
        "print(client.get('/?format=json').text)\n"
    )
    said = _run([installed.python, "-c", probe], workdir)
    assert said.returncode == 0, said.stderr
    lines = said.stdout.splitlines()
    for line in lines[:3]:
        _path, status, size = line.split()
        assert status == "200" and int(size) > 100, line
    claims = {row["claim_id"] for row in json.loads("\n".join(lines[3:])) if row["mentions"]}
    assert claims == set(CLAIMS)
