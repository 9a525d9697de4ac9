"""Fault injection for tests: answer matching requests with an error or a garbled body (an HTML page, JSON
cut short), hold them, or cut a file body short.

Each rule matches a regex on the decoded path (and optionally a method) and is used up after `times` requests.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import TypeVar

from hftui.localhub.protocol import INTERNAL_ERROR, INVALID_TOKEN, REPO_NOT_FOUND, Reply, error_reply

_DEFAULT_MESSAGES = {
    400: "Bad request",
    401: INVALID_TOKEN,
    403: "Forbidden",
    404: REPO_NOT_FOUND,
    408: "Request Timeout",
    429: "You have exceeded our hourly quotas for action 'api'. We invite you to retry later.",
    500: INTERNAL_ERROR,
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    remaining: int | None
    method: str | None


@dataclass
class _Fault(_Rule):
    status: int
    retry_after: int | None
    error_code: str | None
    message: str | None


@dataclass
class _Garble(_Rule):
    status: int
    body: bytes
    content_type: str


@dataclass
class _Delay(_Rule):
    seconds: float


@dataclass
class _Cut(_Rule):
    after_bytes: int


R = TypeVar("R", bound=_Rule)


def _take(rules: list[R], method: str, path: str) -> R | None:
    """First rule matching the request; consumes one of its `remaining` uses."""
    for rule in rules:
        if rule.method is not None and rule.method != method:
            continue
        if not rule.pattern.search(path):
            continue
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                rules.remove(rule)
        return rule
    return None


class FaultInjection:
    """The `fail`, `delay` and `cut` rules of a LocalHub, and how a matching request is answered."""

    def __init__(self) -> None:
        self._rules_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._garbles: list[_Garble] = []
        self._delays: list[_Delay] = []
        self._cuts: list[_Cut] = []

    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        times: int | None = None,
        retry_after: int | None = None,
        error_code: str | None = None,
        message: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path matches the regex (None: until cleared) with `status`.

        The reply carries a JSON `{"error": ...}` body plus `X-Error-Message` (and `X-Error-Code`: by default
        `EntryNotFound` for a 404 on /resolve/, `RepoNotFound` for other 404s), and for `retry_after` the
        `Retry-After` header (with the Hub's `RateLimit` headers on a 429).
        """
        rule = _Fault(re.compile(path_pattern), times, _upper(method), status, retry_after, error_code, message)
        with self._rules_lock:
            self._faults.append(rule)

    def garble(
        self,
        path_pattern: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        times: int | None = None,
        method: str | None = None,
    ) -> None:
        """Answer matching requests with `body` as is: a proxy's HTML page, JSON cut short, and so on."""
        rule = _Garble(re.compile(path_pattern), times, _upper(method), status, body, content_type)
        with self._rules_lock:
            self._garbles.append(rule)

    def delay(self, path_pattern: str, seconds: float, *, times: int | None = None, method: str | None = None) -> None:
        """Hold matching requests for `seconds` before answering (to trigger client timeouts)."""
        with self._rules_lock:
            self._delays.append(_Delay(re.compile(path_pattern), times, _upper(method), seconds))

    def cut(self, path_pattern: str, after_bytes: int, *, times: int | None = 1) -> None:
        """Drop the connection after `after_bytes` of a matching file body, as a flaky network would."""
        with self._rules_lock:
            self._cuts.append(_Cut(re.compile(path_pattern), times, None, after_bytes))

    def clear_faults(self) -> None:
        """Remove every fail/delay/cut rule."""
        with self._rules_lock:
            self._faults.clear()
            self._garbles.clear()
            self._delays.clear()
            self._cuts.clear()

    def delay_for(self, method: str, path: str) -> float | None:
        """How long to hold this request, if a delay rule matches (using one of its times)."""
        with self._rules_lock:
            rule = _take(self._delays, method, path)
        return rule.seconds if rule is not None else None

    def cut_for(self, method: str, path: str) -> int | None:
        """After how many body bytes to drop this request's connection, if a cut rule matches."""
        with self._rules_lock:
            rule = _take(self._cuts, method, path)
        return rule.after_bytes if rule is not None else None

    def fault_for(self, method: str, path: str) -> Reply | None:
        """The error reply a matching fail rule gives this request, if any."""
        with self._rules_lock:
            garbled = _take(self._garbles, method, path)
            fault = None if garbled is not None else _take(self._faults, method, path)
        if garbled is not None:
            return Reply(garbled.status, [("Content-Type", garbled.content_type)], garbled.body)
        if fault is None:
            return None
        status = fault.status
        code = fault.error_code
        if code is None and status == 404:
            code = "EntryNotFound" if "/resolve/" in path else "RepoNotFound"
        message = fault.message
        if message is None:
            if code == "EntryNotFound":
                message = "Entry not found"
            else:
                message = _DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(fault.retry_after)))
            if status == 429:
                headers.append(("RateLimit", f'"api";r=0;t={fault.retry_after}'))
                headers.append(("RateLimit-Policy", '"fixed window";"api";q=1000;w=300'))
        return error_reply(status, message, code, headers)


def _upper(method: str | None) -> str | None:
    return method.upper() if method else None
