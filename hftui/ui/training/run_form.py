"""The new-run form: a RunSpec filled in field by field, checked (values, then dataset and model) before launch.

Every field is one labelled line in a scroll, so it works at 80x24 with the keyboard only: tab moves between
fields, ctrl+s launches, escape cancels. Problems are shown under the field they are about and listed above
the buttons.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch
from textual.worker import Worker, WorkerState

from hftui.train.spec import (
    PRECISIONS,
    STRATEGIES,
    TASKS,
    DatasetRef,
    Hyperparameters,
    LoraSettings,
    RunSpec,
    looks_like_path,
    resolve_paths,
)
from hftui.train.validate import SpecProblem, errors_of
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ".arrow")
TASK_LABELS = {
    "sequence-classification": "text: sequence classification",
    "image-classification": "image classification",
}
PRECISION_LABELS = {"auto": "auto (bf16/fp16 on GPU)", "fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}
SUGGEST_DELAY_S = 0.6
# The target suggestion and the checks both import transformers (and datasets looks into it): two threads
# importing it at once saw a half-initialised module, so they take turns.
_SOURCES_LOCK = threading.Lock()

# The spec field each problem names -> the form field it is shown under.
FIELD_IDS = {
    "base_model": "form-base-model",
    "task": "form-task",
    "name": "form-name",
    "dataset": "form-dataset",
    "dataset.kind": "form-dataset",
    "dataset.location": "form-dataset",
    "dataset.config": "form-config",
    "dataset.split": "form-split",
    "dataset.eval": "form-eval-file",
    "dataset.eval_split": "form-eval-split",
    "dataset.eval_location": "form-eval-file",
    "dataset.eval_fraction": "form-eval-fraction",
    "dataset.text_column": "form-text-column",
    "dataset.text_pair_column": "form-text-pair-column",
    "dataset.image_column": "form-image-column",
    "dataset.label_column": "form-label-column",
    "dataset.max_train_rows": "form-max-rows",
    "hyperparameters.epochs": "form-epochs",
    "hyperparameters.max_steps": "form-max-steps",
    "hyperparameters.learning_rate": "form-learning-rate",
    "hyperparameters.batch_size": "form-batch-size",
    "hyperparameters.gradient_accumulation_steps": "form-grad-accum",
    "hyperparameters.max_length": "form-max-length",
    "hyperparameters.warmup": "form-warmup",
    "hyperparameters.weight_decay": "form-weight-decay",
    "hyperparameters.logging_steps": "form-logging-steps",
    "hyperparameters.eval_strategy": "form-eval-strategy",
    "hyperparameters.eval_steps": "form-eval-steps",
    "hyperparameters.save_strategy": "form-save-strategy",
    "hyperparameters.save_steps": "form-save-steps",
    "hyperparameters.save_total_limit": "form-save-limit",
    "hyperparameters.seed": "form-seed",
    "hyperparameters.precision": "form-precision",
    "hyperparameters.eval_batch_size": "form-batch-size",
    "lora": "form-lora",
    "lora.r": "form-lora-r",
    "lora.alpha": "form-lora-alpha",
    "lora.dropout": "form-lora-dropout",
    "lora.target_modules": "form-lora-targets",
    "num_processes": "form-processes",
}
LABELS = {
    "form-base-model": "Base model",
    "form-name": "Run name",
    "form-task": "Task",
    "form-dataset": "Dataset",
    "form-config": "Config",
    "form-split": "Train split",
    "form-eval-split": "Eval split",
    "form-eval-file": "Eval file",
    "form-eval-fraction": "Eval fraction",
    "form-text-column": "Text column",
    "form-text-pair-column": "Text pair column",
    "form-image-column": "Image column",
    "form-label-column": "Label column",
    "form-max-rows": "Max train rows",
    "form-epochs": "Epochs",
    "form-max-steps": "Max steps",
    "form-learning-rate": "Learning rate",
    "form-batch-size": "Batch size",
    "form-grad-accum": "Grad accumulation",
    "form-max-length": "Max length (tokens)",
    "form-warmup": "Warmup",
    "form-weight-decay": "Weight decay",
    "form-logging-steps": "Log every (steps)",
    "form-eval-strategy": "Evaluate",
    "form-eval-steps": "Eval every (steps)",
    "form-save-strategy": "Save",
    "form-save-steps": "Save every (steps)",
    "form-save-limit": "Keep checkpoints",
    "form-seed": "Seed",
    "form-precision": "Precision",
    "form-lora": "LoRA",
    "form-lora-r": "LoRA r",
    "form-lora-alpha": "LoRA alpha",
    "form-lora-dropout": "LoRA dropout",
    "form-lora-targets": "Target modules",
    "form-lora-merge": "Save merged model",
    "form-processes": "Processes",
}
LORA_ROWS = ("form-lora-r", "form-lora-alpha", "form-lora-dropout", "form-lora-targets", "form-lora-merge")
TEXT_ROWS = ("form-text-column", "form-text-pair-column")
IMAGE_ROWS = ("form-image-column",)


@dataclass
class FormChecked(Message):
    """The checks of one submission ended: every problem found, and the spec with its paths resolved."""

    check_id: int
    spec: RunSpec
    problems: list[SpecProblem]
    launch: bool


@dataclass
class LoraTargetsSuggested(Message):
    """The LoRA targets suggested for a base model (None with `note` when its modules could not be listed)."""

    base_model: str
    task: str
    targets: tuple[str, ...] | None
    note: str


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


class FormValues:
    """Reads the form's text fields as spec values; each unreadable one adds a problem for its field."""

    def __init__(self, screen: RunFormScreen) -> None:
        self.screen = screen
        self.problems: list[SpecProblem] = []

    def text(self, field_id: str) -> str:
        return self.screen.query_one(f"#{field_id}", Input).value.strip()

    def optional_text(self, field_id: str) -> str | None:
        return self.text(field_id) or None

    def _number(self, field_id: str, spec_field: str, kind: type, optional: bool) -> Any:
        raw = self.text(field_id)
        if not raw:
            if optional:
                return None
            self.problems.append(SpecProblem(spec_field, f"{LABELS[field_id].lower()} is needed"))
            return None
        try:
            return kind(raw.replace("_", ""))
        except ValueError:
            wanted = "a whole number" if kind is int else "a number (such as 0.1 or 5e-5)"
            self.problems.append(SpecProblem(spec_field, f"{raw!r} is not {wanted}"))
            return None

    def integer(self, field_id: str, spec_field: str, *, optional: bool = False) -> int | None:
        value = self._number(field_id, spec_field, float, optional)
        if value is None:
            return None
        if value != int(value):
            self.problems.append(SpecProblem(spec_field, f"{self.text(field_id)!r} is not a whole number"))
            return None
        return int(value)

    def number(self, field_id: str, spec_field: str, *, optional: bool = False) -> float | None:
        value = self._number(field_id, spec_field, float, optional)
        if value is not None and value != value:
            self.problems.append(SpecProblem(spec_field, "NaN is not a usable value"))
            return None
        return value

    def choice(self, field_id: str) -> str:
        value = self.screen.query_one(f"#{field_id}", Select).value
        return str(value) if value is not Select.NULL else ""

    def switch(self, field_id: str) -> bool:
        return self.screen.query_one(f"#{field_id}", Switch).value


