"""Download plans, progress, cancel and resume, with the real huggingface_hub client against a LocalHub."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, scan_cache_dir
from huggingface_hub import constants as hf_constants
from huggingface_hub import file_download as hf_file_download

from hftui.hub import download as download_module
from hftui.hub.download import (
    DownloadCancelled,
    DownloadPlan,
    DownloadProgress,
    default_patterns,
    plan_download,
    run_download,
)
from hftui.hub.errors import explain_hub_error
from hftui.hub.snippets import snippets
from hftui.localhub import LocalHub

REPO = "weights-org/two-formats"
SAFETENSORS_SIZE = 2_000_000
BIN_SIZE = 600_000
CHUNK = 64 * 1024


def _files() -> dict[str, bytes]:
    rng = os.urandom
    return {
        "README.md": b"---\nlicense: mit\npipeline_tag: text-generation\n---\n# two formats\n",
        "config.json": json.dumps({"model_type": "gpt2", "n_embd": 8, "n_layer": 2}).encode(),
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"vocab": {"a": 0}}}).encode(),
        "model.safetensors": rng(SAFETENSORS_SIZE),  # random bytes: big enough for many chunks
        "pytorch_model.bin": rng(BIN_SIZE),
    }


@pytest.fixture
def weights_hub() -> Iterator[LocalHub]:
    """A LocalHub holding one repo with both safetensors and pickle weights of a few hundred KB to 2 MB."""
    hub = LocalHub()
    hub.add_model(REPO, files=_files())
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client reads 10 MB chunks; small ones make several progress updates out of a 2 MB file."""
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)


def _never() -> bool:
    return False


def _gets(hub: LocalHub, filename: str) -> list[Any]:
    return [r for r in hub.request_log if r.method == "GET" and r.path.endswith("/" + filename)]


# -- planning ------------------------------------------------------------------------------------------------


