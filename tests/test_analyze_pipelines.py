"""Model choice, the checks before loading, devices and dtypes, out-of-memory detection, and the pipeline LRU."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hftui.analyze.pipelines import (
    DEFAULT_MODELS,
    DeviceUnavailable,
    ModelChoice,
    ModelRefused,
    PipelineCache,
    check_model,
    is_out_of_memory,
    pipeline_bytes,
    resolve_device,
    resolve_dtype,
    resolve_model,
)
from hftui.analyze.tasks import ANALYZER_TASKS, tag_fits, tasks_for_modality

TASK = "text-classification"


def _model_folder(
    root: Path,
    *,
    tag: str | None = "text-classification",
    config: dict[str, Any] | None = None,
    weights: tuple[str, ...] = ("model.safetensors",),
    license_: str | None = "mit",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(
        json.dumps(config or {"architectures": ["BertForSequenceClassification"], "model_type": "bert"}),
        encoding="utf-8",
    )
    meta = [f"pipeline_tag: {tag}"] if tag else []
    if license_:
        meta.append(f"license: {license_}")
    (root / "README.md").write_text("---\n" + "\n".join(meta) + "\n---\n# A model\n", encoding="utf-8")
    for name in weights:
        (root / name).write_bytes(b"weights")
    return root


# --- choosing a model ---


def test_requested_then_cached_then_default() -> None:
    cached = [("me/vit", "image-classification"), ("me/sst", "text-classification"), ("me/other", None)]
    assert resolve_model(TASK, "my/model", cached) == ModelChoice(TASK, "my/model", "requested")
    assert resolve_model(TASK, "  ", cached) == ModelChoice(TASK, "me/sst", "cached")
    assert resolve_model(TASK, None, [("me/vit", "image-classification")]) == ModelChoice(
        TASK, DEFAULT_MODELS[TASK], "default"
    )
    # BLIP checkpoints are tagged image-to-text on the Hub; transformers 5 runs them as image-text-to-text.
    assert resolve_model("image-text-to-text", None, [("Salesforce/blip", "image-to-text")]).source == "cached"
    with pytest.raises(KeyError, match="unknown analysis task"):
        resolve_model("summarization", None)


def test_task_table() -> None:
    assert set(DEFAULT_MODELS) == {task.pipeline_tag for task in ANALYZER_TASKS}
    assert tasks_for_modality("image") == ("image-classification", "image-text-to-text")
    assert tag_fits("image-text-to-text", "image-to-text")
    assert not tag_fits("text-classification", "fill-mask")
    assert not tag_fits("text-classification", None)


# --- checks before loading ---


def test_fitting_model_passes_with_its_licence(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "sst")
    check = check_model(ModelChoice(TASK, str(folder), "requested"))
    assert check.warnings == ()
    assert check.license == "mit" and check.pipeline_tag == TASK
    assert check.architectures == ("BertForSequenceClassification",) and not check.trust_remote_code
    assert check.folder == str(folder)


def test_a_model_for_another_task_is_refused(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "vit", tag="image-classification")
    with pytest.raises(ModelRefused, match=r"is an image-classification model, not text-classification"):
        check_model(ModelChoice(TASK, str(folder), "requested"))
    fill = _model_folder(tmp_path / "bert", tag="fill-mask")
    with pytest.raises(ModelRefused, match=r"is a fill-mask model, not text-classification") as refused:
        check_model(ModelChoice(TASK, str(fill), "requested"))
    assert refused.value.message == str(refused.value)


def test_remote_code_is_refused_unless_allowed(tmp_path: Path) -> None:
    config = {"architectures": ["MyModel"], "auto_map": {"AutoModelForSequenceClassification": "modeling.MyModel"}}
    folder = _model_folder(tmp_path / "custom", config=config)
    choice = ModelChoice(TASK, str(folder), "requested")
    with pytest.raises(ModelRefused, match="trust_remote_code"):
        check_model(choice)
    with pytest.raises(ModelRefused, match="trust_remote_code"):
        check_model(choice, allow_remote_code=frozenset({"someone/else"}))
    check = check_model(choice, allow_remote_code=frozenset({str(folder)}))
    assert check.trust_remote_code
    assert any("runs its repository's own Python code" in warning for warning in check.warnings)
    # A tokenizer with an auto_map imports repo code too.
    tokenizer = _model_folder(tmp_path / "tok")
    (tokenizer / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": ["t.T", None]}}))
    with pytest.raises(ModelRefused, match=r"tokenizer_config\.json"):
        check_model(ModelChoice(TASK, str(tokenizer), "requested"))


def test_pickle_only_weights_warn(tmp_path: Path) -> None:
    pickled = _model_folder(tmp_path / "old", weights=("pytorch_model.bin",))
    [warning] = check_model(ModelChoice(TASK, str(pickled), "requested")).warnings
    assert "loading pickle weights can run code" in warning
    both = _model_folder(tmp_path / "both", weights=("pytorch_model.bin", "model.safetensors"))
    assert check_model(ModelChoice(TASK, str(both), "requested")).warnings == ()


def test_missing_folders_and_unknown_hub_ids(tmp_path: Path) -> None:
    with pytest.raises(ModelRefused, match="no such folder"):
        check_model(ModelChoice(TASK, str(tmp_path / "nowhere"), "requested"))
    not_a_model = tmp_path / "plain"
    not_a_model.mkdir()
    with pytest.raises(ModelRefused, match=r"config\.json"):
        check_model(ModelChoice(TASK, str(not_a_model), "requested"))
    # A Hub id not downloaded yet cannot be checked before loading; transformers checks it then.
    assert check_model(ModelChoice(TASK, "hftui-test/not-downloaded", "default")).folder is None


def test_a_cached_hub_model_is_read_from_its_snapshot() -> None:
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / "models--hftui-test--cached-vit"
    snapshot = repo / "snapshots" / ("a" * 40)
    _model_folder(snapshot, tag="image-classification", license_="apache-2.0")
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text("a" * 40)
    with pytest.raises(ModelRefused, match="image-classification model"):
        check_model(ModelChoice(TASK, "hftui-test/cached-vit", "cached"))
    check = check_model(ModelChoice("image-classification", "hftui-test/cached-vit", "cached"))
    assert check.license == "apache-2.0" and check.folder == str(snapshot)


@pytest.mark.slow
def test_without_a_tag_the_architecture_decides(tmp_path: Path) -> None:
    config = {"architectures": ["BertForMaskedLM"], "model_type": "bert"}
    masked = _model_folder(tmp_path / "mlm", tag=None, config=config)
    with pytest.raises(ModelRefused, match="BertForMaskedLM model, which does not do text-classification"):
        check_model(ModelChoice(TASK, str(masked), "requested"))
    fits = _model_folder(tmp_path / "cls", tag=None)
    assert check_model(ModelChoice(TASK, str(fits), "requested")).pipeline_tag is None
    whisper = _model_folder(
        tmp_path / "whisper", tag=None, config={"architectures": ["WhisperForConditionalGeneration"]}
    )
    assert check_model(ModelChoice("automatic-speech-recognition", str(whisper), "requested")).warnings == ()


# --- devices, dtypes, out of memory ---


def test_devices_and_dtypes() -> None:
    import torch

    assert resolve_device("cpu") == "cpu"
    best = resolve_device(None)
    assert best == resolve_device("auto") and (best in ("cpu", "mps") or best.startswith("cuda:"))
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailable, match="no CUDA GPU"):
            resolve_device("cuda")
    assert resolve_dtype(None, "cpu") is torch.float32
    assert resolve_dtype("bf16", "cpu") is torch.bfloat16
    assert resolve_dtype("fp32", "cpu") is torch.float32
    with pytest.raises(DeviceUnavailable, match="fp16 is not supported"):
        resolve_dtype("fp16", "cpu")
    with pytest.raises(DeviceUnavailable, match="unknown dtype"):
        resolve_dtype("int3", "cpu")


def test_out_of_memory_is_recognised() -> None:
    import torch

    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))  # only runtime errors speak for the device


# --- the LRU of loaded pipelines ---


class _Tensor:
    def __init__(self, count: int) -> None:
        self.count = count

    def numel(self) -> int:
        return self.count

    def element_size(self) -> int:
        return 4


class _Model:
    def __init__(self, count: int) -> None:
        self.tensors = [_Tensor(count)]

    def parameters(self) -> list[_Tensor]:
        return self.tensors

    def buffers(self) -> list[_Tensor]:
        return []


class _FakePipe:
    def __init__(self, name: str, params: int) -> None:
        self.name = name
        self.model = _Model(params)


class _Loader:
    def __init__(self, sizes: dict[str, int] | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, str, str, Any, bool]] = []
        self.sizes = sizes or {}
        self.delay = delay

    def __call__(self, task: str, model: str, device: str, dtype: Any, trust: bool) -> _FakePipe:
        self.calls.append((task, model, device, dtype, trust))
        time.sleep(self.delay)
        return _FakePipe(model, self.sizes.get(model, 10))


def _choice(model: str) -> ModelChoice:
    return ModelChoice(TASK, model, "requested")


def test_cache_loads_once_reuses_and_evicts_least_recently_used() -> None:
    loader = _Loader()
    cache = PipelineCache(max_models=2, loader=loader)
    phases: list[str] = []
    a = cache.get(_choice("a"), "cpu", on_phase=phases.append)
    assert phases == ["loading", "ready"]
    assert cache.get(_choice("a"), "cpu", on_phase=phases.append) is a
    assert phases == ["loading", "ready", "cached"] and len(loader.calls) == 1
    cache.get(_choice("b"), "cpu")
    cache.get(_choice("a"), "cpu")  # a is now the most recently used
    cache.get(_choice("c"), "cpu")  # so b goes
    assert [key[1] for key in cache.loaded()] == ["a", "c"]
    assert (TASK, "b", "cpu", "auto") not in cache
    cache.get(_choice("b"), "cpu")
    assert [call[1] for call in loader.calls] == ["a", "b", "c", "b"]
    # Device and dtype are part of the key; trust_remote_code reaches the loader.
    cache.get(_choice("b"), "cpu", "bfloat16-stand-in", trust_remote_code=True)
    assert loader.calls[-1][3:] == ("bfloat16-stand-in", True)
    cache.clear()
    assert cache.loaded() == ()


def test_cache_byte_cap_counts_weights() -> None:
    loader = _Loader({"small": 100, "big": 1000, "huge": 10_000})
    cache = PipelineCache(max_models=5, max_bytes=4500, loader=loader)
    cache.get(_choice("small"), "cpu")
    cache.get(_choice("big"), "cpu")
    assert cache.loaded_bytes() == 4400
    cache.get(_choice("small"), "cuda:0")
    # 4800 bytes > 4500: the least recently used (small on cpu) goes.
    assert [key[1:3] for key in cache.loaded()] == [("big", "cpu"), ("small", "cuda:0")]
    cache.get(_choice("huge"), "cpu")  # bigger than the cap alone: kept, everything else evicted
    assert [key[1] for key in cache.loaded()] == ["huge"]
    assert pipeline_bytes(object()) == 0


def test_cache_is_thread_safe_and_a_failed_load_changes_nothing() -> None:
    loader = _Loader(delay=0.05)
    cache = PipelineCache(loader=loader)
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(_choice("a"), "cpu"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loader.calls) == 1 and len({id(pipe) for pipe in got}) == 1

    def broken(*args: Any) -> Any:
        raise OSError("no such model")

    failing = PipelineCache(loader=broken)
    with pytest.raises(OSError, match="no such model"):
        failing.get(_choice("x"), "cpu")
    assert failing.loaded() == ()
    with pytest.raises(ValueError, match="max_models"):
        PipelineCache(max_models=0)
