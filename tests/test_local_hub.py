"""The local Hub server, exercised with the real huggingface_hub client over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
from huggingface_hub import (
    HfApi,
    HfFileSystem,
    hf_hub_download,
    scan_cache_dir,
    snapshot_download,
)
from huggingface_hub import constants as hf_constants
from huggingface_hub import file_download as hf_file_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder

from hftui.localhub import LocalHub
from tests.hubfixtures import (
    CSV_DATASET,
    GATED_MODEL,
    HUB_ORG,
    HUB_TOKEN,
    HUB_USER,
    PRIVATE_MODEL,
    SMALL_GPT,
    SMALL_GPT_PROVIDERS,
    TINY_BERT_PARAMETERS,
    TINY_DATASET,
    TINY_MODEL,
    tiny_bert_safetensors,
)

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
REPO_ROOT = Path(__file__).resolve().parents[1]


def raw_get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, Any, bytes]:
    """A plain urllib request, for checking raw JSON shapes and headers; returns (status, headers, body)."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def file_gets(hub: LocalHub, filename: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p in hub.requests if m == "GET" and p.endswith("/" + filename)]


# -- listing -------------------------------------------------------------------------------------------------


def test_list_models_search_filter_author_sort_limit(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    assert [m.id for m in api.list_models(search="BERT")] == [TINY_MODEL]  # case-insensitive substring
    assert {m.id for m in api.list_models(author="hftui-test")} == {TINY_MODEL, GATED_MODEL}  # private hidden
    assert [m.id for m in api.list_models(filter="text-generation")] == [SMALL_GPT]  # pipeline tag
    assert [m.id for m in api.list_models(filter=["license:apache-2.0", "transformers"])] == [TINY_MODEL]
    by_downloads = [m.id for m in api.list_models(sort="downloads")]
    assert by_downloads == [TINY_MODEL, SMALL_GPT, GATED_MODEL]
    assert [m.id for m in api.list_models(sort="likes", limit=1)] == [SMALL_GPT]
    assert [m.id for m in api.list_models(sort="trending_score", limit=2)] == [SMALL_GPT, TINY_MODEL]
    newest_first = [m.id for m in api.list_models(sort="created_at")]
    assert newest_first == [GATED_MODEL, SMALL_GPT, TINY_MODEL]
    assert [m.id for m in api.list_models(sort="last_modified", limit=1)] == [GATED_MODEL]

    model = next(iter(api.list_models(search="tiny-bert")))
    assert model.downloads == 1000 and model.likes == 10 and model.trending_score == 2
    assert model.pipeline_tag == "fill-mask" and model.library_name == "transformers"
    assert model.siblings is None and model.card_data is None


def test_list_models_full_and_card_data(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    (model,) = api.list_models(search="tiny-bert", full=True, cardData=True)
    assert model.siblings is not None
    assert {s.rfilename for s in model.siblings} >= {
        "config.json",
        "model.safetensors",
        "docs/usage notes.md",
    }
    assert model.card_data is not None and model.card_data.license == "apache-2.0"
    (expanded,) = api.list_models(search="tiny-bert", expand=["sha", "safetensors"])
    assert expanded.sha is not None and len(expanded.sha) == 40
    assert expanded.safetensors is not None and expanded.downloads is None  # only what was asked for


def test_inference_provider_mapping_in_the_hubs_shapes(local_hub: LocalHub) -> None:
    # model_info sends an object keyed by provider, listings a list of entries naming provider and model; both
    # only when expanded, and the real client reads either as a list.
    _, _, body = raw_get(f"{local_hub.url}/api/models/{SMALL_GPT}?expand=inferenceProviderMapping")
    assert json.loads(body) == {
        "_id": json.loads(body)["_id"],
        "id": SMALL_GPT,
        "inferenceProviderMapping": SMALL_GPT_PROVIDERS,
    }
    _, _, body = raw_get(f"{local_hub.url}/api/models?search=small&expand=inferenceProviderMapping")
    (item,) = json.loads(body)
    assert item["inferenceProviderMapping"] == [
        {"provider": name, "hfModelId": SMALL_GPT, **entry} for name, entry in SMALL_GPT_PROVIDERS.items()
    ]
    _, _, body = raw_get(f"{local_hub.url}/api/models/{SMALL_GPT}")
    assert "inferenceProviderMapping" not in json.loads(body)

    api = HfApi(endpoint=local_hub.url)
    mapping = api.model_info(SMALL_GPT, expand=["inferenceProviderMapping"]).inference_provider_mapping
    assert mapping is not None
    assert [(m.provider, m.provider_id, m.status, m.task, m.hf_model_id) for m in mapping] == [
        ("together", "other-org/Small-GPT-Turbo", "live", "text-generation", SMALL_GPT),
        ("[red]x[/red]", "small-gpt:[b]free[/b]", "staging", "conversational", SMALL_GPT),
    ]
    assert api.model_info(TINY_MODEL, expand=["inferenceProviderMapping"]).inference_provider_mapping == []
    assert api.model_info(SMALL_GPT).inference_provider_mapping is None  # not asked, not sent
    listed = {m.id: m.inference_provider_mapping for m in api.list_models(expand=["inferenceProviderMapping"])}
    assert [m.provider for m in listed[SMALL_GPT] or []] == ["together", "[red]x[/red]"] and listed[TINY_MODEL] == []


def test_list_models_by_inference_provider(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    assert [m.id for m in api.list_models(inference_provider="together")] == [SMALL_GPT]
    assert [m.id for m in api.list_models(inference_provider="TOGETHER")] == [SMALL_GPT]
    assert [m.id for m in api.list_models(inference_provider="all")] == [SMALL_GPT]
    assert [m.id for m in api.list_models(inference_provider=["groq", "together"])] == [SMALL_GPT]  # any of them
    assert list(api.list_models(inference_provider="groq")) == []
    _, _, body = raw_get(f"{local_hub.url}/api/models?inference_provider=groq,together")  # huggingface.js's spelling
    assert [item["id"] for item in json.loads(body)] == [SMALL_GPT]


def test_list_models_pages_through_link_header() -> None:
    with LocalHub(page_size=2) as hub:
        for i in range(5):
            hub.add_model(f"pager/model-{i}", files={"config.json": b"{}"}, downloads=i)
        api = HfApi(endpoint=hub.url)
        assert [m.id for m in api.list_models(author="pager", sort="downloads")] == [
            f"pager/model-{i}" for i in (4, 3, 2, 1, 0)
        ]
        assert hub.requests.count(("GET", "/api/models")) == 3
        hub.requests.clear()
        assert len(list(api.list_models(limit=3))) == 3  # a limit stops the client after enough pages
        assert hub.requests.count(("GET", "/api/models")) == 2
        status, headers, _ = raw_get(f"{hub.url}/api/models?limit=1")
        assert status == 200 and 'rel="next"' in headers["Link"] and headers["Link"].startswith(f"<{hub.url}/")


def test_list_datasets_filters_and_derived_tags(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    assert {d.id for d in api.list_datasets()} == {TINY_DATASET, CSV_DATASET}
    assert [d.id for d in api.list_datasets(task_categories="text-classification")] == [TINY_DATASET]
    assert [d.id for d in api.list_datasets(filter="modality:tabular")] == [CSV_DATASET]
    assert [d.id for d in api.list_datasets(search="tiny", sort="likes")] == [TINY_DATASET]
    (dataset,) = api.list_datasets(search="tiny", full=True)
    assert {s.rfilename for s in dataset.siblings or []} == {
        "README.md",
        "data/train.jsonl",
        "data/test.jsonl",
    }
    assert dataset.card_data is not None and dataset.card_data.license == "mit"
    tags = dataset.tags or []
    expected = ["task_categories:text-classification", "language:en", "license:mit", "size_categories:n<1K"]
    expected += ["modality:text", "format:json", "library:datasets", "region:us"]
    assert [tag for tag in tags if tag in expected] == expected


# -- repo info -----------------------------------------------------------------------------------------------


def test_model_info(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    info = api.model_info(TINY_MODEL)
    repo = local_hub.repo(TINY_MODEL)
    assert repo is not None and info.sha == repo.sha and re.fullmatch(r"[0-9a-f]{40}", info.sha)
    assert info.author == "hftui-test" and info.gated is False and info.private is False
    assert info.safetensors is not None
    assert info.safetensors.parameters == TINY_BERT_PARAMETERS
    assert info.safetensors.total == sum(TINY_BERT_PARAMETERS.values())
    assert info.card_data is not None and info.card_data.license == "apache-2.0"
    assert info.card_data.eval_results and info.card_data.eval_results[0].metric_value == 0.5
    assert info.model_index is not None and info.model_index[0]["name"] == "tiny-bert"
    assert info.config == {
        "architectures": ["BertForMaskedLM"],
        "model_type": "bert",
        "tokenizer_config": {"mask_token": "[MASK]", "unk_token": "[UNK]"},
    }
    assert info.transformers_info is not None and info.transformers_info.auto_model == "AutoModelForMaskedLM"
    expected_tags = ["transformers", "safetensors", "bert", "fill-mask", "test", "en"]
    expected_tags += ["dataset:hftui-test/tiny-dataset", "model-index", "license:apache-2.0", "region:us"]
    assert [tag for tag in info.tags or [] if tag in expected_tags] == expected_tags  # the Hub's order
    assert info.siblings is not None and info.siblings[0].size is None  # sizes only with files_metadata
    assert info.spaces == [] and info.used_storage == sum(f.size for f in repo.files.values())
    assert info.created_at is not None and info.last_modified is not None and info.created_at < info.last_modified

    detailed = api.model_info(TINY_MODEL, files_metadata=True)
    siblings = {s.rfilename: s for s in detailed.siblings or []}
    weights = siblings["model.safetensors"]
    assert weights.size == len(tiny_bert_safetensors()) and weights.lfs is not None
    assert weights.lfs.sha256 == repo.files["model.safetensors"].lfs_sha256
    assert siblings["config.json"].lfs is None and siblings["config.json"].blob_id == repo.files["config.json"].blob_id


def test_model_info_raw_json_shape(local_hub: LocalHub) -> None:
    status, headers, body = raw_get(f"{local_hub.url}/api/models/{TINY_MODEL}")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    data = json.loads(body)
    assert list(data)[:2] == ["_id", "id"] and re.fullmatch(r"[0-9a-f]{24}", data["_id"])
    assert data["modelId"] == TINY_MODEL and data["pipeline_tag"] == "fill-mask"
    assert ISO_MS.match(data["lastModified"]) and ISO_MS.match(data["createdAt"])
    assert data["disabled"] is False and data["gated"] is False and "xetHash" not in body.decode()
    _, _, listing = raw_get(f"{local_hub.url}/api/models?search=tiny-bert")
    (item,) = json.loads(listing)
    expected = ["_id", "id", "modelId", "author", "sha", "lastModified", "createdAt", "private", "gated"]
    expected += ["disabled", "downloads", "likes", "trendingScore", "tags", "pipeline_tag", "library_name"]
    assert set(expected) <= set(item)


def test_model_info_at_revision_and_unknown_revision(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    sha = api.model_info(TINY_MODEL).sha
    assert sha is not None
    assert api.model_info(TINY_MODEL, revision=sha).sha == sha
    assert api.model_info(TINY_MODEL, revision=sha[:8]).sha == sha
    with pytest.raises(RevisionNotFoundError):
        api.model_info(TINY_MODEL, revision="no-such-branch")
    assert api.revision_exists(TINY_MODEL, "main") and not api.revision_exists(TINY_MODEL, "v9")


def test_dataset_info(local_hub: LocalHub) -> None:
    info = HfApi(endpoint=local_hub.url).dataset_info(TINY_DATASET, files_metadata=True)
    assert info.id == TINY_DATASET and info.downloads == 300 and info.likes == 4
    assert info.card_data is not None and info.card_data.pretty_name == "Tiny Dataset"
    assert info.description is not None and info.description.startswith("Eight training")
    sizes = {s.rfilename: s.size for s in info.siblings or []}
    repo = local_hub.repo(TINY_DATASET, "dataset")
    assert repo is not None and sizes["data/train.jsonl"] == repo.files["data/train.jsonl"].size
    assert "size_categories:n<1K" in (info.tags or [])


def test_repo_not_found(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(TINY_MODEL)  # a model id is not a dataset
    assert not api.repo_exists("nobody/nothing") and api.repo_exists(TINY_DATASET, repo_type="dataset")
    status, headers, _ = raw_get(f"{local_hub.url}/api/models/nobody/nothing")
    assert status == 404 and headers["X-Error-Code"] == "RepoNotFound"


def test_private_repo_needs_a_registered_token(local_hub: LocalHub) -> None:
    anonymous = HfApi(endpoint=local_hub.url)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(PRIVATE_MODEL)
    authed = HfApi(endpoint=local_hub.url, token=HUB_TOKEN)
    assert authed.model_info(PRIVATE_MODEL).private is True
    assert PRIVATE_MODEL in {m.id for m in authed.list_models(author=HUB_ORG)}


def test_unregistered_token_is_rejected(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url, token="hf_notARegisteredToken")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.model_info(TINY_MODEL)
    assert excinfo.value.response.status_code == 401
    assert not isinstance(excinfo.value, RepositoryNotFoundError)


# -- tree, commits, paths-info, refs, whoami -----------------------------------------------------------------


def test_list_repo_tree(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    top = list(api.list_repo_tree(TINY_MODEL))
    expected = ["README.md", "config.json", "docs", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    assert [e.path for e in top] == expected
    folder = next(e for e in top if e.path == "docs")
    assert isinstance(folder, RepoFolder) and len(folder.tree_id) == 40
    weights = next(e for e in top if e.path == "model.safetensors")
    assert isinstance(weights, RepoFile) and weights.lfs is not None and weights.lfs.pointer_size > 0
    everything = [e.path for e in api.list_repo_tree(TINY_MODEL, recursive=True)]
    assert "docs/usage notes.md" in everything and "docs" in everything
    (note,) = api.list_repo_tree(TINY_MODEL, path_in_repo="docs", expand=True)
    assert isinstance(note, RepoFile) and note.path == "docs/usage notes.md"
    assert note.last_commit is not None and note.last_commit.oid == api.model_info(TINY_MODEL).sha
    assert note.security is not None and note.security.safe
    data = [e.path for e in api.list_repo_tree(TINY_DATASET, path_in_repo="data", repo_type="dataset")]
    assert data == ["data/test.jsonl", "data/train.jsonl"]
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(TINY_MODEL, path_in_repo="missing"))


def test_tree_pagination(tmp_path: Path) -> None:
    with LocalHub(page_size=2) as hub:
        hub.add_model("pager/many", files={f"f{i}.txt": b"x" for i in range(5)})
        paths = [e.path for e in HfApi(endpoint=hub.url).list_repo_tree("pager/many")]
        assert paths == [f"f{i}.txt" for i in range(5)]
        assert hub.requests.count(("GET", "/api/models/pager/many/tree/main")) == 3


def test_list_repo_commits_and_new_revisions(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    commits = api.list_repo_commits(TINY_MODEL)
    assert [c.title for c in commits] == ["Upload folder using huggingface_hub", "initial commit"]
    assert commits[0].commit_id == api.model_info(TINY_MODEL).sha and commits[0].authors == [HUB_USER]
    old_sha = commits[0].commit_id

    repo = local_hub.add_model(TINY_MODEL, files={"config.json": b"{}"}, commit_message="Replace config")
    assert repo.sha != old_sha and len(api.list_repo_commits(TINY_MODEL)) == 3
    assert [f.path for f in api.list_repo_tree(TINY_MODEL)] == ["config.json"]
    old_paths = [f.path for f in api.list_repo_tree(TINY_MODEL, revision=old_sha)]
    assert "model.safetensors" in old_paths  # older commits stay addressable by sha
    when = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    local_hub.add_model(TINY_MODEL, files={"config.json": b"{ }"}, last_modified=when)
    assert api.model_info(TINY_MODEL).last_modified == when


def test_get_paths_info_and_refs(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    infos = api.get_paths_info(TINY_DATASET, ["data", "data/train.jsonl", "missing.txt"], repo_type="dataset")
    assert [(type(i).__name__, i.path) for i in infos] == [
        ("RepoFolder", "data"),
        ("RepoFile", "data/train.jsonl"),
    ]
    (expanded,) = api.get_paths_info(TINY_MODEL, "model.safetensors", expand=True)
    assert isinstance(expanded, RepoFile) and expanded.lfs is not None and expanded.last_commit is not None
    refs = api.list_repo_refs(TINY_MODEL)
    (main,) = refs.branches
    assert main.name == "main" and main.target_commit == expanded.last_commit.oid


def test_whoami(local_hub: LocalHub) -> None:
    me = HfApi(endpoint=local_hub.url).whoami(token=HUB_TOKEN)
    assert me["type"] == "user" and me["name"] == HUB_USER
    assert [org["name"] for org in me["orgs"]] == [HUB_ORG]
    assert me["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(HfHubHTTPError) as excinfo:
        HfApi(endpoint=local_hub.url).whoami(token="hf_unknown")
    assert excinfo.value.response.status_code == 401
    status, _, body = raw_get(f"{local_hub.url}/api/whoami-v2")
    assert status == 401 and "error" in json.loads(body)


# -- downloads -----------------------------------------------------------------------------------------------


def test_hf_hub_download_writes_a_genuine_cache(local_hub: LocalHub, tmp_path: Path) -> None:
    repo = local_hub.repo(TINY_MODEL)
    assert repo is not None
    path = Path(hf_hub_download(TINY_MODEL, "config.json", endpoint=local_hub.url, cache_dir=tmp_path))
    storage = tmp_path / "models--hftui-test--tiny-bert"
    assert path == storage / "snapshots" / repo.sha / "config.json" and path.is_symlink()
    assert path.resolve() == (storage / "blobs" / repo.files["config.json"].blob_id).resolve()
    assert (storage / "refs" / "main").read_text() == repo.sha
    assert json.loads(path.read_text())["model_type"] == "bert"
    assert ("HEAD", f"/{TINY_MODEL}/resolve/main/config.json") in local_hub.requests

    weights = Path(hf_hub_download(TINY_MODEL, "model.safetensors", endpoint=local_hub.url, cache_dir=tmp_path))
    sha256 = repo.files["model.safetensors"].lfs_sha256
    assert weights.resolve() == (storage / "blobs" / str(sha256)).resolve()
    assert weights.read_bytes() == tiny_bert_safetensors()
    cdn = [r for r in local_hub.request_log if r.server == "cdn"]
    assert [r.method for r in cdn] == ["GET"] and "authorization" not in cdn[0].headers

    nested = hf_hub_download(TINY_MODEL, "usage notes.md", subfolder="docs", endpoint=local_hub.url, cache_dir=tmp_path)
    assert Path(nested).read_text() == "Load it with transformers.\n"


def test_lfs_without_redirect(tmp_path: Path) -> None:
    with LocalHub(lfs_redirect=False) as hub:
        hub.add_model("org/weights", files={"model.safetensors": tiny_bert_safetensors()})
        path = hf_hub_download("org/weights", "model.safetensors", endpoint=hub.url, cache_dir=tmp_path)
        assert Path(path).read_bytes() == tiny_bert_safetensors()
        assert all(r.server == "hub" for r in hub.request_log)


def test_snapshot_download_then_scan_cache_dir(local_hub: LocalHub, tmp_path: Path) -> None:
    repo = local_hub.repo(TINY_MODEL)
    assert repo is not None
    folder = Path(snapshot_download(TINY_MODEL, endpoint=local_hub.url, cache_dir=tmp_path))
    assert folder.name == repo.sha
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(repo.files)
    (cached,) = scan_cache_dir(tmp_path).repos
    assert cached.repo_id == TINY_MODEL and cached.repo_type == "model"
    assert cached.size_on_disk == sum(f.size for f in repo.files.values()) and cached.nb_files == len(repo.files)
    (revision,) = cached.revisions
    assert revision.commit_hash == repo.sha and revision.refs == frozenset({"main"})

    data = Path(snapshot_download(TINY_DATASET, repo_type="dataset", endpoint=local_hub.url, cache_dir=tmp_path))
    assert (data / "data" / "train.jsonl").read_text().count("\n") == 8


def test_second_download_is_a_cache_hit(local_hub: LocalHub, tmp_path: Path) -> None:
    for _ in range(2):
        hf_hub_download(TINY_MODEL, "vocab.txt", endpoint=local_hub.url, cache_dir=tmp_path)
    assert len(file_gets(local_hub, "vocab.txt")) == 1
    local_hub.requests.clear()
    snapshot_download(TINY_MODEL, endpoint=local_hub.url, cache_dir=tmp_path)
    local_hub.requests.clear()
    snapshot_download(TINY_MODEL, endpoint=local_hub.url, cache_dir=tmp_path)
    assert not any((m == "GET" and "/resolve/" in p) or "/cdn-lfs/" in p for m, p in local_hub.requests)


def test_interrupted_download_resumes_with_range(
    local_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # http_get sleeps a second before resuming; the test does not need to wait for it.
    monkeypatch.setattr(hf_file_download, "time", SimpleNamespace(sleep=lambda _seconds: None))
    # The client only counts bytes in whole chunks (10 MB by default): shrink them so a tiny file can resume.
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 16)
    local_hub.cut(r"model\.safetensors$", after_bytes=100)
    path = hf_hub_download(TINY_MODEL, "model.safetensors", endpoint=local_hub.url, cache_dir=tmp_path)
    assert Path(path).read_bytes() == tiny_bert_safetensors()
    cdn = [r for r in local_hub.request_log if r.server == "cdn"]
    assert [r.headers.get("range") for r in cdn] == [None, "bytes=96-"]


def test_range_requests(local_hub: LocalHub) -> None:
    repo = local_hub.repo(TINY_MODEL)
    assert repo is not None
    vocab = repo.files["vocab.txt"].read()
    size = len(vocab)
    url = f"{local_hub.url}/{TINY_MODEL}/resolve/main/vocab.txt"
    status, headers, body = raw_get(url, {"Range": "bytes=2-5"})
    assert status == 206 and body == vocab[2:6] and headers["Content-Range"] == f"bytes 2-5/{size}"
    status, headers, body = raw_get(url, {"Range": "bytes=-4"})
    assert status == 206 and body == vocab[-4:]
    status, headers, _ = raw_get(url, {"Range": f"bytes={size}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"
    status, headers, body = raw_get(url, method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(size)
    assert headers["X-Repo-Commit"] == repo.sha and headers["ETag"] == f'"{repo.files["vocab.txt"].blob_id}"'
    status, headers, _ = raw_get(f"{local_hub.url}/{TINY_MODEL}/resolve/{repo.sha}/docs/usage%20notes.md")
    assert status == 200 and headers["ETag"] == f'"{repo.files["docs/usage notes.md"].blob_id}"'
    # LFS files: the redirect itself carries the metadata, the CDN serves ranges too.
    status, headers, _ = raw_get(f"{local_hub.url}/{TINY_MODEL}/resolve/main/model.safetensors", method="HEAD")
    assert status == 200 and headers["Content-Length"] == str(repo.files["model.safetensors"].size)


def test_lfs_redirect_headers(local_hub: LocalHub) -> None:
    repo = local_hub.repo(TINY_MODEL)
    assert repo is not None
    weights = repo.files["model.safetensors"]
    url = f"{local_hub.url}/{TINY_MODEL}/resolve/main/model.safetensors"
    response = httpx2.head(url, follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].startswith(local_hub.cdn_url)
    assert response.headers["X-Linked-Etag"] == f'"{weights.lfs_sha256}"'
    assert response.headers["X-Linked-Size"] == str(weights.size)
    assert response.headers["X-Repo-Commit"] == repo.sha
    assert not any(name.lower().startswith("x-xet") for name in response.headers)
    ranged = httpx2.get(response.headers["Location"], headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.content == weights.read()[:8]
    forged = httpx2.get(response.headers["Location"].replace("Signature=", "Signature=0"))
    assert forged.status_code == 403


def test_download_errors(local_hub: LocalHub, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("nobody/nothing", "config.json", endpoint=local_hub.url, cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(TINY_MODEL, "missing.bin", endpoint=local_hub.url, cache_dir=tmp_path)
    # The client records the absence per commit, which needs X-Repo-Commit on the 404.
    sha = local_hub.repo(TINY_MODEL).sha  # type: ignore[union-attr]
    assert (tmp_path / "models--hftui-test--tiny-bert" / ".no_exist" / sha / "missing.bin").exists()
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(TINY_MODEL, "config.json", revision="nope", endpoint=local_hub.url, cache_dir=tmp_path)
    assert not HfApi(endpoint=local_hub.url).file_exists(TINY_MODEL, "missing.bin")


def test_gated_repo(local_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=local_hub.url)
    assert api.model_info(GATED_MODEL).gated == "manual"  # metadata stays public
    with pytest.raises(GatedRepoError) as excinfo:
        hf_hub_download(GATED_MODEL, "config.json", endpoint=local_hub.url, cache_dir=tmp_path)
    assert excinfo.value.response.status_code == 401
    path = hf_hub_download(GATED_MODEL, "config.json", endpoint=local_hub.url, cache_dir=tmp_path, token=HUB_TOKEN)
    assert json.loads(Path(path).read_text())["model_type"] == "bert"
    api.auth_check(GATED_MODEL, token=HUB_TOKEN)
    with pytest.raises(GatedRepoError):
        api.auth_check(GATED_MODEL)
    local_hub.repo(GATED_MODEL).authorized_users = {"someone-else"}  # type: ignore[union-attr]
    with pytest.raises(GatedRepoError) as excinfo:
        hf_hub_download(GATED_MODEL, "README.md", endpoint=local_hub.url, cache_dir=tmp_path, token=HUB_TOKEN)
    assert excinfo.value.response.status_code == 403


# -- faults --------------------------------------------------------------------------------------------------


def test_fail_429_with_retry_after(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    local_hub.fail(r"^/api/models/", 429, times=1, retry_after=7)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.model_info(TINY_MODEL)
    response = excinfo.value.response
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["error"] and response.headers["X-Error-Message"]
    assert api.model_info(TINY_MODEL).id == TINY_MODEL  # times=1: the next request goes through


def test_fail_until_cleared_and_error_codes(local_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=local_hub.url)
    local_hub.fail("tiny-bert", 503)
    for _ in range(2):
        with pytest.raises(HfHubHTTPError) as excinfo:
            api.model_info(TINY_MODEL)
        assert excinfo.value.response.status_code == 503
    local_hub.clear_faults()
    local_hub.fail(r"/resolve/main/config\.json$", 404, times=1)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(TINY_MODEL, "config.json", endpoint=local_hub.url, cache_dir=tmp_path)
    local_hub.fail(r"^/api/models/other-org/small-gpt$", 404, times=1)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(SMALL_GPT)


def test_delay_with_short_timeout_times_out(local_hub: LocalHub) -> None:
    local_hub.delay(r"^/api/models/", 2.0, times=1)
    with pytest.raises(httpx2.TimeoutException):
        HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, timeout=0.2)


def test_stop_refuses_connections(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    assert api.model_info(TINY_MODEL).id == TINY_MODEL  # leaves a pooled keep-alive connection behind
    local_hub.stop()
    with pytest.raises(httpx2.ConnectError):
        api.model_info(TINY_MODEL)


# -- HfFileSystem, module-level client functions -------------------------------------------------------------


def test_hf_file_system_ls_and_read(local_hub: LocalHub) -> None:
    fs = HfFileSystem(endpoint=local_hub.url, skip_instance_cache=True)
    listing = fs.ls(f"datasets/{TINY_DATASET}/data", detail=False)
    assert sorted(listing) == [
        f"datasets/{TINY_DATASET}/data/test.jsonl",
        f"datasets/{TINY_DATASET}/data/train.jsonl",
    ]
    with fs.open(f"datasets/{TINY_DATASET}/data/train.jsonl", "rb") as handle:
        first = json.loads(handle.read().splitlines()[0])
    assert first == {"text": "This is good.", "label": 0}
    assert fs.info(f"datasets/{TINY_DATASET}/data/test.jsonl")["size"] > 0
    with fs.open(f"{TINY_MODEL}/model.safetensors", "rb", block_size=64) as handle:
        handle.seek(8)
        assert handle.read(1) == b"{"  # a buffered read: ranged GETs through the CDN redirect


def test_hub_endpoint_fixture_points_the_default_client(hub_endpoint: str, local_hub: LocalHub, tmp_path: Path) -> None:
    import huggingface_hub

    assert huggingface_hub.model_info(TINY_MODEL).id == TINY_MODEL  # module-level HfApi
    assert os.environ["HF_ENDPOINT"] == hub_endpoint
    path = hf_hub_download(TINY_MODEL, "config.json", cache_dir=tmp_path)  # no endpoint argument
    assert Path(path).is_file()
    assert [d for d in HfFileSystem().ls(f"datasets/{TINY_DATASET}", detail=False) if d.endswith("README.md")]


# -- the server itself ---------------------------------------------------------------------------------------


def test_card_metadata_is_read_tolerating_broken_yaml() -> None:
    with LocalHub() as hub:
        card = hub.add_model("org/card", files={"README.md": "\ufeff---\nlicense: mit\n---\nbody".encode()}).head
        assert (card.card, card.card_body) == ({"license": "mit"}, "body")
        assert hub.add_model("org/plain", files={"README.md": b"no card here"}).head.card is None
        hub.add_model("org/broken", files={"README.md": b"---\nlicense: [oops\n---\n# x\n"})
        info = HfApi(endpoint=hub.url).model_info("org/broken")
        assert info.card_data is None and not any(t.startswith("license:") for t in info.tags or [])
        explicit = hub.add_model("org/explicit", files={"README.md": b"# none\n"}, card_data={"license": "mit"})
        assert "license:mit" in explicit.tags


def test_folder_repos_and_validation(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "big.bin").write_bytes(b"\0" * 10)
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / ".cache" / "huggingface").mkdir(parents=True)  # left there by hf_hub_download(local_dir=...)
    (tmp_path / ".cache" / "huggingface" / ".gitignore").write_text("*")
    hub = LocalHub()
    repo = hub.add_model("org/from-folder", tmp_path, files={"extra.json": b"{}"})
    assert sorted(repo.files) == ["a.txt", "extra.json", "sub/big.bin"]
    assert repo.files["sub/big.bin"].is_lfs and not repo.files["a.txt"].is_lfs
    assert repo.files["a.txt"].blob_id == "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"  # `git hash-object`
    with pytest.raises(ValueError):
        hub.add_model("too/many/slashes")
    with pytest.raises(RuntimeError):
        _ = hub.url  # not started


def test_bare_repo_names(tmp_path: Path) -> None:
    with LocalHub() as hub:
        hub.add_model("gpt2", files={"config.json": b'{"model_type": "gpt2"}'})
        hub.add_model("resolve/gpt2", files={"config.json": b"{}"})  # a namespace that looks like a keyword
        assert HfApi(endpoint=hub.url).model_info("gpt2").author is None
        path = hf_hub_download("gpt2", "config.json", endpoint=hub.url, cache_dir=tmp_path)
        assert json.loads(Path(path).read_text()) == {"model_type": "gpt2"}
        assert (tmp_path / "models--gpt2" / "refs" / "main").is_file()
        path = hf_hub_download("resolve/gpt2", "config.json", endpoint=hub.url, cache_dir=tmp_path)
        assert Path(path).read_text() == "{}"


def test_module_imports_no_heavy_dependencies() -> None:
    code = (
        "import sys, hftui.localhub; "
        "heavy = ('textual', 'transformers', 'datasets', 'torch', 'huggingface_hub'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]"


def test_command_line_entry_point(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text('{"model_type": "bert"}')
    proc = subprocess.Popen(
        [sys.executable, "-m", "hftui.localhub", "--model", f"cli/model={tmp_path / 'model'}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        status, _, body = raw_get(f"{url}/api/models/cli/model")
        assert status == 200 and json.loads(body)["id"] == "cli/model"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
