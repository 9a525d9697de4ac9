"""Watch one training run live: progress and ETA, loss/eval/learning-rate curves, metrics, GPU, log, LoRA.

A thread worker polls the run's follower whenever the run folder changes (file change notifications, with a
slow safety poll; every POLL_S seconds where there are none) and folds what it finds (curves, latest
events, health alerts, log tail, LoRA facts) into a `WatchSnapshot`, a complete picture posted as one
coalescing message: when the screen falls behind, a newer snapshot replaces an older one and nothing is
lost. The screen only draws snapshots. A finished run replays the same way (the follower reads its file in
slices until nothing is left). Folders hftui did not start (a Trainer output_dir, a TensorBoard log dir)
show the same curves, read-only: there is no process to stop or resume.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Log, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from hftui.hub.plain_text import printable
from hftui.humanize import human_duration
from hftui.train.folder_changes import FolderChanges
from hftui.train.watch import EXPORT_CSV, EXPORT_JSON, LOG_LINES, RunWatch, WatchSnapshot, export_metrics, progress_of
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.messages import Coalescing
from hftui.ui.training.watch_panels import KIND_NAMES, alerts_text, lora_text, metrics_text, state_text
from hftui.ui.untrusted import plain
from hftui.ui.widgets.curve_plot import CurvePlot

# How often a run is polled where its folder gives no change notifications (else a change wakes the worker).
POLL_S = 0.2
# Snapshots of a run written to fast come at most this often.
BURST_GAP_S = 0.02
# A replay of a long run posts a snapshot at most this often, so the screen shows it advancing.
REPLAY_POST_S = 0.1


# --- messages ------------------------------------------------------------------------------------------


@dataclass
class WatchUpdated(Coalescing):
    """A new picture of the run; it replaces one still waiting (each snapshot is complete)."""

    snapshot: WatchSnapshot


@dataclass
class WatchFailed(Message):
    """The folder could not be watched (it is not a run, nor a Trainer or TensorBoard folder)."""

    text: str


@dataclass
class RunControlled(Message):
    """A stop, resume or export finished: what to tell the user."""

    text: str
    severity: str = "information"


# --- the screen ----------------------------------------------------------------------------------------


class RunWatcherScreen(ReportsWorkerFailures, Screen[None]):
    """One run, live: progress, curves, metrics, GPU, log tail, LoRA facts; stop, resume and export keys."""

    HELP_TITLE = "Run watcher"
    BINDINGS = [
        Binding("escape", "back", "Back", id="watcher.back"),
        Binding("s", "stop", "Stop", id="watcher.stop"),
        Binding("r", "resume", "Resume", id="watcher.resume"),
        Binding("e", "export", "Export", id="watcher.export"),
        Binding("p", "publish", "Publish", id="watcher.publish"),
        Binding("l", "toggle_log", "Log", id="watcher.log"),
        Binding("g", "toggle_log_y", "Log-y", id="watcher.log-y"),
        Binding("1", "tab('watch-curves')", "Curves", show=False, id="watcher.tab-curves"),
        Binding("2", "tab('watch-metrics')", "Metrics", show=False, id="watcher.tab-metrics"),
        Binding("3", "tab('watch-log')", "Log tab", show=False, id="watcher.tab-log"),
        Binding("4", "tab('watch-lora')", "LoRA", show=False, id="watcher.tab-lora"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path).expanduser()
        self.snapshot: WatchSnapshot | None = None
        self.log_y = False
        self.notified_alerts = 0
        self.notified_warnings = 0
        self.shown_log: tuple[str, ...] | None = None
        self.previous_tab = "watch-curves"
        self.shown_text: dict[str, tuple[Text, tuple[int, int]]] = {}
        # When the latest snapshot was drawn (time.monotonic): the latency bench reads it.
        self.shown_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Run {self.path.name}", single_line=True), id="watch-title", classes="screen-heading")
        yield Static("opening…", id="watch-state")
        with Horizontal(id="watch-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="watch-progress")
            yield Static("", id="watch-progress-text")
        alerts = Static("", id="watch-alerts")
        alerts.display = False
        yield alerts
        with TabbedContent(id="watch-tabs", initial="watch-curves"):
            with TabPane("Curves", id="watch-curves"):
                yield CurvePlot("Loss", id="plot-loss")
                yield CurvePlot("Learning rate", id="plot-lr")
            with TabPane("Metrics", id="watch-metrics"):
                with VerticalScroll(id="watch-metrics-scroll"):
                    yield Static("", id="watch-metrics-text")
                    gpu = CurvePlot("GPU", id="plot-gpu")
                    gpu.display = False
                    yield gpu
            with TabPane("Log", id="watch-log"):
                yield Log(id="watch-log-text", highlight=False, max_lines=LOG_LINES * 2)
            with TabPane("LoRA", id="watch-lora"):
                yield Static("", id="watch-lora-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.follow_run()

    # --- the worker ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-watch", description="Follow the run")
    def follow_run(self) -> None:
        """Poll the run when its folder changes (at once while replaying; every POLL_S s where the filesystem gives
        no change notifications) and post each change as a snapshot. Leaving the screen ends the wait."""
        worker = get_current_worker()
        # Opened before the first poll, so a change written after that poll wakes the wait.
        changes = FolderChanges(self.path, poll_s=POLL_S, stop=worker.cancelled_event)
        try:
            try:
                watch = RunWatch(self.path)
            except (ValueError, OSError) as error:
                self.post_message(WatchFailed(str(error)))
                return
            last_post = 0.0
            while not worker.is_cancelled:
                snapshot = watch.poll()
                if snapshot is not None and snapshot.replaying:
                    # Many slices of a long file: post now and then, the screen would only redraw them anyway.
                    now = time.monotonic()
                    if now - last_post >= REPLAY_POST_S:
                        last_post = now
                        self.post_message(WatchUpdated(snapshot))
                    continue
                if snapshot is not None:
                    last_post = time.monotonic()
                    self.post_message(WatchUpdated(snapshot))
                if changes.wait() == "changed":
                    # A burst of writes: one snapshot per BURST_GAP_S at most, so building them never costs frames.
                    gap = BURST_GAP_S - (time.monotonic() - last_post)
                    if gap > 0:
                        worker.cancelled_event.wait(gap)
        finally:
            changes.close()

    # --- drawing -------------------------------------------------------------------------------------

    @on(WatchFailed)
    def show_failure(self, event: WatchFailed) -> None:
        """The folder cannot be watched: say why."""
        self.query_one("#watch-state", Static).update(Text(printable(event.text), style="bold red"))
        self.notify(printable(event.text), title="Cannot watch", severity="error", markup=False)

    @on(WatchUpdated)
    def show_snapshot(self, event: WatchUpdated) -> None:
        """Draw the newest picture of the run."""
        snapshot = event.snapshot
        previous = self.snapshot
        self.snapshot = snapshot
        self.set_text("#watch-state", state_text(snapshot))
        self.show_progress(snapshot)
        self.show_curves()
        self.set_text("#watch-metrics-text", metrics_text(snapshot))
        gpu_plot = self.query_one("#plot-gpu", CurvePlot)
        gpu_plot.display = bool(snapshot.gpu)
        if snapshot.gpu:
            gpu_plot.show(snapshot.gpu)
        self.set_text("#watch-lora-text", lora_text(snapshot))
        if snapshot.log_lines is not None and snapshot.log_lines != self.shown_log:
            self.shown_log = snapshot.log_lines
            log = self.query_one("#watch-log-text", Log)
            log.clear()
            log.write_lines(snapshot.log_lines)
        elif snapshot.log_lines is None and snapshot.kind != "run" and self.shown_log is None:
            self.shown_log = ()
            self.query_one("#watch-log-text", Log).write_line(f"no log: this is a {KIND_NAMES[snapshot.kind]}")
        self.show_alerts(snapshot)
        if snapshot.warning_count > self.notified_warnings:
            fresh = snapshot.warning_count - self.notified_warnings
            self.notified_warnings = snapshot.warning_count
            text = (
                snapshot.warnings[-1]
                if fresh == 1
                else f"{fresh} corrupt lines skipped; the last: {snapshot.warnings[-1]}"
            )
            self.notify(printable(text), title="events.jsonl", severity="warning", markup=False)
        if previous is None or (previous.state, previous.checkpoints) != (snapshot.state, snapshot.checkpoints):
            self.refresh_bindings()
        self.shown_at = time.monotonic()

    def set_text(self, selector: str, text: Text) -> None:
        """Update a Static only when its text changed, and lay the screen out again only when its shape did
        (a relayout of the whole screen is most of a frame's cost while a long run replays)."""
        shown = self.shown_text.get(selector)
        if shown is not None and shown[0] == text:
            return
        shape = (len(text.plain) // max(1, self.size.width), text.plain.count("\n"))
        self.shown_text[selector] = (text, shape)
        self.query_one(selector, Static).update(text, layout=shown is None or shown[1] != shape)

    def show_progress(self, snapshot: WatchSnapshot) -> None:
        """The progress bar and its line: step/max, epoch, ETA, pace."""
        progress = progress_of(snapshot)
        bar = self.query_one("#watch-progress", ProgressBar)
        if progress.max_steps:
            done = progress.max_steps if snapshot.state == "finished" else (progress.step or 0)
            bar.update(total=progress.max_steps, progress=min(done, progress.max_steps))
        parts = [f"step {progress.step if progress.step is not None else '-'}/{progress.max_steps or '?'}"]
        if progress.epoch is not None:
            parts.append(f"epoch {progress.epoch:.2f}")
        if snapshot.state in ("running", "starting", "watching"):
            parts.append(f"ETA {human_duration(progress.eta_s)}")
        if progress.steps_per_s is not None:
            parts.append(f"{progress.steps_per_s:.3g} it/s")
        self.set_text("#watch-progress-text", Text(" · ".join(parts), no_wrap=True))

    def show_curves(self) -> None:
        """Loss and eval loss on one plot, the learning rate on the other."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        curves = snapshot.curves
        losses = {name: curves[name] for name in ("loss", "eval_loss") if curves.get(name)}
        self.query_one("#plot-loss", CurvePlot).show(losses, log_y=self.log_y)
        rate = {"learning_rate": curves["learning_rate"]} if curves.get("learning_rate") else {}
        self.query_one("#plot-lr", CurvePlot).show(rate)

    def show_alerts(self, snapshot: WatchSnapshot) -> None:
        """The alerts strip, and a notification for each alert not yet announced (a few at a time)."""
        strip = self.query_one("#watch-alerts", Static)
        strip.display = bool(snapshot.alerts)
        if snapshot.alerts:
            self.set_text("#watch-alerts", alerts_text(snapshot.alerts))
        fresh = snapshot.alerts[self.notified_alerts :]
        self.notified_alerts = len(snapshot.alerts)
        for alert in fresh[:3]:
            self.notify(printable(alert.message), title="Run health", severity="warning", markup=False)
        if len(fresh) > 3:
            self.notify(f"{len(fresh) - 3} more health alerts (see the alerts strip)", severity="warning")

    # --- keys ----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop and resume only for hftui's own runs, and only when they make sense (else shown disabled)."""
        snapshot = self.snapshot
        if action in ("stop", "resume"):
            if snapshot is not None and snapshot.kind != "run":
                return False
            if snapshot is None:
                return None
            if action == "stop":
                return True if snapshot.state in ("running", "starting") else None
            resumable = snapshot.state == "stopped" or (snapshot.state == "failed" and snapshot.checkpoints > 0)
            return True if resumable else None
        return True

    def action_publish(self) -> None:
        """Publish the run's saved model once it has finished (hftui's own runs; foreign folders say so)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        if snapshot.kind != "run":
            self.notify("This folder was not trained by hftui: publish it with publish: FOLDER (ctrl+p).", markup=False)
            return
        from hftui.ui.publish.navigation import publish_run_model

        finished = snapshot.latest.get("finished")
        publish_run_model(self, finished.get("model_dir") if finished is not None else None, snapshot.state)

    def action_back(self) -> None:
        """Back to where the watcher was opened from (the run goes on)."""
        self.app.pop_screen()

    def action_stop(self) -> None:
        """Ask the run to stop gracefully (it saves a checkpoint and ends)."""
        self.control_run("stop")

    def action_resume(self) -> None:
        """Start the run again from its last checkpoint."""
        self.control_run("resume")

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-control", description="Stop or resume")
    def control_run(self, what: str) -> None:
        """request_stop or resume_run, off the event loop (resume starts a process)."""
        from hftui.train.launch import RunError, request_stop, resume_run

        if what == "stop":
            if request_stop(self.path):
                self.post_message(RunControlled("Stop requested: the run saves a checkpoint, then ends"))
            else:
                self.post_message(RunControlled("The run is not running: nothing to stop", "warning"))
            return
        try:
            attempt = resume_run(self.path)
        except (RunError, OSError, ValueError) as error:
            self.post_message(RunControlled(str(error), "warning"))
            return
        self.post_message(RunControlled(f"Resumed from the last checkpoint (attempt {attempt})"))

    @on(RunControlled)
    def tell(self, event: RunControlled) -> None:
        """Say what a stop, resume or export did."""
        self.notify(printable(event.text), severity=event.severity, markup=False)  # type: ignore[arg-type]

    def action_export(self) -> None:
        """Ask where to write the metrics (a folder gets CSV and JSON; a .csv or .json path just that file)."""
        from hftui.ui.dialogs.path_prompt import PathPromptScreen

        def chosen(answer: str | None) -> None:
            if answer:
                self.export(Path(answer).expanduser())

        prompt = PathPromptScreen(
            "Export the metrics to (a folder, or a .csv or .json file)",
            str(self.path),
            hint=f"a folder gets {EXPORT_CSV} and {EXPORT_JSON} · enter exports · escape cancels",
        )
        self.app.push_screen(prompt, chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-export", description="Export the metrics")
    def export(self, target: Path) -> None:
        """Write the metrics files and say where."""
        try:
            written = export_metrics(self.path, target)
        except (OSError, ValueError) as error:
            self.post_message(RunControlled(f"Export failed: {error}", "error"))
            return
        self.post_message(RunControlled("Metrics written to " + ", ".join(str(p) for p in written)))

    def action_toggle_log(self) -> None:
        """Show the log tail, or go back to the tab shown before."""
        tabs = self.query_one(TabbedContent)
        if tabs.active == "watch-log":
            tabs.active = self.previous_tab
        else:
            self.previous_tab = tabs.active or "watch-curves"
            tabs.active = "watch-log"

    def action_toggle_log_y(self) -> None:
        """Loss on a logarithmic axis, or back to linear."""
        self.log_y = not self.log_y
        self.show_curves()
        self.notify("loss on a log axis" if self.log_y else "loss on a linear axis", timeout=2)

    def action_tab(self, pane: str) -> None:
        """Show one tab."""
        self.query_one(TabbedContent).active = pane
