"""The wire format the routes share: a request and a reply, JSON and error bodies shaped like the Hub's,
the Hub's date format, and cursor paging with `Link: rel="next"` headers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from hftui.localhub.files import HostedFile

T = TypeVar("T")
Role = Literal["hub", "cdn"]

# The Hub's own wording, which huggingface_hub's error classes and hftui's explanations match on.
INVALID_TOKEN = "Invalid credentials in Authorization header"
BAD_LOGIN = "Invalid username or password."
REPO_NOT_FOUND = "Repository not found"
NOT_FOUND_PAGE = "Sorry, we can't find the page you are looking for."
INTERNAL_ERROR = "Internal Error - We're working hard to fix this as soon as possible!"
# The date default repos, commits and tokens count from, so that tests see stable, distinct dates.
HUB_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the hub received it (path decoded, without the query string)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    server: Role


@dataclass
class Request:
    """A request as the routes see it: the path still percent-encoded, the query parsed, header names lower-case."""

    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.query = parse_qs(self.query_string, keep_blank_values=True)

    @classmethod
    def from_target(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        """Build from the request line's target ("/path?query")."""
        split = urlsplit(target)
        return cls(method, split.path, split.query, {k.lower(): v for k, v in headers.items()}, body)

    @property
    def path(self) -> str:
        """The decoded path, as fault rules and the request log see it."""
        return unquote(self.raw_path)

    @property
    def segments(self) -> list[str]:
        """The path's segments, each decoded, without trailing empty ones."""
        # Split before decoding: the client percent-encodes slashes inside revisions and tree paths.
        parts = [unquote(part) for part in self.raw_path.split("/")[1:]]
        while parts and parts[-1] == "":
            parts.pop()
        return parts

    def param(self, name: str) -> str | None:
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else None

    def params(self, *names: str) -> list[str]:
        """Every value of the query parameters named (e.g. both `expand` and `expand[]`)."""
        out: list[str] = []
        for name in names:
            out.extend(self.query.get(name, []))
        return out

    def flag(self, name: str) -> bool:
        """Whether a query parameter is set to a true value."""
        return truthy(self.query.get(name))

    def record(self, role: Role) -> RecordedRequest:
        """The request as the hub's log keeps it."""
        return RecordedRequest(self.method, self.path, self.query_string, self.headers, role)


@dataclass
class Reply:
    """A response: a body, or a hosted file streamed (with Range support), possibly cut after some bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file: HostedFile | None = None
    cut_after: int | None = None  # drop the connection after this many bytes of `file`


def iso_date(value: datetime) -> str:
    """ISO-8601 with milliseconds and a `Z`, exactly as the Hub writes dates."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_utc(value: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def truthy(values: Sequence[str] | None) -> bool:
    """Whether a form or query value (its last occurrence) says yes."""
    if not values:
        return False
    return values[-1].lower() in ("1", "true", "yes", "on")


def _json_default(value: Any) -> Any:
    # YAML front matter may hold dates; the Hub returns them as strings.
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def json_reply(payload: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    """A JSON response."""
    body = json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")
    return Reply(status, [("Content-Type", "application/json; charset=utf-8"), *headers], body)


def error_reply(status: int, message: str, code: str | None = None, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    """An error as the Hub sends it: `{"error": ...}` plus `X-Error-Message` (and `X-Error-Code`)."""
    extra = [("X-Error-Message", message)]
    if code is not None:
        extra.insert(0, ("X-Error-Code", code))
    return json_reply({"error": message}, status, [*extra, *headers])


def repo_not_found(status: int = 404) -> Reply:
    """The Hub's answer for a missing repo, also given for private repos a caller may not see."""
    return error_reply(status, REPO_NOT_FOUND, "RepoNotFound")


def revision_not_found(revision: str) -> Reply:
    """The Hub's answer for a branch or sha a repo does not have."""
    return error_reply(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def method_not_allowed() -> Reply:
    """A known path asked with the wrong method."""
    return error_reply(405, "Method Not Allowed")


def next_link(request: Request, base_url: str, param: str, value: str) -> tuple[str, str]:
    """The `Link` header pointing at the next page: the same request with `param` set to `value`."""
    pairs = [(k, v) for k, values in request.query.items() if k != param for v in values]
    pairs.append((param, value))
    return "Link", f'<{base_url}{request.raw_path}?{urlencode(pairs)}>; rel="next"'


def cursor_page(
    request: Request, base_url: str, entries: Sequence[T], size: int
) -> tuple[Sequence[T], list[tuple[str, str]]]:
    """The page of `entries` the request's `cursor` points at, and the Link header to the next page if any.

    Raises ValueError for a cursor this hub did not write."""
    offset = _decode_cursor(request.param("cursor"))
    headers = []
    if offset + size < len(entries):
        headers.append(next_link(request, base_url, "cursor", _encode_cursor(offset + size)))
    return entries[offset : offset + size], headers


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = int(json.loads(raw)["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"invalid cursor {cursor!r}") from error
    if offset < 0:
        raise ValueError(f"invalid cursor {cursor!r}")
    return offset
