"""A DataTable of repos whose cells are always plain text."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.widgets import DataTable

from hftui.ui.untrusted import plain_cell


class RepoTable(DataTable[object]):
    """Row-cursor table for Hub-sourced rows; every cell goes through `plain_cell`."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="table.bottom"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def show_rows(self, columns: Sequence[str | tuple[str, int]], rows: Sequence[tuple[str, Sequence[object]]]) -> None:
        """Replace the table's content: `rows` are (row key, cell values) pairs; a column given as
        (label, width) is capped at that width so narrow terminals still see the later columns."""
        self.clear(columns=True)
        for column in columns:
            label, width = column if isinstance(column, tuple) else (column, None)
            self.add_column(label, width=width)
        for key, cells in rows:
            self.add_row(*(plain_cell(cell) for cell in cells), key=key)
