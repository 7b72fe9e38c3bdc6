"""A real HTTP server on 127.0.0.1 that misbehaves on purpose: resets, cut bodies, silence.

ScriptedServer (tests/httpserver.py) always answers with well-formed HTTP. Here
each path maps to a Fault: a function handed the raw connection once the
request head is read, free to break the protocol. Every connection carries
one request (answers say `Connection: close`), so no fault leaks into the next
request. Unknown paths, robots.txt included, get a 404.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.httpserver import serving

Fault = Callable[[socket.socket], None]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1")


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Fault:
    """A well-formed answer (the control case)."""
    head = _head(status, {"Content-Length": str(len(body)), **(headers or {})})
    return lambda conn: conn.sendall(head + body)


def reset() -> Fault:
    """A TCP reset instead of an answer."""

    def fault(conn: socket.socket) -> None:
        # Linger 0 turns close() into an RST rather than an orderly FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    return fault


def truncated(body: bytes, declared: int, headers: dict[str, str] | None = None) -> Fault:
    """Content-Length says `declared` bytes; `body` is sent and the connection closed."""
    head = _head(200, {"Content-Length": str(declared), **(headers or {})})
    return lambda conn: conn.sendall(head + body)


def unsized(size: int, chunk: int = 64 * 1024, headers: dict[str, str] | None = None) -> Fault:
    """A body of `size` bytes with no Content-Length, ended by closing the connection."""

    def fault(conn: socket.socket) -> None:
        conn.sendall(_head(200, headers or {}))
        sent = 0
        try:
            while sent < size:
                conn.sendall(b"x" * min(chunk, size - sent))
                sent += chunk
        except OSError:  # the client hung up once it had enough
            pass

    return fault


def silent(seconds: float, head: bytes = b"") -> Fault:
    """Send `head` (if any), then nothing for `seconds`."""

    def fault(conn: socket.socket) -> None:
        conn.sendall(head)
        time.sleep(seconds)

    return fault


class FaultServer:
    def __init__(self) -> None:
        self.faults: dict[str, Fault] = {}
        self.paths: list[str] = []
        self.base_url = ""
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def add(self, path: str, fault: Fault) -> str:
        self.faults[path] = fault
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return self.paths.count(path)

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = conn.recv(4096)
            if not data:
                return
            head += data
        path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else ""
        with self._lock:
            self.paths.append(path)
        self.faults.get(path, respond(404, b"not found"))(conn)


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    state = FaultServer()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            state._serve(self.request)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as base_url:
        state.base_url = base_url
        yield state
