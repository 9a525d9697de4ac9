"""What the playground's workers tell its screen, and the relay that hands streamed text over in coalesced pieces."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from hftui.infer.benchmark import EndpointBenchResult
from hftui.infer.failover import ChainAnswer
from hftui.infer.generate import Generated
from hftui.infer.playground import Answer, LoadedModel, PlaygroundModel
from hftui.ui.messages import Coalescing

# Streamed text reaches the screen at most this often (ten times a second reads as smooth). Each update costs
# the event loop a transcript redraw, and a busy loop holds the GIL the generating thread needs: in
# bench/playground_speed.py a model streaming 200 tokens/s kept 0.80 of its speed at 0.05 s, 0.93 at 0.1 s
# and all of it at 0.2 s (the Analyzer's relay measured the same effect).
STREAM_INTERVAL_S = 0.1


@dataclass
class PlaygroundModelOpened(Message):
    """A model was found on disk and read: its tasks and warnings (it is not loaded yet)."""

    opened: PlaygroundModel
    task: str | None  # the task asked for, if any


@dataclass
class PlaygroundModelRefused(Message):
    """A model cannot be opened: the reason, and whether allowing its remote code would let it load."""

    model: str
    message: str
    needs_remote_code: bool = False


@dataclass
class PlaygroundLoadPhased(Message):
    """The model's load moved to a phase ("loading", "ready", "cached")."""

    model: str
    phase: str


@dataclass
class PlaygroundModelLoaded(Message):
    """The model's pipeline for a task is loaded and answers the next input."""

    loaded: LoadedModel


@dataclass
class PlaygroundModelUnloaded(Message):
    """The model's pipeline was dropped and its memory given back."""

    model: str


@dataclass
class PlaygroundTextArrived(Coalescing):
    """Streamed text is waiting in the relay (the screen takes it: this message carries none, so several
    tokens cost one message)."""


@dataclass
class PlaygroundAnswered(Message):
    """A request of a task other than generation was answered."""

    answer: Answer


@dataclass
class PlaygroundReplied(Message):
    """A local model finished (or was stopped in) its streamed answer."""

    generated: Generated


@dataclass
class PlaygroundChainReplied(Message):
    """An endpoint chain finished its streamed answer (or none answered)."""

    answer: ChainAnswer


@dataclass
class PlaygroundFailed(Message):
    """A request could not be answered: what to tell the user (the text that arrived is kept)."""

    message: str


@dataclass
class BenchProgressed(Coalescing):
    """The endpoint benchmark made `done` of `total` calls; `last` says what the latest one did."""

    done: int
    total: int
    last: str


@dataclass
class BenchEnded(Message):
    """The endpoint benchmark ended (finished or stopped): its rows and calls."""

    result: EndpointBenchResult


@dataclass
class FileWritten(Message):
    """A benchmark report was written to `path`, or could not be (`error`)."""

    path: str
    error: str | None = None


@dataclass
class ChatFileDone(Message):
    """A chat was saved or loaded (`chat` holds the loaded messages), or failed with `error`."""

    path: str
    loaded: object | None = None  # a generate.Chat when one was read
    error: str | None = None


class TextRelay:
    """Gathers streamed text in the worker's thread and tells the screen, at most every `interval` seconds and
    only once the screen has taken what was there before, that more is waiting."""

    def __init__(self, post: Callable[[Message], object], interval: float = STREAM_INTERVAL_S) -> None:
        self.post = post
        self.interval = interval
        self._lock = threading.Lock()
        self._pieces: list[str] = []
        self._told = False
        self._told_at = 0.0
        self.messages = 0

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._pieces.append(text)
            if self._told or now - self._told_at < self.interval:
                return  # the screen takes this with the next message, or with the answer's end
            self._told, self._told_at = True, now
            self.messages += 1
        self.post(PlaygroundTextArrived())

    def take(self) -> str:
        """Everything streamed since the last take (called on the event loop)."""
        with self._lock:
            text = "".join(self._pieces)
            self._pieces.clear()
            self._told = False
            return text
