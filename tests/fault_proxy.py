"""A fault proxy for tests: an HTTP server on 127.0.0.1 that forwards each request to an upstream server (an
OpenAI-compatible one such as `transformers serve`), streaming its answer through as it arrives, or fails the
request as servers do. Faults are queued, one per request; with the queue empty it passes requests through.
It records the requests it saw: the method, the path, and whether a token came with it (never the token)."""

from __future__ import annotations

import http.client
import sys
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("pass", "429", "503", "401", "hang", "truncate", "html", "bad-json")
# Headers about one hop, not the request: the proxy sets its own. Accept-Encoding is dropped so that the upstream
# answers uncompressed: a stream is cut between its events, found in its bytes.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding", "te",
                "upgrade", "proxy-authorization", "proxy-connection"}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """What the proxy does with one request: one of FAULTS, and its setting."""

    kind: str = "pass"
    retry_after: str = "1"  # "429": the Retry-After header (seconds, or an HTTP date)
    events: int = 2  # "truncate": the stream's events passed through before the cut
    end_body: bool = False  # "truncate": end the HTTP body properly after the cut, not drop the connection
    hang_s: float = 30.0  # "hang": how long to hold the request unanswered (less when the proxy closes)

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"fault {self.kind!r}: one of {', '.join(FAULTS)}")


@dataclass
class Seen:
    """One request the proxy received, and what it did with it."""

    method: str
    path: str
    authorized: bool  # whether an Authorization header came with it; its value is never kept
    fault: str
    chunks: int = 0  # pieces of the answer body written as they arrived from the upstream


class FaultProxy(ThreadingHTTPServer):
    """The proxy, on a free port of 127.0.0.1, serving in a thread between `start()` and `close()` (or `with`)."""

    daemon_threads = True  # a hanging request must not hold up close()

    def __init__(self, upstream_base_url: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = urlsplit(upstream_base_url)
        self.base_url = f"http://127.0.0.1:{self.server_port}{self.upstream.path}"
        self.seen: list[Seen] = []
        self.closing = threading.Event()
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()

    def then(self, *faults: Fault) -> FaultProxy:
        """Queue faults for the next requests, one each, in order."""
        with self._lock:
            self._faults.extend(faults)
        return self

    def reset(self) -> None:
        """Forget the queued faults and the requests seen."""
        with self._lock:
            self._faults.clear()
            self.seen = []

    def start(self) -> FaultProxy:
        """Serve in a daemon thread; polls often, so that close() is quick."""
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        self.closing.set()  # wakes hanging requests
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up (a timeout, a stop) is no error
            super().handle_error(request, client_address)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def arrived(self, handler: _Handler) -> tuple[Fault, Seen]:
        """The fault for a request that came in, and its record."""
        with self._lock:
            fault = self._faults.popleft() if self._faults else Fault()
            seen = Seen(handler.command, handler.path, "Authorization" in handler.headers, fault.kind)
            self.seen.append(seen)
        return fault, seen


class _Handler(BaseHTTPRequestHandler):
    server: FaultProxy
    protocol_version = "HTTP/1.1"  # chunked answers, as uvicorn streams them

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet; and a request line is all it would say

    def do_GET(self) -> None:
        self.handle_request()

    def do_POST(self) -> None:
        self.handle_request()

    def handle_request(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault, seen = self.server.arrived(self)
        self.close_connection = True  # one request a connection keeps the faults simple to reason about
        if fault.kind == "hang":
            self.server.closing.wait(fault.hang_s)
        elif fault.kind == "429":
            self.reply(429, b'{"error": "Too Many Requests"}', {"Retry-After": fault.retry_after})
        elif fault.kind == "503":
            self.reply(503, b'{"error": "Service Unavailable"}')
        elif fault.kind == "401":
            self.reply(401, b'{"error": "Invalid credentials in Authorization header"}')
        elif fault.kind == "html":  # a captive portal or a login page in front of the server
            self.reply(200, b"<!doctype html><html><body><h1>Sign in</h1></body></html>", content_type="text/html")
        elif fault.kind == "bad-json":
            self.reply(200, b'data: {"id": "chatcmpl-1", "choices": [{"delta": {"content": "Hel\n\n',
                       content_type="text/event-stream")  # fmt: skip
        else:
            self.forward(body, seen, fault)

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None, *,
              content_type: str = "application/json") -> None:  # fmt: skip
        self.send_response(status)
        for key, value in {"Content-Type": content_type, **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body: bytes, seen: Seen, fault: Fault) -> None:
        """Pass the request to the upstream and its answer back, each piece as it arrives (a stream stays one);
        "truncate" passes `fault.events` SSE events, then cuts."""
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname or "", self.server.upstream.port, timeout=120
        )
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_HEADERS}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_HEADERS | {"date", "server"}:
                    self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            pending, events = b"", 0
            while piece := response.read1(65536):
                if fault.kind != "truncate":
                    self.write_chunk(piece, seen)
                    continue
                pending += piece.replace(b"\r\n", b"\n")
                *whole, pending = pending.split(b"\n\n")
                for event in whole:
                    self.write_chunk(event + b"\n\n", seen)
                    events += 1
                    if events == fault.events:
                        if fault.end_body:
                            self.wfile.write(b"0\r\n\r\n")
                        return  # the connection closes here, mid-answer
            self.wfile.write(b"0\r\n\r\n")
        finally:
            upstream.close()

    def write_chunk(self, data: bytes, seen: Seen) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
        seen.chunks += 1
