"""Opening the publish screen from elsewhere (the Account screen, the palette, a training run), with its e
opening the card editor.

The card editor opens the publish screen itself (p) and the publish screen knows the editor only through the
`edit_card` it is given, so the two screen modules do not import each other; this module knows both.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from hftui.ui.publish.card_editor import CardEditorScreen
from hftui.ui.publish.publish import PublishScreen


def open_publish(app: App[Any], folder: Path, kind: str | None = None) -> None:
    """The publish screen on `folder`, whose e opens the card editor on it."""
    app.push_screen(PublishScreen(folder, kind, edit_card=partial(edit_card, app)))


def edit_card(app: App[Any], folder: Path, kind: str | None = None) -> None:
    """The card editor on `folder` as `kind`; back to the editor instead when one is below the current screen."""
    stack = app.screen_stack
    if len(stack) > 1 and isinstance(stack[-2], CardEditorScreen):
        app.pop_screen()
        return
    app.push_screen(CardEditorScreen(folder, kind))


def publish_run_model(screen: Screen[Any], model_dir: str | None, state: str) -> None:
    """Open publishing on a training run's saved model (or adapter) folder, or say why there is none yet."""
    folder = Path(model_dir) if model_dir else None
    if folder is None or not folder.is_dir():
        screen.notify(
            f"This run ({state}) has no saved model to publish: a run saves model/ with its card when it finishes.",
            severity="warning",
            markup=False,
        )
        return
    open_publish(screen.app, folder, "model")