def test_plan_totals_match_file_sizes(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_download(HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path)
    sizes = {path: len(content) for path, content in _files().items()}
    assert dict(plan.files) == sizes
    assert [path for path, _ in plan.files] == sorted(sizes)
    assert plan.total_bytes == sum(sizes.values())
    assert plan.already_cached_bytes == 0 and plan.bytes_to_download == plan.total_bytes
    assert plan.commit_hash == weights_hub.repo(REPO).sha  # type: ignore[union-attr]
    assert plan.skipped == ()


def test_safetensors_only_plan_skips_bin(weights_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=weights_hub.url)
    plan = plan_download(api, REPO, cache_dir=tmp_path, prefer_safetensors=True)
    paths = [path for path, _ in plan.files]
    assert "pytorch_model.bin" not in paths and plan.skipped == ("pytorch_model.bin",)
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= set(paths)
    assert plan.ignore_patterns == ("*.bin",) and plan.allow_patterns is None
    assert plan.total_bytes == sum(len(c) for p, c in _files().items() if p != "pytorch_model.bin")
    # default_patterns reads ModelInfo.siblings directly.
    siblings = api.model_info(REPO).siblings
    assert default_patterns(siblings) == (None, ("*.bin",))


def test_default_patterns_skip_nothing_without_safetensors() -> None:
    assert default_patterns(["pytorch_model.bin", "config.json"]) == (None, None)
    allow, ignore = default_patterns(["model.safetensors", "tf_model.h5", "flax_model.msgpack", "x.gguf"])
    assert allow is None and ignore == ("*.h5", "*.msgpack", "*.gguf")


def test_explicit_patterns_are_honoured(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_download(HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path, allow_patterns=["*.json", "*.md"])
    assert [path for path, _ in plan.files] == ["README.md", "config.json", "tokenizer.json"]
    assert plan.allow_patterns == ("*.json", "*.md")


# -- downloading ---------------------------------------------------------------------------------------------


def test_run_download_reports_progress_and_writes_a_genuine_cache(weights_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=weights_hub.url)
    plan = plan_download(api, REPO, cache_dir=tmp_path, prefer_safetensors=True)
    events: list[DownloadProgress] = []

    snapshot = run_download(
        plan,
        endpoint=weights_hub.url,
        cache_dir=tmp_path,
        on_progress=events.append,
        is_cancelled=_never,
        min_interval=0,
    )

    done = [event.bytes_done for event in events]
    assert done == sorted(done), "progress never steps back"
    assert len({event.bytes_done for event in events if event.current_file == "model.safetensors"}) > 10
    final = events[-1]
    assert final.bytes_done == final.total_bytes == plan.total_bytes
    assert final.files_done == final.files_total == len(plan.files)
    assert final.current_file is None and final.eta_seconds == 0.0
    assert any(event.bytes_per_second for event in events)

    assert snapshot == tmp_path / f"models--{REPO.replace('/', '--')}" / "snapshots" / plan.commit_hash
    assert (snapshot / "model.safetensors").read_bytes() == weights_hub.repo(REPO).files[  # type: ignore[union-attr]
        "model.safetensors"
    ].read()
    assert not (snapshot / "pytorch_model.bin").exists()
    cache = scan_cache_dir(tmp_path)
    (repo,) = cache.repos
    assert repo.repo_id == REPO and repo.size_on_disk == plan.total_bytes
    (revision,) = repo.revisions
    assert revision.refs == frozenset({"main"}) and revision.commit_hash == plan.commit_hash
    assert not cache.warnings

    again = plan_download(api, REPO, cache_dir=tmp_path, prefer_safetensors=True)
    assert again.already_cached_bytes == again.total_bytes and again.bytes_to_download == 0


def test_progress_is_throttled_with_a_final_report(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_download(HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path)
    events: list[DownloadProgress] = []
    run_download(
        plan,
        endpoint=weights_hub.url,
        cache_dir=tmp_path,
        on_progress=events.append,
        is_cancelled=_never,
        min_interval=60,
    )
    assert len(events) == 2  # the first report, then nothing until the final one
    assert events[-1].bytes_done == plan.total_bytes and events[-1].files_done == len(plan.files)


def test_cancel_midway_keeps_finished_files_and_a_second_run_completes(weights_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=weights_hub.url)
    plan = plan_download(api, REPO, cache_dir=tmp_path, prefer_safetensors=True)
    seen: list[DownloadProgress] = []

    def cancel_halfway() -> bool:
        # Cancel once half of model.safetensors (sorted after README.md and config.json) has arrived.
        return bool(seen) and seen[-1].current_file == "model.safetensors" and seen[-1].bytes_done > 1_000_000

    with pytest.raises(DownloadCancelled) as caught:
        run_download(
            plan,
            endpoint=weights_hub.url,
            cache_dir=tmp_path,
            on_progress=seen.append,
            is_cancelled=cancel_halfway,
            min_interval=0,
        )
    assert explain_hub_error(caught.value).kind == "cancelled"
    assert seen[-1].bytes_done < plan.total_bytes
    safetensors_gets = _gets(weights_hub, "model.safetensors")
    assert len(safetensors_gets) == 1

    storage = tmp_path / f"models--{REPO.replace('/', '--')}"
    # huggingface_hub 2.x deletes its process-unique .incomplete file on failure: what carries over to the
    # next run is every finished file, never a half-written blob.
    assert not list((storage / "blobs").glob("*.incomplete"))
    finished = plan_download(api, REPO, cache_dir=tmp_path, prefer_safetensors=True)
    assert finished.already_cached_bytes == len(_files()["README.md"]) + len(_files()["config.json"])

    events: list[DownloadProgress] = []
    snapshot = run_download(
        finished,
        endpoint=weights_hub.url,
        cache_dir=tmp_path,
        on_progress=events.append,
        is_cancelled=_never,
        min_interval=0,
    )
    assert (snapshot / "model.safetensors").stat().st_size == SAFETENSORS_SIZE
    assert events[-1].bytes_done == plan.total_bytes
    # The finished files were not fetched again.
    assert len(_gets(weights_hub, "README.md")) == 1 and len(_gets(weights_hub, "config.json")) == 1
    assert len(_gets(weights_hub, "model.safetensors")) == 2


def test_dropped_connection_resumes_with_a_range_request(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = plan_download(
        HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path, allow_patterns=["model.safetensors"]
    )
    weights_hub.cut(r"model\.safetensors", after_bytes=700_000)  # once, mid-body
    events: list[DownloadProgress] = []
    snapshot = run_download(
        plan,
        endpoint=weights_hub.url,
        cache_dir=tmp_path,
        on_progress=events.append,
        is_cancelled=_never,
        min_interval=0,
    )
    gets = _gets(weights_hub, "model.safetensors")
    cdn_gets = [r for r in gets if r.server == "cdn"]
    assert len(cdn_gets) == 2
    assert "range" not in cdn_gets[0].headers
    assert cdn_gets[1].headers["range"].startswith("bytes=") and cdn_gets[1].headers["range"] != "bytes=0-"
    expected = weights_hub.repo(REPO).files["model.safetensors"].read()  # type: ignore[union-attr]
    assert (snapshot / "model.safetensors").read_bytes() == expected
    done = [event.bytes_done for event in events]
    assert done == sorted(done) and done[-1] == SAFETENSORS_SIZE


def test_disk_full_while_writing_maps_to_disk_full(
    weights_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_http_get = hf_file_download.http_get

    class FullDisk:
        """A file that accepts 100 KB, then fails as a full disk does."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.written = 0

        def write(self, data: bytes) -> int:
            if self.written + len(data) > 100_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.written += len(data)
            return self.inner.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def http_get_on_full_disk(url: str, temp_file: Any, **kwargs: Any) -> None:
        real_http_get(url, FullDisk(temp_file), **kwargs)

    monkeypatch.setattr(hf_file_download, "http_get", http_get_on_full_disk)
    plan = plan_download(
        HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path, allow_patterns=["model.safetensors"]
    )
    with pytest.raises(OSError) as caught:
        run_download(
            plan,
            endpoint=weights_hub.url,
            cache_dir=tmp_path,
            on_progress=lambda _: None,
            is_cancelled=_never,
        )
    problem = explain_hub_error(caught.value, repo_id=REPO)
    assert problem.kind == "disk_full"
    assert "space" in problem.message


def test_not_enough_free_space_refuses_to_start(
    weights_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_download(HfApi(endpoint=weights_hub.url), REPO, cache_dir=tmp_path)
    requests_before = len(weights_hub.requests)

    class Usage:
        total, used, free = 10**9, 10**9 - 1000, 1000

    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda path: Usage())
    with pytest.raises(OSError) as caught:
        run_download(
            plan,
            endpoint=weights_hub.url,
            cache_dir=tmp_path,
            on_progress=lambda _: None,
            is_cancelled=_never,
        )
    assert caught.value.errno == errno.ENOSPC
    assert explain_hub_error(caught.value).kind == "disk_full"
    assert len(weights_hub.requests) == requests_before  # refused before any request


def test_cancelled_before_start_makes_no_request(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = DownloadPlan(REPO, "model", None, (("config.json", 10),), 10, None, None, 0)
    requests_before = len(weights_hub.requests)
    with pytest.raises(DownloadCancelled):
        run_download(
            plan,
            endpoint=weights_hub.url,
            cache_dir=tmp_path,
            on_progress=lambda _: None,
            is_cancelled=lambda: True,
        )
    assert len(weights_hub.requests) == requests_before


def test_download_errors_are_the_clients_and_explainable(weights_hub: LocalHub, tmp_path: Path) -> None:
    plan = DownloadPlan(REPO, "model", None, (("not-there.txt", 10),), 10, None, None, 0)
    with pytest.raises(Exception) as caught:
        run_download(
            plan,
            endpoint=weights_hub.url,
            cache_dir=tmp_path,
            on_progress=lambda _: None,
            is_cancelled=_never,
        )
    assert explain_hub_error(caught.value, repo_id=REPO).kind == "file_not_found"


# -- snippets ------------------------------------------------------------------------------------------------


def test_snippets_for_a_text_generation_model() -> None:
    out = snippets(
        "org/gpt-ish", pipeline_tag="text-generation", library_name="transformers", allow_patterns=["*.json"]
    )
    assert out["cli"] == "hf download 'org/gpt-ish' --include '*.json'"
    assert "snapshot_download(repo_id='org/gpt-ish', allow_patterns=['*.json'])" in out["python"]
    assert "pipeline('text-generation', model='org/gpt-ish')" in out["pipeline"]
    assert "AutoModelForCausalLM.from_pretrained('org/gpt-ish')" in out["auto_model"]
    assert "AutoTokenizer" in out["auto_model"]
    assert "sentence_transformers" not in out


def test_snippets_quote_untrusted_ids() -> None:
    nasty = "org/x'); import os; os.system('rm -rf ~'); ('"
    out = snippets(nasty, pipeline_tag="fill-mask", library_name=None, ignore_patterns=["*.bin"])
    for key in ("python", "pipeline", "auto_model"):
        assert repr(nasty) in out[key]
        compile(out[key], key, "exec")  # the id stays one string literal
    assert out["cli"].startswith("hf download 'org/x'\"'\"'); import os;")
    assert out["cli"].endswith("--exclude '*.bin'")


def test_snippets_follow_the_library() -> None:
    st = snippets("org/minilm", pipeline_tag="sentence-similarity", library_name="sentence-transformers")
    assert "SentenceTransformer('org/minilm')" in st["sentence_transformers"]
    assert "pipeline" not in st and "auto_model" not in st
    diffusers = snippets("org/sd", pipeline_tag="text-to-image", library_name="diffusers")
    assert set(diffusers) == {"cli", "python"}
    vision = snippets("org/vit", pipeline_tag="image-classification", library_name="transformers")
    assert "AutoModelForImageClassification" in vision["auto_model"] and "AutoProcessor" in vision["auto_model"]
    # summarization has no transformers 5 pipeline, but the Auto class still loads it.
    t5 = snippets("org/t5", pipeline_tag="summarization", library_name="transformers")
    assert "pipeline" not in t5 and "AutoModelForSeq2SeqLM" in t5["auto_model"]
    untagged = snippets("org/thing", pipeline_tag=None, library_name="transformers")
    assert "AutoModel.from_pretrained('org/thing')" in untagged["auto_model"]
    dataset = snippets("org/data", pipeline_tag=None, library_name=None, repo_type="dataset")
    assert dataset["cli"] == "hf download 'org/data' --repo-type 'dataset'"
    assert "repo_type='dataset'" in dataset["python"] and set(dataset) == {"cli", "python"}
