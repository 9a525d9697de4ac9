"""Pick one item from a short list (a column, a format): enter chooses, escape cancels."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hftui.ui.untrusted import plain


class ChoiceScreen(ModalScreen[int | None]):
    """Dismisses with the index of the chosen item, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, items: Sequence[str]) -> None:
        super().__init__()
        self.title_text = title
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box"):
            yield Static(plain(self.title_text), classes="screen-heading")
            yield OptionList(
                *(Option(plain(item, single_line=True), id=str(index)) for index, item in enumerate(self.items)),
                id="choice-options",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0 if self.items else None
        options.focus()

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        """Close with the chosen index."""
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        """Close without a choice."""
        self.dismiss(None)
