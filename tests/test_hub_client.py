"""Every Hub request hftui makes has a timeout: a Hub that accepts the connection and never answers is a
"timeout" problem after HFTUI_HUB_TIMEOUT seconds, not a worker held for ever (huggingface_hub's own client
waits without limit)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hftui.hub import client
from hftui.hub.catalog.models import ModelSearch
from hftui.hub.catalog.query import ModelQuery
from hftui.hub.errors import explain_hub_error
from hftui.hub.index import RepoIndex
from hftui.localhub import LocalHub
from tests.hubfixtures import local_hub

__all__ = ["local_hub"]


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A half-second read timeout for the test, and huggingface_hub's default client back afterwards."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    monkeypatch.setenv("HFTUI_HUB_TIMEOUT", "0.5")
    yield
    set_client_factory(default_client_factory)
    monkeypatch.setattr(client, "_installed_for", None)


def test_the_read_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTUI_HUB_TIMEOUT", "2.5")
    assert client.read_timeout() == 2.5
    for wrong in ("", "soon", "-1", "0"):
        monkeypatch.setenv("HFTUI_HUB_TIMEOUT", wrong)
        assert client.read_timeout() == client.DEFAULT_READ_TIMEOUT_S


def test_a_hub_that_stops_answering_is_a_timeout(local_hub: LocalHub, tmp_path, short_timeout: None) -> None:
    index = RepoIndex(tmp_path / "index.sqlite")
    api = client.hub_api(local_hub.url)
    local_hub.delay(r"^/api/models$", 3.0, times=20)  # every try: the client retries a timeout on its own
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        ModelSearch(ModelQuery(), index=index, api=api).next_page()
    waited = time.monotonic() - started
    problem = explain_hub_error(raised.value, endpoint=api.endpoint)
    assert problem.kind == "timeout", problem
    assert waited < 60  # gave up after its retries (with backoff), each cut at the timeout: a hang is for ever
