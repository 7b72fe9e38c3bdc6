"""Prefect's temporary API server, started as the pass's process begins (__main__.py),
rather than when its first flow runs.

With no server named (PREFECT_API_URL), Prefect starts a temporary one when the first
flow runs, and waits for it. `claimwatch rematch --claim` reached that point after 4.6 s
and began its flow after 8.6 s (10^5 articles, this 2-core machine). Started with
Prefect's own command for it before the pass imports anything heavy, the server comes up
while the pass imports its modules, on the other core, and the pass uses it when
Prefect's settings name no other server. It lives in the pass's session, as Prefect's
own would (supervise.py), and is stopped at the pass's exit.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# What Prefect sets for its own temporary server (no UI, and the server knows itself as
# the temporary one), and a mark of ours.
SERVER_ENVIRONMENT = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "CLAIMWATCH_TEMPORARY_SERVER": "1",
}
# Prefect's own words when its server does not answer in time, which the command line
# turns into one line (cli/prefect_env.py).
TIMED_OUT = "Timed out while attempting to connect to ephemeral Prefect API server."
STOP_SECONDS = 5.0


@dataclass(frozen=True)
class TemporaryServer:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Terminate the server, and kill it if it does not end in STOP_SECONDS."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# The server this process started, if any.
_started: TemporaryServer | None = None


def start_early(environ: Mapping[str, str]) -> None:
    """Start Prefect's temporary server, unless the environment names a server or Prefect
    is not installed; it is stopped at this process's exit."""
    global _started
    if environ.get("PREFECT_API_URL") or _started is not None:
        return
    spec = importlib.util.find_spec("prefect")  # found, not imported
    if spec is None or spec.origin is None:
        return
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(Path(spec.origin).parent.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**environ, **SERVER_ENVIRONMENT})
    _started = TemporaryServer(process, f"http://127.0.0.1:{port}/api")
    atexit.register(_started.stop)


@contextlib.contextmanager
def used() -> Iterator[None]:
    """Around the pass's flow: Prefect's settings made to name the server start_early
    started, once it answers, where they name no other server (in a profile or a settings
    file: then it is stopped). Without one, nothing changes."""
    server = _started
    if server is None:
        yield
        return
    from prefect.logging import get_logger
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        server.stop()
        yield
        return
    get_logger().info(f"Starting temporary server on {server.url.removesuffix('/api')}")
    if not _answers(server, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()):
        if server.process.poll() is None:
            raise RuntimeError(TIMED_OUT)
        yield  # it could not start (its port taken since): Prefect starts one of its own
        return
    with temporary_settings(updates={PREFECT_API_URL: server.url}):
        yield


def _answers(server: TemporaryServer, timeout: float) -> bool:
    """Whether the server answers its health check within `timeout` seconds."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline and server.process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{server.url}/health").status_code == 200:
                    return True
            time.sleep(0.05)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
