"""How late the event loop runs while the Analyzer screen runs a job: p50/p99/max timer lateness, and items/s.

Runs the app headless (`App.run_test`), builds the tiny demo models, types a text file of N sentences and the
tiny BERT's folder into the Analyzer screen and presses r, as a user would. A 10 ms interval timer measures its
own lateness while the job runs, and for as long again with no job (the baseline, in the same run). The same
job is also run on the engine alone, without the app, for its items/s. Prints figures; asserts nothing.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/analyzer_lag.py [--texts 4000] [--batch-size 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TICK_S = 0.01


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile of `values` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class LagProbe:
    """A 10 ms interval timer that records how late each tick fires."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.expected = 0.0

    def start(self, app: object) -> None:
        self.expected = time.perf_counter() + TICK_S
        self.timer = app.set_interval(TICK_S, self.tick)  # type: ignore[attr-defined]

    def tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, now - self.expected))
        self.expected = now + TICK_S

    def take(self) -> list[float]:
        lags, self.lags = self.lags, []
        return lags


def describe(name: str, lags: list[float]) -> str:
    if not lags:
        return f"{name:<22} no samples"
    ms = [lag * 1000 for lag in lags]
    return (
        f"{name:<22} p50 {percentile(ms, 0.5):6.1f} ms   p99 {percentile(ms, 0.99):6.1f} ms   "
        f"max {max(ms):6.1f} ms   mean {statistics.fmean(ms):5.1f} ms   ({len(ms)} ticks)"
    )


async def run_app(texts: Path, model: Path, batch_size: int, cache: Path, rounds: int) -> float:
    from textual import events

    from hftui.app import HfTuiApp
    from hftui.hub.settings import HubSettings, read_token_status
    from hftui.ui.analyzer.screen import AnalyzerScreen

    app = HfTuiApp(HubSettings("http://127.0.0.1:9", cache.parent, cache, True, read_token_status()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AnalyzerScreen)
        await pilot.press("i", *str(texts), "enter")
        while not screen.inputs:
            await asyncio.sleep(0.02)
        await pilot.press("escape", "enter", "down", "down", "enter")  # the text task's model: type a folder
        await pilot.pause()
        await pilot.press(*str(model), "enter")
        if batch_size != screen.batch_size:
            screen.batch_size = batch_size
        await pilot.pause(0.5)

        probe = LagProbe()
        probe.start(app)
        # A warm-up job loads torch, transformers and the model; the measured job then finds it loaded.
        await pilot.press("r")
        while not screen.jobs[-1].ended:
            await asyncio.sleep(0.05)
        warmup = probe.take()
        started = time.perf_counter()
        app.post_message(events.Key("r", "r"))  # keys go in as the terminal driver sends them: pilot.press
        while len(screen.jobs) < 2:  # would wait for the process to go idle, which it is not while a job runs
            await asyncio.sleep(0.001)
        results = screen.query_one("#analyzer-results")
        results.focus()
        keys: list[float] = []
        while not screen.jobs[-1].ended:
            await asyncio.sleep(0.2)
            row = results.cursor_row
            pressed = time.perf_counter()
            app.post_message(events.Key("j", "j"))  # the results cursor moves at once, job or not
            while results.cursor_row == row and not screen.jobs[-1].ended and results.row_count > row + 1:
                await asyncio.sleep(0.0005)
            keys.append(time.perf_counter() - pressed)
        elapsed = time.perf_counter() - started
        running = probe.take()
        job = screen.jobs[-1]
        await asyncio.sleep(min(elapsed, 10.0))
        idle = probe.take()

        probe.timer.stop()
        quiet_rates: list[float] = []
        for _ in range(rounds):  # the same job again with no probe and no keys: throughput only
            jobs = len(screen.jobs)
            app.post_message(events.Key("r", "r"))
            while len(screen.jobs) == jobs or not screen.jobs[-1].ended:
                await asyncio.sleep(0.05)
            quiet = screen.jobs[-1].result
            if quiet is not None:
                quiet_rates.append(quiet.summary.items_per_s)

        summary = job.result.summary if job.result else None
        print(f"job: {job.state}, {job.done} texts, batch {batch_size}, {elapsed:.2f} s on screen")
        if summary:
            print(f"items/s (engine inference time, in the app): {summary.items_per_s:,.0f}")
            print(f"items/s (wall clock from r, in the app):     {job.done / elapsed:,.0f}")
        if quiet_rates:
            print(
                f"items/s (in the app, no probe, no keys):     {statistics.median(quiet_rates):,.0f} median of"
                f" {len(quiet_rates)} ({', '.join(f'{rate:,.0f}' for rate in quiet_rates)})"
            )
        from hftui.analyze.jobs import threads_beside_event_loop

        print(f"torch threads for the app's jobs: {threads_beside_event_loop()} of {os.cpu_count()} cores")
        print(describe("lag, no job", idle))
        print(describe("lag, job running", running))
        print(describe("lag, warm-up job", warmup))
        print(describe("key to cursor moved", keys))
        return statistics.median(quiet_rates) if quiet_rates else 0.0


def run_engine(texts: Path, model: Path, batch_size: int, rounds: int) -> float:
    import torch

    from hftui.analyze.engine import MultiModalAnalyzer
    from hftui.analyze.events import JobSpec
    from hftui.analyze.sources import collect_inputs

    # The app may have given torch fewer threads to leave a core to the event loop; the engine alone, as a
    # plain script would run it, gets torch's own default: a thread per core.
    torch.set_num_threads(os.cpu_count() or 1)
    inputs = collect_inputs([texts]).inputs
    analyzer = MultiModalAnalyzer()
    spec = JobSpec(inputs, models={"text-classification": str(model)}, batch_size=batch_size)
    analyzer.run(spec)  # warm-up
    rates = [analyzer.run(spec).summary.items_per_s for _ in range(rounds)]
    print(
        f"items/s (engine alone, no app):             {statistics.median(rates):,.0f} median of {len(rates)}"
        f" ({', '.join(f'{rate:,.0f}' for rate in rates)}; {torch.get_num_threads()} torch threads)"
    )
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="throughput jobs each way (the median is compared)")
    args = parser.parse_args()

    from hftui.demo.tiny_models import build_all

    work = Path(tempfile.mkdtemp(prefix="hftui-lag-"))
    model = build_all(work / "models")["text-classification"]
    texts = work / "texts.txt"
    line = "Sentence {}: I really loved this movie, the story was great.\n"
    texts.write_text("".join(line.format(i) for i in range(args.texts)))
    in_app = asyncio.run(run_app(texts, model, args.batch_size, work / "hub", args.rounds))
    alone = run_engine(texts, model, args.batch_size, args.rounds)
    if alone:
        print(f"in the app / engine alone (no probe, no keys): {in_app / alone:.2f}")


if __name__ == "__main__":
    main()
