"""Which playground tasks a local model can run, from its config and card, before anything is loaded.

A task is offered when the checkpoint's architecture has that task's head: its class is in one of the
transformers auto-model tables the task's pipeline loads from (the same test the Analyzer applies before a
job). Any model with a base architecture gives features (feature-extraction), and so sentence similarity.
Zero-shot classification needs an NLI head: a sequence classifier with an "entailment" label, which is what
transformers' zero-shot pipeline looks for. The card's pipeline tag, when it is one of these, is the default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.analyze.pipelines import ANALYZER_TASK_TABLES, architecture_tasks


@dataclass(frozen=True)
class PlaygroundTask:
    """One thing the playground does with a model: the pipeline task and the input it takes."""

    name: str
    modality: str  # "text", "image" or "audio"
    title: str


PLAYGROUND_TASKS: tuple[PlaygroundTask, ...] = (
    PlaygroundTask("text-generation", "text", "Text generation and chat"),
    PlaygroundTask("fill-mask", "text", "Fill the mask"),
    PlaygroundTask("token-classification", "text", "Entities (token classification)"),
    PlaygroundTask("zero-shot-classification", "text", "Zero-shot classification"),
    PlaygroundTask("text-classification", "text", "Text classification"),
    PlaygroundTask("sentence-similarity", "text", "Sentence similarity"),
    PlaygroundTask("feature-extraction", "text", "Features (embeddings)"),
    PlaygroundTask("image-classification", "image", "Image classification"),
    PlaygroundTask("image-text-to-text", "image", "Image to text (captioning)"),
    PlaygroundTask("automatic-speech-recognition", "audio", "Speech recognition"),
)
TASK_NAMES = tuple(task.name for task in PLAYGROUND_TASKS)

# The transformers auto-model tables each task's pipeline loads from: the Analyzer's tasks, and the text tasks
# only the playground runs.
PLAYGROUND_TABLES: dict[str, tuple[str, ...]] = {
    **ANALYZER_TASK_TABLES,
    "text-generation": ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",),
    "fill-mask": ("MODEL_FOR_MASKED_LM_MAPPING_NAMES",),
    "token-classification": ("MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",),
}
# Hub pipeline tags that name a playground task under another name.
_TAG_ALIASES = {"sentiment-analysis": "text-classification", "image-to-text": "image-text-to-text"}


class NotAPlaygroundModel(ValueError):
    """The folder is not a model the playground can run (the message says why, and what would work)."""


@dataclass(frozen=True)
class ModelTasks:
    """What the playground can do with one model: the tasks in `PLAYGROUND_TASKS` order, and the default."""

    default: str
    supported: tuple[str, ...]
    pipeline_tag: str | None
    architectures: tuple[str, ...]

    def check(self, task: str) -> str:
        """`task` if the model runs it; else NotAPlaygroundModel saying which tasks it does run."""
        if task not in self.supported:
            raise NotAPlaygroundModel(
                f"This model does not do {task}; it does {', '.join(self.supported)}."
                if task in TASK_NAMES
                else f"Unknown task {task!r}; the playground knows {', '.join(TASK_NAMES)}."
            )
        return task


def tasks_of(config: Mapping[str, Any], pipeline_tag: str | None, *, sentence_transformers: bool = False) -> ModelTasks:
    """The playground tasks for a model with this `config.json` content and card pipeline tag.
    `sentence_transformers`: the folder is a sentence-transformers model (it has modules.json)."""
    architectures = tuple(a for a in config.get("architectures") or () if isinstance(a, str))
    found, _ = architecture_tasks(architectures, PLAYGROUND_TABLES)
    if "text-classification" in found and _has_entailment(config):
        found.add("zero-shot-classification")
    if architectures or config.get("model_type"):
        found.add("feature-extraction")
        found.add("sentence-similarity")
    tag = _TAG_ALIASES.get(pipeline_tag or "", pipeline_tag)
    if tag == "zero-shot-classification" and "text-classification" in found:
        found.add(tag)  # the card says it is an NLI model even if its labels are named otherwise
    supported = tuple(name for name in TASK_NAMES if name in found)
    if not supported:
        raise NotAPlaygroundModel("This folder's config.json names no architecture or model type to load.")
    if tag in supported:
        default = tag
    elif sentence_transformers and "sentence-similarity" in supported:
        default = "sentence-similarity"
    else:
        default = supported[0]
    return ModelTasks(str(default), supported, pipeline_tag, architectures)


def model_tasks(folder: Path) -> ModelTasks:
    """The playground tasks of the model in `folder` (its config.json and card); NotAPlaygroundModel when it
    is not a transformers model folder."""
    from hftui.hub.cards.text import read_card

    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotAPlaygroundModel(f"{folder} has no config.json, so it is not a transformers model") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise NotAPlaygroundModel(f"{config_path} could not be read: {error}") from None
    if not isinstance(config, dict):
        raise NotAPlaygroundModel(f"{config_path} is not a JSON object")
    card = read_card(folder / "README.md") if (folder / "README.md").is_file() else None
    pipeline_tag = card.get_text("pipeline_tag") if card else None
    return tasks_of(config, pipeline_tag, sentence_transformers=(folder / "modules.json").is_file())


def _has_entailment(config: Mapping[str, Any]) -> bool:
    labels = config.get("label2id") or {}
    return isinstance(labels, Mapping) and any(str(label).lower().startswith("entail") for label in labels)
