"""A static file server on 127.0.0.1, for the offline sample and for tests.

    python -m claimwatch.sample_server seeds/sample --port 8765 -- claimwatch run

serves the folder for as long as the command after `--` runs, then exits with
that command's status.
"""

from __future__ import annotations

import argparse
import functools
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


@contextmanager
def serve_directory(root: Path, port: int = 0) -> Iterator[str]:
    """Serve `root` in a background thread; yield the base URL (ending in '/')."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
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
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args(args)
    try:
        with serve_directory(options.root, options.port) as base_url:
            print(f"serving {options.root} at {base_url}", file=sys.stderr)
            if command:
                return subprocess.call(command)
            threading.Event().wait()
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{options.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
