"""Help: every key binding of the app and of each screen, with what it does."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from hftui.ui.untrusted import plain_cell


def _as_bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    result = []
    for item in bindings:
        if isinstance(item, Binding):
            result.append(item)
        else:
            result.append(Binding(*item))
    return result


class HelpScreen(ModalScreen[None]):
    """A modal table of bindings: key, what it does, where it works."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close2"),
    ]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("Keys  (escape closes; ctrl+p opens the command palette)", classes="screen-heading")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        table.add_columns("Key", "Where", "Action")
        seen: set[tuple[str, str]] = set()
        for where, bindings in self.sections:
            for binding in _as_bindings(bindings):
                for key in binding.key.split(","):
                    display = self.app.get_key_display(Binding(key.strip(), binding.action))
                    description = binding.description or binding.action
                    if (display, where) in seen:
                        continue
                    seen.add((display, where))
                    table.add_row(plain_cell(display), plain_cell(where), plain_cell(description))
        table.focus()
