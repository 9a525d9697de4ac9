"""Analyzer: the device analysis runs on, and the cached models that can serve each analysis task."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Static

from hftui.analyze.device import GIB, ComputeDevice
from hftui.analyze.inputs import AnalysisInput, count_by_modality
from hftui.analyze.tasks import ANALYZER_TASKS
from hftui.hub.cache import CacheScan
from hftui.ui.screens.base import HubScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = ("Task", "Input", "Cached models that fit")


def describe_device(device: ComputeDevice | None) -> str:
    """A few lines about the compute device, for the panel."""
    if device is None:
        return "Detecting the compute device…"
    lines = [f"Device: {device.label}", f"Name: {device.name}"]
    if device.capability:
        lines.append(f"Compute capability: {device.capability}")
    if device.kind == "cuda" and device.total_memory and device.used_memory is not None:
        free = (device.total_memory - device.used_memory) / GIB
        lines.append(f"Free GPU memory: {free:.1f} GiB")
    return "\n".join(lines)


class AnalyzerScreen(HubScreen):
    """Device and per-task model availability; jobs are run from here."""

    HELP_TITLE = "Analyzer"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Analyzer", classes="screen-heading")
        yield Static("", id="analyzer-device", classes="panel")
        yield Static("", id="analyzer-inbox", classes="panel")
        yield RepoTable(id="analyzer-tasks")
        yield Static(
            "Analysis jobs (files, folders, dataset columns) are not available in this version yet; "
            "this screen lists what they would run on.",
            id="analyzer-note",
            classes="empty-state",
        )

    def on_mount(self) -> None:
        self.watch(self.app, "device", self.show_device)
        self.watch(self.app, "cache_scan", self.show_tasks)
        self.watch(self.app, "analyzer_inbox", self.show_inbox)

    def show_inbox(self, inbox: tuple[AnalysisInput, ...]) -> None:
        """Say what is waiting to be analysed (sent from the Datasets screen), by modality and origin."""
        panel = self.query_one("#analyzer-inbox", Static)
        panel.display = bool(inbox)
        if not inbox:
            return
        counts = ", ".join(f"{count} {modality}" for modality, count in count_by_modality(inbox).items())
        origins = list(dict.fromkeys(item.origin.rsplit(" row ", 1)[0] for item in inbox))
        shown = ", ".join(origins[:3]) + (f" and {len(origins) - 3} more" if len(origins) > 3 else "")
        panel.update(plain(f"Waiting for analysis: {counts} (from {shown})"))

    def show_device(self, device: ComputeDevice | None) -> None:
        """Describe the detected device."""
        self.query_one("#analyzer-device", Static).update(plain(describe_device(device)))

    def show_tasks(self, scan: CacheScan | None) -> None:
        """List each analysis task with the cached models whose pipeline tag fits it."""
        models = scan.of_type("model") if scan else ()
        rows = []
        for task in ANALYZER_TASKS:
            fitting = [repo.repo_id for repo in models if repo.pipeline_tag == task.pipeline_tag]
            rows.append((task.pipeline_tag, (task.title, task.modality, ", ".join(fitting) or "none cached")))
        self.query_one("#analyzer-tasks", RepoTable).show_rows(COLUMNS, rows)
