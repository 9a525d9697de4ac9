"""A first card for a local folder: its README when it has one, else a card following the Hub's template,
prefilled from what the folder says about itself (config.json, adapter_config.json, the Trainer's
all_results.json, data files for datasets). The card editor starts from this; `save_card` writes atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from hftui.atomic_write import write_text_atomically

CARD_FILE = "README.md"
# Architecture class suffixes and the Hub task a model with that head serves.
_HEAD_TASKS = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForImageClassification", "image-classification"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForConditionalGeneration", "image-text-to-text"),
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
)
_DATA_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _front_matter(metadata: Mapping[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(dict(metadata), sort_keys=False, allow_unicode=True) + "---\n"


def guess_pipeline_tag(config: Mapping[str, Any]) -> str | None:
    """The task a config's architecture serves, from its head's class name."""
    for architecture in config.get("architectures") or ():
        for suffix, task in _HEAD_TASKS:
            if isinstance(architecture, str) and architecture.endswith(suffix):
                return task
    return None


_MODEL_FILES = ("config.json", "adapter_config.json")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".ckpt")
# Wider than _DATA_SUFFIXES: files that make a folder a dataset, not only those a card's configs can name.
_DATA_FILE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet", ".arrow", ".json", ".txt")
_MAX_LISTED = 20_000  # a huge folder is judged by its first files


def guess_card_kind(folder: Path) -> str:
    """ "model" for a folder with a config, an adapter or weights; "dataset" for data files without them."""
    names: list[str] = []
    for count, path in enumerate(folder.rglob("*")):
        if count >= _MAX_LISTED:
            break
        if ".git" in path.parts or not path.is_file():
            continue
        names.append(path.name.lower())
    if any(name in _MODEL_FILES or name.endswith(_WEIGHT_SUFFIXES) for name in names):
        return "model"
    if any(name.endswith(_DATA_FILE_SUFFIXES) for name in names if name != CARD_FILE.lower()):
        return "dataset"
    return "model"


def draft_model_card(folder: str | os.PathLike[str], *, base_license: str | None = None) -> str:
    """The folder's README.md text when it has one, else a new card from the Hub's model card template."""
    root = Path(folder)
    existing = root / CARD_FILE
    if existing.is_file():
        return existing.read_text(encoding="utf-8", errors="replace")
    config = _json(root / "config.json")
    adapter = _json(root / "adapter_config.json")
    results = _json(root / "all_results.json") or _json(root / "eval_results.json")
    base_model = adapter.get("base_model_name_or_path") or None
    tag = guess_pipeline_tag(config) or (
        {"SEQ_CLS": "text-classification", "CAUSAL_LM": "text-generation"}.get(str(adapter.get("task_type")))
    )
    metadata: dict[str, Any] = {}
    if base_license:
        metadata["license"] = base_license
    metadata["library_name"] = "peft" if adapter else "transformers"
    if tag:
        metadata["pipeline_tag"] = tag
    if base_model:
        metadata["base_model"] = base_model
    metric_names = sorted({key.removeprefix("eval_") for key in results if key.startswith("eval_")} - {"runtime"})
    metric_names = [name for name in metric_names if not name.endswith(("per_second", "_runtime", "loss"))]
    if metric_names:
        metadata["metrics"] = metric_names
    name = root.resolve().name
    model_id = f"your-name/{name}"
    snippet = (
        f'from transformers import pipeline\n\npipe = pipeline("{tag}", model="{model_id}")\n'
        if tag
        else f'from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("{model_id}")\n'
    )
    evaluation = "\n".join(f"| {key} | {value} |" for key, value in sorted(results.items()) if key.startswith("eval_"))
    sections = [
        f"# {name}",
        "",
        "## Model description",
        "",
        f"A {config.get('model_type', 'transformers')} model"
        + (f" fine-tuned from [{base_model}](https://huggingface.co/{base_model})" if base_model else "")
        + ". Describe what it does and how it was made.",
        "",
        "## Intended uses & limitations",
        "",
        "What the model is for, what it must not be used for, and its known biases and failure cases.",
        "",
        "## How to use",
        "",
        "```python",
        snippet.rstrip(),
        "```",
        "",
        "## Training data",
        "",
        "Which dataset, which split, and how it was preprocessed.",
        "",
        "## Training procedure",
        "",
        "The hyperparameters (learning rate, batch size, epochs, seed) and hardware used.",
        "",
        "## Evaluation results",
        "",
        ("| metric | value |\n| --- | --- |\n" + evaluation) if evaluation else "On what data and how it was measured.",
        "",
    ]
    return _front_matter(metadata) + "\n" + "\n".join(sections)


def draft_dataset_card(folder: str | os.PathLike[str]) -> str:
    """The folder's README.md text when it has one, else a new dataset card with its data files as configs."""
    root = Path(folder)
    existing = root / CARD_FILE
    if existing.is_file():
        return existing.read_text(encoding="utf-8", errors="replace")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix.lower() in _DATA_SUFFIXES)
    splits: dict[str, list[str]] = {}
    for path in files:
        stem = Path(path).stem.lower()
        split = next((name for name in ("train", "validation", "test") if name in stem), "train")
        splits.setdefault(split, []).append(path)
    metadata: dict[str, Any] = {}
    if splits:
        data_files = [
            {"split": split, "path": paths if len(paths) > 1 else paths[0]} for split, paths in splits.items()
        ]
        metadata["configs"] = [{"config_name": "default", "data_files": data_files}]
    name = root.resolve().name
    body = "\n".join(
        [
            f"# {name}",
            "",
            "## Dataset description",
            "",
            "What the data is, where it comes from, and who made it.",
            "",
            "## Dataset structure",
            "",
            "The columns, their types and the splits: " + (", ".join(splits) or "none found") + ".",
            "",
            "## Uses and limitations",
            "",
            "What the data is suited for, and its known biases and gaps.",
            "",
            "## Licence and citation",
            "",
            "Under which terms the data may be used, and how to cite it.",
            "",
        ]
    )
    return _front_matter(metadata) + "\n" + body


def save_card(folder: str | os.PathLike[str], text: str) -> Path:
    """Write README.md into `folder` atomically (a temporary file renamed over it: never half a card)."""
    return write_text_atomically(Path(folder) / CARD_FILE, text)
