"""The Analyzer's job list: the queue of jobs, one row each (cells updated in place), and the worker that runs
them one at a time.

One job at a time runs in the "analyzer-job" thread worker of this list; the engine's events come back as
messages (rows coalesced by `EventRelay`) and the handlers here fold them into the job (`AnalyzerJob`) and show
it: its row, and, for the highlighted job, the summary and the results it was given. Cancelling sets the job's
`threading.Event`, which the engine reads between batches and after each model load.
"""

from __future__ import annotations

import threading

from textual import on, work
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState, get_current_worker

from hftui.analyze.events import JobSpec
from hftui.analyze.jobs import ACTIVE_STATES, AnalyzerJob, BenchmarkPlan, run_job, threads_beside_event_loop
from hftui.hub.plain_text import printable
from hftui.ui.analyzer.cells import duration, fit_columns, rate
from hftui.ui.analyzer.job_results import JobResults
from hftui.ui.analyzer.job_summary import JobSummaryPanel
from hftui.ui.analyzer.messages import (
    AnalysisEnded,
    AnalysisModelCompared,
    AnalysisModelPhased,
    AnalysisRowsArrived,
    AnalysisStarted,
    AnalysisWarned,
    EventRelay,
    RemoteCodeRefused,
)
from hftui.ui.app_state import hub_app
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain_cell
from hftui.ui.widgets.repo_table import RepoTable

JOB_GROUP = "analyzer-job"
JOB_COLUMNS = (("#", 2), ("Job", 17), ("State", 11), ("Progress", 13), ("Items/s", 7), ("ETA", 5), ("Model", 0))
STATE_WORDS = {
    "queued": "… queued",
    "starting": "▶ starting",
    "loading": "▶ loading",
    "running": "▶ running",
    "cancelling": "⊘ stopping",
    "finished": "✓ finished",
    "cancelled": "⊘ cancelled",
    "failed": "✗ failed",
}


def progress_cell(done: int, total: int, width: int = 8) -> str:
    """A progress bar in text (readable without colour): eight cells and the percentage."""
    if total <= 0:
        return "░" * width
    fraction = min(max(done / total, 0.0), 1.0)
    filled = int(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction:4.0%}"


def job_cells(job: AnalyzerJob) -> tuple[object, ...]:
    """The job's row in the job list."""
    return tuple(
        plain_cell(value)
        for value in (
            str(job.number),
            job.title,
            STATE_WORDS.get(job.state, job.state),
            progress_cell(job.done, job.total),
            rate(job.items_per_s),
            duration(job.eta_s),
            job.phase,
        )
    )


