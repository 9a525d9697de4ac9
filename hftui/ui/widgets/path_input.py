"""An Input for file and folder paths that completes the last path component as you type; tab accepts it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

MAX_ENTRIES = 2000  # a huge folder is not listed whole just to complete a name


def complete_path(value: str) -> str | None:
    """`value` with its last component completed from what is on disk (folders end in "/"), or None.

    One match completes fully; several complete to their common prefix, or to the first match when they
    share nothing more than what was typed (nothing, when no name was typed yet). Hidden entries are offered
    only when the name starts with ".".
    Blocking (lists a folder): call it off the event loop.
    """
    if not value or "\n" in value:
        return None
    head, slash, name = value.rpartition("/")
    folder = Path(os.path.expanduser(head or "/")) if slash else Path(".")
    try:
        matches: list[tuple[str, bool]] = []
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                if not entry.name.startswith(name) or (entry.name.startswith(".") and not name.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                matches.append((entry.name, is_dir))
    except OSError:
        return None
    if not matches or (not name and len(matches) > 1):  # nothing typed yet: no guess among many
        return None
    matches.sort()
    prefix = value[: len(value) - len(name)]
    if len(matches) == 1:
        found, is_dir = matches[0]
        completed = prefix + found + ("/" if is_dir else "")
    else:
        common = os.path.commonprefix([found for found, _ in matches])  # noqa: RUF071 - names, not paths
        completed = prefix + (common if len(common) > len(name) else matches[0][0] + ("/" if matches[0][1] else ""))
    return completed if completed != value else None


class PathSuggester(Suggester):
    """Suggests the completed path; the folder is listed in a thread, so a slow disk never stalls the UI."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value)


class PathInput(Input):
    """A path box: the completion shows greyed after the cursor; tab (or right at the end) accepts it."""

    BINDINGS = [Binding("tab", "accept_completion", "Complete", show=False, id="path.complete")]

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(value, placeholder=placeholder, id=id, compact=True, suggester=PathSuggester())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without a completion to accept, tab keeps its usual meaning (the next widget).
        if action == "accept_completion":
            return bool(self._suggestion) and self.cursor_at_end
        return True

    def action_accept_completion(self) -> None:
        """Take the suggested completion."""
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
