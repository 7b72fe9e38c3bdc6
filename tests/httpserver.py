"""A real HTTP server on 127.0.0.1 whose answers each test scripts per path."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Route = Callable[["Request"], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    count: int  # how many times this path was requested, this one included
    method: str = "GET"
    body: bytes = b""


class ScriptedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self.base_url = ""

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def add(self, path: str, reply: Reply | Route) -> str:
        self.routes[path] = reply if callable(reply) else (lambda _request, r=reply: r)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(r.path == path for r in self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            count = self.hits(handler.path) + 1
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length) if length else b""
            request = Request(handler.path, dict(handler.headers), count, handler.command, body)
            self.requests.append(request)
        try:
            route = self.routes.get(handler.path)
            reply = route(request) if route else Reply(404, b"not found")
            if reply.delay:
                time.sleep(reply.delay)
            handler.send_response(reply.status)
            headers = {"Content-Length": str(len(reply.body))} | reply.headers
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(reply.body)
        finally:
            with self._lock:
                self.active -= 1


@contextmanager
def scripted_server(port: int = 0) -> Iterator[ScriptedServer]:
    state = ScriptedServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state._handle(self)

        def do_POST(self) -> None:
            state._handle(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    with serving(server) as base_url:
        state.base_url = base_url
        yield state


@contextmanager
def serving(server: socketserver.TCPServer) -> Iterator[str]:
    """Run `server` in a thread; yield its base URL; stop it, also when a test fails."""
    # A short poll makes shutdown() (each test's teardown) take ~50 ms instead of ~500.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def conditional(body: bytes, etag: str, content_type: str) -> Route:
    """A route that answers 304 to a request naming the current ETag, else the body."""

    def route(request: Request) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(body=body, headers={"Content-Type": content_type, "ETag": etag})

    return route
