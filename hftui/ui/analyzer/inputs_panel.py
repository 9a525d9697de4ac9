"""The Analyzer's pending inputs: the path box, pasted text and the app's inbox, and the line saying what waits.

Typed paths are read in the "analyzer-collect" worker (a folder may be large); the inbox is what the Datasets
screen sent (`app.analyzer_inbox`), adopted as it grows. Queued jobs keep the inputs they were given, so
clearing here changes only what the next job gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import on, work
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from hftui.analyze.inputs import AnalysisInput, count_by_modality
from hftui.analyze.sources import CollectedInputs, InputProblem, collect_inputs
from hftui.hub.plain_text import printable
from hftui.ui.app_state import hub_app
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.dialogs.text_paste import PasteTextScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput


@dataclass
class InputsCollected(Message):
    """A typed path was read: the inputs found there and the problems."""

    path: str
    collected: CollectedInputs


class InputsPanel(ReportsWorkerFailures, Vertical):
    """The path box and the inbox line, and the inputs the next job will analyse, with where they came from."""

    DEFAULT_CSS = """
    InputsPanel { height: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.inputs: tuple[AnalysisInput, ...] = ()
        self.sources: list[str] = []
        self.problems: list[InputProblem] = []
        self.collecting = 0
        self.pasted = 0
        self.inbox_taken = 0

    def compose(self) -> Iterable[Widget]:
        yield PathInput(placeholder="i: a file or folder to analyse (tab completes, enter adds)", id="analyzer-path")
        yield Static("", id="analyzer-inbox")

    def on_mount(self) -> None:
        self.watch(self.app, "analyzer_inbox", self.take_inbox)
        self.show()

    def collect_path(self, path: str) -> None:
        """Read `path`'s inputs in a worker; the line says a path is being read meanwhile."""
        self.collecting += 1
        self.show()
        self.collect(path)

    @work(thread=True, exit_on_error=False, group="analyzer-collect", description="Read analysis inputs")
    def collect(self, path: str) -> None:
        """Read one path (a folder recursively) off the event loop; not exclusive, each path is its own request."""
        self.post_message(InputsCollected(path, collect_inputs([path])))

    @on(InputsCollected)
    def add_collected(self, event: InputsCollected) -> None:
        """Add what the path gave; say what it did not."""
        self.collecting = max(self.collecting - 1, 0)
        self.problems.extend(event.collected.problems)
        for problem in event.collected.problems:
            self.notify(
                printable(f"{problem.path} {problem.message}."), title="Not added", severity="warning", markup=False
            )
        self.add_inputs(event.collected.inputs, event.path)

    def paste(self) -> None:
        """Paste or type text; each non-empty line becomes a text input."""

        def pasted(text: str | None) -> None:
            if not text:
                return
            items = []
            for line in text.splitlines():
                if line.strip():
                    self.pasted += 1
                    items.append(AnalysisInput("text", f"pasted {self.pasted}", line))
            self.add_inputs(tuple(items), "pasted text")

        self.app.push_screen(PasteTextScreen(), pasted)

    def take_inbox(self, inbox: tuple[AnalysisInput, ...]) -> None:
        """Adopt what the Datasets screen sent since last time (the app keeps the inbox until inputs are cleared)."""
        if len(inbox) < self.inbox_taken:
            self.inbox_taken = 0
        new = inbox[self.inbox_taken :]
        self.inbox_taken = len(inbox)
        if new:
            origins = dict.fromkeys(item.origin.rsplit(" row ", 1)[0] for item in new)
            self.add_inputs(new, *origins)

    def add_inputs(self, items: Sequence[AnalysisInput], *sources: str) -> None:
        """Add inputs to the pending ones."""
        if items:
            self.inputs = (*self.inputs, *items)
            for source in sources:
                if source not in self.sources:
                    self.sources.append(source)
        self.show()

    def clear(self) -> None:
        """Forget the pending inputs (and the Datasets screen's inbox)."""
        self.inputs = ()
        self.sources = []
        self.problems = []
        hub_app(self).analyzer_inbox = ()
        hub_app(self).analyzer_labels.clear()
        self.show()

    def show(self) -> None:
        """Say what waits to be analysed, by modality and origin, and which paths gave nothing."""
        panel = self.query_one("#analyzer-inbox", Static)
        if self.inputs:
            counts = ", ".join(f"{count} {modality}" for modality, count in count_by_modality(self.inputs).items())
            shown = ", ".join(self.sources[:3]) + (
                f" and {len(self.sources) - 3} more" if len(self.sources) > 3 else ""
            )
            text = f"Waiting for analysis: {counts} (from {shown}) · r runs, x clears"
        else:
            text = "No inputs yet: i adds a file or folder, p pastes text, A in a dataset preview sends a column."
        if self.collecting:
            text += f" · reading {self.collecting} path(s)…"
        if self.problems:
            first = self.problems[-1]
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            text += f"\n⚠ {first.path} {first.message}{more}"
        panel.update(plain(text))
        panel.set_class(bool(self.problems), "-problem")
