"""What a repo's files say about the model: weight formats (and which can run code), config facts, size.

Works from `ModelInfo.siblings` (or `list_repo_tree` entries), from plain `(path, size, is_lfs)` rows, or
from a local snapshot folder, so the same facts show online and offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huggingface_hub import HfApi

# Weight files by extension. Pickle-based formats (torch.save, joblib) execute code while loading.
WEIGHT_FORMATS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".bin": "pickle",
    ".pt": "pickle",
    ".pth": "pickle",
    ".ckpt": "pickle",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".h5": "h5",
    ".keras": "keras",
    ".msgpack": "msgpack",
}
CODE_RUNNING_FORMATS = frozenset({"pickle"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RepoFile:
    """One file of a repo: its path, size, whether it is stored in LFS, and its weight format if any."""

    path: str
    size: int | None
    is_lfs: bool
    weight_format: str | None

    @property
    def can_run_code(self) -> bool:
        """Whether loading this file can execute arbitrary code (pickle-based weights)."""
        return self.weight_format in CODE_RUNNING_FORMATS


def weight_format(path: str) -> str | None:
    """The weight format a file name implies, or None for configs, tokenizers, docs and the like."""
    return WEIGHT_FORMATS.get(os.path.splitext(path.lower())[1])


def describe_files(siblings: Iterable[Any] | str | os.PathLike[str] | None) -> tuple[RepoFile, ...]:
    """Describe a repo's files, sorted by path, from siblings, tree entries, rows, paths or a snapshot folder.

    Takes `ModelInfo.siblings`, `list_repo_tree` entries, `(path, size, is_lfs)` tuples, dicts or names.
    """
    if siblings is None:
        return ()
    if isinstance(siblings, (str, os.PathLike)):
        return _describe_folder(Path(siblings))
    files = [_describe_item(item) for item in siblings]
    return tuple(sorted((f for f in files if f is not None), key=lambda f: f.path))


def _describe_item(item: Any) -> RepoFile | None:
    path: Any
    size: Any = None
    lfs: Any = None
    if isinstance(item, str):
        path = item
    elif isinstance(item, tuple):
        path = item[0] if item else None
        size = item[1] if len(item) > 1 else None
        lfs = item[2] if len(item) > 2 else None
    elif isinstance(item, Mapping):
        path = item.get("rfilename") or item.get("path")
        size = item.get("size")
        lfs = item.get("lfs")
    elif hasattr(item, "tree_id"):  # a RepoFolder from list_repo_tree
        return None
    else:
        path = getattr(item, "rfilename", None) or getattr(item, "path", None)
        size = getattr(item, "size", None)
        lfs = getattr(item, "lfs", None)
    if not isinstance(path, str) or not path:
        return None
    if size is None and isinstance(lfs, Mapping):
        size = lfs.get("size")
    return RepoFile(
        path=path,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        is_lfs=bool(lfs),
        weight_format=weight_format(path),
    )


def _describe_folder(folder: Path) -> tuple[RepoFile, ...]:
    files: list[RepoFile] = []
    if not folder.is_dir():
        return ()
    for root, dirs, names in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        # git internals and huggingface_hub's local_dir bookkeeping are not repo content
        dirs[:] = sorted(d for d in dirs if d != ".git" and (rel_root / d).as_posix() != ".cache/huggingface")
        for name in names:
            full = Path(root) / name
            try:
                size = full.stat().st_size
            except OSError:  # a dangling symlink: the blob was deleted from the cache
                continue
            # In the HF cache a snapshot file links to a blob named by its ETag: sha256 for LFS files.
            is_lfs = full.is_symlink() and bool(_SHA256.match(Path(os.readlink(full)).name))
            rel = (rel_root / name).as_posix()
            files.append(RepoFile(rel, size, is_lfs, weight_format(rel)))
    return tuple(sorted(files, key=lambda f: f.path))


def weight_warning(files: Iterable[RepoFile]) -> str | None:
    """A plain warning when the weights exist only as pickle files, which can run code when loaded."""
    formats = {f.weight_format for f in files if f.weight_format is not None}
    if not formats or not formats <= CODE_RUNNING_FORMATS:
        return None
    return (
        "The weights exist only as pickle files (.bin/.pt/.pth/.ckpt): loading them can run code. "
        "Prefer a repo with safetensors weights, or load these only if you trust the author."
    )


@dataclass(frozen=True)
class ConfigSummary:
    """The facts of a config.json that matter for choosing a model: shape, vocabulary, context, dtype."""

    architectures: tuple[str, ...]
    model_type: str | None
    hidden_size: int | None
    num_layers: int | None
    vocab_size: int | None
    context_length: int | None
    torch_dtype: str | None


# Key spellings across model families, in order of preference.
_HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim", "model_dim")
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
_VOCAB_KEYS = ("vocab_size", "n_vocab", "padded_vocab_size")
_CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "n_ctx",
    "seq_length",
    "max_sequence_length",
    "max_seq_len",
)
_DTYPE_KEYS = ("dtype", "torch_dtype")
# Multimodal and composite models keep their language model's shape in a nested config.
_NESTED_TEXT_KEYS = ("text_config", "llm_config", "language_config", "thinker_config")


def summarize_config(config: Mapping[str, Any]) -> ConfigSummary:
    """Summarise a config.json, reading the key variants of different families and nested text configs."""
    layers: list[Mapping[str, Any]] = [config]
    for key in _NESTED_TEXT_KEYS:
        nested = config.get(key)
        if isinstance(nested, Mapping):
            layers.append(nested)
            # Some composite configs nest twice (e.g. a thinker holding a text_config).
            inner = nested.get("text_config")
            if isinstance(inner, Mapping):
                layers.append(inner)
            break

    architectures = config.get("architectures")
    if not isinstance(architectures, list):
        architectures = next((c["architectures"] for c in layers[1:] if isinstance(c.get("architectures"), list)), [])
    model_type = config.get("model_type")
    return ConfigSummary(
        architectures=tuple(str(a) for a in architectures if isinstance(a, str)),
        model_type=model_type if isinstance(model_type, str) else None,
        hidden_size=_first_int(layers, _HIDDEN_KEYS),
        num_layers=_layer_count(layers),
        vocab_size=_first_int(layers, _VOCAB_KEYS),
        context_length=_first_int(layers, _CONTEXT_KEYS),
        torch_dtype=_first_dtype(layers),
    )


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _first_int(layers: list[Mapping[str, Any]], keys: tuple[str, ...]) -> int | None:
    # A nested text config describes the language model better than the wrapper's own defaults.
    for config in reversed(layers):
        for key in keys:
            value = _positive_int(config.get(key))
            if value is not None:
                return value
    return None


def _layer_count(layers: list[Mapping[str, Any]]) -> int | None:
    for config in reversed(layers):
        # Encoder-decoder models (BART, T5, Whisper) carry both stacks; both hold parameters.
        encoder = _positive_int(config.get("encoder_layers"))
        decoder = _positive_int(config.get("decoder_layers"))
        if encoder and decoder:
            return encoder + decoder
        base = next((v for k in _LAYER_KEYS if (v := _positive_int(config.get(k))) is not None), None)
        if base is not None:
            extra = _positive_int(config.get("num_decoder_layers")) if config.get("is_encoder_decoder") else None
            return base + (extra or 0)
    return None


def _first_dtype(layers: list[Mapping[str, Any]]) -> str | None:
    for config in layers:
        for key in _DTYPE_KEYS:
            value = config.get(key)
            if isinstance(value, str) and value:
                return value.removeprefix("torch.")
    return None


def estimate_parameters(summary: ConfigSummary) -> int | None:
    """A rough transformer parameter count, 12·L·h² + vocab·h; None without the hidden size and layers."""
    # Each block holds ~4h² of attention and ~8h² of MLP weights; biases, norms and position tables are
    # left out, so gated MLPs (Llama) and mixture-of-experts models come out low.
    if summary.hidden_size is None or summary.num_layers is None:
        return None
    hidden = summary.hidden_size
    return 12 * summary.num_layers * hidden * hidden + (summary.vocab_size or 0) * hidden


def parameter_count(info: Any, *, config: Mapping[str, Any] | None = None) -> tuple[int | None, str]:
    """Parameters and their source: "safetensors metadata", "estimated from config" (`config` or
    `ModelInfo.config`), or `(None, "unknown")`."""
    safetensors = getattr(info, "safetensors", None)
    total = safetensors.get("total") if isinstance(safetensors, Mapping) else getattr(safetensors, "total", None)
    if _positive_int(total) is not None:
        return total, "safetensors metadata"
    for candidate in (config, getattr(info, "config", None)):
        if isinstance(candidate, Mapping):
            estimate = estimate_parameters(summarize_config(candidate))
            if estimate:
                return estimate, "estimated from config"
    return None, "unknown"


MAX_SAFETENSORS_HEADER = 100_000_000  # a larger header means a damaged or hostile file


def safetensors_parameters(folder: Path | None) -> int | None:
    """Count the parameters of the *.safetensors files in a local folder (a cached snapshot) by reading
    only their headers: 8 bytes of length, then JSON naming each tensor's shape. None when there are none
    or a header cannot be read."""
    import json
    import math
    import struct

    if folder is None or not folder.is_dir():
        return None
    total = 0
    found = False
    for path in sorted(folder.rglob("*.safetensors")):
        try:
            with open(path, "rb") as stream:
                (length,) = struct.unpack("<Q", stream.read(8))
                if length > MAX_SAFETENSORS_HEADER:
                    return None
                header = json.loads(stream.read(length))
        except (OSError, ValueError, struct.error):
            return None
        for name, tensor in header.items():
            if name != "__metadata__" and isinstance(tensor, dict) and isinstance(tensor.get("shape"), list):
                total += math.prod(int(size) for size in tensor["shape"])
                found = True
    return total if found else None


def read_repo_file(
    api: HfApi, repo_id: str, filename: str, revision: str | None, *, repo_type: str = "model"
) -> bytes | None:
    """Read one small repo file over HTTP without adding it to the HF cache (viewing is not downloading);
    None when the repo has no such file, the client's error for anything else."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repo_id, filename, repo_type=repo_type, revision=revision, endpoint=api.endpoint)
    response = get_session().get(url, headers=build_hf_headers(token=api.token), follow_redirects=True)
    try:
        hf_raise_for_status(response)
    except EntryNotFoundError:
        return None
    return response.content
