"""An Input for file and folder paths that completes the last path component as you type; tab accepts it."""

from __future__ import annotations

import asyncio

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from hftui.paths import complete_path


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
