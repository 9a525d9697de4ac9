"""Publishing a folder to the local Hub: the plan (exclusions, problems, warnings), the upload with progress,
re-uploads, cancellation, refusals for missing, read-only and foreign tokens, and network loss."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hftui.hub.publish import (
    PublishCancelled,
    PublishProgress,
    PublishRefused,
    plan_publish,
    publish,
)
from hftui.localhub import LocalHub
from tests.hubfixtures import HUB_ORG, HUB_TOKEN, HUB_USER, TINY_MODEL

READ_TOKEN = "hf_readTokenForPublishing000000000"


def _trained(root: Path, weights: int = 300_000) -> Path:
    folder = root / "model"
    (folder / "checkpoint-10").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * (weights // 256))
    (folder / "checkpoint-10" / "optimizer.pt").write_bytes(b"o" * 100)
    (folder / "optimizer.pt").write_bytes(b"o" * 100)
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    return folder


@pytest.fixture
def api(local_hub: LocalHub, hub_endpoint: str) -> HfApi:
    local_hub.add_token(READ_TOKEN, user=HUB_USER, role="read")
    return HfApi(endpoint=hub_endpoint, token=HUB_TOKEN)


def test_plan_leaves_out_checkpoints_optimizer_state_and_git(tmp_path: Path) -> None:
    plan = plan_publish(_trained(tmp_path), f"{HUB_USER}/model")
    assert plan.ok and [f.path for f in plan.files] == ["README.md", "config.json", "model.safetensors"]
    assert set(plan.excluded) == {".git/HEAD", "checkpoint-10/optimizer.pt", "optimizer.pt"}
    assert plan.total_bytes == sum(f.size for f in plan.files)
    everything = plan_publish(_trained(tmp_path / "b"), f"{HUB_USER}/model", include_checkpoints=True)
    assert "checkpoint-10/optimizer.pt" in [f.path for f in everything.files]
    only_weights = plan_publish(_trained(tmp_path / "c"), f"{HUB_USER}/model", include=["*.safetensors"])
    assert [f.path for f in only_weights.files] == ["model.safetensors"]
    assert any("no README.md" in warning for warning in only_weights.warnings)


@pytest.mark.parametrize(
    ("repo_id", "problem"),
    [("just-a-name", "namespace/name"), ("me/bad name!", "not a valid repo id"), ("a/b/c", "namespace/name")],
)
def test_plan_refuses_bad_repo_ids(tmp_path: Path, repo_id: str, problem: str) -> None:
    plan = plan_publish(_trained(tmp_path), repo_id)
    assert not plan.ok and problem in plan.problems[0]


def test_plan_problems_for_missing_and_empty_folders(tmp_path: Path) -> None:
    assert "is not a folder" in plan_publish(tmp_path / "missing", "me/x").problems[0]
    (tmp_path / "empty").mkdir()
    assert "Nothing to publish" in plan_publish(tmp_path / "empty", "me/x").problems[0]


def test_huge_files_are_refused_or_warned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftui.hub.publish as publish_module

    folder = _trained(tmp_path)
    monkeypatch.setattr(publish_module, "HUB_RECOMMENDED_FILE_BYTES", 1000)
    assert any("recommends files under 20 GB" in w for w in plan_publish(folder, "me/x").warnings)
    monkeypatch.setattr(publish_module, "HUB_MAX_FILE_BYTES", 1000)
    plan = plan_publish(folder, "me/x")
    assert not plan.ok and "refuses files over 50 GB" in plan.problems[0]


def test_publish_creates_the_repo_and_reports_progress(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_publish(_trained(tmp_path), f"{HUB_ORG}/published", private=True)
    seen: list[PublishProgress] = []
    result = publish(plan, api=api, commit_message="First upload", on_progress=seen.append)
    repo = local_hub.repo(f"{HUB_ORG}/published")
    assert repo is not None and repo.private and result.changed
    assert result.commit_oid == repo.head.sha and result.repo_url.endswith(f"{HUB_ORG}/published")
    assert set(repo.files) == {".gitattributes", "README.md", "config.json", "model.safetensors"}
    assert repo.files["model.safetensors"].read() == (plan.folder / "model.safetensors").read_bytes()
    assert repo.head.title == "First upload"
    phases = [progress.phase for progress in seen]
    assert phases[:3] == ["checking", "creating", "hashing"] and phases[-1] == "done"
    uploading = [progress for progress in seen if progress.phase == "uploading"]
    assert uploading and all(p.total_bytes == plan.total_bytes for p in uploading)
    assert [p.done_bytes for p in uploading] == sorted(p.done_bytes for p in uploading)  # never goes back
    assert seen[-1].done_bytes == plan.total_bytes


def test_republishing_an_unchanged_folder_makes_no_commit(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    folder = _trained(tmp_path)
    plan = plan_publish(folder, f"{HUB_USER}/again")
    first = publish(plan, api=api)
    again = publish(plan_publish(folder, f"{HUB_USER}/again"), api=api)
    assert not again.changed and again.commit_oid == first.commit_oid
    (folder / "config.json").write_text('{"model_type": "bert", "layers": 2}')
    third = publish(plan_publish(folder, f"{HUB_USER}/again"), api=api)
    assert third.changed and third.commit_oid != first.commit_oid


def test_cancelling_mid_upload_commits_nothing(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_publish(_trained(tmp_path, weights=3_000_000), f"{HUB_USER}/cancelled")
    state = {"cancel": False}

    def watch(progress: PublishProgress) -> None:
        if progress.phase == "uploading":  # the upload has begun: the next byte read is refused
            state["cancel"] = True

    with pytest.raises(PublishCancelled):
        publish(plan, api=api, on_progress=watch, cancelled=lambda: state["cancel"])
    repo = local_hub.repo(f"{HUB_USER}/cancelled")
    assert repo is not None and set(repo.files) == {".gitattributes"}


def test_read_only_token_is_called_out_before_anything_is_sent(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_publish(_trained(tmp_path), f"{HUB_USER}/never")
    with pytest.raises(PublishRefused, match="read-only"):
        publish(plan, api=HfApi(endpoint=api.endpoint, token=READ_TOKEN))
    assert local_hub.repo(f"{HUB_USER}/never") is None
    assert not any(method == "POST" and "create" in path for method, path in local_hub.requests)


def test_no_token_and_foreign_namespace_are_refused(
    api: HfApi, local_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    with pytest.raises(PublishRefused, match="No Hub token"):
        publish(plan_publish(_trained(tmp_path), f"{HUB_USER}/x"), api=HfApi(endpoint=api.endpoint, token=None))
    with pytest.raises(PublishRefused, match='cannot write under "other-org"'):
        publish(plan_publish(_trained(tmp_path / "b"), "other-org/x"), api=api)


def test_pushing_over_someone_elses_existing_repo_fails_with_403(
    api: HfApi, local_hub: LocalHub, tmp_path: Path
) -> None:
    outsider = "hf_outsiderTokenForPublish00000000"
    local_hub.add_token(outsider, user="outsider")
    before = local_hub.repo(TINY_MODEL).head.sha  # type: ignore[union-attr]
    with pytest.raises(PublishRefused, match="cannot write"):
        publish(plan_publish(_trained(tmp_path), TINY_MODEL), api=HfApi(endpoint=api.endpoint, token=outsider))
    assert local_hub.repo(TINY_MODEL).head.sha == before  # type: ignore[union-attr]


def test_network_loss_mid_upload_commits_nothing_and_a_retry_finishes(
    api: HfApi, local_hub: LocalHub, tmp_path: Path
) -> None:
    plan = plan_publish(_trained(tmp_path), f"{HUB_USER}/flaky")
    local_hub.fail(r"^/api/models/.*/commit/", status=503, times=10)
    with pytest.raises(HfHubHTTPError):
        publish(plan, api=api)
    repo = local_hub.repo(f"{HUB_USER}/flaky")
    assert repo is not None and set(repo.files) == {".gitattributes"}
    local_hub.clear_faults()
    puts = sum(method == "PUT" for method, _ in local_hub.requests)
    assert publish(plan, api=api).changed
    assert "model.safetensors" in repo.files
    assert sum(method == "PUT" for method, _ in local_hub.requests) == puts  # the weights were already there
