"""Named inference endpoints: Hugging Face inference providers and OpenAI-compatible servers.

An endpoint is either a model served by the Hub's inference providers (`huggingface_hub.InferenceClient`
with `provider="auto"` or a named provider), or an OpenAI-compatible server by base URL (`transformers
serve`, Ollama, vLLM, llama.cpp, TGI: `InferenceClient(base_url=...)`). They are kept in
`<hftui home>/endpoints.json`. A token is never written there: an endpoint names where its token comes from
(an environment variable, or the Hugging Face token hftui already uses), and it is read only when a client
is made. A file that holds a token anyway is read without it, and the problems say so.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hftui.atomic_write import write_json_atomically
from hftui.paths import hftui_home

KINDS = ("provider", "openai")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keys that would hold a secret: never read from the file, never written.
_SECRET_KEYS = ("token", "api_key", "apikey", "key", "password", "secret", "authorization")


def endpoints_file() -> Path:
    return hftui_home() / "endpoints.json"


@dataclass(frozen=True)
class Endpoint:
    """One place to send inference to, and how patiently."""

    name: str
    kind: str  # "provider" or "openai"
    model: str | None = None  # the Hub model id (a provider endpoint), or the server's model name
    provider: str = "auto"  # a provider endpoint's provider ("auto": the Hub picks)
    base_url: str | None = None  # an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1
    token_env: str | None = None  # the environment variable holding the token, if any
    use_hf_token: bool = False  # else: the Hugging Face token hftui uses (HF_TOKEN or `hf auth login`)
    timeout_s: float = 60.0
    retries: int = 1  # attempts after the first on this endpoint, before the next endpoint is tried

    def checked(self) -> Endpoint:
        """This endpoint, or ValueError saying what is wrong with it."""
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"endpoint name {self.name!r}: letters, digits, '.', '_' or '-', up to 64")
        if self.kind not in KINDS:
            raise ValueError(f"endpoint {self.name}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind == "provider":
            if not self.model:
                raise ValueError(f"endpoint {self.name}: a provider endpoint needs the Hub model id")
            if not self.provider:
                raise ValueError(f"endpoint {self.name}: name a provider, or 'auto'")
        else:
            url = urlparse(self.base_url or "")
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(
                    f"endpoint {self.name}: base URL must be http(s)://host[:port]/..., not {self.base_url!r}"
                )
        if self.token_env is not None and not _ENV_NAME.fullmatch(self.token_env):
            raise ValueError(f"endpoint {self.name}: {self.token_env!r} is not an environment variable name")
        if not 0 < self.timeout_s <= 3600:
            raise ValueError(f"endpoint {self.name}: timeout must be between 0 and 3600 seconds")
        if not 0 <= self.retries <= 10:
            raise ValueError(f"endpoint {self.name}: retries must be between 0 and 10")
        return self

    def describe(self) -> str:
        """One line for lists: where it goes (never the token)."""
        where = f"{self.model} via {self.provider}" if self.kind == "provider" else f"{self.base_url}"
        if self.kind == "openai" and self.model:
            where += f" ({self.model})"
        token = f"token from ${self.token_env}" if self.token_env else "HF token" if self.use_hf_token else "no token"
        retries = f"{self.retries} {'retry' if self.retries == 1 else 'retries'}"
        return f"{self.name}: {where} · {token} · timeout {self.timeout_s:g} s · {retries}"


@dataclass
class EndpointBook:
    """The saved endpoints, by name, and what was wrong in the file they came from."""

    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.name] = endpoint.checked()

    def remove(self, name: str) -> None:
        if self.endpoints.pop(name, None) is None:
            raise KeyError(f"no endpoint named {name!r}")

    def save(self, path: Path | None = None) -> None:
        data = {"endpoints": [asdict(endpoint) for endpoint in self.endpoints.values()]}
        write_json_atomically(path or endpoints_file(), data)

    @classmethod
    def load(cls, path: Path | None = None) -> EndpointBook:
        """The endpoints in `path`; a missing file is an empty book, a broken one an empty book with problems."""
        target = path or endpoints_file()
        book = cls()
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return book
        except (OSError, UnicodeDecodeError, ValueError) as error:
            book.problems.append(f"{target} could not be read: {error}")
            return book
        items = data.get("endpoints") if isinstance(data, dict) else None
        if not isinstance(items, list):
            book.problems.append(f"{target} holds no list of endpoints")
            return book
        known = set(Endpoint.__dataclass_fields__)
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                book.problems.append(f"endpoint {number} is not an object")
                continue
            secrets = [key for key in item if str(key).lower() in _SECRET_KEYS]
            if secrets:
                book.problems.append(
                    f"endpoint {number}: {', '.join(map(str, secrets))} left out: tokens are never kept in this file;"
                    " name an environment variable (token_env) instead"
                )
            try:
                book.add(Endpoint(**{key: value for key, value in item.items() if key in known}))
            except (TypeError, ValueError) as error:
                book.problems.append(f"endpoint {number}: {error}")
        return book


def endpoint_token(endpoint: Endpoint) -> str | None:
    """The token to send, read now from where the endpoint says (never stored by hftui)."""
    if endpoint.token_env:
        return os.environ.get(endpoint.token_env) or None
    if endpoint.use_hf_token:
        from huggingface_hub import get_token

        return get_token()
    return None


def client_for(endpoint: Endpoint) -> Any:
    """A real `huggingface_hub.InferenceClient` for `endpoint`."""
    from huggingface_hub import InferenceClient

    from hftui.hub.client import allow_while_offline, install_request_timeouts

    endpoint.checked()
    token = endpoint_token(endpoint)
    install_request_timeouts()
    if endpoint.kind == "provider":
        return InferenceClient(endpoint.model, provider=endpoint.provider, token=token, timeout=endpoint.timeout_s)  # type: ignore[arg-type]
    allow_while_offline(endpoint.base_url or "")  # the user's own server: offline keeps out only the Hub
    return InferenceClient(base_url=endpoint.base_url, api_key=token, timeout=endpoint.timeout_s)
