"""What the next Analyzer job runs with: the device line (device, batch size, allowed remote code) and the tasks
table (each task on or off, and the model it will run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widgets import Static

from hftui.analyze.pipelines import resolve_model
from hftui.analyze.tasks import ANALYZER_TASKS, tag_fits
from hftui.device import GIB, ComputeDevice
from hftui.ui.analyzer.cells import fit_columns, short_model
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

# A width of 0: the column takes what the terminal has left (so 80 columns need no horizontal scrolling).
TASK_COLUMNS = (("On", 2), ("Task", 28), ("Input", 5), ("Model", 0), ("Source", 10))


def describe_device(device: ComputeDevice | None) -> str:
    """The compute device on one line: kind, name, capability, free GPU memory."""
    if device is None:
        return "Detecting the compute device…"
    parts = [device.label]
    if device.capability:
        parts.append(f"compute capability {device.capability}")
    if device.kind == "cuda" and device.total_memory and device.used_memory is not None:
        parts.append(f"{(device.total_memory - device.used_memory) / GIB:.1f} GiB free")
    return " · ".join(parts)


class DeviceLine(Static):
    """The device line: what was detected, what jobs will run on, the batch size, and whose code may run."""

    def show(self, device: ComputeDevice | None, choice: str, batch_size: int, allowed: set[str]) -> None:
        """Say what `device` is and what the next jobs run on (`choice`: auto, cpu, cuda:N, mps)."""
        if choice == "auto" and device is not None:
            choice = f"auto ({'cuda' if device.kind == 'cuda' else device.kind})"
        allowed_text = f" · remote code allowed: {', '.join(sorted(allowed))}" if allowed else ""
        line = f"{describe_device(device)} · run on {choice} (D) · batch {batch_size} (N){allowed_text}"
        self.update(plain(line, single_line=True))


class TaskTable(RepoTable):
    """One row per analysis task: on or off, what it takes, the model it will run and why."""

    def show_tasks(
        self, enabled: set[str], models: Mapping[str, str], cached: Sequence[tuple[str, str | None]]
    ) -> None:
        """Each task: on or off, what it takes, the model it will run and why (chosen, cached, default), and how
        many other cached models fit (enter lists them)."""
        cursor = self.cursor_row
        rows = []
        for task in ANALYZER_TASKS:
            tag = task.pipeline_tag
            choice = resolve_model(tag, models.get(tag), cached)
            fitting = [repo_id for repo_id, pipeline_tag in cached if tag_fits(tag, pipeline_tag)]
            on_off = "✓" if tag in enabled else "·"
            source = {"requested": "chosen"}.get(choice.source, choice.source)
            others = len([repo_id for repo_id in fitting if repo_id != choice.model])
            source += f" +{others}" if others else ""
            rows.append((tag, (on_off, tag, task.modality, short_model(choice.model), source)))
        self.show_rows(fit_columns(TASK_COLUMNS, self.app.size.width), rows)
        if 0 <= cursor < len(rows):
            self.move_cursor(row=cursor, animate=False)

    def current_task(self) -> str | None:
        """The task under the cursor."""
        if self.row_count == 0:
            return None
        return ANALYZER_TASKS[min(max(self.cursor_row, 0), len(ANALYZER_TASKS) - 1)].pipeline_tag
