"""Pick the models a benchmark compares for one task: cached ones that fit, the default, or any typed id/path."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput


class BenchmarkSetupScreen(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the models ticked (in list order), or None; space ticks, r runs, escape cancels."""

    BINDINGS = [
        Binding("r", "run", "Run benchmark", id="benchmark.run"),
        Binding("escape", "cancel", "Cancel", id="benchmark.cancel"),
    ]

    def __init__(self, task: str, candidates: Sequence[tuple[str, str, bool]], inputs: int, labelled: int) -> None:
        """`candidates` are (model, why it is offered, ticked at first)."""
        super().__init__()
        self.bench_task = task
        self.candidates = list(candidates)
        self.inputs = inputs
        self.labelled = labelled

    def compose(self) -> ComposeResult:
        labels = f", {self.labelled} with labels (accuracy and F1)" if self.labelled else ", no labels (speed only)"
        with Vertical(id="benchmark-box"):
            heading = f"Benchmark {self.bench_task} on {self.inputs} inputs{labels}"
            yield Static(plain(heading), classes="screen-heading")
            yield SelectionList[str](
                *(
                    Selection(plain(f"{model}  ({why})", single_line=True), model, ticked)
                    for model, why, ticked in self.candidates
                ),
                id="benchmark-models",
            )
            yield PathInput(placeholder="another model: a Hub id or a local folder, enter adds it", id="benchmark-add")
            yield Static(
                "space ticks · r runs the ticked models · tab: the box · escape cancels", classes="empty-state"
            )

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    @on(Input.Submitted, "#benchmark-add")
    def add_model(self, event: Input.Submitted) -> None:
        """Add the typed model to the list, ticked."""
        event.stop()
        model = event.value.strip()
        event.input.value = ""
        models = self.query_one(SelectionList)
        if not model:
            models.focus()
            return
        if model in models.selected or any(model == candidate for candidate, _, _ in self.candidates):
            models.select(model)
        else:
            self.candidates.append((model, "typed", True))
            models.add_option(Selection(plain(f"{model}  (typed)", single_line=True), model, True))
        models.focus()

    def action_run(self) -> None:
        """Close with the ticked models; at least one is needed."""
        models = self.query_one(SelectionList)
        chosen = [model for model, _, _ in self.candidates if model in models.selected]
        if not chosen:
            self.notify("Tick at least one model (space), or type one below.", markup=False)
            return
        self.dismiss(tuple(chosen))

    def action_cancel(self) -> None:
        """Close without a benchmark."""
        self.dismiss(None)
