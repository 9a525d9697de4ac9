"""The Hub request timeout's setting (the hang it ends is a case of the catalogue: tests/catalogue/
test_hub_answers.py::test_a_hub_that_stops_answering_is_a_timeout)."""

from __future__ import annotations

import pytest

from hftui.hub import client


def test_the_read_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTUI_HUB_TIMEOUT", "2.5")
    assert client.read_timeout() == 2.5
    for wrong in ("", "soon", "-1", "0"):
        monkeypatch.setenv("HFTUI_HUB_TIMEOUT", wrong)
        assert client.read_timeout() == client.DEFAULT_READ_TIMEOUT_S
