"""One place that turns a failed Hub call into a plain explanation: what happened and what to do.

huggingface_hub raises a family of HTTP errors (gated, not found, revision, entry, rate limit, server),
httpx2 raises transport errors (refused, timed out), and downloads wrap those in `LocalEntryNotFoundError`
when the cache cannot stand in. `explain_hub_error` maps all of them to a `HubProblem` with a `kind` the UI
can branch on and a message for the user. Messages never carry a token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import re
from dataclasses import dataclass
from typing import Any

PROBLEM_KINDS = (
    "offline",
    "network",
    "timeout",
    "auth",
    "gated",
    "forbidden",
    "not_found",
    "revision_not_found",
    "file_not_found",
    "rate_limited",
    "server",
    "bad_answer",
    "disk_full",
    "cancelled",
    "invalid_id",
    "unknown",
)

# Tokens are redacted from any text that reaches a message: user tokens (hf_...), OAuth tokens (hf_oauth_...)
# and whatever follows "Bearer" in a header echoed back by a proxy.
_TOKEN = re.compile(r"\b(hf_[A-Za-z0-9_]{6,}|api_org_[A-Za-z0-9]{6,})")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_RATELIMIT_RESET = re.compile(r"\bt\s*=\s*(\d+)")
_MAX_DETAIL = 300
_MAX_ID = 96


@dataclass(frozen=True)
class HubProblem:
    """Why a Hub call failed, in the user's words, with the HTTP status and retry delay where known."""

    kind: str
    message: str
    status: int | None = None
    retry_after: float | None = None


def redact(text: str) -> str:
    """The text with anything that looks like a Hub token replaced by `hf_***`."""
    return _BEARER.sub(r"\1***", _TOKEN.sub("hf_***", text))


def explain_hub_error(error: BaseException, *, repo_id: str | None = None, endpoint: str | None = None) -> HubProblem:
    """Explain a failed Hub call or download; `repo_id` and `endpoint` make the advice concrete."""
    problem = _explain(error, repo_id, endpoint)
    return HubProblem(problem.kind, redact(problem.message), problem.status, problem.retry_after)


def _explain(error: BaseException, repo_id: str | None, endpoint: str | None) -> HubProblem:
    from huggingface_hub.errors import (
        DisabledRepoError,
        DryRunError,
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        LocalTokenNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
        RevisionResolutionError,
    )

    repo_id = repo_id or getattr(error, "repo_id", None)
    what = _name_repo(repo_id)

    if _is_cancellation(error):
        return HubProblem("cancelled", "Cancelled. Files already downloaded stay in the cache.")
    disk_full = _find_disk_full(error)
    if disk_full is not None:
        return HubProblem(
            "disk_full",
            "There is not enough free disk space for this download. Free some space (for example delete "
            "unused models from the cache) and start it again; finished files are kept.",
        )
    if isinstance(error, HFValidationError):
        shown = f"{_short(repo_id)!r} is" if repo_id else "That is"
        return HubProblem(
            "invalid_id",
            f"{shown} not a valid repo id. Repo ids look like 'owner/name', using letters, digits, '-', '_' and '.'.",
        )
    if isinstance(error, OfflineModeIsEnabled):
        return HubProblem(
            "offline",
            "Offline mode is on, so nothing can be fetched from the Hub. Check the connection and go online "
            "again, or use what is already in the local cache.",
        )
    if isinstance(error, (LocalEntryNotFoundError, RevisionResolutionError, DryRunError)):
        # The client wraps the real reason (refused, timeout, 5xx, offline) and adds that the cache could
        # not stand in; the real reason is what the user can act on.
        cause = error.__cause__
        if cause is not None and cause is not error:
            inner = _explain(cause, repo_id, endpoint)
            if inner.kind == "offline":
                return HubProblem(
                    "offline",
                    f"{_cap(what)} is not in the local cache, and offline mode is on. Go online to fetch it.",
                )
            return HubProblem(
                inner.kind,
                f"{inner.message} The local cache does not have it either.",
                inner.status,
                inner.retry_after,
            )
        return HubProblem(
            "offline",
            f"{_cap(what)} is not in the local cache and cannot be fetched right now. Go online and try again.",
        )
    if isinstance(error, LocalTokenNotFoundError):
        return HubProblem(
            "auth",
            "No Hub token is configured. Log in with `hf auth login` (or set HF_TOKEN) and try again.",
        )
    if isinstance(error, GatedRepoError):
        return _gated(error, repo_id, endpoint)
    if isinstance(error, RevisionNotFoundError):
        return HubProblem(
            "revision_not_found",
            f"{_cap(what)} has no such branch, tag or commit. Pick an existing revision (main is the default).",
            _status(error),
        )
    if isinstance(error, EntryNotFoundError):
        return HubProblem(
            "file_not_found",
            f"That file is not in {what} at this revision. It may have been renamed or removed; refresh the file list.",
            _status(error),
        )
    if isinstance(error, DisabledRepoError):
        return HubProblem(
            "forbidden",
            f"{_cap(what)} has been disabled and cannot be downloaded.",
            _status(error),
        )
    if isinstance(error, RepositoryNotFoundError):
        status = _status(error)
        if status == 401:
            # The Hub answers 401 both for missing repos and for private ones seen without a token.
            message = (
                f"{_cap(what)} was not found, or it is private. Check the id; if it is private, log "
                "in with a token that can read it (`hf auth login`)."
            )
        else:
            message = (
                f"{_cap(what)} was not found. Check the id and the repo type; private repos are only "
                "visible to accounts that can read them."
            )
        return HubProblem("not_found", message, status)
    if isinstance(error, HfHubHTTPError):
        return _by_status(error, what)
    problem = _transport(error, endpoint)
    if problem is not None:
        return problem
    garbled = _garbled_answer(error, endpoint)
    if garbled is not None:
        return garbled
    detail = _short(" ".join(str(error).split()), _MAX_DETAIL)
    text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return HubProblem("unknown", f"Something unexpected went wrong ({text}).")


