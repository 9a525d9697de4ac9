"""The failover chain through real InferenceClients over real HTTP, against small OpenAI-compatible stand-ins
on 127.0.0.1 that fail as servers do: 429 with Retry-After, 503, a hang past the timeout, an HTML page, a
stream cut mid-answer, a refused token, and a dead port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hftui.infer.endpoints import Endpoint
from hftui.infer.failover import AuthRefused, chat

WORDS = ["Hel", "lo", " there", "!"]
TOKEN = "hf_thetokenitself42"


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, modes: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.modes = modes  # one per request, the last repeated
        self.requests = 0

    def next_mode(self) -> str:
        mode = self.modes[min(self.requests, len(self.modes) - 1)]
        self.requests += 1
        return mode


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        mode = self.server.next_mode()
        if mode in ("429", "429-long"):
            self.reply(429, b'{"error": "slow down"}', {"Retry-After": "0.2" if mode == "429" else "3600"})
        elif mode in ("503", "401"):
            self.reply(int(mode), b'{"error": "no"}')
        elif mode == "html":
            self.reply(200, b"<html><body>Login</body></html>", {"content-type": "text/html"})
        elif mode == "hang":
            time.sleep(2)
        else:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for i, word in enumerate(WORDS):
                if mode == "cut" and i == 2:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                last = i == len(WORDS) - 1
                choice = {"index": 0, "delta": {"content": word}, "finish_reason": "stop" if last else None}
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [choice]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"content-type": "application/json"}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def servers() -> Iterator[list[StandIn]]:
    started: list[StandIn] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def endpoint(servers: list[StandIn], name: str, *modes: str, retries: int = 0) -> Endpoint:
    server = StandIn(list(modes))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    url = f"http://127.0.0.1:{server.server_port}/v1"
    return Endpoint(name, "openai", model="m", base_url=url, timeout_s=0.5, retries=retries, token_env="STANDIN_TOKEN")


def dead_endpoint() -> Endpoint:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Endpoint("dead", "openai", model="m", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=0.5, retries=0)


def ask(chain: list[Endpoint], waits: list[float] | None = None) -> tuple[object, list[str]]:
    pieces: list[str] = []
    answer = chat(chain, [{"role": "user", "content": "hi"}], on_text=pieces.append, stop=threading.Event(),
                  sleep=(waits.append if waits is not None else time.sleep))  # fmt: skip
    return answer, pieces


def test_every_fault_moves_the_chain_on_and_is_named(servers: list[StandIn], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_TOKEN", TOKEN)
    chain = [
        dead_endpoint(),
        endpoint(servers, "busy", "429-long"),
        endpoint(servers, "down", "503"),
        endpoint(servers, "slow", "hang"),
        endpoint(servers, "portal", "html"),
        endpoint(servers, "live", "ok"),
    ]
    answer, pieces = ask(chain)
    assert answer.text == "Hello there!" == "".join(pieces) and answer.complete
    assert answer.endpoint == "live" and answer.failovers == 5
    assert [(a.endpoint, a.outcome) for a in answer.attempts] == [
        ("dead", "connection"), ("busy", "rate-limited"), ("down", "server-error"), ("slow", "timeout"),
        ("portal", "bad-response"), ("live", "answered"),
    ]  # fmt: skip
    summary = answer.summary()
    assert summary.startswith("answered by live after dead connection") and "busy rate-limited (HTTP 429" in summary
    assert TOKEN not in summary + repr(answer)
    assert answer.first_token_s is not None and answer.first_token_s <= answer.total_s


def test_a_short_retry_after_is_waited_out_on_the_same_endpoint(servers: list[StandIn]) -> None:
    waits: list[float] = []
    answer, _ = ask([endpoint(servers, "busy", "429", "ok", retries=1)], waits)
    assert waits == [0.2] and answer.endpoint == "busy" and answer.complete
    assert [a.outcome for a in answer.attempts] == ["rate-limited", "answered"]


def test_a_refused_token_stops_the_chain(servers: list[StandIn]) -> None:
    backup = endpoint(servers, "backup", "ok")
    with pytest.raises(AuthRefused) as refused:
        ask([endpoint(servers, "guarded", "401"), backup])
    assert [a.outcome for a in refused.value.answer.attempts] == ["auth"]
    assert servers[0].requests == 0  # the backup was never sent the token


def test_a_stream_cut_mid_answer_keeps_what_arrived(servers: list[StandIn]) -> None:
    answer, pieces = ask([endpoint(servers, "flaky", "cut"), endpoint(servers, "live", "ok")])
    assert answer.text == "Hello" == "".join(pieces)
    assert answer.endpoint == "flaky" and not answer.complete
    assert answer.summary() == "answered by flaky, incomplete"


def test_stop_ends_the_stream_and_keeps_the_text(servers: list[StandIn]) -> None:
    stop = threading.Event()
    pieces: list[str] = []

    def arrived(text: str) -> None:
        pieces.append(text)
        stop.set()

    answer = chat([endpoint(servers, "live", "ok")], [{"role": "user", "content": "hi"}], on_text=arrived, stop=stop)
    assert answer.text == "Hel" and not answer.complete and answer.attempts[-1].outcome == "stopped"


def test_all_failing_says_so(servers: list[StandIn]) -> None:
    answer, pieces = ask([dead_endpoint(), endpoint(servers, "down", "503", retries=1)])
    assert answer.endpoint is None and pieces == [] and answer.text == ""
    assert [a.outcome for a in answer.attempts] == ["connection", "server-error", "server-error"]
    assert answer.summary().startswith("no endpoint answered after dead connection")
    with pytest.raises(ValueError, match="no endpoints"):
        ask([])
