"""The account domain against the local Hub: token sources, login by pasted token, named tokens and switching,
whoami roles, and the token never leaving as anything but a mask."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hftui.hub.account import fetch_whoami, login_with_token, read_account, switch_token, whoami_from_response
from hftui.localhub import LocalHub
from tests.hubfixtures import HUB_ORG, HUB_TOKEN, HUB_USER

SECOND_TOKEN = "hf_secondTokenForSwitching000000000"
READ_TOKEN = "hf_readTokenForAccountTests0000000"
SCOPED_TOKEN = "hf_fineGrainedTokenForTests000000000"


@pytest.fixture
def hub(local_hub: LocalHub, hub_endpoint: str, token_files: Path) -> LocalHub:
    local_hub.add_token(SECOND_TOKEN, user=HUB_USER, orgs=(HUB_ORG,), name="laptop")
    local_hub.add_token(READ_TOKEN, user="reader", role="read", name="read-only")
    local_hub.add_token(SCOPED_TOKEN, user=HUB_USER, orgs=(HUB_ORG,), role="fineGrained", write_scopes=(HUB_ORG,))
    return local_hub


def test_no_token_at_all(token_files: Path) -> None:
    state = read_account()
    assert not state.status.present and state.stored == () and state.source_label == "no token"


def test_login_stores_a_named_token_and_switching_moves_between_them(hub: LocalHub, token_files: Path) -> None:
    assert login_with_token(f"  {HUB_TOKEN}\n") == f"{HUB_USER}-token"
    assert login_with_token(SECOND_TOKEN) == "laptop"
    state = read_account()
    assert [(t.name, t.active) for t in state.stored] == [("laptop", True), (f"{HUB_USER}-token", False)]
    assert state.active_name == "laptop" and state.status.source == "stored token laptop"
    assert state.status.masked == "****" + SECOND_TOKEN[-4:]

    switch_token(f"{HUB_USER}-token")
    state = read_account()
    assert state.active_name == f"{HUB_USER}-token"
    assert (token_files / "token").read_text() == HUB_TOKEN
    # huggingface_hub's own helpers wrote both files, owner-only.
    for name in ("token", "stored_tokens"):
        assert stat.S_IMODE((token_files / name).stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="not found"):
        switch_token("no-such-token")


def test_a_bad_token_is_refused_and_nothing_is_stored(hub: LocalHub, token_files: Path) -> None:
    with pytest.raises(HfHubHTTPError):
        login_with_token("hf_notAKnownToken0000000000000000")
    assert read_account().stored == ()
    with pytest.raises(ValueError):
        login_with_token("   ")


def test_environment_token_overrides_the_stored_ones(
    hub: LocalHub, token_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login_with_token(HUB_TOKEN)
    monkeypatch.setenv("HF_TOKEN", SECOND_TOKEN)
    state = read_account()
    assert state.env_override == "HF_TOKEN" and state.status.source == "HF_TOKEN"
    assert state.source_label == "the HF_TOKEN environment variable"
    assert not any(token.active for token in state.stored)  # the stored one is not what is in force


def test_whoami_roles(hub: LocalHub, hub_endpoint: str) -> None:
    writer = fetch_whoami(HfApi(endpoint=hub_endpoint, token=HUB_TOKEN))
    assert writer.user == HUB_USER and writer.orgs == (HUB_ORG,) and writer.role == "write"
    assert writer.can_write(HUB_USER) and writer.can_write(HUB_ORG) and not writer.can_write("someone-else")

    reader = fetch_whoami(HfApi(endpoint=hub_endpoint, token=READ_TOKEN))
    assert reader.read_only and reader.role_label == "read-only" and not reader.can_write("reader")

    scoped = fetch_whoami(HfApi(endpoint=hub_endpoint, token=SCOPED_TOKEN))
    assert scoped.role == "fineGrained" and scoped.writable_namespaces == (HUB_ORG,)
    assert scoped.can_write(HUB_ORG) and not scoped.can_write(HUB_USER)


def test_whoami_tolerates_sparse_answers() -> None:
    who = whoami_from_response({"name": "someone"})
    assert who.user == "someone" and who.orgs == () and who.role is None and not who.read_only
    assert who.role_label == "unknown"


def test_no_value_carries_the_token(hub: LocalHub, token_files: Path, hub_endpoint: str) -> None:
    login_with_token(HUB_TOKEN)
    login_with_token(SECOND_TOKEN)
    state = read_account()
    who = fetch_whoami(HfApi(endpoint=hub_endpoint, token=SECOND_TOKEN))
    for text in (repr(state), repr(who), state.source_label, state.status.label):
        assert HUB_TOKEN not in text and SECOND_TOKEN not in text
