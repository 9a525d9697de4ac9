"""Checks a RunSpec before launch, so a run does not fail a minute in for a typo.

`validate` returns every problem at once: the spec's own values first (instant), then, with
`check_sources`, the dataset's columns (the first row, streamed), the base model's architecture (its config
only) and the LoRA targets against the model's module names (an empty model on the meta device, no weights).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hftui.train.base_model import empty_model, load_config, model_has_head, no_head_message
from hftui.train.lora import linear_module_names, unmatched_targets
from hftui.train.spec import DATASET_KINDS, PRECISIONS, STRATEGIES, TASKS, RunSpec, looks_like_path

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with a spec: the field it is about, a sentence, and whether it blocks the launch."""

    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def errors_of(problems: list[SpecProblem]) -> list[SpecProblem]:
    """The problems that block a launch."""
    return [problem for problem in problems if problem.severity == "error"]


def _check_values(spec: RunSpec) -> list[SpecProblem]:
    problems: list[SpecProblem] = []

    def add(field: str, message: str, severity: Literal["error", "warning"] = "error") -> None:
        problems.append(SpecProblem(field, message, severity))

    if not spec.base_model.strip():
        add("base_model", "name a base model: a Hub id, a cached model or a local folder")
    elif looks_like_path(spec.base_model) and not Path(spec.base_model).expanduser().is_dir():
        add("base_model", f"the folder {spec.base_model} does not exist")
    elif not Path(spec.base_model).expanduser().is_dir() and not _HUB_ID.match(spec.base_model):
        add("base_model", f"{spec.base_model!r} is neither a local folder nor a Hub model id")
    if spec.task not in TASKS:
        add("task", f"unknown task {spec.task!r}; choose {' or '.join(TASKS)}")

    data = spec.dataset
    if data.kind not in DATASET_KINDS:
        add("dataset.kind", f"unknown kind {data.kind!r}; use 'local' or 'hub'")
    if data.kind == "local" and not Path(data.location).expanduser().exists():
        add("dataset.location", f"{data.location} does not exist")
    if data.eval_location and not Path(data.eval_location).expanduser().exists():
        add("dataset.eval_location", f"{data.eval_location} does not exist")
    if data.eval_location and data.eval_split:
        add("dataset.eval_split", "give eval_split or eval_location, not both")
    if not 0 <= data.eval_fraction < 1:
        add("dataset.eval_fraction", "must be at least 0 and below 1")
    if data.max_train_rows is not None and data.max_train_rows < 1:
        add("dataset.max_train_rows", "must be at least 1")

    h = spec.hyperparameters
    if h.max_steps is not None and h.max_steps < 1:
        add("hyperparameters.max_steps", "must be at least 1 (or null to train for `epochs`)")
    if h.max_steps is None and h.epochs <= 0:
        add("hyperparameters.epochs", "must be above 0")
    if h.learning_rate <= 0:
        add("hyperparameters.learning_rate", "must be above 0")
    elif h.learning_rate > 1:
        add("hyperparameters.learning_rate", f"{h.learning_rate:g} is far above usual values (1e-5 to 1e-3)", "warning")
    for name in ("batch_size", "gradient_accumulation_steps", "logging_steps", "eval_steps", "save_steps"):
        if getattr(h, name) < 1:
            add(f"hyperparameters.{name}", "must be at least 1")
    if h.eval_batch_size is not None and h.eval_batch_size < 1:
        add("hyperparameters.eval_batch_size", "must be at least 1")
    if h.max_length < 2:
        add("hyperparameters.max_length", "must be at least 2 tokens")
    if h.warmup < 0:
        add("hyperparameters.warmup", "must not be negative (steps, or a ratio below 1)")
    if h.weight_decay < 0:
        add("hyperparameters.weight_decay", "must not be negative")
    if h.save_total_limit is not None and h.save_total_limit < 1:
        add("hyperparameters.save_total_limit", "must be at least 1 (or null to keep every checkpoint)")
    for name in ("eval_strategy", "save_strategy"):
        if getattr(h, name) not in STRATEGIES:
            add(f"hyperparameters.{name}", f"choose one of {', '.join(STRATEGIES)}")
    if h.precision not in PRECISIONS:
        add("hyperparameters.precision", f"choose one of {', '.join(PRECISIONS)}")
    no_eval = data.eval_fraction == 0 and not data.eval_split and not data.eval_location
    if no_eval and h.eval_strategy != "no":
        add(
            "hyperparameters.eval_strategy",
            "evaluation is asked for but there is no evaluation data: set dataset.eval_fraction, eval_split "
            'or eval_location, or eval_strategy "no"',
        )

    if spec.lora is not None:
        lora = spec.lora
        if lora.r < 1:
            add("lora.r", "must be at least 1")
        if lora.alpha <= 0:
            add("lora.alpha", "must be above 0")
        if not 0 <= lora.dropout < 1:
            add("lora.dropout", "must be at least 0 and below 1")
        if lora.target_modules is not None and not lora.target_modules:
            add("lora.target_modules", "name at least one module, or null to use the suggested ones")
    if spec.num_processes < 1:
        add("num_processes", "must be at least 1")
    return problems


