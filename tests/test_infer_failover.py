"""How the failover chain names a client's failure (`classify`), Retry-After read included, and that it needs a
chain. The chain itself is tried for real in test_infer_serve.py: a dead port, a fault proxy, `transformers serve`."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from hftui.infer.failover import chat, classify


class HTTPFailure(Exception):
    """A client error carrying its response, as huggingface_hub's HfHubHTTPError does."""

    def __init__(self, status: int, reason: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.response = SimpleNamespace(status_code=status, reason_phrase=reason, headers=headers or {})


class InferenceTimeoutError(Exception):
    pass


class ConnectError(Exception):
    pass


RATE = "rate-limited"
FAILURES = {
    "401": (HTTPFailure(401, "Unauthorized"), ("auth", "HTTP 401 Unauthorized", None)),
    "403": (HTTPFailure(403), ("auth", "HTTP 403", None)),
    "429-seconds": (
        HTTPFailure(429, "Too Many Requests", {"retry-after": "7"}),
        (RATE, "HTTP 429 Too Many Requests", 7.0),
    ),
    "429-fraction": (HTTPFailure(429, "", {"retry-after": "0.5"}), (RATE, "HTTP 429", 0.5)),
    "429-negative": (HTTPFailure(429, "", {"retry-after": "-3"}), (RATE, "HTTP 429", 0.0)),
    "429-date": (HTTPFailure(429, "", {"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}), (RATE, "HTTP 429", None)),
    "429-none": (HTTPFailure(429), (RATE, "HTTP 429", None)),
    "500": (HTTPFailure(500, "Internal Server Error"), ("server-error", "HTTP 500 Internal Server Error", None)),
    "503": (HTTPFailure(503), ("server-error", "HTTP 503", None)),
    "404": (HTTPFailure(404, "Not Found"), ("client-error", "HTTP 404 Not Found", None)),
    "422": (HTTPFailure(422), ("client-error", "HTTP 422", None)),
    "timeout": (InferenceTimeoutError("Inference call timed out"), ("timeout", "timed out", None)),
    "connect": (ConnectError("[Errno 111] refused"), ("connection", "cannot connect: [Errno 111] refused", None)),
    "refused": (ConnectionRefusedError("refused"), ("connection", "cannot connect: refused", None)),
    "other": (ValueError("x" * 500), ("bad-response", "ValueError: " + "x" * 120, None)),
}


@pytest.mark.parametrize(("error", "expected"), FAILURES.values(), ids=FAILURES.keys())
def test_classify_names_each_failure(error: Exception, expected: tuple[str, str, float | None]) -> None:
    assert classify(error) == expected


def test_a_chat_needs_an_endpoint() -> None:
    with pytest.raises(ValueError, match="no endpoints"):
        chat([], [{"role": "user", "content": "hi"}], on_text=lambda text: None, stop=threading.Event())
