"""The new-run form: a RunSpec filled in field by field, checked (values, then dataset and model) before launch.

Every field is one labelled line in a scroll, so it works at 80x24 with the keyboard only: tab moves between
fields, ctrl+s launches, escape cancels. Problems are shown under the field they are about and listed above
the buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    resolve_paths,
)
from hftui.train.spec_text import dataset_hint, spec_from_text, with_dataset_kind
from hftui.train.validate import SpecProblem, errors_of
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput

TASK_LABELS = {
    "sequence-classification": "text: sequence classification",
    "image-classification": "image classification",
}
PRECISION_LABELS = {"auto": "auto (bf16/fp16 on GPU)", "fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}
SUGGEST_DELAY_S = 0.6

# Each form field: its label, and the spec fields whose problems it shows (the first is the one it sets).
FORM_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "form-base-model": ("Base model", ("base_model",)),
    "form-name": ("Run name", ("name",)),
    "form-task": ("Task", ("task",)),
    "form-dataset": ("Dataset", ("dataset.location", "dataset", "dataset.kind")),
    "form-config": ("Config", ("dataset.config",)),
    "form-split": ("Train split", ("dataset.split",)),
    "form-eval-split": ("Eval split", ("dataset.eval_split",)),
    "form-eval-file": ("Eval file", ("dataset.eval_location", "dataset.eval")),
    "form-eval-fraction": ("Eval fraction", ("dataset.eval_fraction",)),
    "form-text-column": ("Text column", ("dataset.text_column",)),
    "form-text-pair-column": ("Text pair column", ("dataset.text_pair_column",)),
    "form-image-column": ("Image column", ("dataset.image_column",)),
    "form-label-column": ("Label column", ("dataset.label_column",)),
    "form-max-rows": ("Max train rows", ("dataset.max_train_rows",)),
    "form-epochs": ("Epochs", ("hyperparameters.epochs",)),
    "form-max-steps": ("Max steps", ("hyperparameters.max_steps",)),
    "form-learning-rate": ("Learning rate", ("hyperparameters.learning_rate",)),
    "form-batch-size": ("Batch size", ("hyperparameters.batch_size", "hyperparameters.eval_batch_size")),
    "form-grad-accum": ("Grad accumulation", ("hyperparameters.gradient_accumulation_steps",)),
    "form-max-length": ("Max length (tokens)", ("hyperparameters.max_length",)),
    "form-warmup": ("Warmup", ("hyperparameters.warmup",)),
    "form-weight-decay": ("Weight decay", ("hyperparameters.weight_decay",)),
    "form-logging-steps": ("Log every (steps)", ("hyperparameters.logging_steps",)),
    "form-eval-strategy": ("Evaluate", ("hyperparameters.eval_strategy",)),
    "form-eval-steps": ("Eval every (steps)", ("hyperparameters.eval_steps",)),
    "form-save-strategy": ("Save", ("hyperparameters.save_strategy",)),
    "form-save-steps": ("Save every (steps)", ("hyperparameters.save_steps",)),
    "form-save-limit": ("Keep checkpoints", ("hyperparameters.save_total_limit",)),
    "form-seed": ("Seed", ("hyperparameters.seed",)),
    "form-precision": ("Precision", ("hyperparameters.precision",)),
    "form-lora": ("LoRA", ("lora",)),
    "form-lora-r": ("LoRA r", ("lora.r",)),
    "form-lora-alpha": ("LoRA alpha", ("lora.alpha",)),
    "form-lora-dropout": ("LoRA dropout", ("lora.dropout",)),
    "form-lora-targets": ("Target modules", ("lora.target_modules",)),
    "form-lora-merge": ("Save merged model", ("lora.merge",)),
    "form-processes": ("Processes", ("num_processes",)),
}
LABELS = {field_id: label for field_id, (label, _) in FORM_FIELDS.items()}
# The spec field each problem names -> the form field it is shown under.
FIELD_IDS = {name: field_id for field_id, (_, names) in FORM_FIELDS.items() for name in names}
# The label of each spec field a form field sets, for the problems `spec_from_text` finds.
FIELD_NAMES = {names[0]: label for label, names in FORM_FIELDS.values()}
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

    def _text_row(self, field_id: str, value: object, placeholder: str = "", hint: str = "") -> ComposeResult:
        text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        yield from self._row(field_id, Input(text, placeholder=placeholder, id=field_id, compact=True), hint)

    def _select_row(self, field_id: str, options: list[tuple[str, str]], value: str) -> ComposeResult:
        yield from self._row(field_id, Select(options, value=value, allow_blank=False, id=field_id, compact=True))

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
                tasks = [(TASK_LABELS[task], task) for task in TASKS]
                yield from self._select_row("form-task", tasks, spec.task if spec else TASKS[0])
                yield from self._row(
                    "form-dataset",
                    PathInput(data.location, placeholder="data.csv, a folder, or org/dataset", id="form-dataset"),
                    dataset_hint(data.location),
                )
                yield from self._text_row("form-config", data.config, "default")
                yield from self._text_row("form-split", data.split)
                yield from self._text_row("form-eval-split", data.eval_split, "none: hold out a fraction")
                yield from self._row(
                    "form-eval-file",
                    PathInput(data.eval_location or "", placeholder="optional", id="form-eval-file"),
                    "a separate local file to evaluate on",
                )
                yield from self._text_row(
                    "form-eval-fraction",
                    data.eval_fraction,
                    hint="held out of the train split when no eval split or file is given (0: no evaluation)",
                )
                yield from self._text_row("form-text-column", data.text_column)
                yield from self._text_row("form-text-pair-column", data.text_pair_column, "optional")
                yield from self._text_row("form-image-column", data.image_column)
                yield from self._text_row(
                    "form-label-column",
                    data.label_column,
                    hint="string labels are mapped to ids (the mapping is saved with the model)",
                )
                yield from self._text_row("form-max-rows", data.max_train_rows, "all")
                yield from self._text_row("form-name", spec.name if spec else None, "optional")

                yield Static("Training", classes="form-section")
                yield from self._text_row("form-epochs", h.epochs)
                yield from self._text_row(
                    "form-max-steps", h.max_steps, "none: train for the epochs", "when set, wins over epochs"
                )
                yield from self._text_row("form-learning-rate", h.learning_rate)
                yield from self._text_row("form-batch-size", h.batch_size)
                yield from self._text_row("form-grad-accum", h.gradient_accumulation_steps)
                yield from self._text_row("form-max-length", h.max_length)
                yield from self._text_row("form-warmup", h.warmup, hint="steps (1 or more) or a ratio (below 1)")
                yield from self._text_row("form-weight-decay", h.weight_decay)
                yield from self._text_row("form-logging-steps", h.logging_steps)
                strategies = [(name, name) for name in STRATEGIES]
                yield from self._select_row("form-eval-strategy", strategies, h.eval_strategy)
                yield from self._text_row("form-eval-steps", h.eval_steps)
                yield from self._select_row("form-save-strategy", strategies, h.save_strategy)
                yield from self._text_row("form-save-steps", h.save_steps)
                yield from self._text_row("form-save-limit", h.save_total_limit, "all")
                yield from self._text_row("form-seed", h.seed)
                precisions = [(PRECISION_LABELS[name], name) for name in PRECISIONS]
                yield from self._select_row("form-precision", precisions, h.precision)
                yield from self._text_row(
                    "form-processes",
                    spec.num_processes if spec else 1,
                    hint="above 1: accelerate launch, one process per GPU",
                )

                yield Static("LoRA (PEFT)", classes="form-section")
                yield from self._row(
                    "form-lora",
                    Switch(spec is not None and spec.lora is not None, id="form-lora", animate=False),
                    "train a small adapter instead of every weight",
                )
                yield from self._text_row("form-lora-r", lora.r)
                yield from self._text_row("form-lora-alpha", lora.alpha)
                yield from self._text_row("form-lora-dropout", lora.dropout)
                yield from self._text_row(
                    "form-lora-targets",
                    ", ".join(lora.target_modules) if lora.target_modules else "",
                    "suggested from the model",
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
        from hftui.train.lora import suggest_lora_targets

        suggestion = suggest_lora_targets(base_model, task)
        self.post_message(LoraTargetsSuggested(base_model, task, suggestion.targets, suggestion.note))

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
        return spec_from_text(self.typed_fields(), FIELD_NAMES)

    def typed_fields(self) -> dict[str, str | bool]:
        """What each field holds, by the spec field it sets: its text, the chosen option, or a switch's state."""
        typed: dict[str, str | bool] = {}
        for field_id, (_, names) in FORM_FIELDS.items():
            widget = self.query_one(f"#{field_id}")
            if isinstance(widget, Switch):
                typed[names[0]] = widget.value
            elif isinstance(widget, Select):
                typed[names[0]] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                typed[names[0]] = widget.value
        return typed

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
        resolved = resolve_paths(spec.replace(dataset=with_dataset_kind(spec.dataset)), Path.cwd())
        problems = validate(resolved, check_sources=False)
        if not errors_of(problems):
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
        for static in self.query(".form-problem").results(Static):
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
