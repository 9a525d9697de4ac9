"""The HTTP plumbing under a LocalHub: a threading server per origin (hub and CDN), a handler that reads a
request (chunked bodies too), asks the hub for the reply and sends it, files streamed with Range support."""

from __future__ import annotations

import re
import socket
import sys
import threading
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol

from hftui.localhub.files import CHUNK_SIZE
from hftui.localhub.protocol import Reply, Request, Role


class Answerer(Protocol):
    """What the servers need of the hub: a reply per request, and a place for handler crashes."""

    errors: list[str]

    def answer(self, request: Request, role: Role) -> Reply | None:
        """The reply, or None to close the connection without one."""
        ...


class HubServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that remembers live connections so stop() can cut keep-alive sockets too."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], hub: Answerer, *, role: Role) -> None:
        self.hub = hub
        self.role: Role = role
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection: pooled keep-alive sockets must not outlive stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect mid-response are expected in fault tests.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.hub.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK adds ~40 ms each.
    disable_nagle_algorithm = True
    server_version = "LocalHub/1.0"
    sys_version = ""
    server: HubServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the hub keeps its own request log

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        request = Request.from_target(method, self.path, dict(self.headers.items()), self._read_body())
        reply = self.server.hub.answer(request, self.server.role)
        if reply is None:
            self.close_connection = True
            return
        self._send(reply, method)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply, method: str) -> None:
        headers = list(reply.headers)
        headers.append(("X-Request-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"))
        headers.append(("X-Powered-By", "huggingface-moon"))
        if reply.file is None:
            self._start(reply.status, [*headers, ("Content-Length", str(len(reply.body)))])
            if method != "HEAD" and reply.body:
                self.wfile.write(reply.body)
            return
        self._send_file(reply, headers, method)

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _send_file(self, reply: Reply, headers: list[tuple[str, str]], method: str) -> None:
        hosted = reply.file
        assert hosted is not None
        size = hosted.size
        start, end = 0, size - 1
        status = reply.status
        range_header = self.headers.get("Range")
        parsed = parse_range(range_header, size) if range_header else None
        if parsed == "unsatisfiable":
            self._start(416, [*headers, ("Content-Range", f"bytes */{size}"), ("Content-Length", "0")])
            return
        if isinstance(parsed, tuple):
            start, end = parsed
            status = 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        length = max(end - start + 1, 0)
        self._start(status, [*headers, ("Content-Length", str(length))])
        if method == "HEAD" or length == 0:
            return
        budget = reply.cut_after
        with hosted.open() as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                if budget is not None and len(chunk) >= budget:
                    self.wfile.write(chunk[:budget])
                    self._abort()
                    return
                if budget is not None:
                    budget -= len(chunk)
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _abort(self) -> None:
        """Drop the connection mid-body, as a flaky network would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def parse_range(value: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """A single `bytes=` range as (start, end) inclusive; None means "ignore it and send everything"."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value, flags=re.IGNORECASE)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end
