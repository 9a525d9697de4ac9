"""Named endpoints: checked when added, kept in endpoints.json without any token, read back with problems
named, and turned into real InferenceClients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hftui.infer.endpoints import Endpoint, EndpointBook, client_for, endpoint_token

SECRET = "hf_verysecretvalue123"


def test_endpoints_round_trip_without_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_SERVER_TOKEN", SECRET)
    book = EndpointBook()
    book.add(
        Endpoint("local", "openai", model="tiny", base_url="http://127.0.0.1:8000/v1", token_env="LOCAL_SERVER_TOKEN")
    )
    book.add(Endpoint("hub-auto", "provider", model="acme/tiny-chat", use_hf_token=True, timeout_s=5, retries=2))
    assert endpoint_token(book.endpoints["local"]) == SECRET
    client = client_for(book.endpoints["local"])
    assert client.model == "http://127.0.0.1:8000/v1" and client.timeout == 60.0
    provider = client_for(book.endpoints["hub-auto"])
    assert (provider.model, provider.provider, provider.timeout) == ("acme/tiny-chat", "auto", 5)
    book.save(tmp_path / "endpoints.json")
    written = (tmp_path / "endpoints.json").read_text()
    assert SECRET not in written and "LOCAL_SERVER_TOKEN" in written
    again = EndpointBook.load(tmp_path / "endpoints.json")
    assert again.endpoints == book.endpoints and again.problems == []
    assert SECRET not in " ".join(endpoint.describe() for endpoint in again.endpoints.values())
    again.remove("local")
    with pytest.raises(KeyError, match="no endpoint named 'local'"):
        again.remove("local")


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        (Endpoint("bad name!", "openai", base_url="http://x"), "letters, digits"),
        (Endpoint("a", "grpc"), "kind must be one of provider, openai"),
        (Endpoint("a", "provider"), "needs the Hub model id"),
        (Endpoint("a", "openai", base_url="ftp://host"), "base URL must be http"),
        (Endpoint("a", "openai", base_url="http://h", token_env="NOT-A-NAME"), "not an environment variable name"),
        (Endpoint("a", "openai", base_url="http://h", timeout_s=0), "timeout"),
        (Endpoint("a", "openai", base_url="http://h", retries=11), "retries"),
    ],
)
def test_bad_endpoints_are_refused_with_the_reason(endpoint: Endpoint, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        EndpointBook().add(endpoint)


def test_a_file_holding_a_token_is_read_without_it(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.json"
    items = [
        {"name": "leaky", "kind": "openai", "base_url": "http://127.0.0.1:1/v1", "api_key": SECRET},
        {"name": "broken", "kind": "openai", "base_url": "nope"},
        {"name": "odd", "kind": "provider", "model": "a/b", "unknown_field": 1},
        "not an object",
    ]
    path.write_text(json.dumps({"endpoints": items}))
    book = EndpointBook.load(path)
    assert sorted(book.endpoints) == ["leaky", "odd"]
    assert any("api_key left out: tokens are never kept" in problem for problem in book.problems)
    assert any("endpoint 2: " in problem and "base URL" in problem for problem in book.problems)
    assert any("endpoint 4 is not an object" in problem for problem in book.problems)
    book.save(path)
    assert SECRET not in path.read_text()
    path.write_text("{broken")
    broken = EndpointBook.load(path)
    assert broken.endpoints == {} and "endpoints.json could not be read" in broken.problems[0]
    assert EndpointBook.load(tmp_path / "missing.json").endpoints == {}
