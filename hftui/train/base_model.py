"""The base model as training sees it, before any weight is loaded: its config, whether transformers has a head
for the task, and its modules on the meta device (for LoRA targets).

Each call imports transformers through `import_serially` and may read files: call them from a worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hftui.libraries import import_serially


def _head_mapping(task: str) -> dict[str, str]:
    import_serially("transformers")
    from transformers.models.auto import modeling_auto

    if task == "image-classification":
        return dict(modeling_auto.MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES)
    return dict(modeling_auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES)


def model_has_head(config: Any, task: str) -> bool:
    """Whether transformers has a classification head of this task for the config's architecture."""
    return getattr(config, "model_type", None) in _head_mapping(task)


def no_head_message(base_model: str, config: Any, task: str) -> str:
    """The sentence for a base model whose architecture has no head for the task."""
    architectures = ", ".join(getattr(config, "architectures", None) or []) or "no architecture listed"
    model_type = getattr(config, "model_type", "unknown")
    kind = "image-classification" if task == "image-classification" else "sequence-classification"
    hint = (
        "pick an image backbone such as ViT, ConvNeXt or Swin"
        if task == "image-classification"
        else "pick an encoder such as BERT, RoBERTa, DeBERTa or DistilBERT (or a decoder with one: Llama, Qwen)"
    )
    return (
        f"{base_model} is a `{model_type}` model ({architectures}) and transformers has no {kind} head for "
        f"`{model_type}`: {hint}"
    )


def load_config(base_model: str, *, local_only: bool = False) -> Any:
    """The base model's config: a local folder's, else the cached one's, else (unless `local_only`) the Hub's."""
    import_serially("transformers")
    from transformers import AutoConfig

    folder = Path(base_model).expanduser()
    if folder.is_dir():
        return AutoConfig.from_pretrained(str(folder))
    if local_only:
        return AutoConfig.from_pretrained(base_model, local_files_only=True)
    return AutoConfig.from_pretrained(base_model)


def empty_model(config: Any, task: str) -> Any:
    """The task model for `config` on the meta device: its module names without allocating weights."""
    import_serially("transformers")
    import torch
    from transformers import AutoModelForImageClassification, AutoModelForSequenceClassification

    auto = AutoModelForImageClassification if task == "image-classification" else AutoModelForSequenceClassification
    with torch.device("meta"):
        return auto.from_config(config)
