"""One analysed item in full: its input, the whole output (top-k, caption or transcript, error), latency, origin.

An image input is drawn as a half-block picture; the file is decoded in a worker, never on the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from hftui.analyze.events import ItemResult
from hftui.analyze.inputs import AnalysisInput
from hftui.data.halfblocks import MAX_HEIGHT, MAX_WIDTH, HalfBlockImage, half_blocks
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.browse.dataset_preview import picture_content
from hftui.ui.untrusted import plain

BAR_WIDTH = 20


@dataclass
class PictureDrawn(Message):
    """The input image was decoded and shrunk to terminal cells (None: it could not be read)."""

    picture: HalfBlockImage | None
    problem: str | None = None


def score_bar(score: float, width: int = BAR_WIDTH) -> str:
    """A score from 0 to 1 as a bar of `width` cells (full and light blocks, readable without colour)."""
    filled = round(max(0.0, min(1.0, score)) * width)
    return "█" * filled + "░" * (width - filled)


def describe_result(result: ItemResult, item: AnalysisInput | None) -> str:
    """Everything about one result as plain lines: where it came from, what ran, what it said."""
    lines = [
        f"Origin: {result.origin}",
        f"Input: {result.modality} #{result.index + 1}",
        f"Task: {result.task}",
        f"Model: {result.model}",
        f"Latency: {result.latency_s * 1000:.1f} ms",
        "",
    ]
    if result.error is not None:
        lines += ["⚠ Error:", result.error]
    elif result.top_k:
        lines.append("Top predictions:")
        width = max(len(label) for label, _ in result.top_k)
        lines += [f"  {label:<{width}}  {score:6.3f}  {score_bar(score)}" for label, score in result.top_k]
    elif result.label is not None:
        lines.append(f"Label: {result.label}" + (f" ({result.score:.3f})" if result.score is not None else ""))
    else:
        what = "Transcript" if result.task == "automatic-speech-recognition" else "Caption"
        lines += [f"{what}:", result.text or "(empty)"]
    if item is not None and item.modality == "text" and isinstance(item.value, str):
        lines += ["", "Text:", item.value]
    elif item is not None and isinstance(item.value, str | os.PathLike):
        lines += ["", f"File: {os.fspath(item.value)}"]
    return "\n".join(lines)


def _decodable(value: Any) -> Any:
    """An image `half_blocks` can read: a path on disk is opened (it only takes decoded images and bytes)."""
    path = value if isinstance(value, str | os.PathLike) else None
    if isinstance(value, Mapping) and not value.get("bytes") and isinstance(value.get("path"), str):
        path = value["path"]
    if path is None:
        return value
    from PIL import Image

    image = Image.open(path)
    image.load()
    return image


class ResultDetailScreen(ReportsWorkerFailures, ModalScreen[None]):
    """The full output of one row; arrows and page keys scroll, escape or enter closes."""

    BINDINGS = [
        Binding("escape,enter", "dismiss", "Close", id="result.close"),
    ]

    def __init__(self, result: ItemResult, item: AnalysisInput | None) -> None:
        super().__init__()
        self.result = result
        self.item = item

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="result-box"):
            name = os.path.basename(self.result.origin) or self.result.origin
            yield Static(plain(f"{self.result.task}: {name}", single_line=True), classes="screen-heading")
            yield Static(plain(describe_result(self.result, self.item)), id="result-text")
            yield Static("", id="result-picture")
            yield Static("escape closes · arrows scroll", classes="empty-state")

    def on_mount(self) -> None:
        picture = self.query_one("#result-picture", Static)
        picture.display = False
        self.query_one("#result-box").focus()
        if self.item is not None and self.item.modality == "image":
            picture.display = True
            picture.update("Drawing the image…")
            width = max(min(MAX_WIDTH, self.app.size.width - 8), 4)
            height = max(min(MAX_HEIGHT, self.app.size.height - 12), 4)
            self.draw_picture(self.item.value, width, height)

    @work(thread=True, exclusive=True, exit_on_error=False, group="result-picture", description="Draw the image")
    def draw_picture(self, value: Any, width: int, height: int) -> None:
        """Decode and shrink the image off the event loop."""
        try:
            self.post_message(PictureDrawn(half_blocks(_decodable(value), max_width=width, max_height=height)))
        except Exception as error:  # a missing or corrupt file: say so where the picture would be
            self.post_message(PictureDrawn(None, f"{type(error).__name__}: {error}"))

    @on(PictureDrawn)
    def show_picture(self, event: PictureDrawn) -> None:
        """Draw the picture with its size, or say why there is none (no colour: the size only)."""
        widget = self.query_one("#result-picture", Static)
        picture = event.picture
        if picture is None:
            widget.update(plain(f"(no picture: {event.problem or 'the image could not be read'})"))
        elif self.app.no_color:
            widget.update(plain(picture.caption))
        else:
            widget.update(Content("\n").join([plain(picture.caption), picture_content(picture)]))