class JobList(ReportsWorkerFailures, RepoTable):
    """The jobs, queued, running and ended, one row each keyed by number; the highlighted one is `selected`.

    `summary` and `results` are the screen's panels for the selected job; the list keeps them up to date.
    """

    def __init__(self, summary: JobSummaryPanel, results: JobResults, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summary = summary
        self.results = results
        self.jobs: list[AnalyzerJob] = []
        self.selected: AnalyzerJob | None = None
        self.job_workers: dict[Worker[None], int] = {}
        # The cells each job's row shows, so an update rewrites only those that changed (a cell rewritten is a
        # row rendered again, several times a second while a job runs).
        self.shown_cells: dict[int, tuple[object, ...]] = {}

    def on_mount(self) -> None:
        for label, width in fit_columns(JOB_COLUMNS, self.app.size.width):
            self.add_column(label, width=width, key=label)
        self.display = False

    def on_unmount(self) -> None:
        for job in self.jobs:  # a running engine stops at its next batch instead of outliving the app
            job.cancel.set()

    def job(self, number: int) -> AnalyzerJob | None:
        """The job with this number."""
        return self.jobs[number - 1] if 0 < number <= len(self.jobs) else None

    def running_job(self) -> AnalyzerJob | None:
        """The job being run, if any."""
        return next((job for job in self.jobs if job.state in ACTIVE_STATES), None)

    def cancellable_job(self) -> AnalyzerJob | None:
        """The highlighted job if it is queued or running, else the running one."""
        selected = self.selected
        if selected is not None and not selected.ended:
            return selected
        return self.running_job()

    def queue(
        self, spec: JobSpec, benchmark: BenchmarkPlan | None, cached_models: tuple[tuple[str, str | None], ...]
    ) -> AnalyzerJob:
        """Add a job to the queue and the list, select it, and start it when nothing else runs."""
        job = AnalyzerJob(len(self.jobs) + 1, spec, cached_models, benchmark)
        self.jobs.append(job)
        self.display = True
        self.shown_cells[job.number] = cells = job_cells(job)
        self.add_row(*cells, key=str(job.number))
        self.move_cursor(row=self.row_count - 1, animate=False)
        self.select_job(job)
        self.start_next_job()
        return job

    def start_next_job(self) -> None:
        """Run the oldest queued job, unless one is running."""
        if self.running_job() is not None:
            return
        job = next((job for job in self.jobs if job.state == "queued"), None)
        if job is None:
            return
        job.state = "starting"
        worker = self.run_job(job.number, job.spec, job.cached_models, job.benchmark, job.cancel)
        self.job_workers[worker] = job.number
        self.show_job(job)

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB_GROUP, description="Run an analysis job")
    def run_job(
        self,
        number: int,
        spec: JobSpec,
        cached_models: tuple[tuple[str, str | None], ...],
        benchmark: BenchmarkPlan | None,
        cancel: threading.Event,
    ) -> None:
        """Run the engine off the event loop; everything it reports comes back as messages."""
        worker = get_current_worker()

        def cancelled() -> bool:
            return cancel.is_set() or worker.is_cancelled

        relay = EventRelay(self.post_message, number, keep_rows=benchmark is None)
        outcome = run_job(
            spec,
            benchmark,
            cached_models=cached_models,
            pipelines=hub_app(self).analyzer_pipelines,
            on_event=relay,
            cancelled=cancelled,
            intra_op_threads=threads_beside_event_loop(),
        )
        relay.flush()
        self.post_message(AnalysisEnded(number, outcome))

    @on(AnalysisStarted)
    def job_started(self, event: AnalysisStarted) -> None:
        """The job knows its size and device."""
        job = self.job(event.number)
        if job is not None:
            job.started(event.total, event.device, event.dtype)
            self.show_job(job)

    @on(AnalysisModelPhased)
    def model_phased(self, event: AnalysisModelPhased) -> None:
        """Show the model load phase; loading and checking mean the job waits for its model."""
        job = self.job(event.number)
        if job is not None:
            job.phased(event.model, event.phase)
            self.show_job(job)

    @on(AnalysisRowsArrived)
    def rows_arrived(self, event: AnalysisRowsArrived) -> None:
        """Keep the rows, move the progress, and append the rows if the job is the one shown."""
        job = self.job(event.number)
        if job is None:
            return
        job.rows_arrived(event.rows, event.done, event.items_per_s, event.eta_s)
        self.show_job(job)
        if job is self.selected and job.benchmark is None:
            self.results.append_rows(job)

    @on(AnalysisWarned)
    def job_warned(self, event: AnalysisWarned) -> None:
        """Show a warning (pickle weights, skipped inputs, remote code) beside the job and as a notification."""
        job = self.job(event.number)
        if job is None or not job.warned(event.message):
            return
        self.notify(printable(event.message), title=f"Job {job.number}", severity="warning", markup=False, timeout=8)
        if job is self.selected:
            self.summary.show(job)

    @on(AnalysisModelCompared)
    def model_compared(self, event: AnalysisModelCompared) -> None:
        """A benchmark's model finished: its row in the comparison."""
        job = self.job(event.number)
        if job is None:
            return
        job.model_compared(event.row)
        self.show_job(job)
        if job is self.selected:
            self.results.append_rows(job)

    @on(AnalysisEnded)
    def job_ended(self, event: AnalysisEnded) -> None:
        """Record how the job ended and say so; a job stopped by a model's remote code goes to the screen."""
        job = self.job(event.number)
        if job is None:
            return
        job.ended_with(event.outcome)
        self.show_job(job)
        self.refresh_bindings()
        self.announce_end(job)
        if job.remote_code_model:
            self.post_message(RemoteCodeRefused(job))

    def announce_end(self, job: AnalyzerJob) -> None:
        """One notification per ended job: an error for failures, with the engine's advice."""
        if job.state == "failed":
            why = job.error or "; ".join(f"{row.model}: {row.error}" for row in job.bench_rows if row.error)
            self.notify(
                printable(why or "see the job list"),
                title=f"Job {job.number} failed",
                severity="error",
                markup=False,
                timeout=10,
            )
        elif job.state == "cancelled":
            self.notify(f"Job {job.number} cancelled after {job.done} of {job.total} items.", markup=False)
        elif job.benchmark_result is not None:
            self.notify(printable(job.benchmark_result.recommendation), title=f"Benchmark {job.number}", markup=False)
        else:
            self.notify(f"Job {job.number} finished: {job.done} items.", markup=False)

    @on(Worker.StateChanged)
    def job_worker_changed(self, event: Worker.StateChanged) -> None:
        """When a job's worker stops, start the next job; a worker that raised fails its job (and is reported
        by `ReportsWorkerFailures`)."""
        number = self.job_workers.get(event.worker)
        if number is None or not event.worker.is_finished:
            return
        del self.job_workers[event.worker]
        job = self.job(number)
        if job is not None and not job.ended and event.state is WorkerState.ERROR:
            job.worker_failed(event.worker.error)
            self.show_job(job)
            self.refresh_bindings()
        self.start_next_job()

    def cancel_job(self) -> None:
        """Cancel the highlighted (or the running) job: a queued one never starts, a running one stops soon."""
        job = self.cancellable_job()
        if job is None:
            return
        if job.state == "queued":
            job.state = "cancelled"
            self.notify(f"Job {job.number} cancelled before it started.", markup=False)
        elif job.state != "cancelling":
            job.cancel.set()
            job.state = "cancelling"
            when = "after its model has loaded" if job.phase.startswith(("loading", "checking")) else "after this batch"
            self.notify(f"Cancelling job {job.number} {when}…", markup=False)
        self.show_job(job)
        self.refresh_bindings()

    def show_job(self, job: AnalyzerJob) -> None:
        """Update the job's row in place, the cells that changed (and the summary when it is the one shown)."""
        cells = job_cells(job)
        shown = self.shown_cells.get(job.number, ())
        for index, ((label, _width), cell) in enumerate(zip(JOB_COLUMNS, cells, strict=True)):
            if index >= len(shown) or shown[index] != cell:
                self.update_cell(str(job.number), label, cell)
        self.shown_cells[job.number] = cells
        if job is self.selected:
            self.summary.show(job)

    @on(DataTable.RowHighlighted)
    def highlight_job(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted job's rows fill the results table."""
        if event.row_key.value is None:
            return
        job = self.job(int(event.row_key.value))
        if job is not None and job is not self.selected:
            self.select_job(job)

    def select_job(self, job: AnalyzerJob) -> None:
        """Show `job`'s rows (rebuilding the results table once; later rows are appended) and its summary."""
        self.selected = job
        self.results.show_job(job)
        self.summary.show(job)
        self.refresh_bindings()
