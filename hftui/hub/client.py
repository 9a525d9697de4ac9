"""The Hub client hftui talks through: `HfApi` for an endpoint, with timeouts on every request.

huggingface_hub builds its shared HTTP client with `timeout=None`, so a Hub (or a proxy) that accepts the
connection and never answers would hold a search, a sync, a page or a download for ever. hftui installs a
client factory once, before its first request, with a connect timeout and a read timeout (the longest wait for
the next bytes; a large download that keeps flowing is never cut). `HFTUI_HUB_TIMEOUT` (seconds) sets the read
timeout; the default suits a slow Hub, not a dead one. Offline mode refuses every request huggingface_hub makes;
the factory lets through those to servers the user named as endpoints (`allow_while_offline`), which are not
the Hub. huggingface_hub retries a timed-out request a few times
with backoff, so a dead Hub is given up on after about two minutes, and a screen says it is waiting meanwhile.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from huggingface_hub import HfApi

DEFAULT_READ_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 10.0
_installed_for: float | None = None
_lock = threading.Lock()
# host[:port] of the OpenAI-compatible servers the user named (transformers serve, Ollama, vLLM): not the Hub.
_SERVER_HOSTS: set[str] = set()


def allow_while_offline(base_url: str) -> None:
    """Let requests to the server at `base_url` through while hftui is offline. Offline keeps the Hub out; a
    server the user runs and named as an endpoint is not the Hub (the Hub's own host is never let through)."""
    from huggingface_hub import constants

    host = urlparse(base_url).netloc.lower()
    if host and host != urlparse(constants.ENDPOINT).netloc.lower():
        _SERVER_HOSTS.add(host)
    install_request_timeouts()


def read_timeout() -> float:
    """The read timeout in force: HFTUI_HUB_TIMEOUT when it is a positive number, else the default."""
    try:
        value = float(os.environ.get("HFTUI_HUB_TIMEOUT", ""))
    except ValueError:
        return DEFAULT_READ_TIMEOUT_S
    return value if value > 0 else DEFAULT_READ_TIMEOUT_S


def install_request_timeouts() -> None:
    """Make huggingface_hub's shared client time out (again, when HFTUI_HUB_TIMEOUT changed); cheap when done."""
    global _installed_for
    seconds = read_timeout()
    if _installed_for == seconds:
        return
    with _lock:
        if _installed_for == seconds:
            return
        from huggingface_hub import set_client_factory

        # The default factory is not exported; it adds the request hook (headers, offline mode) hftui must keep.
        from huggingface_hub.utils._http import default_client_factory as default_factory

        limits = {"connect": min(CONNECT_TIMEOUT_S, seconds), "read": seconds, "write": seconds, "pool": seconds}

        def at_most_the_limits(request: Any) -> None:
            # huggingface_hub passes `timeout=None` (no limit) on most calls, which overrides a client default;
            # the request's own extension is what the transport reads, so fill in every limit left open there.
            given = request.extensions.get("timeout") or {}
            request.extensions["timeout"] = {
                name: given.get(name) if given.get(name) is not None else limit for name, limit in limits.items()
            }

        def unless_a_named_server(hook: Any) -> Any:
            # huggingface_hub's hook refuses every request in offline mode; a user's own server is let through.
            def hook_for_the_hub(request: Any) -> Any:
                if request.url.netloc.decode("ascii", "replace").lower() in _SERVER_HOSTS:
                    return None
                return hook(request)

            return hook_for_the_hub

        def client_with_timeouts():  # huggingface_hub's httpx client, typed there
            client = default_factory()
            hooks = [unless_a_named_server(hook) for hook in client.event_hooks["request"]]
            client.event_hooks = {**client.event_hooks, "request": [*hooks, at_most_the_limits]}
            return client

        set_client_factory(client_with_timeouts)
        _installed_for = seconds


def hub_api(endpoint: str, token: str | bool | None = None) -> HfApi:
    """An `HfApi` for `endpoint` whose requests time out (see the module docstring)."""
    from huggingface_hub import HfApi

    install_request_timeouts()
    return HfApi(endpoint=endpoint, token=token)
