"""The LocalHub's write side, driven by the real huggingface_hub client: create_repo, upload_folder (pre-upload,
the LFS batch API and PUT, the ndjson commit), deletions, and the refusals a publisher meets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from hftui.localhub import LocalHub
from tests.hubfixtures import HUB_ORG, HUB_TOKEN, HUB_USER, TINY_MODEL

READ_TOKEN = "hf_readOnlyToken000000000000000000"
OUTSIDER_TOKEN = "hf_outsiderToken00000000000000000"


@pytest.fixture
def api(local_hub: LocalHub, hub_endpoint: str) -> HfApi:
    local_hub.add_token(READ_TOKEN, user=HUB_USER, role="read")
    local_hub.add_token(OUTSIDER_TOKEN, user="outsider")
    return HfApi(endpoint=hub_endpoint, token=HUB_TOKEN)


def _folder(root: Path, weights: bytes = b"\x00" * 4096) -> Path:
    folder = root / "trained"
    (folder / "checkpoint-1").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "README.md").write_text("---\nlicense: mit\npipeline_tag: text-classification\n---\n# Trained\n")
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "checkpoint-1" / "optimizer.pt").write_bytes(b"state")
    return folder


def test_create_repo_then_upload_a_folder_and_read_it_back(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    url = api.create_repo(f"{HUB_USER}/trained-model", private=True)
    assert url.repo_id == f"{HUB_USER}/trained-model"
    repo = local_hub.repo(f"{HUB_USER}/trained-model")
    assert repo is not None and repo.private and set(repo.files) == {".gitattributes"}

    weights = bytes(range(256)) * 64
    info = api.upload_folder(
        folder_path=_folder(tmp_path, weights),
        repo_id=f"{HUB_USER}/trained-model",
        commit_message="Add the trained model",
        ignore_patterns=["checkpoint-*"],
    )
    assert info.oid == repo.head.sha and info.commit_message == "Add the trained model"
    assert set(repo.files) == {".gitattributes", "config.json", "README.md", "model.safetensors"}
    hosted = repo.files["model.safetensors"]
    assert hosted.is_lfs and hosted.lfs_sha256 == hashlib.sha256(weights).hexdigest()
    assert hosted.read() == weights
    assert repo.head.author == HUB_USER
    assert repo.head.card == {"license": "mit", "pipeline_tag": "text-classification"}
    # The weights went through the LFS batch API and a PUT, the rest inline in the commit.
    methods = {(method, path.split("/")[-1]) for method, path in local_hub.requests}
    assert ("POST", "batch") in methods and ("PUT", hosted.lfs_sha256) in methods

    # And the real client downloads what was pushed, private repo included.
    path = hf_hub_download(f"{HUB_USER}/trained-model", "model.safetensors", token=HUB_TOKEN, cache_dir=tmp_path / "c")
    assert Path(path).read_bytes() == weights


def test_reupload_sends_only_changed_files(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    api.create_repo(f"{HUB_ORG}/pushed")
    folder = _folder(tmp_path)
    api.upload_folder(folder_path=folder, repo_id=f"{HUB_ORG}/pushed", ignore_patterns=["checkpoint-*"])
    repo = local_hub.repo(f"{HUB_ORG}/pushed")
    assert repo is not None
    commits = len(repo.commits)
    puts = sum(method == "PUT" for method, _ in local_hub.requests)

    api.upload_folder(folder_path=folder, repo_id=f"{HUB_ORG}/pushed", ignore_patterns=["checkpoint-*"])
    assert len(repo.commits) == commits  # nothing changed: no commit at all

    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}')
    api.upload_folder(folder_path=folder, repo_id=f"{HUB_ORG}/pushed", ignore_patterns=["checkpoint-*"])
    assert len(repo.commits) == commits + 1
    assert repo.files["config.json"].read() == b'{"model_type": "bert", "hidden_size": 8}'
    assert sum(method == "PUT" for method, _ in local_hub.requests) == puts  # the weights were not sent again


def test_deleting_files_and_folders(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    api.create_repo(f"{HUB_USER}/with-checkpoints")
    api.upload_folder(folder_path=_folder(tmp_path), repo_id=f"{HUB_USER}/with-checkpoints")
    repo = local_hub.repo(f"{HUB_USER}/with-checkpoints")
    assert repo is not None and "checkpoint-1/optimizer.pt" in repo.files
    api.delete_folder("checkpoint-1", repo_id=f"{HUB_USER}/with-checkpoints")
    api.delete_file("config.json", repo_id=f"{HUB_USER}/with-checkpoints")
    assert set(repo.files) == {".gitattributes", "README.md", "model.safetensors"}
    with pytest.raises(HfHubHTTPError) as missing:
        api.delete_file("nope.txt", repo_id=f"{HUB_USER}/with-checkpoints")
    assert missing.value.response.status_code == 404


def test_existing_repo_conflicts_unless_exist_ok(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(TINY_MODEL)
    assert conflict.value.response.status_code == 409
    assert api.create_repo(TINY_MODEL, exist_ok=True).repo_id == TINY_MODEL


def test_dataset_repos_take_uploads_too(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    api.create_repo(f"{HUB_USER}/converted", repo_type="dataset")
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.parquet").write_bytes(b"PAR1" + b"\x01" * 100 + b"PAR1")
    (data / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n")
    api.upload_folder(folder_path=data, repo_id=f"{HUB_USER}/converted", repo_type="dataset")
    repo = local_hub.repo(f"{HUB_USER}/converted", "dataset")
    assert repo is not None and repo.files["train.parquet"].is_lfs
    assert api.dataset_info(f"{HUB_USER}/converted").card_data.license == "cc-by-4.0"


@pytest.mark.parametrize(
    ("token", "repo_id", "status"),
    [
        (None, f"{HUB_USER}/anonymous", 401),
        (READ_TOKEN, f"{HUB_USER}/read-only", 403),
        (OUTSIDER_TOKEN, f"{HUB_ORG}/not-theirs", 403),
    ],
)
def test_create_is_refused_without_write_rights(api: HfApi, token: str | None, repo_id: str, status: int) -> None:
    client = HfApi(endpoint=api.endpoint, token=token if token else False)
    with pytest.raises(HfHubHTTPError) as refused:
        client.create_repo(repo_id)
    assert refused.value.response.status_code == status


def test_pushing_to_someone_elses_repo_is_403(api: HfApi, local_hub: LocalHub, tmp_path: Path) -> None:
    outsider = HfApi(endpoint=api.endpoint, token=OUTSIDER_TOKEN)
    before = local_hub.repo(TINY_MODEL).head.sha  # type: ignore[union-attr]
    with pytest.raises(HfHubHTTPError) as refused:
        outsider.upload_folder(folder_path=_folder(tmp_path), repo_id=TINY_MODEL)
    assert refused.value.response.status_code == 403
    assert local_hub.repo(TINY_MODEL).head.sha == before  # type: ignore[union-attr]


def test_stale_parent_commit_is_refused(api: HfApi, local_hub: LocalHub) -> None:
    from huggingface_hub import CommitOperationAdd

    api.create_repo(f"{HUB_USER}/racing")
    first = api.create_commit(f"{HUB_USER}/racing", [CommitOperationAdd("a.txt", b"one")], commit_message="one")
    api.create_commit(f"{HUB_USER}/racing", [CommitOperationAdd("a.txt", b"two")], commit_message="two")
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(
            f"{HUB_USER}/racing",
            [CommitOperationAdd("a.txt", b"three")],
            commit_message="three",
            parent_commit=first.oid,
        )
    assert stale.value.response.status_code == 412
    assert local_hub.repo(f"{HUB_USER}/racing").files["a.txt"].read() == b"two"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ("---\nlicense: [unclosed\n---\n", "Invalid YAML"),
        ("---\n- a\n- list\n---\n", "mapping"),
        ("---\nlicense: not-a-licence\n---\n", "licence ids"),
    ],
)
def test_upload_of_an_invalid_card_is_refused_before_any_commit(
    api: HfApi, local_hub: LocalHub, tmp_path: Path, card: str, problem: str
) -> None:
    api.create_repo(f"{HUB_USER}/bad-card")
    folder = _folder(tmp_path)
    (folder / "README.md").write_text(card + "# Card\n")
    with pytest.raises(ValueError, match=problem):
        api.upload_folder(folder_path=folder, repo_id=f"{HUB_USER}/bad-card")
    assert set(local_hub.repo(f"{HUB_USER}/bad-card").files) == {".gitattributes"}  # type: ignore[union-attr]


def test_chunked_request_bodies_are_read(local_hub: LocalHub) -> None:
    import http.client
    import json

    connection = http.client.HTTPConnection("127.0.0.1", int(local_hub.url.rsplit(":", 1)[1]), timeout=5)
    body = json.dumps({"content": "---\nlicense: mit\n---\n"}).encode()
    chunks = iter([body[:7], body[7:]])
    connection.request("POST", "/api/validate-yaml", body=chunks, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"warnings": []}
    connection.close()
