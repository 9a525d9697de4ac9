"""LoRA target modules, chosen from the module names of the model's own architecture.

PEFT matches `target_modules` against the last part of each module's dotted name; a name that matches
nothing makes it fail deep inside `get_peft_model`. These functions read the names first, so the choice
can be suggested and checked before a run starts; `suggest_lora_targets` does it for a base model by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hftui.train.base_model import empty_model, load_config, model_has_head, no_head_message

# Attention projections by family, in the LoRA paper's spirit (query and value first).
_KNOWN_PAIRS: tuple[tuple[str, ...], ...] = (
    ("q_proj", "v_proj"),  # Llama, Mistral, OPT, BART, Qwen, ...
    ("query", "value"),  # BERT, RoBERTa, ELECTRA, ViT
    ("q_lin", "v_lin"),  # DistilBERT
    ("query_proj", "value_proj"),  # DeBERTa-v2/v3
    ("q", "v"),  # T5
    ("c_attn",),  # GPT-2
    ("query_key_value",),  # Falcon, BLOOM, GPT-NeoX
    ("Wqkv",),  # ModernBERT, MPT
    ("qkv",),  # many vision transformers
    ("in_proj",),
)
# The classification head is trained in full by PEFT (modules_to_save), never wrapped.
_HEAD_NAMES = frozenset({"classifier", "score", "out_proj", "lm_head", "dense_out"})
_LINEAR_TYPES = frozenset({"Linear", "Conv1D", "NonDynamicallyQuantizableLinear", "Linear8bitLt", "Linear4bit"})


def linear_module_names(model: Any) -> list[str]:
    """The distinct last-part names of the model's linear layers, in order of first appearance."""
    return module_leaf_names((name, type(module).__name__) for name, module in model.named_modules())


def module_leaf_names(named_types: Iterable[tuple[str, str]]) -> list[str]:
    """From (dotted name, class name) pairs: the distinct last parts of the linear layers' names."""
    seen: dict[str, None] = {}
    for name, type_name in named_types:
        if not name or type_name not in _LINEAR_TYPES:
            continue
        seen.setdefault(name.rsplit(".", 1)[-1], None)
    return list(seen)


def suggest_target_modules(model_or_names: Any) -> tuple[str, ...]:
    """LoRA targets for a model (or its linear layer names): a known attention pair, else every inner linear."""
    names = (
        list(model_or_names)
        if isinstance(model_or_names, list | tuple | set | frozenset)
        else linear_module_names(model_or_names)
    )
    present = set(names)
    for pair in _KNOWN_PAIRS:
        if all(name in present for name in pair):
            return pair
    inner = tuple(name for name in names if name not in _HEAD_NAMES and not name.isdigit())
    return inner or tuple(names)


def unmatched_targets(targets: Sequence[str], names: Sequence[str], all_names: Iterable[str] = ()) -> list[str]:
    """The targets that match no module: neither a linear layer's last name nor the end of any dotted name."""
    leaves = set(names)
    dotted = list(all_names)
    missing = []
    for target in targets:
        if target in leaves:
            continue
        if any(full == target or full.endswith("." + target) for full in dotted):
            continue
        missing.append(target)
    return missing


@dataclass(frozen=True)
class LoraSuggestion:
    """The LoRA targets suggested for a base model (None when its modules could not be listed) and a note: its
    linear layers, or why there is no suggestion."""

    targets: tuple[str, ...] | None
    note: str


def suggest_lora_targets(base_model: str, task: str) -> LoraSuggestion:
    """The suggested targets of a local or cached base model for `task`, from its config alone (never a download).

    Blocking (imports transformers, reads the config, builds the model on the meta device): call it from a worker.
    """
    try:
        config = load_config(base_model, local_only=True)
    except Exception:
        note = f"{base_model} is not a local folder or a cached model: the targets are chosen when the run starts"
        return LoraSuggestion(None, note)
    if not model_has_head(config, task):
        return LoraSuggestion(None, no_head_message(base_model, config, task))
    try:
        names = linear_module_names(empty_model(config, task))
    except Exception as error:
        return LoraSuggestion(None, f"its modules could not be listed: {error}")
    return LoraSuggestion(suggest_target_modules(names), f"linear layers: {', '.join(names)}")
