"""The LoRA comparison from the course: for a base model, full fine-tuning against LoRA, measured by a short run.

Type the model (prefilled with the highlighted run's base model) and, optionally, a dataset, then Enter: a
thread worker runs `compare_lora` (each variant in its own process) and posts coalescing progress; the table
shows trainable and total parameters, % trainable, peak memory, step time and saved size side by side.
Escape or c cancels a comparison under way (the measuring process is killed); Escape again goes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from hftui.hub.plain_text import printable
from hftui.train import lora_compare
from hftui.train.lora_compare import (
    VARIANTS,
    CompareProgress,
    CompareSettings,
    LoraCompareCancelled,
    LoraCompareError,
    LoraComparison,
)
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.messages import Coalescing
from hftui.ui.untrusted import plain, plain_cell

GROUP = "lora-compare"
STAGES = {"starting": "starting", "loading": "loading", "training": "training", "saving": "saving", "done": "done"}


@dataclass
class LoraCompareProgressed(Coalescing):
    """Where the comparison is (a newer one replaces an older one still queued)."""

    progress: CompareProgress


@dataclass
class LoraCompareFinished(Message):
    """Both variants were measured."""

    result: LoraComparison


@dataclass
class LoraCompareFailed(Message):
    """The comparison failed (`message` says why) or was cancelled."""

    message: str
    cancelled: bool = False


class LoraCompareScreen(ReportsWorkerFailures, Screen[None]):
    """Full fine-tuning vs LoRA for one base model: a table of what a short run of each measured."""

    HELP_TITLE = "LoRA comparison"
    BINDINGS = [
        Binding("escape", "back_or_cancel", "Back/cancel", id="lora-compare.escape"),
        Binding("c", "cancel", "Cancel", id="lora-compare.cancel"),
        Binding("r", "run", "Run", id="lora-compare.run"),
    ]

    def __init__(
        self,
        base_model: str | None = None,
        *,
        dataset: str | None = None,
        text_column: str = "text",
        label_column: str = "label",
        steps: int = 4,
        batch_size: int = 8,
        max_length: int = 128,
    ):
        super().__init__()
        self.base_model = base_model or ""
        self.dataset = dataset or ""
        self.text_column = text_column
        self.label_column = label_column
        self.steps = steps
        self.batch_size = batch_size
        self.max_length = max_length
        self.running = False
        self.result: LoraComparison | None = None
        self.worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain("LoRA vs full fine-tuning"), classes="screen-heading")
        with Horizontal(id="lora-compare-inputs"):
            yield Label("Model ", classes="lora-compare-label")
            yield Input(
                self.base_model, placeholder="a Hub id or a model folder", id="lora-compare-model", compact=True
            )
        with Horizontal(id="lora-compare-data"):
            yield Label("Data  ", classes="lora-compare-label")
            yield Input(
                self.dataset,
                placeholder="a CSV/JSONL file or Hub dataset (empty: generated rows)",
                id="lora-compare-dataset",
                compact=True,
            )
        yield Static(plain(self._settings_line()), id="lora-compare-settings")
        yield ProgressBar(total=len(VARIANTS) * self.steps, show_eta=False, id="lora-compare-progress")
        yield Static(plain("a short training of each variant, each in its own process"), id="lora-compare-status")
        table: DataTable[Text] = DataTable(id="lora-compare-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="lora-compare-notes")
        yield Footer(compact=True)

    def _settings_line(self) -> str:
        return f"{self.steps} steps each · batch {self.batch_size} · length {self.max_length} · LoRA r 8 · Enter runs"

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(Text(""), key="measure", width=22)
        table.add_column(Text("full", justify="right"), key="full", width=20)
        table.add_column(Text("LoRA", justify="right"), key="lora", width=20)
        self.query_one("#lora-compare-model", Input).focus()

    # --- running ---------------------------------------------------------------------------------------------

    def settings(self) -> CompareSettings | None:
        """The settings from the inputs, or None (with a notification) when the model is missing."""
        model = self.query_one("#lora-compare-model", Input).value.strip()
        if not model:
            self.notify("Type a base model first (a Hub id or a model folder).", markup=False)
            return None
        dataset = self.query_one("#lora-compare-dataset", Input).value.strip() or None
        # Without a dataset the generated rows have the default column names.
        text_column, label_column = (self.text_column, self.label_column) if dataset else ("text", "label")
        return CompareSettings(
            model,
            dataset,
            text_column=text_column,
            label_column=label_column,
            steps=self.steps,
            batch_size=self.batch_size,
            max_length=self.max_length,
        )

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        """Enter in either input runs the comparison."""
        event.stop()
        self.action_run()

    def action_run(self) -> None:
        """Start the comparison (one at a time)."""
        if self.running:
            self.notify("A comparison is already running; c cancels it.", markup=False)
            return
        settings = self.settings()
        if settings is None:
            return
        self.running = True
        self.result = None
        self.query_one(ProgressBar).update(total=len(VARIANTS) * settings.steps, progress=0)
        self.query_one(DataTable).clear()
        self.query_one("#lora-compare-notes", Static).update("")
        self._status(f"measuring {settings.base_model}…")
        self.query_one(DataTable).focus()
        self.worker = self.run_comparison(settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group=GROUP, description="LoRA comparison")
    def run_comparison(self, settings: CompareSettings) -> None:
        """Measure both variants (each in its own process), posting progress; cancellable."""
        worker = get_current_worker()
        try:
            result = lora_compare.compare_lora(
                settings,
                progress=lambda update: self.post_message(LoraCompareProgressed(update)),
                cancelled=lambda: worker.is_cancelled,
            )
        except LoraCompareCancelled:
            self.post_message(LoraCompareFailed("cancelled; the measuring process was stopped", cancelled=True))
            return
        except LoraCompareError as error:
            self.post_message(LoraCompareFailed(str(error)))
            return
        self.post_message(LoraCompareFinished(result))

    @on(LoraCompareProgressed)
    def progressed(self, message: LoraCompareProgressed) -> None:
        """Move the bar and say which variant is at which stage."""
        if not self.running:
            return
        update = message.progress
        offset = VARIANTS.index(update.variant) * update.steps if update.variant in VARIANTS else 0
        self.query_one(ProgressBar).update(total=len(VARIANTS) * update.steps, progress=offset + update.step)
        stage = STAGES.get(update.stage, update.stage)
        step = f" step {update.step}/{update.steps}" if update.stage == "training" else ""
        detail = f": {update.message}" if update.message else ""
        self._status(f"{update.variant}: {stage}{step}{detail}")

    @on(LoraCompareFinished)
    def finished(self, message: LoraCompareFinished) -> None:
        """Show the table and how it was measured."""
        self.running = False
        self.result = result = message.result
        table = self.query_one(DataTable)
        table.clear()
        for measure, full, lora in result.rows():
            table.add_row(plain_cell(measure), _right(full), _right(lora))
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total or 0)
        self._status(result.summary())
        notes = [
            f"dataset: {result.dataset}",
            f"LoRA targets: {', '.join(result.lora.target_modules) or '-'}",
            f"peak memory: {result.memory_method}",
            *result.notes,
        ]
        self.query_one("#lora-compare-notes", Static).update(plain("\n".join(notes)))

    @on(LoraCompareFailed)
    def failed(self, message: LoraCompareFailed) -> None:
        """Say why there is no table."""
        self.running = False
        self._status(message.message)
        if not message.cancelled:
            self.notify(printable(message.message), title="LoRA comparison failed", severity="error", markup=False)

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised ends the comparison (and is reported by `ReportsWorkerFailures`)."""
        if event.worker.group != GROUP:
            return
        if event.state is WorkerState.ERROR:
            self.running = False
            self._status(f"failed: {type(event.worker.error).__name__}: {event.worker.error}")
        elif event.state is WorkerState.CANCELLED and self.running:
            self.running = False
            self._status("cancelled")

    def _status(self, text: str) -> None:
        self.query_one("#lora-compare-status", Static).update(plain(text))

    # --- keys ------------------------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        """Cancel the comparison under way (its measuring process is killed)."""
        if not self.running or self.worker is None:
            self.notify("Nothing is running.", markup=False)
            return
        self._status("cancelling…")
        self.worker.cancel()

    def action_back_or_cancel(self) -> None:
        """Cancel a running comparison, else go back."""
        if self.running:
            self.action_cancel()
            return
        self.dismiss()


def _right(value: str) -> Text:
    cell = plain_cell(value)
    cell.justify = "right"
    return cell
