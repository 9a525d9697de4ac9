"""Chat through an ordered chain of endpoints, streamed, moving on when one fails, saying what happened.

Each endpoint gets its first attempt plus its `retries`. A timeout, a refused connection, a 5xx, a 429 (after
waiting out its Retry-After, up to `max_retry_after_s`), another 4xx or an answer that is not a chat stream
sends the chain on: the next attempt, then the next endpoint. A 401 or 403 stops the chain and is reported:
the same token must not be tried silently elsewhere. A stream that stops mid-answer (no finish reason
before its end) keeps the text that arrived and is marked incomplete; it is not asked again elsewhere, since
the user has read part of it. The answer names the endpoint that answered and every attempt before it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hftui.infer.endpoints import Endpoint, client_for

OUTCOMES = ("answered", "incomplete", "timeout", "connection", "rate-limited", "server-error", "client-error",
            "auth", "bad-response", "stopped")  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    """One try at one endpoint."""

    endpoint: str
    outcome: str  # one of OUTCOMES
    detail: str
    elapsed_s: float


@dataclass(frozen=True)
class ChainAnswer:
    """What the chain produced: the text, who gave it, and every attempt on the way."""

    text: str
    endpoint: str | None  # None: no endpoint answered
    attempts: tuple[Attempt, ...]
    complete: bool
    first_token_s: float | None
    total_s: float

    @property
    def failovers(self) -> int:
        """How many endpoints failed before the one that answered (or all of them)."""
        failed = {a.endpoint for a in self.attempts if a.outcome not in ("answered", "incomplete", "stopped")}
        return len(failed - {self.endpoint})

    def summary(self) -> str:
        """One line: who answered and what failed before (never a token: details are status lines)."""
        before = "; ".join(
            f"{a.endpoint} {a.outcome} ({a.detail})" for a in self.attempts if a.endpoint != self.endpoint
        )
        who = f"answered by {self.endpoint}" if self.endpoint else "no endpoint answered"
        state = ", incomplete" if self.endpoint and not self.complete else ""
        return f"{who}{state}" + (f" after {before}" if before else "")


class AuthRefused(Exception):
    """An endpoint refused the token (401/403); the chain stops there."""

    def __init__(self, answer: ChainAnswer) -> None:
        super().__init__(answer.attempts[-1].detail if answer.attempts else "refused")
        self.answer = answer


def classify(error: BaseException) -> tuple[str, str, float | None]:
    """(outcome, a short detail, Retry-After seconds) for an error from an InferenceClient call."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        reason = getattr(response, "reason_phrase", "") or ""
        detail = f"HTTP {status}{' ' + reason if reason else ''}"
        if status in (401, 403):
            return "auth", detail, None
        if status == 429:
            return "rate-limited", detail, _retry_after(response)
        if status >= 500:
            return "server-error", detail, None
        return "client-error", detail, None
    name = type(error).__name__
    if name == "OfflineModeIsEnabled":  # a provider is reached through the Hub, which hftui is not contacting
        return "connection", "offline: hftui is not contacting the Hub, and providers are reached through it", None
    if "Timeout" in name:
        return "timeout", "timed out", None
    if "Connect" in name or isinstance(error, ConnectionError):
        return "connection", f"cannot connect: {str(error)[:120]}", None
    return "bad-response", f"{name}: {str(error)[:120]}", None


def chat(
    chain: Sequence[Endpoint],
    messages: Sequence[dict[str, str]],
    *,
    on_text: Callable[[str], None],
    stop: threading.Event,
    max_tokens: int | None = None,
    sampling: Mapping[str, float | int] | None = None,
    max_retry_after_s: float = 10.0,
    client: Callable[[Endpoint], Any] = client_for,
    sleep: Callable[[float], None] = time.sleep,
) -> ChainAnswer:
    """Stream a chat answer from the first endpoint of `chain` that gives one (see the module doc).
    `sampling`: temperature, top_p and seed for the server, as the OpenAI chat API names them.
    Raises AuthRefused when an endpoint refuses the token."""
    if not chain:
        raise ValueError("no endpoints to try: add one with `hftui endpoints add`")
    started = time.perf_counter()
    attempts: list[Attempt] = []
    first: list[float] = []

    def answer(text: str, endpoint: str | None, complete: bool) -> ChainAnswer:
        return ChainAnswer(text, endpoint, tuple(attempts), complete, first[0] if first else None,
                           time.perf_counter() - started)  # fmt: skip

    for endpoint in chain:
        for attempt in range(1 + endpoint.retries):
            if stop.is_set():
                return answer("", None, False)
            tried = time.perf_counter()
            pieces: list[str] = []
            finished = False
            try:
                # Held while streaming: a client closes its open responses when it is garbage collected.
                inference = client(endpoint)
                stream = inference.chat_completion(
                    list(messages), model=endpoint.model, stream=True, max_tokens=max_tokens, **dict(sampling or {})
                )
                for chunk in stream:
                    for choice in getattr(chunk, "choices", None) or ():
                        text = getattr(getattr(choice, "delta", None), "content", None)
                        if text:
                            if not first:
                                first.append(time.perf_counter() - started)
                            pieces.append(text)
                            on_text(text)
                        finished = finished or getattr(choice, "finish_reason", None) is not None
                    if stop.is_set():
                        attempts.append(
                            Attempt(endpoint.name, "stopped", "stopped by the user", time.perf_counter() - tried)
                        )
                        return answer("".join(pieces), endpoint.name, False)
            except Exception as error:  # every client failure is classified; none may escape to the worker
                outcome, detail, retry_after = classify(error)
                attempts.append(Attempt(endpoint.name, outcome, detail, time.perf_counter() - tried))
                if pieces:  # it failed mid-answer: keep what the user has seen
                    attempts[-1] = Attempt(endpoint.name, "incomplete", detail, attempts[-1].elapsed_s)
                    return answer("".join(pieces), endpoint.name, False)
                if outcome == "auth":
                    raise AuthRefused(answer("", None, False)) from None
                if outcome == "rate-limited":
                    # Waiting pays only for another attempt here: with none left, the next endpoint is asked now.
                    if retry_after is None or retry_after > max_retry_after_s or attempt == endpoint.retries:
                        break  # not worth waiting for here: the next endpoint
                    sleep(retry_after)
                continue
            elapsed = time.perf_counter() - tried
            if not pieces and not finished:
                attempts.append(Attempt(endpoint.name, "bad-response", "no chat stream in the answer", elapsed))
                continue
            outcome = "answered" if finished else "incomplete"
            attempts.append(Attempt(endpoint.name, outcome, "" if finished else "the stream ended early", elapsed))
            return answer("".join(pieces), endpoint.name, finished)
    return answer("", None, False)


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: treated as too long to wait here
