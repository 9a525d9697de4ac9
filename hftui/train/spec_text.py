"""A RunSpec from what was typed: the new-run form's fields, as text, read into a spec with a problem for each
value that cannot be read; and whether a typed dataset location means local files or a Hub dataset id.

The form hands over a mapping from each spec field's dotted name (`hyperparameters.learning_rate`) to what its
field holds (the text, the chosen option, or a switch's bool), so the reading is tested without Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from hftui.train.spec import TASKS, DatasetRef, Hyperparameters, LoraSettings, RunSpec, looks_like_path
from hftui.train.validate import SpecProblem

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ".arrow")

Typed = Mapping[str, str | bool]


def dataset_kind(location: str) -> str:
    """`local` for an existing path, something written as a path or a data file name; `hub` otherwise.

    Touches the disk (one stat): call it off the event loop.
    """
    text = location.strip()
    if not text:
        return "local"
    if Path(text).expanduser().exists() or looks_like_path(text) or text.lower().endswith(DATA_SUFFIXES):
        return "local"
    return "hub" if text.count("/") <= 1 else "local"


def dataset_hint(location: str) -> str:
    """What the dataset field will be read as, from its text alone (no disk access)."""
    text = location.strip()
    if not text:
        return "a local file or folder (csv, json, jsonl, parquet) or a Hub dataset id"
    if looks_like_path(text) or text.lower().endswith(DATA_SUFFIXES) or text.count("/") > 1:
        return "read as local files"
    return "read as a Hub dataset id (or a local folder of that name, if one exists)"


def with_dataset_kind(data: DatasetRef) -> DatasetRef:
    """The dataset with its kind decided from what was typed (a path on disk is local, else a Hub id)."""
    return replace(data, kind=cast(Any, dataset_kind(data.location)))


class _TypedValues:
    """Reads typed values as spec values; each unreadable one adds a problem for its field."""

    def __init__(self, typed: Typed, names: Mapping[str, str]) -> None:
        self.typed = typed
        self.names = names
        self.problems: list[SpecProblem] = []

    def text(self, name: str) -> str:
        value = self.typed.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def switch(self, name: str) -> bool:
        return self.typed.get(name) is True

    def _number(self, name: str, optional: bool) -> float | None:
        raw = self.text(name)
        if not raw:
            if not optional:
                self.problems.append(SpecProblem(name, f"{self.names.get(name, name).lower()} is needed"))
            return None
        try:
            return float(raw.replace("_", ""))
        except ValueError:
            self.problems.append(SpecProblem(name, f"{raw!r} is not a number (such as 0.1 or 5e-5)"))
            return None

    def integer(self, name: str, *, optional: bool = False) -> int | None:
        value = self._number(name, optional)
        if value is None:
            return None
        if value != int(value):
            self.problems.append(SpecProblem(name, f"{self.text(name)!r} is not a whole number"))
            return None
        return int(value)

    def number(self, name: str, *, optional: bool = False) -> float | None:
        value = self._number(name, optional)
        if value is not None and value != value:
            self.problems.append(SpecProblem(name, "NaN is not a usable value"))
            return None
        return value


def spec_from_text(typed: Typed, names: Mapping[str, str]) -> tuple[RunSpec | None, list[SpecProblem]]:
    """The spec the typed fields describe (dataset kind still undecided), or None with the unreadable fields.

    `typed` maps spec fields (`dataset.location`, `lora.r`, ...) to what was typed; `names` their labels, for the
    problems. A missing dataset is a problem beside the spec.
    """
    values = _TypedValues(typed, names)
    eval_fraction = values.number("dataset.eval_fraction")
    max_rows = values.integer("dataset.max_train_rows", optional=True)
    hyper: dict[str, Any] = {
        "epochs": values.number("hyperparameters.epochs"),
        "max_steps": values.integer("hyperparameters.max_steps", optional=True),
        "learning_rate": values.number("hyperparameters.learning_rate"),
        "batch_size": values.integer("hyperparameters.batch_size"),
        "gradient_accumulation_steps": values.integer("hyperparameters.gradient_accumulation_steps"),
        "max_length": values.integer("hyperparameters.max_length"),
        "warmup": values.number("hyperparameters.warmup"),
        "weight_decay": values.number("hyperparameters.weight_decay"),
        "logging_steps": values.integer("hyperparameters.logging_steps"),
        "eval_strategy": values.text("hyperparameters.eval_strategy"),
        "eval_steps": values.integer("hyperparameters.eval_steps"),
        "save_strategy": values.text("hyperparameters.save_strategy"),
        "save_steps": values.integer("hyperparameters.save_steps"),
        "save_total_limit": values.integer("hyperparameters.save_total_limit", optional=True),
        "seed": values.integer("hyperparameters.seed"),
        "precision": values.text("hyperparameters.precision"),
    }
    processes = values.integer("num_processes")
    lora: LoraSettings | None = None
    if values.switch("lora"):
        r = values.integer("lora.r")
        alpha = values.integer("lora.alpha")
        dropout = values.number("lora.dropout")
        raw_targets = values.text("lora.target_modules")
        targets = tuple(name.strip() for name in raw_targets.replace(" ", ",").split(",") if name.strip())
        if r is not None and alpha is not None and dropout is not None:
            lora = LoraSettings(
                r=r, alpha=alpha, dropout=dropout, target_modules=targets or None, merge=values.switch("lora.merge")
            )
    if values.problems:
        return None, values.problems
    location = values.text("dataset.location")
    data = DatasetRef(
        location=location,
        config=values.optional_text("dataset.config"),
        split=values.text("dataset.split") or "train",
        eval_split=values.optional_text("dataset.eval_split"),
        eval_location=values.optional_text("dataset.eval_location"),
        eval_fraction=eval_fraction if eval_fraction is not None else 0.0,
        text_column=values.text("dataset.text_column") or "text",
        text_pair_column=values.optional_text("dataset.text_pair_column"),
        image_column=values.text("dataset.image_column") or "image",
        label_column=values.text("dataset.label_column") or "label",
        max_train_rows=max_rows,
    )
    spec = RunSpec(
        base_model=values.text("base_model"),
        dataset=data,
        # Unchecked here: `validate` names a task that is not one of TASKS.
        task=cast(Any, values.text("task") or TASKS[0]),
        hyperparameters=Hyperparameters(**hyper),
        lora=lora,
        num_processes=processes if processes is not None else 1,
        name=values.optional_text("name"),
    )
    problems = []
    if not location:
        problems.append(SpecProblem("dataset.location", "name a dataset: a local file or folder, or a Hub id"))
    return spec, problems
