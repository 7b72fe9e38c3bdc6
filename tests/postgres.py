"""A real PostgreSQL server for the tests of the warehouse's PostgreSQL catalog.

One server per test session (per xdist worker), on 127.0.0.1 and a free port, its
files in a temporary folder removed at the end; each test gets a database of its
own. PostgreSQL refuses to run as root, so under root the server runs as the
`postgres` user (`runuser`), otherwise as the current user. Without PostgreSQL's
binaries the tests that need it are skipped, saying how to install them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port

# Debian's `postgresql` package puts its binaries here, one folder per major version.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
INSTALL_HINT = "PostgreSQL's server binaries not found; install them: apt-get install postgresql"
# A test server needs no durability: no waiting on the disk after each commit.
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


def binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and createdb, the newest version first."""
    candidates = sorted(
        DEBIAN_BINARIES.glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True
    )
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    return next(
        (c for c in candidates if (c / "initdb").is_file() and (c / "pg_ctl").is_file()), None
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


@dataclass
class PostgresServer:
    """A running server: where it listens, and how to make a database on it."""

    bin: Path
    port: int
    folder: Path
    _names: Iterator[int]

    def create_database(self, prefix: str = "lake") -> str:
        """A new, empty database; its name."""
        name = f"{prefix}_{next(self._names)}"
        self.client("createdb", name)
        return name

    def catalog(self, dbname: str) -> str:
        """The `--db` value that names a DuckLake catalog in `dbname`."""
        return f"postgres:dbname={dbname} host=127.0.0.1 port={self.port} user={SUPERUSER}"

    def psql(self, dbname: str, sql: str) -> str:
        """Run `sql` in `dbname` with psql; its output, unaligned, without headers."""
        return self.client(
            "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, dbname
        )

    def client(self, program: str, *args: str) -> str:
        done = subprocess.run(
            [
                str(self.bin / program),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{program} {' '.join(args)}: {done.stderr}"
        return done.stdout

    @property
    def log(self) -> Path:
        return self.folder / "server.log"


def _as_server_user(command: list[str]) -> list[str]:
    """`command` run as the user PostgreSQL accepts: `postgres` under root, else ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return command


def _server_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="claimwatch-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SUPERUSER, SUPERUSER)
    return folder


def _run(command: list[str], folder: Path) -> None:
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, cwd=folder, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 for the whole session, trusting local connections."""
    found = binaries()
    if found is None:
        pytest.skip(INSTALL_HINT)
    folder = _server_folder()
    data = folder / "data"
    try:
        _run(
            [
                str(found / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ],
            folder,
        )
        port = free_port()
        options = f"-k {folder} -h 127.0.0.1 -p {port} " + " ".join(f"-c {s}" for s in SETTINGS)
        pg_ctl = [str(found / "pg_ctl"), "-D", str(data)]
        _run(
            [*pg_ctl, "-l", str(folder / "server.log"), "-o", options, "-w", "-t", "60", "start"],
            folder,
        )
        try:
            yield PostgresServer(found, port, folder, itertools.count(1))
        finally:
            _run([*pg_ctl, "-m", "fast", "-w", "stop"], folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class PostgresCatalog:
    """A fresh database on the test server, for one test's warehouse."""

    server: PostgresServer
    dbname: str
    db: str  # the `--db` value
    data_path: Path  # CLAIMWATCH_DATA_PATH for the passes that create it


@pytest.fixture
def postgres_catalog(postgres_server: PostgresServer, tmp_path: Path) -> PostgresCatalog:
    """A new database for this test's warehouse, with a data folder of its own."""
    name = postgres_server.create_database()
    data = tmp_path / "lake-data"
    data.mkdir()
    return PostgresCatalog(postgres_server, name, postgres_server.catalog(name), data)
