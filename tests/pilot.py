"""Waiting helpers for Pilot tests: thread workers and the messages they post finish in their own time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot) -> None:
    """Wait for the running workers, then let the messages they posted be handled."""
    for _ in range(2):
        # A newer exclusive worker cancels an older one of its group: expected, not a failure.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot: Pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let workers and messages run until `condition` holds; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await settle(pilot)
        await pilot.pause(0.02)


def screen_text(app: App) -> tuple[str, list]:
    """Everything the current screen paints, as text, plus its segments."""
    lines, segments = [], []
    for widget in app.screen.query("*"):
        if not widget.display or widget.size.area == 0:
            continue
        for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
            segments.extend(strip)
            lines.append(strip.text)
    return "\n".join(lines), segments


async def wait_for_text(pilot: Pilot, needle: str, timeout: float = 10.0) -> str:
    """Wait until the screen paints `needle`; return the screen's text (the caller asserts on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await settle(pilot)
        text = screen_text(pilot.app)[0]
        if needle in text or loop.time() > deadline:
            return text
        await pilot.pause(0.05)
