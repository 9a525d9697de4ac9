"""The run watcher's figures: delay from an event written to the watcher showing it, and frame time on a
100,000-event run (and how long its replay takes).

Runs the real app headless (`App.run_test`, 80x24) with the watcher pushed on a hand-made run folder:

(a) latency: a live run (this process holds its worker lock, as a worker does); a writer thread appends a
    log event every --interval seconds and records when; the watcher's progress line is timed after each
    snapshot it draws (after the refresh that paints it), and each written step counts as shown at the first
    paint whose snapshot reached it. Goal: p95 under 250 ms.
(b) frames: a finished run of --events log/eval events; every screen update (layout, render, compositor:
    `Screen._on_timer_update`) is timed while the watcher replays the file and afterwards, when each plot is
    made to redraw from scratch once per frame. Goal: under 50 ms per frame.

(a) runs twice in the same process: with file change notifications (the default), then with polling forced
(HFTUI_WATCH_POLLING=1, the fallback for filesystems without notifications), so the baseline is beside it.
Goal for notifications: p95 under 50 ms. --modes picks which of the two to run.

Prints figures; asserts nothing.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/watcher_latency.py [--writes 100] [--events 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile of `values` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{name:<34} no samples"
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:<34} p50 {percentile(ms, 0.5):6.1f} ms   p95 {percentile(ms, 0.95):6.1f} ms   "
        f"max {max(ms):6.1f} ms   ({len(ms)} samples; slowest {', '.join(f'{v:.0f}' for v in sorted(ms)[-3:])})"
    )


def make_app(home: Path) -> Any:
    from hftui.app import HfTuiApp
    from hftui.hub.settings import HubSettings, read_token_status

    cache = home / "hub"
    return HfTuiApp(HubSettings("http://127.0.0.1:9", cache.parent, cache, True, read_token_status()))


def new_run(folder: Path) -> Path:
    """A run folder with a spec and the launched/started events a worker writes first."""
    from hftui.train.events import EVENTS_FILE, encode_event

    folder.mkdir(parents=True)
    spec = {"base_model": "tiny-bert", "dataset": {"location": "reviews.csv"}, "lora": None}
    (folder / "spec.json").write_text(json.dumps(spec))
    (folder / "train.log").write_text("training\n")
    with open(folder / EVENTS_FILE, "wb") as handle:
        handle.write(encode_event("launched", None, {"attempt": 1}))
        handle.write(encode_event("started", 0, {"max_steps": 1_000_000, "spec": spec, "device": {"kind": "cpu"}}))
    return folder


async def latency(root: Path, writes: int, interval: float) -> list[float]:
    """Seconds from each log event's write to the first paint of a snapshot holding it."""
    from hftui.train.events import EVENTS_FILE, encode_event
    from hftui.train.process import LOCK_FILE
    from hftui.ui.training import run_watcher
    from hftui.ui.training.run_watcher import RunWatcherScreen

    root.mkdir(parents=True, exist_ok=True)
    run_dir = new_run(root / "live-run")
    lock = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # the run counts as running while this process holds the lock
    written: dict[int, float] = {}
    shown: dict[int, float] = {}
    original = run_watcher.RunWatcherScreen.show_progress

    def show_progress(self: RunWatcherScreen, snapshot: Any) -> None:
        original(self, snapshot)
        log = snapshot.latest.get("log")
        if log is None or log.step is None:
            return
        step = log.step

        def painted() -> None:
            now = time.perf_counter()
            for s in [s for s in written if s <= step and s not in shown]:
                shown[s] = now

        self.call_after_refresh(painted)

    run_watcher.RunWatcherScreen.show_progress = show_progress  # type: ignore[method-assign]

    def writer() -> None:
        with open(run_dir / EVENTS_FILE, "ab", buffering=0) as handle:
            for step in range(1, writes + 1):
                line = encode_event("log", step, {"loss": 1.0 / step, "learning_rate": 1e-4, "epoch": step / 100})
                written[step] = time.perf_counter()
                handle.write(line)
                time.sleep(interval)

    app = make_app(root / "app-a")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = RunWatcherScreen(run_dir)
            app.push_screen(screen)
            while screen.snapshot is None:
                await pilot.pause(0.02)
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            deadline = time.perf_counter() + writes * interval + 5
            while (thread.is_alive() or len(shown) < writes) and time.perf_counter() < deadline:
                await pilot.pause(0.02)
    finally:
        run_watcher.RunWatcherScreen.show_progress = original  # type: ignore[method-assign]
        os.close(lock)
    missed = writes - len(shown)
    if missed:
        print(f"  {missed} of {writes} written events never shown")
    return [shown[s] - written[s] for s in shown]


