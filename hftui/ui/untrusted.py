"""Show text that came from the Hub or from files as plain text: never markup, never terminal control."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from hftui.hub.plain_text import printable


def plain(value: object, *, single_line: bool = False) -> Content:
    """Content for a Static or Label: markup shows literally, control characters as escapes."""
    return Content(printable(value, single_line=single_line))


def plain_cell(value: object) -> Text:
    """A DataTable cell: DataTable parses str cells as markup, a Text it leaves alone."""
    return Text(printable(value, single_line=True), no_wrap=True, overflow="ellipsis")
