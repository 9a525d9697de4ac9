"""The tags the Hub computes for a repo from its card and files: library, weight formats, languages, licences,
and for datasets the task, size, modality and format facets (reading data files to count rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hftui.localhub.commits import HostedCommit
from hftui.localhub.files import HostedFile

_TEXT_FORMATS = {
    ".jsonl": ("json", ("text",)),
    ".json": ("json", ("text",)),
    ".csv": ("csv", ("tabular", "text")),
    ".tsv": ("csv", ("tabular", "text")),
    ".parquet": ("parquet", ("tabular", "text")),
    ".arrow": ("arrow", ("tabular", "text")),
    ".txt": ("text", ("text",)),
}
_MEDIA_FORMATS = {
    ".png": ("imagefolder", "image"),
    ".jpg": ("imagefolder", "image"),
    ".jpeg": ("imagefolder", "image"),
    ".webp": ("imagefolder", "image"),
    ".wav": ("audiofolder", "audio"),
    ".mp3": ("audiofolder", "audio"),
    ".flac": ("audiofolder", "audio"),
    ".ogg": ("audiofolder", "audio"),
}
_SIZE_BOUNDS = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)
_DATASET_CARD_FACETS = (
    "task_categories",
    "task_ids",
    "annotations_creators",
    "language_creators",
    "multilinguality",
    "source_datasets",
    "language",
)


def str_list(value: Any) -> list[str]:
    """A card value as a list of strings: a scalar becomes one item, mappings and nested lists are dropped."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
    if isinstance(value, dict):
        return []
    return [str(value)]


def library_from_files(commit: HostedCommit) -> str | None:
    """The library a model's files suggest, as the Hub guesses it when the card names none."""
    names = set(commit.files)
    if "modules.json" in names or "config_sentence_transformers.json" in names:
        return "sentence-transformers"
    if "adapter_config.json" in names:
        return "peft"
    if "model_index.json" in names:
        return "diffusers"
    if commit.config is not None and ("model_type" in commit.config or "architectures" in commit.config):
        return "transformers"
    if any(p.endswith(".gguf") for p in names):
        return "gguf"
    return None


def unique(tags: list[str]) -> list[str]:
    """Tags without blanks and repeats, first occurrence kept."""
    kept: list[str] = []
    for tag in tags:
        if tag and tag not in kept:
            kept.append(tag)
    return kept


def model_tags(
    commit: HostedCommit, card: dict[str, Any], library: str | None, pipeline: str | None, extra: list[str]
) -> list[str]:
    """A model's tags in the Hub's order: library, weight formats, model type, task, card tags, then facets."""
    tags: list[str] = []
    if library:
        tags.append(library)
    paths = list(commit.files)
    if any(p.endswith(".safetensors") for p in paths):
        tags.append("safetensors")
    if any(p.rsplit("/", 1)[-1].startswith("pytorch_model") and p.endswith(".bin") for p in paths):
        tags.append("pytorch")
    if any(p.endswith("tf_model.h5") for p in paths):
        tags.append("tf")
    if any(p.endswith("flax_model.msgpack") for p in paths):
        tags.append("jax")
    if any(p.endswith(".onnx") for p in paths):
        tags.append("onnx")
    if any(p.endswith(".gguf") for p in paths):
        tags.append("gguf")
    if commit.config is not None and isinstance(commit.config.get("model_type"), str):
        tags.append(commit.config["model_type"])
    if pipeline:
        tags.append(pipeline)
    tags.extend(str_list(card.get("tags")))
    tags.extend(extra)
    tags.extend(str_list(card.get("language")))
    tags.extend(f"dataset:{d}" for d in str_list(card.get("datasets")))
    tags.extend(f"base_model:{b}" for b in str_list(card.get("base_model")))
    if card.get("model-index"):
        tags.append("model-index")
    tags.extend(f"license:{lic}" for lic in str_list(card.get("license")))
    tags.append("region:us")
    return unique(tags)


def dataset_tags(commit: HostedCommit, card: dict[str, Any], extra: list[str]) -> list[str]:
    """A dataset's tags: the card's facets as `key:value`, then size, modality and format from its data files."""
    tags: list[str] = []
    for key in _DATASET_CARD_FACETS:
        tags.extend(f"{key}:{value}" for value in str_list(card.get(key)))
    tags.extend(f"license:{lic}" for lic in str_list(card.get("license")))
    if commit.data_summary is None:  # reading data files is the costly part: once per commit
        commit.data_summary = (_computed_size_category(commit), *_modalities_and_formats(commit))
    computed_sizes, modalities, formats = commit.data_summary
    sizes = str_list(card.get("size_categories")) or computed_sizes
    tags.extend(f"size_categories:{s}" for s in sizes)
    tags.extend(f"modality:{m}" for m in modalities)
    tags.extend(f"format:{f}" for f in formats)
    if formats:
        tags.extend(("library:datasets", "library:pandas", "library:mlcroissant", "library:polars"))
    if card.get("benchmark"):
        tags.append(f"benchmark:{card['benchmark']}")
    tags.extend(str_list(card.get("tags")))
    tags.extend(extra)
    tags.append("region:us")
    return unique(tags)


def _data_files(commit: HostedCommit) -> list[HostedFile]:
    return [f for p, f in commit.files.items() if p != "README.md" and not p.startswith(".")]


def _modalities_and_formats(commit: HostedCommit) -> tuple[list[str], list[str]]:
    modalities: list[str] = []
    formats: list[str] = []
    for hosted in _data_files(commit):
        suffix = Path(hosted.path).suffix.lower()
        if suffix in _TEXT_FORMATS:
            fmt, mods = _TEXT_FORMATS[suffix]
        elif suffix in _MEDIA_FORMATS:
            fmt, mod = _MEDIA_FORMATS[suffix]
            mods = (mod,)
        else:
            continue
        if fmt not in formats:
            formats.append(fmt)
        modalities.extend(m for m in mods if m not in modalities)
    return sorted(modalities), formats


def _computed_size_category(commit: HostedCommit) -> list[str]:
    """Count rows of line-based data files, as the dataset viewer would, to bucket the dataset's size."""
    rows = 0
    counted = False
    for hosted in _data_files(commit):
        suffix = Path(hosted.path).suffix.lower()
        if suffix not in (".jsonl", ".csv", ".tsv", ".txt") or hosted.size > 50 * 1024 * 1024:
            continue
        lines = sum(1 for line in hosted.read().splitlines() if line.strip())
        rows += max(lines - 1, 0) if suffix in (".csv", ".tsv") else lines
        counted = True
    if not counted:
        return []
    for bound, label in _SIZE_BOUNDS:
        if rows < bound:
            return [label]
    return ["n>1B"]