def big_run(root: Path, count: int) -> Path:
    """A finished run of `count` events: log events, an eval every 10th, progress now and then."""
    from hftui.train.events import EVENTS_FILE, encode_event

    run_dir = new_run(root / "big-run")
    lines = []
    step = 0
    moment = time.time() - count
    for i in range(count - 1):
        if i % 10 == 9:
            metrics = {"eval_loss": 1.0 / (1 + step) + 0.1, "eval_accuracy": 0.5 + 0.4 * i / count}
            lines.append(encode_event("eval", step, {"epoch": step / 1000, "metrics": metrics}, moment + i))
        else:
            step += 1
            fields = {"loss": 2.0 / (1 + step / 1000), "grad_norm": 1.0, "learning_rate": 1e-4, "epoch": step / 1000}
            lines.append(encode_event("log", step, fields, moment + i))
            if step % 500 == 0:
                progress = {"max_steps": step, "epoch": step / 1000, "eta_s": 0, "steps_per_s": 10.0}
                lines[-1] += encode_event("progress", step, progress, moment + i)
    lines.append(encode_event("finished", step, {"message": f"finished at step {step}"}))
    with open(run_dir / EVENTS_FILE, "ab") as handle:
        handle.write(b"".join(lines))
    return run_dir


async def frames(root: Path, count: int, after_frames: int) -> tuple[list[float], list[float], float, int]:
    """Frame times while replaying and afterwards, the replay's duration and the events it read."""
    from textual.screen import Screen

    from hftui.ui.training.run_watcher import RunWatcherScreen
    from hftui.ui.widgets.curve_plot import CurvePlot

    run_dir = big_run(root, count)
    size_mb = (run_dir / "events.jsonl").stat().st_size / 1e6
    print(f"  events.jsonl: {count:,} events, {size_mb:.1f} MB")
    timings: list[float] = []
    original = Screen._on_timer_update

    def timed(self: Screen) -> None:
        pending = self._layout_required or self._repaint_required or self._scroll_required or self._dirty_widgets
        if not self.is_current or not pending:  # a screen underneath, or nothing to draw: not a frame
            original(self)
            return
        start = time.perf_counter()
        original(self)
        timings.append(time.perf_counter() - start)

    Screen._on_timer_update = timed  # type: ignore[method-assign]
    collections = [0]

    def count_gen2(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info.get("generation") == 2:
            collections[0] += 1

    gc.callbacks.append(count_gen2)
    try:
        app = make_app(root / "app-b")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = RunWatcherScreen(run_dir)
            await pilot.pause(0.2)
            timings.clear()
            opened = time.perf_counter()
            app.push_screen(screen)
            while screen.snapshot is None or screen.snapshot.replaying or screen.snapshot.state != "finished":
                await pilot.pause(0.01)
            replay_s = time.perf_counter() - opened
            events_read = screen.snapshot.events_seen
            await pilot.pause(0.1)
            during = list(timings)
            timings.clear()
            collections[0] = 0
            plots = list(screen.query(CurvePlot))
            for _ in range(after_frames):
                # Redraw every plot from its data (the worst frame: the cache cannot help).
                for plot in plots:
                    plot._cache_key = None
                    plot.refresh()
                await pilot.pause(0.03)
            after = list(timings)
            print(f"  full garbage collections while timing frames after the replay: {collections[0]}")
            await pilot.press("2")  # the Metrics tab, then back
            await pilot.pause(0.1)
            await pilot.press("1")
            await pilot.pause(0.1)
    finally:
        Screen._on_timer_update = original  # type: ignore[method-assign]
        gc.callbacks.remove(count_gen2)
    return during, after, replay_s, events_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=100, help="log events written to the live run")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two writes")
    parser.add_argument("--events", type=int, default=100_000, help="events in the finished run")
    parser.add_argument("--frames", type=int, default=60, help="full redraws timed after the replay")
    parser.add_argument("--modes", default="notifications,polling", help="latency runs: notifications,polling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hftui-watcher-bench-") as tmp:
        root = Path(tmp)
        os.environ["HFTUI_HOME"] = str(root / "home")
        from hftui.train.folder_changes import POLLING_ENV, FolderChanges

        print(f"(a) event written -> watcher shows it ({args.writes} writes, one every {args.interval * 1000:.0f} ms)")
        for mode in args.modes.split(","):
            if mode == "polling":
                os.environ[POLLING_ENV] = "1"
            else:
                os.environ.pop(POLLING_ENV, None)
            probe = FolderChanges(root, poll_s=0.2)
            used = probe.mode + (f" ({probe.polling_reason})" if probe.polling_reason else "")
            probe.close()
            delays = asyncio.run(latency(root / mode, args.writes, args.interval))
            print(f"  {mode}: the watcher used {used}")
            print("  " + describe(f"delay, {mode}", delays) + "   goal p95 < 50 ms")
        os.environ.pop(POLLING_ENV, None)
        print(f"(b) frame time with a {args.events:,}-event run (80x24)")
        during, after, replay_s, read = asyncio.run(frames(root, args.events, args.frames))
        print(f"  replay: {read:,} events in {replay_s:.2f} s ({read / replay_s:,.0f} events/s)")
        print("  " + describe("frame while replaying", during))
        print("  " + describe("frame after (plots redrawn)", after) + "   goal < 50 ms")


if __name__ == "__main__":
    main()
