"""Each Hub failure, produced by a real client call against the LocalHub, gets a plain explanation."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub import constants as hf_constants
from huggingface_hub.errors import LocalEntryNotFoundError

from hftui.hub.download import DownloadCancelled
from hftui.hub.errors import PROBLEM_KINDS, HubProblem, explain_hub_error, redact
from hftui.localhub import LocalHub
from tests.hubfixtures import GATED_MODEL, HUB_TOKEN, PRIVATE_MODEL, TINY_MODEL

BAD_TOKEN = "hf_thisIsNotARealToken0123456789"


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except BaseException as error:  # whatever the client raises is what gets explained
        return error
    raise AssertionError("the call did not fail")


def _check(problem: HubProblem, kind: str) -> HubProblem:
    assert problem.kind == kind, problem
    assert problem.kind in PROBLEM_KINDS
    assert problem.message and problem.message.strip() == problem.message
    for secret in (HUB_TOKEN, BAD_TOKEN):
        assert secret not in problem.message
    return problem


def _download(hub: LocalHub, cache: Path, filename: str = "config.json", **kwargs: object) -> None:
    hf_hub_download(
        kwargs.pop("repo_id", TINY_MODEL),  # type: ignore[arg-type]
        filename,
        endpoint=hub.url,
        cache_dir=cache,
        **kwargs,  # type: ignore[arg-type]
    )


def test_gated_without_token_names_the_access_page(local_hub: LocalHub, tmp_path: Path) -> None:
    error = _raised(lambda: _download(local_hub, tmp_path, repo_id=GATED_MODEL, token=False))
    problem = _check(explain_hub_error(error, repo_id=GATED_MODEL, endpoint=local_hub.url), "gated")
    assert problem.status == 401
    assert f"{local_hub.url}/{GATED_MODEL}" in problem.message
    assert "log in" in problem.message


def test_gated_without_approval(local_hub: LocalHub, tmp_path: Path) -> None:
    local_hub.repo(GATED_MODEL).authorized_users = {"someone-else"}  # type: ignore[union-attr]
    error = _raised(lambda: _download(local_hub, tmp_path, repo_id=GATED_MODEL, token=HUB_TOKEN))
    problem = _check(explain_hub_error(error, endpoint=local_hub.url), "gated")  # repo id from the error
    assert problem.status == 403
    assert f"{local_hub.url}/{GATED_MODEL}" in problem.message
    assert "not been granted" in problem.message


def test_invalid_token_is_auth_and_never_shown(local_hub: LocalHub) -> None:
    error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, token=BAD_TOKEN))
    problem = _check(explain_hub_error(error, repo_id=TINY_MODEL), "auth")
    assert problem.status == 401


def test_missing_and_private_repos_are_not_found(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    missing = _check(explain_hub_error(_raised(lambda: api.model_info("nobody/nothing", token=False))), "not_found")
    assert missing.status == 404 and "'nobody/nothing'" in missing.message
    private = _check(
        explain_hub_error(_raised(lambda: api.model_info(PRIVATE_MODEL, token=False)), repo_id=PRIVATE_MODEL),
        "not_found",
    )
    assert private.status == 401 and "private" in private.message


def test_missing_revision_and_missing_file(local_hub: LocalHub, tmp_path: Path) -> None:
    revision = _raised(lambda: _download(local_hub, tmp_path, revision="no-such-branch", token=False))
    assert _check(explain_hub_error(revision, repo_id=TINY_MODEL), "revision_not_found").status == 404
    missing = _raised(lambda: _download(local_hub, tmp_path, filename="missing.txt", token=False))
    assert _check(explain_hub_error(missing, repo_id=TINY_MODEL), "file_not_found").status == 404


def test_rate_limited_with_retry_after(local_hub: LocalHub) -> None:
    local_hub.fail(r"^/api/models/", 429, times=1, retry_after=7)
    error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, token=False))
    problem = _check(explain_hub_error(error), "rate_limited")
    assert problem.status == 429 and problem.retry_after == 7.0
    assert "7 s" in problem.message


def test_server_error(local_hub: LocalHub) -> None:
    local_hub.fail(r"^/api/models/", 500, times=1)
    error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, token=False))
    assert _check(explain_hub_error(error), "server").status == 500


def test_timeout(local_hub: LocalHub) -> None:
    local_hub.delay(r"^/api/models/", 1.0, times=1)
    error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, timeout=0.2, token=False))
    problem = _check(explain_hub_error(error), "timeout")
    assert "127.0.0.1" in problem.message


def test_connection_refused_after_the_hub_stops(local_hub: LocalHub) -> None:
    url = local_hub.url
    local_hub.stop()
    error = _raised(lambda: HfApi(endpoint=url).model_info(TINY_MODEL, token=False))
    assert isinstance(error, httpx2.ConnectError)
    problem = _check(explain_hub_error(error, endpoint=url), "network")
    assert url.removeprefix("http://") in problem.message


def test_offline_mode(local_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    api_error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, token=False))
    _check(explain_hub_error(api_error), "offline")
    # A download wraps it: not in the cache, and offline.
    download_error = _raised(lambda: _download(local_hub, tmp_path, token=False))
    assert isinstance(download_error, LocalEntryNotFoundError)
    problem = _check(explain_hub_error(download_error, repo_id=TINY_MODEL), "offline")
    assert "cache" in problem.message


def test_wrapped_network_failure_explains_the_cause() -> None:
    try:
        try:
            raise httpx2.ConnectError("[Errno 111] Connection refused")
        except httpx2.ConnectError as cause:
            raise LocalEntryNotFoundError("cannot find the requested files in the local cache") from cause
    except LocalEntryNotFoundError as error:
        problem = _check(explain_hub_error(error, endpoint="https://hub.example"), "network")
    assert "hub.example" in problem.message and "cache" in problem.message


def test_invalid_repo_id(local_hub: LocalHub) -> None:
    error = _raised(lambda: HfApi(endpoint=local_hub.url).model_info("bad//id!!", token=False))
    problem = _check(explain_hub_error(error, repo_id="bad//id!!"), "invalid_id")
    assert "owner/name" in problem.message


def test_disk_full_cancelled_and_unknown() -> None:
    _check(explain_hub_error(OSError(errno.ENOSPC, "No space left on device")), "disk_full")
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise RuntimeError("write failed") from cause
    except RuntimeError as wrapped:
        _check(explain_hub_error(wrapped), "disk_full")
    _check(explain_hub_error(DownloadCancelled()), "cancelled")
    unknown = _check(explain_hub_error(ValueError(f"boom with {BAD_TOKEN} inside")), "unknown")
    assert "ValueError" in unknown.message and "boom" in unknown.message and "hf_***" in unknown.message


def test_redact_hides_tokens() -> None:
    assert redact(f"Authorization: Bearer {HUB_TOKEN}") == "Authorization: Bearer ***"
    assert redact(f"token={HUB_TOKEN}.") == "token=hf_***."
