"""A static file server on 127.0.0.1, for the offline sample and for tests.

    python -m claimwatch.sample_server seeds/sample -- claimwatch run

serves the folder for as long as the command after `--` runs, then exits with
that command's status. The port is `--port`, else SAMPLE_PORT, else 8765 or, when
8765 is taken, a free one; the command gets the port bound in SAMPLE_PORT, which
the sample source of seeds/sources.yaml names (`${SAMPLE_PORT:-8765}`).
"""

from __future__ import annotations

import argparse
import errno
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class declares it this way)
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/rss+xml",
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


DEFAULT_PORT = 8765


@contextmanager
def serve_directory(root: Path, port: int = 0, *, or_free: bool = False) -> Iterator[str]:
    """Serve `root` in a background thread; yield the base URL (ending in '/').

    With `or_free`, a `port` another program holds gives way to a free one."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    handler = functools.partial(_QuietHandler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        if not (or_free and exc.errno == errno.EADDRINUSE):
            raise
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in args:
        split = args.index("--")
        args, command = args[:split], args[split + 1 :]
    parser = argparse.ArgumentParser(prog="python -m claimwatch.sample_server")
    parser.add_argument("root", type=Path, help="folder to serve")
    parser.add_argument(
        "--port",
        type=int,
        help=f"port to serve on [env SAMPLE_PORT; default {DEFAULT_PORT}, or a free port "
        f"when {DEFAULT_PORT} is taken]",
    )
    options = parser.parse_args(args)
    given = os.environ.get("SAMPLE_PORT", "").strip()
    if options.port is None and given and not given.isdigit():
        print(f"error: SAMPLE_PORT={given!r}: expected a port number", file=sys.stderr)
        return 2
    # A port asked for is that port or an error; the default gives way when taken.
    port = options.port if options.port is not None else int(given or DEFAULT_PORT)
    if not 0 <= port <= 65535:
        print(f"error: port {port}: expected 0 to 65535", file=sys.stderr)
        return 2
    chosen = options.port is not None or bool(given)
    try:
        with serve_directory(options.root, port, or_free=not chosen) as base_url:
            bound = int(base_url.rstrip("/").rsplit(":", 1)[1])
            note = "" if bound == port else f" ({port} is taken)"
            print(f"serving {options.root} at {base_url}{note}", file=sys.stderr)
            if command:
                return subprocess.call(command, env=os.environ | {"SAMPLE_PORT": str(bound)})
            threading.Event().wait()
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
