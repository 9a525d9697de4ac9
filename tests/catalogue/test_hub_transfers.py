"""Catalogue: bad Hub answers while files move: a download (file bodies cut, refused, missing) and a push.

Each case asserts what the user is told (`explain_hub_error`), no token in it, and that nothing half-done is
presented as done: no partial file in the snapshot, no commit made by a push that failed.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from hftui.hub.download import plan_download, run_download
from hftui.hub.errors import explain_hub_error
from hftui.hub.publish import plan_publish, publish
from hftui.localhub import LocalHub
from tests.hubfixtures import HUB_TOKEN, HUB_USER, TINY_MODEL, tiny_bert_safetensors


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub retries 429/5xx, sleeping up to 8 s each time; the outcome is the same without waiting."""
    import huggingface_hub.utils._http as hf_http

    quick = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    quick.sleep = lambda seconds: None
    monkeypatch.setattr(hf_http, "time", quick)


def _raised(call: Callable[[], object]) -> BaseException | None:
    try:
        call()
    except Exception as error:  # whatever the surface raises is what the screen explains
        return error
    return None


def _download(hub: LocalHub, cache: Path) -> tuple[Path | None, BaseException | None]:
    api = HfApi(endpoint=hub.url, token=HUB_TOKEN)
    plan = plan_download(api, TINY_MODEL, cache_dir=cache)
    result: list[Path] = []
    error = _raised(
        lambda: result.append(
            run_download(
                plan, endpoint=hub.url, cache_dir=cache, on_progress=lambda p: None, is_cancelled=lambda: False
            )
        )
    )
    return (result[0] if result else None), error


DOWNLOAD_FAULTS = {
    "500": (lambda hub: hub.fail(r"/resolve/.*/model\.safetensors", 500), "server"),
    "503": (lambda hub: hub.fail(r"/resolve/.*/model\.safetensors", 503), "server"),
    "403": (lambda hub: hub.fail(r"/resolve/.*/model\.safetensors", 403), "forbidden"),
    "404": (lambda hub: hub.fail(r"/resolve/.*/model\.safetensors", 404), "file_not_found"),
    "429": (lambda hub: hub.fail(r"/resolve/.*/model\.safetensors", 429, retry_after=3), "rate_limited"),
}


@pytest.mark.parametrize("name", DOWNLOAD_FAULTS, ids=str)
def test_download_refused_midway_is_explained_and_leaves_no_partial_snapshot(
    local_hub: LocalHub, tmp_path: Path, name: str
) -> None:
    apply, kind = DOWNLOAD_FAULTS[name]
    apply(local_hub)
    cache = tmp_path / "hf-cache"
    snapshot, error = _download(local_hub, cache)
    assert snapshot is None and error is not None
    problem = explain_hub_error(error, repo_id=TINY_MODEL, endpoint=local_hub.url)
    assert problem.kind == kind, problem
    assert HUB_TOKEN not in problem.message
    assert not list(cache.rglob("snapshots/*/model.safetensors")), "no half file is presented as downloaded"


@pytest.mark.parametrize("after", [0, 10, 100])
def test_download_cut_short_resumes_or_is_explained(local_hub: LocalHub, tmp_path: Path, after: int) -> None:
    local_hub.cut(r"/resolve/.*/model\.safetensors", after, times=1)
    cache = tmp_path / "hf-cache"
    snapshot, error = _download(local_hub, cache)
    expected = tiny_bert_safetensors()
    if snapshot is not None:
        assert (snapshot / "model.safetensors").read_bytes() == expected, "a resumed file is whole"
    else:
        assert error is not None
        problem = explain_hub_error(error, repo_id=TINY_MODEL, endpoint=local_hub.url)
        assert problem.kind in ("network", "timeout", "server"), problem
        assert not list(cache.rglob("snapshots/*/model.safetensors"))


def _folder(root: Path) -> Path:
    folder = root / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
    (folder / "model.safetensors").write_bytes(b"w" * 5000)
    return folder


PUSH_FAULTS = {
    "401": (401, "auth"),
    "403": (403, "forbidden"),
    "429": (429, "rate_limited"),
    "500": (500, "server"),
    "503": (503, "server"),
}


@pytest.mark.parametrize("name", PUSH_FAULTS, ids=str)
def test_push_refused_at_commit_is_explained_and_makes_no_commit(
    local_hub: LocalHub, hub_endpoint: str, tmp_path: Path, name: str
) -> None:
    status, kind = PUSH_FAULTS[name]
    api = HfApi(endpoint=hub_endpoint, token=HUB_TOKEN)
    repo_id = f"{HUB_USER}/pushed-{name}"
    local_hub.fail(r"/commit/", status, message=f"denied for Bearer {HUB_TOKEN}", method="POST")
    plan = plan_publish(_folder(tmp_path), repo_id)
    error = _raised(lambda: publish(plan, api=api))
    assert error is not None
    problem = explain_hub_error(error, repo_id=repo_id, endpoint=hub_endpoint)
    assert problem.kind == kind, problem
    assert HUB_TOKEN not in problem.message and "hf_hftui" not in problem.message
    local_hub.clear_faults()
    files = api.list_repo_files(repo_id) if local_hub.repo(repo_id) is not None else []
    assert "model.safetensors" not in files, "a failed push leaves no commit of the files"


def test_push_answered_with_html_is_explained(local_hub: LocalHub, hub_endpoint: str, tmp_path: Path) -> None:
    api = HfApi(endpoint=hub_endpoint, token=HUB_TOKEN)
    local_hub.garble(r"/commit/", b"<html><body>Sign in</body></html>", method="POST")
    plan = plan_publish(_folder(tmp_path), f"{HUB_USER}/pushed-html")
    error = _raised(lambda: publish(plan, api=api))
    assert error is not None
    problem = explain_hub_error(error, repo_id=plan.repo_id, endpoint=hub_endpoint)
    assert problem.kind == "bad_answer", problem
