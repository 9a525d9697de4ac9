"""Analyzer: gather inputs, choose tasks, models, device and batch size, and run queued jobs and benchmarks.

A job flows like this: typed paths (collected in a worker), pasted text and the app's `analyzer_inbox` (sent
from the Datasets screen) become the pending inputs (`InputsPanel`); `r` turns them and the settings here into
a `JobSpec` and queues an `AnalyzerJob` in the job list (`JobList`), which runs one job at a time in a thread
worker and shows its progress, its summary (`JobSummaryPanel`) and its rows (`JobResults`). The screen owns the
settings, the keys, the benchmark set-up, the export, and asking before a model's remote code may run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Input

from hftui.analyze.benchmark import BenchmarkResult
from hftui.analyze.events import JobResult, JobSpec
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.jobs import AnalyzerJob, BenchmarkPlan, benchmark_candidates, device_choices, tasks_for_inputs
from hftui.analyze.pipelines import DEFAULT_MODELS, resolve_model
from hftui.analyze.reports import format_for, write_report
from hftui.analyze.tasks import ANALYZER_TASKS, analyzer_task, tag_fits
from hftui.device import ComputeDevice
from hftui.hub.cache import CacheScan
from hftui.hub.plain_text import printable
from hftui.paths import hftui_home
from hftui.ui.analyzer.benchmark import BenchmarkSetupScreen
from hftui.ui.analyzer.inputs_panel import InputsPanel
from hftui.ui.analyzer.job_list import JobList
from hftui.ui.analyzer.job_results import JobResults
from hftui.ui.analyzer.job_summary import JobSummaryPanel
from hftui.ui.analyzer.messages import RemoteCodeRefused, ReportFailed, ReportWritten
from hftui.ui.analyzer.result import ResultDetailScreen
from hftui.ui.analyzer.settings import DeviceLine, TaskTable
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.widgets.result_rows import ResultRows

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


class AnalyzerScreen(HubScreen):
    """Inputs, tasks and models, a queue of jobs with live progress, and the rows of the selected job."""

    HELP_TITLE = "Analyzer"
    BINDINGS = [
        Binding("i", "add_path", "Add path", id="analyzer.add-path"),
        Binding("p", "paste_text", "Paste", id="analyzer.paste"),
        Binding("r", "run_job", "Run", id="analyzer.run"),
        Binding("c", "cancel_job", "Cancel", id="analyzer.cancel"),
        Binding("escape", "back_or_cancel", "Back/cancel", show=False, id="analyzer.escape"),
        Binding("e", "export", "Export", id="analyzer.export"),
        Binding("b", "benchmark", "Benchmark", id="analyzer.benchmark"),
        Binding("space", "toggle_task", "Task on/off", id="analyzer.toggle-task"),
        Binding("M", "choose_model", "Model", show=False, id="analyzer.model"),
        Binding("D", "choose_device", "Device", show=False, id="analyzer.device"),
        Binding("N", "choose_batch_size", "Batch size", show=False, id="analyzer.batch"),
        Binding("x", "clear_inputs", "Clear inputs", show=False, id="analyzer.clear"),
        Binding("R", "rerun", "Rerun job", show=False, id="analyzer.rerun"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pending = InputsPanel()
        self.enabled_tasks = {task.pipeline_tag for task in ANALYZER_TASKS}
        self.models: dict[str, str] = {}
        self.device_choice = "auto"
        self.batch_size = 8
        self.allowed_remote_code: set[str] = set()
        summary, results = JobSummaryPanel("", id="analyzer-summary"), JobResults(id="analyzer-results")
        self.job_list = JobList(summary, results, id="analyzer-jobs")

    def compose_body(self) -> Iterable[Widget]:
        yield DeviceLine("", id="analyzer-device")
        yield self.pending
        yield TaskTable(id="analyzer-tasks")
        yield self.job_list
        yield self.job_list.summary
        yield self.job_list.results

    def on_mount(self) -> None:
        self.job_list.summary.display = False
        self.job_list.results.display = False
        self.watch(self.app, "device", self.show_device)
        self.watch(self.app, "cache_scan", lambda _scan: self.show_tasks())
        self.set_focus(self.query_one(TaskTable))

    @property
    def inputs(self) -> tuple[AnalysisInput, ...]:
        """The pending inputs: what the next job analyses."""
        return self.pending.inputs

    # --- settings -------------------------------------------------------------------------------------------

    @property
    def cached_models(self) -> tuple[tuple[str, str | None], ...]:
        """(repo id, pipeline tag) of every cached model, from the app's cache scan."""
        scan: CacheScan | None = hub_app(self).cache_scan
        return tuple((repo.repo_id, repo.pipeline_tag) for repo in scan.of_type("model")) if scan else ()

    def show_device(self, device: ComputeDevice | None = None) -> None:
        """The device line: what was detected and what jobs will run on."""
        line = self.query_one(DeviceLine)
        line.show(hub_app(self).device, self.device_choice, self.batch_size, self.allowed_remote_code)

    def show_tasks(self) -> None:
        """The tasks table for the current choices and the cached models."""
        self.query_one(TaskTable).show_tasks(self.enabled_tasks, self.models, self.cached_models)

    def action_toggle_task(self) -> None:
        """Turn the highlighted task on or off for the next jobs."""
        task = self.query_one(TaskTable).current_task()
        if task is None:
            return
        self.enabled_tasks ^= {task}
        self.show_tasks()

    @on(DataTable.RowSelected, "#analyzer-tasks")
    def choose_model_for_row(self) -> None:
        """Enter on a task chooses its model."""
        self.action_choose_model()

    def action_choose_model(self) -> None:
        """Pick the highlighted task's model: automatic, a cached one that fits, the default, or a typed one."""
        task = self.query_one(TaskTable).current_task()
        if task is None:
            return
        fitting = [repo_id for repo_id, tag in self.cached_models if tag_fits(task, tag)]
        automatic = resolve_model(task, None, self.cached_models).model
        items = [f"automatic: {automatic} (the first cached model that fits, else the default)"]
        items += [f"cached: {repo_id}" for repo_id in fitting]
        items += [f"default: {DEFAULT_MODELS[task]}", "type a Hub id or a local model folder…"]
        models: list[str | None] = [None, *fitting, DEFAULT_MODELS[task]]

        def typed(model: str | None) -> None:
            if model:
                self.models[task] = model
                self.show_tasks()

        def chosen(index: int | None) -> None:
            if index is None:
                return
            if index == len(models):
                current = self.models.get(task, "")
                hint = "a Hub id (org/name) or a local folder; tab completes paths · escape cancels"
                self.app.push_screen(PathPromptScreen(f"Model for {task}", current, hint=hint), typed)
                return
            model = models[index]
            if model is None:
                self.models.pop(task, None)
            else:
                self.models[task] = model
            self.show_tasks()

        self.app.push_screen(ChoiceScreen(f"Model for {task}", items), chosen)

    def action_choose_device(self) -> None:
        """Pick the device jobs run on (auto picks CUDA, else MPS, else the CPU)."""
        choices = device_choices(hub_app(self).device)

        def chosen(index: int | None) -> None:
            if index is not None:
                self.device_choice = choices[index]
                self.show_device()

        self.app.push_screen(ChoiceScreen("Run the next jobs on", choices), chosen)

    def action_choose_batch_size(self) -> None:
        """Pick how many items go through the model at once."""
        labels = [f"{size}" + (" (current)" if size == self.batch_size else "") for size in BATCH_SIZES]

        def chosen(index: int | None) -> None:
            if index is not None:
                self.batch_size = BATCH_SIZES[index]
                self.show_device()

        self.app.push_screen(ChoiceScreen("Batch size (lower it after an out-of-memory error)", labels), chosen)

    # --- inputs ---------------------------------------------------------------------------------------------

    def action_add_path(self) -> None:
        """Type a file or folder to add."""
        self.set_focus(self.query_one("#analyzer-path"))

    @on(Input.Submitted, "#analyzer-path")
    def add_path(self, event: Input.Submitted) -> None:
        """Enter in the path box collects that path's inputs in a worker; the box clears for the next one."""
        text = event.value.strip()
        if not text:
            self.set_focus(self.query_one(TaskTable))
            return
        event.input.value = ""
        self.pending.collect_path(text)

    def action_paste_text(self) -> None:
        """Paste or type text; each non-empty line becomes a text input."""
        self.pending.paste()

    def action_clear_inputs(self) -> None:
        """Forget the pending inputs (and the Datasets screen's inbox); queued jobs keep theirs."""
        self.pending.clear()

    # --- jobs ---------------------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[AnalyzerJob]:
        """Every job queued here, oldest first (job n is `jobs[n - 1]`)."""
        return self.job_list.jobs

    def action_run_job(self) -> None:
        """Queue a job for the pending inputs with the chosen tasks, models, device and batch size."""
        if not self.inputs:
            self.notify("Add inputs first: i types a path, p pastes text.", markup=False)
            return
        tasks = tasks_for_inputs(self.inputs, self.enabled_tasks)
        if not tasks:
            self.notify("No task that is switched on takes these inputs (space switches a task on).", markup=False)
            return
        self.queue(self.job_spec(tasks, self.inputs))

    def job_spec(self, tasks: tuple[str, ...], inputs: tuple[AnalysisInput, ...]) -> JobSpec:
        """The spec for the screen's current settings."""
        return JobSpec(
            inputs=inputs,
            tasks=tasks,
            models={task: self.models[task] for task in tasks if task in self.models},
            device=None if self.device_choice == "auto" else self.device_choice,
            batch_size=self.batch_size,
            allow_remote_code=frozenset(self.allowed_remote_code),
            notes=tuple(f"{problem.path} {problem.message}." for problem in self.pending.problems),
        )

    def queue(self, spec: JobSpec, benchmark: BenchmarkPlan | None = None) -> AnalyzerJob:
        """Add a job to the queue, select it, and start it when nothing else runs."""
        return self.job_list.queue(spec, benchmark, self.cached_models)

    @on(RemoteCodeRefused)
    def offer_remote_code(self, event: RemoteCodeRefused) -> None:
        """A model's remote code stopped the job: ask now if the screen is shown, else say how to ask later."""
        job = event.job
        if self.app.screen is self:
            self.ask_remote_code(job)
        else:
            self.notify(
                printable(f"{job.remote_code_model} needs trust_remote_code: R on job {job.number} asks to allow it."),
                severity="warning",
                markup=False,
            )

    # --- cancelling and re-running ---

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without a job to cancel, c is the app's (Cache) again; space only means something on the tasks.
        if action == "cancel_job":
            return self.job_list.cancellable_job() is not None
        if action == "back_or_cancel":
            return isinstance(self.focused, Input) or self.job_list.cancellable_job() is not None
        if action == "toggle_task":
            return self.focused is self.query_one("#analyzer-tasks")
        return True

    def action_cancel_job(self) -> None:
        """Cancel the highlighted (or the running) job: a queued one never starts, a running one stops soon."""
        self.job_list.cancel_job()

    def action_back_or_cancel(self) -> None:
        """Escape: leave the path box, else cancel the highlighted or running job."""
        if isinstance(self.focused, Input):
            self.set_focus(self.query_one("#analyzer-tasks"))
        else:
            self.action_cancel_job()

    def action_rerun(self) -> None:
        """Run the highlighted job again (asking first to allow a model's remote code if that stopped it)."""
        job = self.job_list.selected
        if job is None or not job.ended:
            self.notify("Highlight a job that has ended to run it again.", markup=False)
            return
        if job.remote_code_model and job.remote_code_model not in job.spec.allow_remote_code:
            self.ask_remote_code(job)
        else:
            self.queue(job.spec, job.benchmark)

    def ask_remote_code(self, job: AnalyzerJob) -> None:
        """Ask before allowing a model to run its repository's code; yes re-runs the job with it allowed."""
        model = job.remote_code_model
        if model is None:
            return
        details = (
            f"{model} needs trust_remote_code: loading it runs Python code from the model's repository on this "
            "machine, with your permissions, and hftui cannot check what that code does. Allow it only if you "
            f"trust its author.\n\ny: allow {model} for this session and run job {job.number} again\nn: keep it refused"
        )

        def answered(allow: bool | None) -> None:
            if not allow:
                return
            self.allowed_remote_code.add(model)
            self.show_device()
            allowed = job.spec.allow_remote_code | {model}
            self.queue(replace(job.spec, allow_remote_code=allowed), job.benchmark)

        self.app.push_screen(ConfirmScreen(f"Run {model}'s own code?", details), answered)

    # --- the results -------------------------------------------------------------------------------------

    @on(ResultRows.RowChosen, "#analyzer-results")
    def open_result(self, event: ResultRows.RowChosen) -> None:
        """Enter on a row shows its full output (and the picture of an image input)."""
        job = self.job_list.selected
        if job is None:
            return
        if job.benchmark is not None:
            if 0 <= event.index < len(job.bench_rows):
                row = job.bench_rows[event.index]
                self.notify(
                    printable(f"{row.model}: {row.state}" + (f" ({row.error})" if row.error else "")), markup=False
                )
            return
        if not 0 <= event.index < len(job.rows):
            return
        result = job.rows[event.index]
        inputs = job.spec.inputs
        item = inputs[result.index] if 0 <= result.index < len(inputs) else None
        self.app.push_screen(ResultDetailScreen(result, item))

    # --- benchmark --------------------------------------------------------------------------------------

    def action_benchmark(self) -> None:
        """Compare several models for one task on the pending inputs: speed, and accuracy where labelled."""
        if not self.inputs:
            self.notify("Add inputs first: a benchmark runs every model on the same inputs.", markup=False)
            return
        modalities = {item.modality for item in self.inputs}
        tasks = [task.pipeline_tag for task in ANALYZER_TASKS if task.modality in modalities]
        if len(tasks) == 1:
            self.setup_benchmark(tasks[0])
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.setup_benchmark(tasks[index])

        self.app.push_screen(ChoiceScreen("Benchmark which task?", tasks), chosen)

    def setup_benchmark(self, task: str) -> None:
        """Offer the models that could run `task` and queue the benchmark of those ticked."""
        modality = analyzer_task(task).modality
        inputs = tuple(item for item in self.inputs if item.modality == modality)
        known: dict[str, object] = hub_app(self).analyzer_labels
        labels = tuple(known.get(item.origin) for item in inputs)
        labelled = sum(label is not None for label in labels)
        offered = benchmark_candidates(task, self.models.get(task), self.cached_models)

        def chosen(models: tuple[str, ...] | None) -> None:
            if not models:
                return
            plan = BenchmarkPlan(task, models, labels if labelled else None)
            self.queue(self.job_spec((task,), inputs), plan)

        self.app.push_screen(BenchmarkSetupScreen(task, offered, len(inputs), labelled), chosen)

    # --- export -----------------------------------------------------------------------------------------

    def action_export(self) -> None:
        """Write the highlighted job's report (Markdown, JSON or CSV by the file's extension)."""
        job = self.job_list.selected
        if job is None:
            self.notify("Run a job first; e exports the highlighted job's report.", markup=False)
            return
        report = job.report
        if report is None:
            why = "was cancelled before it ran" if job.ended else "has not ended yet; export it when it has"
            self.notify(f"Job {job.number} {why}: there is no report.", markup=False)
            return
        stamp = "".join(ch for ch in report.started_at[:19] if ch.isdigit()) or time.strftime("%Y%m%d%H%M%S")
        kind = "benchmark" if job.benchmark is not None else "analysis"
        default = hftui_home() / "reports" / f"{kind}-{stamp}-job{job.number}.md"

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                format_for(target)
            except ValueError as problem:
                self.notify(str(problem), title="Not exported", severity="error", markup=False)
                return
            self.write_job_report(job.number, report, target)

        hint = "the extension picks the format: .md, .json or .csv · tab completes · escape cancels"
        self.app.push_screen(PathPromptScreen(f"Export job {job.number}'s report to", str(default), hint=hint), chosen)

    @work(thread=True, exit_on_error=False, group="analyzer-export", description="Write an analysis report")
    def write_job_report(self, number: int, report: JobResult | BenchmarkResult, target: Path) -> None:
        """Write the report off the event loop (atomically, creating its folder)."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            path = write_report(report, target)
        except (OSError, ValueError) as error:
            self.post_message(ReportFailed(number, f"{target}: {error}"))
            return
        self.post_message(ReportWritten(number, path.resolve()))

    @on(ReportWritten)
    def report_written(self, event: ReportWritten) -> None:
        """Say where the report went."""
        self.notify(
            printable(f"Job {event.number}'s report: {event.path}"), title="Report written", markup=False, timeout=10
        )

    @on(ReportFailed)
    def report_failed(self, event: ReportFailed) -> None:
        """Say why the report could not be written."""
        self.notify(printable(event.text), title="Report not written", severity="error", markup=False)
