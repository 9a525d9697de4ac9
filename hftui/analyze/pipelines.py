"""Models for the analysis tasks: which model runs a task, whether it is safe to load, and a cache of loaded ones.

`resolve_model` picks the model (the user's, else a cached one whose pipeline tag fits, else a Hub default),
`check_model` reads its config and card from a local folder or the HF cache (no network) and refuses what
does not fit or would run the repo's code, and `PipelineCache` keeps the loaded `transformers.pipeline`s
so a second job starts at once. torch and transformers are imported inside functions only.
"""

from __future__ import annotations

import gc
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.analyze.tasks import analyzer_task, tag_fits
from hftui.libraries import import_serially

if TYPE_CHECKING:
    import torch

DEFAULT_MODELS: dict[str, str] = {
    "text-classification": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "image-classification": "google/vit-base-patch16-224",
    "image-text-to-text": "Salesforce/blip-image-captioning-base",
    "automatic-speech-recognition": "openai/whisper-tiny",
}

MODEL_SOURCES = ("requested", "cached", "default")
LOAD_PHASES = ("checking", "loading", "ready", "cached")

# The transformers auto-model tables whose architectures each task's pipeline loads; a config naming none of
# them would get a randomly initialised head (or fail), so such a model is refused before loading.
ANALYZER_TASK_TABLES: dict[str, tuple[str, ...]] = {
    "text-classification": ("MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",),
    "image-classification": ("MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES",),
    "image-text-to-text": ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES"),
    "automatic-speech-recognition": ("MODEL_FOR_CTC_MAPPING_NAMES", "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES"),
}
# Files whose `auto_map` makes transformers import Python code shipped in the repo.
_CODE_CONFIGS = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class ModelRefused(Exception):
    """A model hftui will not load for a task; the message says why in a sentence for the user.

    `needs_remote_code` is True when the only objection is that the model runs its repository's code
    (trust_remote_code): allowing that model would let it load.
    """

    def __init__(self, message: str, *, needs_remote_code: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.needs_remote_code = needs_remote_code


class DeviceUnavailable(ValueError):
    """A device or dtype the user asked for that this machine (or torch build) cannot provide."""


@dataclass(frozen=True)
class ModelChoice:
    """The model that runs a task and why it was chosen: "requested", "cached" or "default"."""

    task: str
    model: str
    source: str


@dataclass(frozen=True)
class ModelCheck:
    """What was read about a model before loading it: warnings to show, its licence and pipeline tag.

    `folder` is the local folder or HF cache snapshot that was read (None when the model is not on disk yet);
    `trust_remote_code` is True only for a model that needs it and that the user allowed.
    """

    warnings: tuple[str, ...] = ()
    license: str | None = None
    pipeline_tag: str | None = None
    architectures: tuple[str, ...] = ()
    trust_remote_code: bool = False
    folder: str | None = None


def resolve_model(
    task: str, requested: str | None = None, cached: Iterable[tuple[str, str | None]] = ()
) -> ModelChoice:
    """The model for `task`: the one requested (Hub id or local path), else the first cached model whose
    pipeline tag fits, else `DEFAULT_MODELS[task]`."""
    analyzer_task(task)  # unknown tasks fail here, with the known ones named
    if requested and requested.strip():
        return ModelChoice(task, requested.strip(), "requested")
    for repo_id, pipeline_tag in cached:
        if tag_fits(task, pipeline_tag):
            return ModelChoice(task, repo_id, "cached")
    return ModelChoice(task, DEFAULT_MODELS[task], "default")


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~", "\\")) or model.count("/") > 1 or os.path.isabs(model)


def model_folder(model: str) -> Path | None:
    """The folder holding `model`'s files: the local folder it names, else its HF cache snapshot, else None."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if _looks_like_path(model):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json")
    except Exception:  # an invalid repo id: the load will say so in transformers' words
        return None
    return Path(found).parent if isinstance(found, str) else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def architecture_tasks(
    architectures: Iterable[str], task_tables: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[set[str], str | None]:
    """The tasks whose auto-model tables (`task_tables`: task -> names of `transformers.models.auto.modeling_auto`
    tables; the analysis tasks' by default) hold one of `architectures`, and the first architecture found."""
    import_serially("transformers")
    from transformers.models.auto import modeling_auto

    fits: set[str] = set()
    first = None
    architectures = tuple(architectures)
    for task, tables in (task_tables if task_tables is not None else ANALYZER_TASK_TABLES).items():
        for table in tables:
            names = getattr(modeling_auto, table, None) or {}
            classes: set[str] = set()
            for value in names.values():
                classes.update(value if isinstance(value, (tuple, list)) else (value,))
            for architecture in architectures:
                if architecture in classes:
                    fits.add(task)
                    first = first or architecture
    return fits, first


def check_model(choice: ModelChoice, *, allow_remote_code: frozenset[str] = frozenset()) -> ModelCheck:
    """Read `choice`'s config and card from disk and refuse what the task's pipeline should not load.

    Raises `ModelRefused` for a pipeline tag or architecture that does not fit the task, or a repo that needs
    `trust_remote_code` unless the model is in `allow_remote_code`. Pickle-only weights give a warning. A Hub
    model not downloaded yet cannot be checked before loading; transformers then does its own checks.
    """
    from hftui.hub.cards.text import read_card

    model = choice.model
    task = analyzer_task(choice.task)
    folder = model_folder(model)
    if folder is None:
        if _looks_like_path(model) or Path(model).expanduser().exists():
            raise ModelRefused(f"{model} is not a model folder (no such folder)")
        return ModelCheck()
    config = _read_json(folder / "config.json")
    if config is None and Path(model).expanduser().is_dir():
        raise ModelRefused(f"{model} has no readable config.json, so it is not a transformers model folder")
    config = config or {}
    card = read_card(folder / "README.md") if (folder / "README.md").is_file() else None
    pipeline_tag = card.get_text("pipeline_tag") if card else None
    license_ = (card.get_text("license_name") if card and card.get_text("license") == "other" else None) or (
        card.get_text("license") if card else None
    )
    architectures = tuple(a for a in config.get("architectures") or () if isinstance(a, str))
    if pipeline_tag and not tag_fits(task.pipeline_tag, pipeline_tag):
        raise ModelRefused(f"{model} is {_article(pipeline_tag)} {pipeline_tag} model, not {task.pipeline_tag}")

    warnings, trust = code_and_weights_check(model, folder, allow_remote_code=allow_remote_code)
    if not trust and not pipeline_tag and architectures:
        fits, _ = architecture_tasks(architectures)
        if task.pipeline_tag not in fits:
            what = ", ".join(architectures)
            raise ModelRefused(f"{model} is {_article(what)} {what} model, which does not do {task.pipeline_tag}")
    return ModelCheck(warnings, license_, pipeline_tag, architectures, trust, str(folder))


def code_and_weights_check(
    model: str, folder: Path, *, allow_remote_code: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], bool]:
    """(warnings, trust_remote_code) for the model files in `folder`: ModelRefused (needs_remote_code) when a
    config's `auto_map` would run the repo's Python code and `model` is not allowed to; a warning for
    pickle-only weights, which can run code too."""
    warnings: list[str] = []
    needs_code = [name for name in _CODE_CONFIGS if (_read_json(folder / name) or {}).get("auto_map")]
    trust = False
    if needs_code:
        if model not in allow_remote_code:
            raise ModelRefused(
                f"{model} needs trust_remote_code ({needs_code[0]} has an auto_map): loading it would run Python "
                "code from the repository. Allow it for this model only if you trust its author.",
                needs_remote_code=True,
            )
        trust = True
        warnings.append(f"{model} runs its repository's own Python code (trust_remote_code), as you allowed.")
    weights = _weight_files(folder)
    if weights and not any(name.endswith(".safetensors") for name in weights):
        if any(name.endswith(_PICKLE_SUFFIXES) for name in weights):
            warnings.append(
                f"{model} has only pickle weights (.bin/.pt/.ckpt, no .safetensors): loading pickle weights can "
                "run code. Load it only if you trust its author."
            )
    return tuple(warnings), trust


def weight_bytes(folder: Path) -> int:
    """The bytes of the weight files in `folder` (what loading them needs in memory at their saved precision)."""
    total = 0
    for name in _weight_files(folder):
        try:
            total += (folder / name).stat().st_size  # follows the HF cache's symlinks to the blobs
        except OSError:
            continue
    return total


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _weight_files(folder: Path) -> list[str]:
    try:
        names = [entry.name for entry in os.scandir(folder) if not entry.name.startswith(".")]
    except OSError:
        return []
    return [name for name in names if name.endswith((".safetensors", *_PICKLE_SUFFIXES))]


# --- devices and dtypes -------------------------------------------------------------------------------

_DTYPE_NAMES = {
    "fp32": "float32",
    "float32": "float32",
    "float": "float32",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
}


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(requested: str | None = None) -> str:
    """The torch device to run on: "cuda:N", "mps" or "cpu"; None or "auto" picks the best one here.

    Raises `DeviceUnavailable` for a device this torch build cannot use.
    """
    import torch

    wanted = (requested or "auto").strip().lower()
    if wanted == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        return "mps" if _mps_available() else "cpu"
    if wanted == "cpu":
        return "cpu"
    if wanted in ("cuda", "gpu") or wanted.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"CUDA was asked for, but torch {torch.__version__} sees no CUDA GPU here")
        index_text = wanted.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise DeviceUnavailable(f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps")
        index, count = int(index_text), torch.cuda.device_count()
        if index >= count:
            raise DeviceUnavailable(f"there is no {wanted}: torch sees {count} CUDA GPU(s)")
        return f"cuda:{index}"
    if wanted == "mps":
        if not _mps_available():
            raise DeviceUnavailable("Apple MPS was asked for, but torch cannot use it here")
        return "mps"
    raise DeviceUnavailable(f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(requested: str | None, device: str) -> torch.dtype | None:
    """The weights' dtype on `device`: float32 on the CPU, bf16 (else fp16) on CUDA, fp16 on MPS by default.

    An explicit fp16/bf16 is refused (`DeviceUnavailable`) where the device does not support it; "auto" in
    the sense of "as the checkpoint was saved" is not offered, so results do not depend on how a repo was saved.
    """
    import torch

    wanted = (requested or "auto").strip().lower()
    kind = device.split(":", 1)[0]
    if wanted == "auto":
        if kind == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if kind == "mps" else torch.float32
    name = _DTYPE_NAMES.get(wanted)
    if name is None:
        raise DeviceUnavailable(f"unknown dtype {requested!r}: use auto, fp32, fp16 or bf16")
    if name == "float16" and kind == "cpu":
        raise DeviceUnavailable("fp16 is not supported for inference on the CPU; use fp32 or bf16")
    if name == "bfloat16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise DeviceUnavailable(f"this GPU ({device}) does not support bf16; use fp16 or fp32")
    if name == "bfloat16" and kind == "mps":
        raise DeviceUnavailable("bf16 is not supported on Apple MPS here; use fp16 or fp32")
    dtype: torch.dtype = getattr(torch, name)
    return dtype


def dtype_name(dtype: Any) -> str:
    """A dtype's short name ("float32"), or "auto" for None."""
    return "auto" if dtype is None else str(dtype).removeprefix("torch.")


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` says the device (or the machine) ran out of memory."""
    if isinstance(error, MemoryError):
        return True
    import sys

    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch else None
    if oom_type is not None and isinstance(error, oom_type):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


# --- loading and the cache ----------------------------------------------------------------------------

PipelineKey = tuple[str, str, str, str]  # (task, model, device, dtype name)
PipelineLoader = Callable[[str, str, str, Any, bool], Any]

_QUIET_LOCK = threading.Lock()


def load_pipeline(task: str, model: str, device: str, dtype: Any = None, trust_remote_code: bool = False) -> Any:
    """Load `transformers.pipeline(task, model)` on `device` in `dtype`, without transformers' progress bars.

    The bars would write over a terminal UI; the caller reports load phases itself.
    """
    import_serially("transformers")
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    def silent(factory: Any, args: Any, kwargs: Any) -> Any:
        return factory(*args, **{**kwargs, "disable": True})

    with _QUIET_LOCK:  # the hook is process-wide: loads in two threads must not restore each other's
        previous = hf_logging.set_tqdm_hook(silent)
        try:
            return pipeline(
                task,
                model=model,
                device=device,
                dtype=dtype if dtype is not None else "auto",
                trust_remote_code=trust_remote_code,
            )
        finally:
            hf_logging.set_tqdm_hook(previous)


def pipeline_bytes(pipe: Any) -> int:
    """The memory a loaded pipeline's weights take: parameters and buffers times their element size."""
    model = getattr(pipe, "model", None)
    total = 0
    for tensors in (getattr(model, "parameters", None), getattr(model, "buffers", None)):
        if callable(tensors):
            try:
                total += sum(t.numel() * t.element_size() for t in tensors())
            except Exception:  # a stand-in model without tensors
                return total
    return total


@dataclass
class _Entry:
    pipeline: Any
    bytes: int


class PipelineCache:
    """Loaded pipelines, least recently used evicted first, capped by count and by weight bytes.

    Keyed by (task, model, device, dtype). Thread-safe: one lock guards the table and loads, so two jobs
    asking for the same model load it once. `loader` replaces `load_pipeline` (tests inject fakes).
    """

    def __init__(
        self, max_models: int = 3, max_bytes: int | None = None, *, loader: PipelineLoader | None = None
    ) -> None:
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.max_models = max_models
        self.max_bytes = max_bytes
        self._loader: PipelineLoader = loader or load_pipeline
        self._entries: OrderedDict[PipelineKey, _Entry] = OrderedDict()
        self._lock = threading.RLock()

    @staticmethod
    def key(choice: ModelChoice, device: str, dtype: Any = None) -> PipelineKey:
        """The cache key for `choice` on `device` in `dtype`."""
        return (choice.task, choice.model, device, dtype_name(dtype))

    def get(
        self,
        choice: ModelChoice,
        device: str,
        dtype: Any = None,
        *,
        on_phase: Callable[[str], None] | None = None,
        trust_remote_code: bool = False,
    ) -> Any:
        """The pipeline for `choice`, loading it if needed; `on_phase` hears "loading" then "ready", or "cached".

        Load errors propagate (the engine explains them); a failed load leaves the cache as it was.
        """
        key = self.key(choice, device, dtype)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if on_phase:
                    on_phase("cached")
                return entry.pipeline
            # Make room first: on a GPU the old model's memory is what the new one needs.
            self._evict(self.max_models - 1, self.max_bytes, keep=None)
            if on_phase:
                on_phase("loading")
            pipe = self._loader(choice.task, choice.model, device, dtype, trust_remote_code)
            self._entries[key] = _Entry(pipe, pipeline_bytes(pipe))
            self._evict(self.max_models, self.max_bytes, keep=key)
        if on_phase:
            on_phase("ready")
        return pipe

    def _evict(self, max_models: int, max_bytes: int | None, keep: PipelineKey | None) -> None:
        evicted = False
        while self._entries:
            over_count = len(self._entries) > max_models
            over_bytes = max_bytes is not None and sum(e.bytes for e in self._entries.values()) > max_bytes
            if not (over_count or over_bytes):
                break
            oldest = next(iter(self._entries))
            if oldest == keep:
                if len(self._entries) == 1:
                    break  # a model bigger than the cap still runs; it is simply kept alone
                self._entries.move_to_end(oldest)
                continue
            del self._entries[oldest]
            evicted = True
        if evicted:
            _release_memory()

    def loaded(self) -> tuple[PipelineKey, ...]:
        """The keys of the loaded pipelines, least recently used first."""
        with self._lock:
            return tuple(self._entries)

    def loaded_bytes(self) -> int:
        """The weight bytes of every loaded pipeline together."""
        with self._lock:
            return sum(entry.bytes for entry in self._entries.values())

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def drop(self, key: PipelineKey) -> bool:
        """Forget one loaded pipeline (and give the GPU memory back); False when it was not loaded."""
        with self._lock:
            if self._entries.pop(key, None) is None:
                return False
            _release_memory()
            return True

    def clear(self) -> None:
        """Drop every loaded pipeline (and give the GPU memory back)."""
        with self._lock:
            if self._entries:
                self._entries.clear()
                _release_memory()


def _release_memory() -> None:
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
