"""Pick what a benchmark compares: the Analyzer's models for one task (cached ones that fit, the default, any typed
id/path), or the Playground's endpoints and local models."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput


class BenchmarkSetupScreen(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the models ticked (in list order), or None; space ticks, r runs, escape cancels.

    Ticks are written as [x] and [ ], so they read without colour.
    """

    BINDINGS = [
        Binding("space", "tick_model", "Tick", id="benchmark.toggle"),
        Binding("r", "run", "Run benchmark", id="benchmark.run"),
        Binding("escape", "cancel", "Cancel", id="benchmark.cancel"),
    ]

    def __init__(
        self,
        task: str,
        candidates: Sequence[tuple[str, str, bool]],
        inputs: int,
        labelled: int,
        *,
        heading: str | None = None,
        add_hint: str = "another model: a Hub id or a local folder, enter adds it",
    ) -> None:
        """`candidates` are (model, why it is offered, ticked at first); `heading` replaces the Analyzer's."""
        super().__init__()
        self.heading = heading
        self.add_hint = add_hint
        self.bench_task = task
        self.candidates = [(model, why) for model, why, _ in candidates]
        self.ticked = {model for model, _, ticked in candidates if ticked}
        self.inputs = inputs
        self.labelled = labelled

    def prompt(self, index: int) -> Content:
        model, why = self.candidates[index]
        return plain(f"[{'x' if model in self.ticked else ' '}] {model}  ({why})", single_line=True)

    def compose(self) -> ComposeResult:
        labels = f", {self.labelled} with labels (accuracy and F1)" if self.labelled else ", no labels (speed only)"
        with Vertical(id="benchmark-box"):
            heading = self.heading or f"Benchmark {self.bench_task} on {self.inputs} inputs{labels}"
            yield Static(plain(heading), classes="screen-heading")
            yield OptionList(*(self.prompt(index) for index in range(len(self.candidates))), id="benchmark-models")
            yield PathInput(placeholder=self.add_hint, id="benchmark-add")
            keys = "space or enter ticks · r runs the ticked models · tab: the box · escape cancels"
            yield Static(keys, classes="empty-state")

    def on_mount(self) -> None:
        models = self.query_one(OptionList)
        models.highlighted = 0 if self.candidates else None
        models.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In the box, space and r are typed.
        if action in ("tick_model", "run"):
            return not isinstance(self.focused, Input)
        return True

    def action_tick_model(self) -> None:
        """Tick or untick the highlighted model."""
        models = self.query_one(OptionList)
        index = models.highlighted
        if index is None:
            return
        self.ticked ^= {self.candidates[index][0]}
        models.replace_option_prompt_at_index(index, self.prompt(index))

    @on(OptionList.OptionSelected)
    def toggle_selected(self) -> None:
        """Enter ticks or unticks too."""
        self.action_tick_model()

    @on(Input.Submitted, "#benchmark-add")
    def add_model(self, event: Input.Submitted) -> None:
        """Add the typed model to the list, ticked."""
        event.stop()
        model = event.value.strip()
        event.input.value = ""
        models = self.query_one(OptionList)
        if model:
            self.ticked.add(model)
            known = [candidate for candidate, _ in self.candidates]
            if model in known:
                models.replace_option_prompt_at_index(known.index(model), self.prompt(known.index(model)))
            else:
                self.candidates.append((model, "typed"))
                models.add_option(self.prompt(len(self.candidates) - 1))
        models.focus()

    def action_run(self) -> None:
        """Close with the ticked models; at least one is needed."""
        chosen = [model for model, _ in self.candidates if model in self.ticked]
        if not chosen:
            self.notify("Tick at least one model (space), or type one below.", markup=False)
            return
        self.dismiss(tuple(chosen))

    def action_cancel(self) -> None:
        """Close without a benchmark."""
        self.dismiss(None)