def _check_device(spec: RunSpec) -> list[SpecProblem]:
    from hftui.device import detect_device

    problems: list[SpecProblem] = []
    precision = spec.hyperparameters.precision
    needs_gpu = spec.num_processes > 1 or precision in ("fp16", "bf16")
    if not needs_gpu:
        return problems
    device = detect_device(timeout=5.0)
    gpus = device.count if device.kind == "cuda" else 0
    if spec.num_processes > 1:
        if gpus < spec.num_processes:
            problems.append(
                SpecProblem(
                    "num_processes",
                    f"{spec.num_processes} processes need {spec.num_processes} CUDA GPUs; this machine has {gpus}",
                )
            )
        if importlib.util.find_spec("accelerate") is None:
            problems.append(SpecProblem("num_processes", "several processes need `accelerate` (pip install it)"))
    if precision == "fp16" and gpus == 0:
        problems.append(
            SpecProblem("hyperparameters.precision", "fp16 needs a CUDA GPU; the run will use fp32", "warning")
        )
    if precision == "bf16" and gpus and device.capability and float(device.capability) < 8.0:
        problems.append(
            SpecProblem(
                "hyperparameters.precision",
                f"bf16 needs compute capability 8.0 or newer ({device.name} has {device.capability}); "
                "the run will use fp16",
                "warning",
            )
        )
    return problems


def _check_dataset(spec: RunSpec) -> list[SpecProblem]:
    from hftui.data.sampler import SampleError
    from hftui.train.data import peek, sources_of, wanted_columns

    data = spec.dataset
    wanted = wanted_columns(spec)
    problems: list[SpecProblem] = []
    train, evaluation = sources_of(data)
    for field, source in (("dataset", train), ("dataset.eval", evaluation)):
        if source is None:
            continue
        try:
            columns, first = peek(source)
        except SampleError as error:
            problems.append(SpecProblem(field, error.message))
            continue
        if first is None:
            problems.append(SpecProblem(field, f"{source.location} ({source.split}) has no rows"))
            continue
        missing = [(role, name) for role, name in wanted if name not in columns]
        for role, name in missing:
            column_field = {"label": "label_column", "image": "image_column", "text": "text_column"}.get(
                role, "text_pair_column"
            )
            problems.append(
                SpecProblem(
                    f"dataset.{column_field}",
                    f"{source.location} has no {role} column `{name}`; its columns are {', '.join(columns)}",
                )
            )
    return problems


def _check_model(spec: RunSpec) -> list[SpecProblem]:
    try:
        config = load_config(spec.base_model)
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [SpecProblem("base_model", f"its config could not be read: {first}")]
    if not model_has_head(config, spec.task):
        return [SpecProblem("base_model", no_head_message(spec.base_model, config, spec.task))]
    problems: list[SpecProblem] = []
    positions = getattr(config, "max_position_embeddings", None)
    max_length = spec.hyperparameters.max_length
    if spec.task == "sequence-classification" and isinstance(positions, int) and max_length > positions:
        problems.append(
            SpecProblem(
                "hyperparameters.max_length",
                f"{spec.hyperparameters.max_length} tokens is more than the model's {positions} positions",
            )
        )
    if spec.lora is not None and spec.lora.target_modules:
        try:
            model = empty_model(config, spec.task)
        except Exception as error:
            problems.append(SpecProblem("lora.target_modules", f"the model's modules could not be listed: {error}"))
            return problems
        names = linear_module_names(model)
        missing = unmatched_targets(spec.lora.target_modules, names, (name for name, _ in model.named_modules()))
        if missing:
            problems.append(
                SpecProblem(
                    "lora.target_modules",
                    f"{', '.join(missing)} match no module of {spec.base_model}; its linear layers are "
                    f"{', '.join(names) or '(none)'}",
                )
            )
    return problems


def validate(spec: RunSpec, *, check_sources: bool = True) -> list[SpecProblem]:
    """Every problem with a spec; with `check_sources`, also the dataset's columns, the model and LoRA targets.

    Blocking (streams a row, reads a config, imports transformers): run it in a worker thread.
    """
    problems = _check_values(spec)
    if not check_sources:
        return problems
    blocked = {problem.field for problem in problems}
    problems += _check_device(spec)
    if not blocked & {"dataset.kind", "dataset.location", "dataset.eval_location", "dataset.eval_split"}:
        problems += _check_dataset(spec)
    if not blocked & {"base_model", "task"}:
        problems += _check_model(spec)
    return problems
