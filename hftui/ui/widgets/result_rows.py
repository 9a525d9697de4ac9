"""A table for many rows that keep arriving: fixed column widths, O(1) appends, only visible lines drawn.

DataTable measures every new cell and recomputes its row offsets on each change, which costs the event loop
more the longer a job runs; here a row is kept as it came and turned into its cells (`cells`), cut to the
columns' widths, only when it is first drawn: a job's rows arrive faster than anyone reads them, and the event
loop's time is the analyzer's (the GIL). Cells are sanitised with `printable` (never markup) as every untrusted
cell is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hftui.hub.plain_text import printable


def fit_cell(value: object, width: int) -> str:
    """`value` on one line, exactly `width` cells: padded, or cut with an ellipsis."""
    text = printable(value, single_line=True)
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…" if width > 0 else ""
    return set_cell_size(text, width)


class ResultRows(ScrollView, can_focus=True):
    """Rows under a fixed header; a row cursor (j/k, arrows, page keys, home/end); enter chooses a row."""

    DEFAULT_CSS = """
    ResultRows { height: 1fr; }
    ResultRows > .result-rows--header { text-style: bold; background: $panel; }
    ResultRows > .result-rows--cursor { background: $block-cursor-blurred-background; }
    ResultRows:focus > .result-rows--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {"result-rows--header", "result-rows--cursor"}
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="rows.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="rows.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="rows.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="rows.page-down"),
        Binding("home,ctrl+home", "first", "First row", show=False, id="rows.first"),
        Binding("end,ctrl+end,G", "last", "Last row", show=False, id="rows.last"),
        Binding("enter", "choose", "Open", show=False, id="rows.choose"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=False, repaint=True)

    @dataclass
    class RowChosen(Message):
        """Enter was pressed on row `index`."""

        rows: ResultRows
        index: int

        @property
        def control(self) -> ResultRows:
            return self.rows

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[tuple[str, int]] = []
        self.rows: list[object] = []
        self.header = ""
        self._lines: dict[int, str] = {}  # rows drawn so far, as their line of fitted cells

    @property
    def row_count(self) -> int:
        """How many rows the table holds."""
        return len(self.rows)

    def set_columns(self, columns: Sequence[tuple[str, int]]) -> None:
        """Start again with these (label, width) columns and no rows."""
        self.columns = [(label, max(width, 1)) for label, width in columns]
        self.header = self._join(self._fit([label for label, _ in self.columns]))
        self.rows = []
        self._lines = {}
        self.cursor_row = 0
        self._resize()
        self.scroll_to(0, 0, animate=False)

    def add_rows(self, rows: Iterable[object]) -> None:
        """Append rows (each turned into one value per column by `cells` when drawn); the cursor and the view
        stay where they are."""
        first = len(self.rows)
        self.rows.extend(rows)
        self._resize(first)

    def cells(self, row: object) -> Sequence[object]:
        """The values of `row`, one per column (a row is its values unless a subclass says otherwise)."""
        return row if isinstance(row, Sequence) and not isinstance(row, str) else (row,)

    def get_row_at(self, index: int) -> list[str]:
        """Row `index` as the cells shown (cut to their widths)."""
        return [cell.rstrip() for cell in self._fit(self.cells(self.rows[index]))]

    def _line(self, index: int) -> str:
        line = self._lines.get(index)
        if line is None:
            line = self._lines[index] = self._join(self._fit(self.cells(self.rows[index])))
        return line

    def _fit(self, values: Sequence[object]) -> tuple[str, ...]:
        return tuple(fit_cell(value, width) for (_, width), value in zip(self.columns, values, strict=False))

    @staticmethod
    def _join(cells: Sequence[str]) -> str:
        return "".join(f" {cell} " for cell in cells)

    def _resize(self, first_new: int = 0) -> None:
        width = sum(width + 2 for _, width in self.columns)
        self.virtual_size = Size(width, len(self.rows) + 1)
        if first_new < self.scroll_offset.y + self.size.height:  # else the new rows are all below the view
            self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("result-rows--header")
            return Strip([Segment(self.header, style)]).crop_extend(scroll_x, scroll_x + width, style)
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style = base
        if index == self.cursor_row:
            style = base + self.get_component_rich_style("result-rows--cursor")
        return Strip([Segment(self._line(index), style)]).crop_extend(scroll_x, scroll_x + width, style)

    def watch_cursor_row(self, row: int) -> None:
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)

    def validate_cursor_row(self, row: int) -> int:
        return min(max(row, 0), max(len(self.rows) - 1, 0))

    def action_cursor(self, step: int) -> None:
        """Move the cursor up or down."""
        self.cursor_row += step

    def action_page(self, direction: int) -> None:
        """Move the cursor a page."""
        self.cursor_row += direction * max(self.size.height - 2, 1)

    def action_first(self) -> None:
        """The first row."""
        self.cursor_row = 0

    def action_last(self) -> None:
        """The last row so far."""
        self.cursor_row = len(self.rows) - 1

    def action_choose(self) -> None:
        """Say which row enter was pressed on."""
        if self.rows:
            self.post_message(self.RowChosen(self, self.cursor_row))
