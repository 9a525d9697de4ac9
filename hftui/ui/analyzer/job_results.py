"""The rows of the job the Analyzer shows: one per analysed item, or one per model of a benchmark.

Rows are appended as they arrive, never rebuilt, and kept as the engine's results: a row's cells are made when
it is first drawn (`ResultRows`), so showing a job of 100,000 rows costs a list copy, not 100,000 rows of text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from hftui.analyze.benchmark import BenchmarkRow
from hftui.analyze.events import ItemResult
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.jobs import SHORT_TASKS, AnalyzerJob
from hftui.humanize import human_size
from hftui.ui.analyzer.cells import fit_columns, rate
from hftui.ui.widgets.result_rows import ResultRows

RESULT_COLUMNS = (("Input", 22), ("Task", 9), ("Output", 0), ("ms", 5))
BENCHMARK_COLUMNS = (
    ("Model", 0), ("State", 7), ("Load s", 6), ("p50 ms", 6), ("p95 ms", 6), ("Items/s", 7),
    ("Memory", 8), ("Acc", 6), ("F1", 5),
)  # fmt: skip
BENCHMARK_STATES = {"finished": "✓ done", "failed": "✗ fail", "cancelled": "⊘ stop"}


def input_cell(item: AnalysisInput | None, result: ItemResult) -> str:
    """What the results table shows of an input: the text itself, else the file name."""
    if item is not None and item.modality == "text" and isinstance(item.value, str):
        return " ".join(item.value.split())
    return os.path.basename(result.origin) or result.origin


def benchmark_cells(row: BenchmarkRow) -> tuple[object, ...]:
    """One model's line of the speed-versus-accuracy table."""

    def number(value: float | None, fmt: str, scale: float = 1.0) -> str:
        return "" if value is None else format(value * scale, fmt)

    return (
        row.model.rstrip("/").rsplit("/", 1)[-1],
        BENCHMARK_STATES.get(row.state, row.state),
        number(row.load_s, ".2f"),
        number(row.latency_p50_s, ".1f", 1000),
        number(row.latency_p95_s, ".1f", 1000),
        rate(row.items_per_s),
        human_size(row.peak_memory_bytes) if row.peak_memory_bytes else "",
        number(row.accuracy, ".1%"),
        number(row.macro_f1, ".3f"),
    )


class JobResults(ResultRows):
    """The shown job's rows, appended as they arrive; a benchmark shows its comparison instead."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.job: AnalyzerJob | None = None

    def show_job(self, job: AnalyzerJob) -> None:
        """Show `job`'s rows (rebuilding the table once; later rows are appended)."""
        self.job = job
        self.display = True
        columns = BENCHMARK_COLUMNS if job.benchmark is not None else RESULT_COLUMNS
        self.set_columns(fit_columns(columns, self.app.size.width))
        self.append_rows(job)

    def append_rows(self, job: AnalyzerJob) -> None:
        """Add the rows the table does not show yet (never rebuilding it: `set_columns` emptied it for `job`)."""
        if job.benchmark is not None:
            self.add_rows(benchmark_cells(row) for row in job.bench_rows[self.row_count :])
        else:
            self.add_rows(job.rows[self.row_count :])

    def cells(self, row: object) -> Sequence[object]:
        """An analysed item's line (a benchmark's rows are their cells already)."""
        if not isinstance(row, ItemResult) or self.job is None:
            return super().cells(row)
        inputs = self.job.spec.inputs
        item = inputs[row.index] if 0 <= row.index < len(inputs) else None
        output = f"⚠ {row.error}" if row.error is not None else row.output
        return (input_cell(item, row), SHORT_TASKS.get(row.task, row.task), output, f"{row.latency_s * 1000:.0f}")