def _gated(error: BaseException, repo_id: str | None, endpoint: str | None) -> HubProblem:
    status = _status(error)
    url = _access_url(repo_id, getattr(error, "repo_type", None), endpoint)
    where = f" at {url}" if url else " on the model's Hub page"
    what = _name_repo(repo_id)
    if status == 403:
        message = (
            f"{_cap(what)} is gated and your account has not been granted access yet. Request access"
            f"{where}; approval can take a while."
        )
    else:
        message = f"{_cap(what)} is gated: log in with a token (`hf auth login`) and request access{where}."
    return HubProblem("gated", message, status)


def _access_url(repo_id: str | None, repo_type: str | None, endpoint: str | None) -> str | None:
    if not repo_id:
        return None
    if endpoint is None:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    prefix = {"dataset": "datasets/", "space": "spaces/"}.get(repo_type or "model", "")
    return f"{endpoint.rstrip('/')}/{prefix}{repo_id}"


def _by_status(error: BaseException, what: str) -> HubProblem:
    status = _status(error)
    if status == 401:
        return HubProblem(
            "auth",
            "The Hub rejected the token: it is invalid or expired. Log in again with `hf auth login`, or "
            "unset HF_TOKEN to browse anonymously.",
            status,
        )
    if status == 403:
        return HubProblem(
            "forbidden",
            f"The Hub refused access to {what}. The token may lack the needed permission (for example a "
            "fine-grained token without read access to this repo).",
            status,
        )
    if status == 404:
        return HubProblem("not_found", f"The Hub found nothing at that address for {what}.", status)
    if status == 408:
        return HubProblem("timeout", "The Hub took too long to answer. Try again in a moment.", status)
    if status == 429:
        retry_after = _retry_after(error)
        wait = f" Try again in {retry_after:g} s." if retry_after is not None else " Wait a minute and retry."
        return HubProblem(
            "rate_limited",
            "The Hub is rate-limiting requests from this machine." + wait + " Logging in raises the limit.",
            status,
            retry_after,
        )
    if status is not None and status >= 500:
        return HubProblem(
            "server",
            f"The Hub had a server error (HTTP {status}). It is usually temporary: try again shortly.",
            status,
            _retry_after(error),
        )
    code = f" (HTTP {status})" if status is not None else ""
    detail = _short(" ".join(str(getattr(error, "server_message", None) or "").split()), _MAX_DETAIL)
    extra = f": {detail}" if detail else "."
    return HubProblem("unknown", f"The Hub refused the request{code}{extra}", status)


def _transport(error: BaseException, endpoint: str | None) -> HubProblem | None:
    import httpx2

    host = _host(error, endpoint)
    if isinstance(error, (httpx2.TimeoutException, TimeoutError)):
        return HubProblem(
            "timeout",
            f"{host} did not answer in time. The connection may be slow or the Hub busy; try again.",
        )
    if isinstance(error, httpx2.ProxyError):
        return HubProblem("network", "The proxy refused the connection. Check HTTPS_PROXY / HTTP_PROXY.")
    if isinstance(error, (httpx2.TransportError, ConnectionError)):
        return HubProblem(
            "network",
            f"Could not connect to {host}. Check the network connection (or HF_ENDPOINT), then try again.",
        )
    return None


def _garbled_answer(error: BaseException, endpoint: str | None) -> HubProblem | None:
    """A 200 answer whose body is not the JSON the client expected: an HTML page (a proxy, a captive portal, a
    wrong HF_ENDPOINT) or JSON cut short by a dropped connection. The client raises json's decode error."""
    import json

    if not isinstance(error, json.JSONDecodeError):
        return None
    where = _host(error, endpoint)
    if error.doc.lstrip()[:1] == "<":
        return HubProblem(
            "bad_answer",
            f"The server at {where} sent a web page where the Hub's JSON answer should be, so the answer is not JSON "
            "hftui can read. A proxy or a login portal may be answering, or HF_ENDPOINT points at a web site.",
        )
    return HubProblem(
        "bad_answer",
        f"The answer from {where} is not JSON hftui can read: it was cut short or garbled "
        f"(at character {error.pos}). Try again in a moment.",
    )


def _host(error: BaseException, endpoint: str | None) -> str:
    from urllib.parse import urlsplit

    request = None
    try:
        request = getattr(error, "request", None)
    except RuntimeError:  # httpx2 raises when an error was created without a request
        request = None
    url = str(request.url) if request is not None else endpoint
    host = urlsplit(url).netloc if url else ""
    return host or "the Hub"


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(error: BaseException) -> float | None:
    response: Any = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    # The Hub's IETF-draft header: `RateLimit: "api";r=0;t=120` gives the seconds until the window resets.
    match = _RATELIMIT_RESET.search(headers.get("RateLimit") or "")
    return float(match.group(1)) if match else None


def _find_disk_full(error: BaseException) -> OSError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return current
        current = current.__cause__ or current.__context__
    return None


def _is_cancellation(error: BaseException) -> bool:
    from hftui.hub.download import DownloadCancelled

    return isinstance(
        error,
        (DownloadCancelled, KeyboardInterrupt, asyncio.CancelledError, concurrent.futures.CancelledError),
    )


def _name_repo(repo_id: str | None) -> str:
    return f"the repo {_short(repo_id)!r}" if repo_id else "the repo"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(text: str | None, limit: int = _MAX_ID) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