class RunFormScreen(ReportsWorkerFailures, ModalScreen[RunSpec | None]):
    """Dismisses with a checked RunSpec (paths made absolute), or None on escape."""

    BINDINGS = [
        Binding("ctrl+s", "launch", "Launch", id="run-form.launch"),
        Binding("escape", "cancel", "Cancel", id="run-form.cancel"),
    ]

    def __init__(self, initial: RunSpec | None = None) -> None:
        super().__init__()
        self.initial = initial
        self.check_id = 0
        self.checking = False
        self.problems: list[SpecProblem] = []
        self._warned: RunSpec | None = None
        self._suggested: tuple[str, ...] | None = None
        self._suggest_timer: Timer | None = None

    # Layout.

    def _row(self, field_id: str, widget: Widget, hint: str = "") -> ComposeResult:
        with Vertical(id=f"{field_id}-row", classes="form-field"):
            with Horizontal(classes="form-line"):
                yield Label(LABELS[field_id], classes="form-label")
                yield widget
                if isinstance(widget, Switch):  # the switch's own look is colour only
                    yield Static("on" if widget.value else "off", id=f"{field_id}-state", classes="switch-state")
            if hint:
                yield Static(plain(hint), id=f"{field_id}-hint", classes="form-hint")
            yield Static("", id=f"{field_id}-problem", classes="form-problem")

    def _input(self, field_id: str, value: object, placeholder: str = "") -> Input:
        text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        return Input(text, placeholder=placeholder, id=field_id, compact=True)

    def compose(self) -> ComposeResult:
        spec = self.initial
        data = spec.dataset if spec else DatasetRef("")
        h = spec.hyperparameters if spec else Hyperparameters()
        lora = spec.lora if spec and spec.lora else LoraSettings()
        with Vertical(id="run-form-box"):
            yield Static("New training run", classes="screen-heading")
            with VerticalScroll(id="run-form-fields"):
                yield Static("Model and data", classes="form-section")
                yield from self._row(
                    "form-base-model",
                    PathInput(
                        spec.base_model if spec else "", placeholder="org/model or ./folder", id="form-base-model"
                    ),
                    "a Hub id, a cached model id or a local folder",
                )
                task_options = [(TASK_LABELS[task], task) for task in TASKS]
                yield from self._row(
                    "form-task",
                    Select(
                        task_options,
                        value=spec.task if spec else TASKS[0],
                        allow_blank=False,
                        id="form-task",
                        compact=True,
                    ),
                )
                yield from self._row(
                    "form-dataset",
                    PathInput(data.location, placeholder="data.csv, a folder, or org/dataset", id="form-dataset"),
                    dataset_hint(data.location),
                )
                yield from self._row("form-config", self._input("form-config", data.config, "default"))
                yield from self._row("form-split", self._input("form-split", data.split))
                yield from self._row(
                    "form-eval-split", self._input("form-eval-split", data.eval_split, "none: hold out a fraction")
                )
                yield from self._row(
                    "form-eval-file",
                    PathInput(data.eval_location or "", placeholder="optional", id="form-eval-file"),
                    "a separate local file to evaluate on",
                )
                yield from self._row(
                    "form-eval-fraction",
                    self._input("form-eval-fraction", data.eval_fraction),
                    "held out of the train split when no eval split or file is given (0: no evaluation)",
                )
                yield from self._row("form-text-column", self._input("form-text-column", data.text_column))
                yield from self._row(
                    "form-text-pair-column", self._input("form-text-pair-column", data.text_pair_column, "optional")
                )
                yield from self._row("form-image-column", self._input("form-image-column", data.image_column))
                yield from self._row(
                    "form-label-column",
                    self._input("form-label-column", data.label_column),
                    "string labels are mapped to ids (the mapping is saved with the model)",
                )
                yield from self._row("form-max-rows", self._input("form-max-rows", data.max_train_rows, "all"))
                yield from self._row("form-name", self._input("form-name", spec.name if spec else None, "optional"))

                yield Static("Training", classes="form-section")
                yield from self._row("form-epochs", self._input("form-epochs", h.epochs))
                yield from self._row(
                    "form-max-steps",
                    self._input("form-max-steps", h.max_steps, "none: train for the epochs"),
                    "when set, wins over epochs",
                )
                yield from self._row("form-learning-rate", self._input("form-learning-rate", h.learning_rate))
                yield from self._row("form-batch-size", self._input("form-batch-size", h.batch_size))
                yield from self._row("form-grad-accum", self._input("form-grad-accum", h.gradient_accumulation_steps))
                yield from self._row("form-max-length", self._input("form-max-length", h.max_length))
                yield from self._row(
                    "form-warmup", self._input("form-warmup", h.warmup), "steps (1 or more) or a ratio (below 1)"
                )
                yield from self._row("form-weight-decay", self._input("form-weight-decay", h.weight_decay))
                yield from self._row("form-logging-steps", self._input("form-logging-steps", h.logging_steps))
                strategies = [(name, name) for name in STRATEGIES]
                yield from self._row(
                    "form-eval-strategy",
                    Select(strategies, value=h.eval_strategy, allow_blank=False, id="form-eval-strategy", compact=True),
                )
                yield from self._row("form-eval-steps", self._input("form-eval-steps", h.eval_steps))
                yield from self._row(
                    "form-save-strategy",
                    Select(strategies, value=h.save_strategy, allow_blank=False, id="form-save-strategy", compact=True),
                )
                yield from self._row("form-save-steps", self._input("form-save-steps", h.save_steps))
                yield from self._row("form-save-limit", self._input("form-save-limit", h.save_total_limit, "all"))
                yield from self._row("form-seed", self._input("form-seed", h.seed))
                precisions = [(PRECISION_LABELS[name], name) for name in PRECISIONS]
                yield from self._row(
                    "form-precision",
                    Select(precisions, value=h.precision, allow_blank=False, id="form-precision", compact=True),
                )
                yield from self._row(
                    "form-processes",
                    self._input("form-processes", spec.num_processes if spec else 1),
                    "above 1: accelerate launch, one process per GPU",
                )

                yield Static("LoRA (PEFT)", classes="form-section")
                yield from self._row(
                    "form-lora",
                    Switch(spec is not None and spec.lora is not None, id="form-lora", animate=False),
                    "train a small adapter instead of every weight",
                )
                yield from self._row("form-lora-r", self._input("form-lora-r", lora.r))
                yield from self._row("form-lora-alpha", self._input("form-lora-alpha", lora.alpha))
                yield from self._row("form-lora-dropout", self._input("form-lora-dropout", lora.dropout))
                targets = ", ".join(lora.target_modules) if lora.target_modules else ""
                yield from self._row(
                    "form-lora-targets",
                    Input(targets, placeholder="suggested from the model", id="form-lora-targets", compact=True),
                    "comma-separated module names; empty: the suggestion for the architecture",
                )
                yield from self._row(
                    "form-lora-merge",
                    Switch(lora.merge, id="form-lora-merge", animate=False),
                    "also save base + adapter",
                )
            yield Static("", id="run-form-problems")
            with Horizontal(id="run-form-buttons"):
                yield Button("Launch", id="run-form-launch", variant="primary", compact=True)
                yield Button("Check", id="run-form-check", compact=True)
                yield Button("Cancel", id="run-form-cancel", compact=True)
                yield Static("tab next · ctrl+s launch · esc cancel", id="run-form-keys")

    def on_mount(self) -> None:
        for problem in self.query(".form-problem"):
            problem.display = False
        self.query_one("#run-form-problems").display = False
        self._show_task_rows()
        self._show_lora_rows()
        self.query_one("#form-base-model", Input).focus()

    # Reacting to fields.

    def _show_task_rows(self) -> None:
        image = self.query_one("#form-task", Select).value == "image-classification"
        for field_id in TEXT_ROWS:
            self.query_one(f"#{field_id}-row").display = not image
        for field_id in IMAGE_ROWS:
            self.query_one(f"#{field_id}-row").display = image
        self.query_one("#form-max-length-row").display = not image

    def _show_lora_rows(self) -> None:
        on_ = self.query_one("#form-lora", Switch).value
        for field_id in LORA_ROWS:
            self.query_one(f"#{field_id}-row").display = on_

    @on(Select.Changed, "#form-task")
    def task_changed(self) -> None:
        """Show the columns the task uses; LoRA targets depend on the task's model class."""
        self._show_task_rows()
        self._schedule_suggestion()

    @on(Switch.Changed)
    def say_switch_state(self, event: Switch.Changed) -> None:
        """Write on or off beside the switch."""
        self.query_one(f"#{event.switch.id}-state", Static).update("on" if event.value else "off")

    @on(Switch.Changed, "#form-lora")
    def lora_switched(self) -> None:
        """Show the LoRA settings and suggest targets for the base model."""
        self._show_lora_rows()
        self._schedule_suggestion(at_once=True)

    @on(Input.Changed, "#form-base-model")
    def base_model_changed(self) -> None:
        """New base model: new LoRA suggestion (after typing pauses)."""
        self._schedule_suggestion()

    @on(Input.Changed, "#form-dataset")
    def dataset_changed(self, event: Input.Changed) -> None:
        """Say whether the dataset is read as local files or a Hub id."""
        self.query_one("#form-dataset-hint", Static).update(plain(dataset_hint(event.value)))

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        """Enter in a field moves on, as tab does."""
        event.stop()
        self.focus_next()

    @on(Button.Pressed, "#run-form-launch")
    def launch_pressed(self) -> None:
        self.action_launch()

    @on(Button.Pressed, "#run-form-check")
    def check_pressed(self) -> None:
        self.start_checks(launch=False)

    @on(Button.Pressed, "#run-form-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    # LoRA target suggestion.

    def _schedule_suggestion(self, *, at_once: bool = False) -> None:
        if self._suggest_timer is not None:
            self._suggest_timer.stop()
            self._suggest_timer = None
        if not self.query_one("#form-lora", Switch).value:
            return
        model = self.query_one("#form-base-model", Input).value.strip()
        if not model:
            return
        if at_once:
            self._suggest()
        else:
            self._suggest_timer = self.set_timer(SUGGEST_DELAY_S, self._suggest)

    def _suggest(self) -> None:
        model = self.query_one("#form-base-model", Input).value.strip()
        task = str(self.query_one("#form-task", Select).value)
        self.query_one("#form-lora-targets-hint", Static).update(plain(f"reading the modules of {model}..."))
        self.suggest_targets(model, task)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-form-lora", description="Suggest LoRA targets")
    def suggest_targets(self, base_model: str, task: str) -> None:
        """The suggested LoRA targets of a local or cached base model (its config only, never a download)."""
        with _SOURCES_LOCK:
            self._suggest_locked(base_model, task)

    def _suggest_locked(self, base_model: str, task: str) -> None:
        from hftui.train.lora import linear_module_names, suggest_target_modules
        from hftui.train.validate import empty_model, model_has_head, no_head_message

        try:
            from transformers import AutoConfig

            folder = Path(base_model).expanduser()
            if folder.is_dir():
                config = AutoConfig.from_pretrained(str(folder))
            else:
                config = AutoConfig.from_pretrained(base_model, local_files_only=True)
        except Exception:
            note = f"{base_model} is not a local folder or a cached model: the targets are chosen when the run starts"
            self.post_message(LoraTargetsSuggested(base_model, task, None, note))
            return
        if not model_has_head(config, task):
            self.post_message(LoraTargetsSuggested(base_model, task, None, no_head_message(base_model, config, task)))
            return
        try:
            names = linear_module_names(empty_model(config, task))
        except Exception as error:
            self.post_message(LoraTargetsSuggested(base_model, task, None, f"its modules could not be listed: {error}"))
            return
        targets = suggest_target_modules(names)
        self.post_message(LoraTargetsSuggested(base_model, task, targets, f"linear layers: {', '.join(names)}"))

    @on(LoraTargetsSuggested)
    def show_suggestion(self, event: LoraTargetsSuggested) -> None:
        """Prefill the targets (unless the user typed their own) and name the model's linear layers."""
        if event.base_model != self.query_one("#form-base-model", Input).value.strip():
            return
        box = self.query_one("#form-lora-targets", Input)
        hint = self.query_one("#form-lora-targets-hint", Static)
        if event.targets is None:
            hint.update(plain(event.note))
            return
        previous = ", ".join(self._suggested) if self._suggested else ""
        if not box.value.strip() or box.value.strip() == previous:
            box.value = ", ".join(event.targets)
        self._suggested = event.targets
        hint.update(plain(f"suggested: {', '.join(event.targets)}; {event.note}"))

    # Reading and checking the spec.

    def read_spec(self) -> tuple[RunSpec | None, list[SpecProblem]]:
        """The spec the fields describe (dataset kind still unresolved), or None with the unreadable fields."""
        values = FormValues(self)
        eval_fraction = values.number("form-eval-fraction", "dataset.eval_fraction")
        max_rows = values.integer("form-max-rows", "dataset.max_train_rows", optional=True)
        hyper: dict[str, Any] = {
            "epochs": values.number("form-epochs", "hyperparameters.epochs"),
            "max_steps": values.integer("form-max-steps", "hyperparameters.max_steps", optional=True),
            "learning_rate": values.number("form-learning-rate", "hyperparameters.learning_rate"),
            "batch_size": values.integer("form-batch-size", "hyperparameters.batch_size"),
            "gradient_accumulation_steps": values.integer(
                "form-grad-accum", "hyperparameters.gradient_accumulation_steps"
            ),
            "max_length": values.integer("form-max-length", "hyperparameters.max_length"),
            "warmup": values.number("form-warmup", "hyperparameters.warmup"),
            "weight_decay": values.number("form-weight-decay", "hyperparameters.weight_decay"),
            "logging_steps": values.integer("form-logging-steps", "hyperparameters.logging_steps"),
            "eval_strategy": values.choice("form-eval-strategy"),
            "eval_steps": values.integer("form-eval-steps", "hyperparameters.eval_steps"),
            "save_strategy": values.choice("form-save-strategy"),
            "save_steps": values.integer("form-save-steps", "hyperparameters.save_steps"),
            "save_total_limit": values.integer("form-save-limit", "hyperparameters.save_total_limit", optional=True),
            "seed": values.integer("form-seed", "hyperparameters.seed"),
            "precision": values.choice("form-precision"),
        }
        processes = values.integer("form-processes", "num_processes")
        lora: LoraSettings | None = None
        if values.switch("form-lora"):
            r = values.integer("form-lora-r", "lora.r")
            alpha = values.integer("form-lora-alpha", "lora.alpha")
            dropout = values.number("form-lora-dropout", "lora.dropout")
            raw_targets = values.text("form-lora-targets")
            targets = tuple(name.strip() for name in raw_targets.replace(" ", ",").split(",") if name.strip())
            if r is not None and alpha is not None and dropout is not None:
                lora = LoraSettings(
                    r=r,
                    alpha=alpha,
                    dropout=dropout,
                    target_modules=targets or None,
                    merge=values.switch("form-lora-merge"),
                )
        if values.problems:
            return None, values.problems
        location = values.text("form-dataset")
        data = DatasetRef(
            location=location,
            config=values.optional_text("form-config"),
            split=values.text("form-split") or "train",
            eval_split=values.optional_text("form-eval-split"),
            eval_location=values.optional_text("form-eval-file"),
            eval_fraction=eval_fraction if eval_fraction is not None else 0.0,
            text_column=values.text("form-text-column") or "text",
            text_pair_column=values.optional_text("form-text-pair-column"),
            image_column=values.text("form-image-column") or "image",
            label_column=values.text("form-label-column") or "label",
            max_train_rows=max_rows,
        )
        spec = RunSpec(
            base_model=values.text("form-base-model"),
            dataset=data,
            task=values.choice("form-task") or TASKS[0],  # type: ignore[arg-type]
            hyperparameters=Hyperparameters(**hyper),
            lora=lora,
            num_processes=processes if processes is not None else 1,
            name=values.optional_text("form-name"),
        )
        problems = []
        if not location:
            problems.append(SpecProblem("dataset.location", "name a dataset: a local file or folder, or a Hub id"))
        return spec, problems

    def action_launch(self) -> None:
        """Check the spec; launch when nothing blocks it (a second ctrl+s launches despite warnings)."""
        self.start_checks(launch=True)

    def start_checks(self, *, launch: bool) -> None:
        """Read the fields, then run the checks that touch the disk, the dataset and the model in a worker."""
        spec, problems = self.read_spec()
        if spec is None or errors_of(problems):
            self.show_problems(problems)
            return
        if launch and self._warned is not None and self._warned == spec and not errors_of(self.problems):
            self.dismiss(self._warned)
            return
        self.check_id += 1
        self.checking = True
        self.show_problems([], status="Checking the values, the dataset and the model...")
        self.check_spec(self.check_id, spec, launch)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-form-check", description="Check the run spec")
    def check_spec(self, check_id: int, spec: RunSpec, launch: bool) -> None:
        """The spec's values first; when they hold, the dataset's columns, the model and the LoRA targets."""
        from hftui.train.validate import validate

        # The kind first: a Hub id must not be made into a path under the current folder.
        resolved = resolve_paths(spec.replace(dataset=_with_kind(spec.dataset)), Path.cwd())
        problems = validate(resolved, check_sources=False)
        if not errors_of(problems):
            with _SOURCES_LOCK:
                problems = validate(resolved, check_sources=True)
        self.post_message(FormChecked(check_id, resolved, problems, launch))

    @on(FormChecked)
    def checks_done(self, event: FormChecked) -> None:
        """Launch a spec with no errors; otherwise show what is wrong."""
        if event.check_id != self.check_id:
            return
        self.checking = False
        warnings = [problem for problem in event.problems if problem.severity == "warning"]
        if errors_of(event.problems):
            self._warned = None
            self.show_problems(event.problems)
            return
        if not event.launch:
            self._warned = event.spec
            self.show_problems(event.problems, status="No problems found: ctrl+s launches.")
            return
        if warnings and self._warned != event.spec:
            self._warned = event.spec
            self.show_problems(event.problems, status="Warnings above: ctrl+s again launches anyway.")
            return
        self.dismiss(event.spec)

    def show_problems(self, problems: list[SpecProblem], *, status: str = "") -> None:
        """Each problem under its field and all of them above the buttons; scroll to the first bad field."""
        self.problems = list(problems)
        by_field: dict[str, list[SpecProblem]] = {}
        for problem in problems:
            by_field.setdefault(FIELD_IDS.get(problem.field, ""), []).append(problem)
        for static in self.query(".form-problem"):
            field_id = (static.id or "").removesuffix("-problem")
            found = by_field.get(field_id, [])
            static.display = bool(found)
            text = "\n".join(f"{'!' if p.severity == 'warning' else 'x'} {p.message}" for p in found)
            static.update(plain(text))
            static.set_class(any(p.severity == "error" for p in found), "-error")
        lines = []
        errors = errors_of(problems)
        if errors:
            lines.append(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} to fix before launch:")
        for problem in problems:
            where = LABELS.get(FIELD_IDS.get(problem.field, ""), problem.field or "spec")
            lines.append(f"{'!' if problem.severity == 'warning' else 'x'} {where}: {problem.message}")
        if status:
            lines.append(status)
        summary = self.query_one("#run-form-problems", Static)
        summary.display = bool(lines)
        summary.update(plain("\n".join(lines)))
        summary.set_class(bool(errors), "-error")
        first = next((FIELD_IDS.get(p.field) for p in errors if FIELD_IDS.get(p.field)), None)
        if first is not None:
            row = self.query_one(f"#{first}-row")
            if row.display:
                self.query_one("#run-form-fields", VerticalScroll).scroll_to_widget(row, animate=False)
                self.query_one(f"#{first}").focus(scroll_visible=False)  # the keyboard lands on what to fix

    def problem_text(self, field_id: str) -> str:
        """The problems shown under one field (empty when none): for tests and screen readers."""
        static = self.query_one(f"#{field_id}-problem", Static)
        return str(static.content) if static.display else ""

    def action_cancel(self) -> None:
        """Close without a run."""
        self.dismiss(None)

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        """A check that raised is shown as a problem in the form (instead of a notification), never a crash."""
        if event.state is WorkerState.ERROR and event.worker.group == "run-form-check":
            event.prevent_default()
            self.checking = False
            error = event.worker.error
            self.show_problems([SpecProblem("", f"the checks failed: {type(error).__name__}: {error}")])


def _with_kind(data: DatasetRef) -> DatasetRef:
    """The dataset with its kind decided from what was typed (a path on disk is local, else a Hub id)."""
    return replace(data, kind=dataset_kind(data.location))  # type: ignore[arg-type]
