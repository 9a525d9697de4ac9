"""`hftui analyze`: the Analyzer's engine, headless; results on stdout (or a file), progress and problems on stderr.

The job runs in the calling thread. Ctrl+C sets a flag the engine reads between batches (and after each model
load), so an interrupted job still ends with a report of what was done; a second Ctrl+C stops at once. Every
text that came from a file name, a model or a library is shown as plain text, never parsed as Rich markup.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from hftui.analyze.tasks import ANALYZER_TASKS
from hftui.commands.arguments import positive_int

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from hftui.analyze.events import AnalyzerEvent, JobResult, JobSpec

FORMATS = ("md", "json", "csv")
TEXT_MODES = ("lines", "file")
DTYPES = ("auto", "fp32", "float32", "fp16", "float16", "half", "bf16", "bfloat16")
_DEVICE = re.compile(r"auto|cpu|cuda|gpu|cuda:\d+|mps", re.IGNORECASE)
# A Hub id ("name" or "owner/name"); anything else is a path the engine checks itself.
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
# Each task by its pipeline tag and by the Hub tags it also serves ("sentiment-analysis", "image-to-text").
TASK_NAMES: dict[str, str] = {name: task.pipeline_tag for task in ANALYZER_TASKS for name in sorted(task.pipeline_tags)}
# Short task names for the progress bar, which must fit 80 columns with its counts.
TASK_LABELS = {
    "text-classification": "text",
    "image-classification": "image",
    "image-text-to-text": "caption",
    "automatic-speech-recognition": "speech",
}
MAX_ERROR_LINES = 20
EXIT_CANCELLED = 130  # 128 + SIGINT, as a shell reports a job stopped by Ctrl+C


class AnalyzeUsageError(ValueError):
    """A command-line argument that cannot be understood (exit 2, like argparse)."""


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui analyze`."""
    tasks = ", ".join(task.pipeline_tag for task in ANALYZER_TASKS)
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="text (.txt/.md), image or audio files, or folders (recursively)"
    )
    parser.add_argument("--text", action="append", default=[], metavar="TEXT", help="a text to analyse (repeatable)")
    parser.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="T",
        help=f"run only these tasks (repeatable; default: every task the inputs' modalities have): {tasks}",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="TASK=MODEL",
        help="the model for a task: a Hub id or a local folder (repeatable; default: a cached model whose "
        "pipeline tag fits, else the task's Hub default)",
    )
    parser.add_argument("--device", default=None, metavar="D", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default=None, type=str.lower, choices=DTYPES, help="weights dtype (default auto)")
    parser.add_argument("--batch-size", type=positive_int, default=8, metavar="N", help="items per batch (default 8)")
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="md, json or csv (default: from --out's suffix, else md)"
    )
    parser.add_argument("--out", default=None, metavar="FILE", help="write the report here (atomically) instead")
    parser.add_argument(
        "--allow-remote-code",
        action="append",
        default=[],
        metavar="MODEL",
        help="let MODEL run its repository's own Python code (trust_remote_code); only for authors you trust",
    )
    parser.add_argument(
        "--text-mode", choices=TEXT_MODES, default="lines", help="a text file gives one item per line (default) or one"
    )
    # Also accepted after the sub-command; SUPPRESS keeps `hftui --offline analyze` working too.
    parser.add_argument("--offline", action="store_true", default=argparse.SUPPRESS, help="use the HF cache only")


# --- arguments to a job ---------------------------------------------------------------------------------------


def task_name(text: str) -> str:
    """The task `text` names (a pipeline tag or a Hub tag it serves); AnalyzeUsageError names the known ones."""
    found = TASK_NAMES.get(text.strip().lower())
    if found is None:
        raise AnalyzeUsageError(
            f"unknown task {text!r}; choose from {', '.join(t.pipeline_tag for t in ANALYZER_TASKS)}"
        )
    return found


def parse_models(items: Sequence[str]) -> dict[str, str]:
    """`--model TASK=MODEL` items as {task: model}; a malformed item or two models for one task is an error."""
    models: dict[str, str] = {}
    for item in items:
        task, equals, model = item.partition("=")
        if not equals or not task.strip() or not model.strip():
            raise AnalyzeUsageError(
                f"--model {item!r}: expected TASK=MODEL, for example text-classification=./my-model"
            )
        try:
            name = task_name(task)
        except AnalyzeUsageError as error:
            raise AnalyzeUsageError(f"--model {item!r}: {error}") from None
        if models.get(name, model.strip()) != model.strip():
            raise AnalyzeUsageError(f"--model {item!r}: {name} already has the model {models[name]!r}")
        models[name] = model.strip()
    return models


@dataclass(frozen=True)
class Destination:
    """Where the report goes: a file (written atomically) or stdout, and in which format."""

    fmt: str
    path: Path | None = None


def destination(out: str | None, fmt: str | None) -> Destination:
    """The report's destination from --out and --format, checked before any model loads."""
    from hftui.analyze.reports import format_for

    if out is None:
        return Destination(fmt or "md")
    path = Path(out).expanduser()
    try:
        chosen = format_for(path, fmt)
    except ValueError as error:
        raise AnalyzeUsageError(f"--out {out!r}: {error} (or give --format)") from None
    if path.is_dir():
        raise AnalyzeUsageError(f"--out {out!r} is a folder; name a file")
    if not path.parent.is_dir():
        raise AnalyzeUsageError(f"--out {out!r}: the folder {str(path.parent)!r} does not exist")
    return Destination(chosen, path)


def spec_from_args(args: argparse.Namespace) -> JobSpec:
    """The job the arguments describe: inputs from the paths and --text, tasks, models, device and batch size.

    Paths that give no inputs become the job's notes, so they are reported as warnings and in the report.
    """
    from hftui.analyze.events import JobSpec
    from hftui.analyze.sources import collect_inputs, text_inputs

    if not args.paths and not args.text:
        raise AnalyzeUsageError("nothing to analyse: give files or folders, or --text TEXT")
    if args.device is not None and not _DEVICE.fullmatch(args.device.strip()):
        raise AnalyzeUsageError(f"--device {args.device!r}: use auto, cpu, cuda, cuda:N or mps")
    tasks = tuple(dict.fromkeys(task_name(task) for task in args.task))
    models = parse_models(args.model)
    collected = collect_inputs(args.paths, text_mode=args.text_mode)
    notes = [f"{problem.path} {problem.message}." for problem in collected.problems]
    typed = text_inputs(args.text, origin="text")
    if len(typed) < len(args.text):
        notes.append(f"{len(args.text) - len(typed)} empty --text value(s) skipped.")
    for task in models:
        if tasks and task not in tasks:
            notes.append(f"--model {task}={models[task]} is not used: {task} is not among the --task values.")
    return JobSpec(
        inputs=(*collected.inputs, *typed),
        tasks=tasks,
        models=models,
        device=args.device,
        dtype=args.dtype,
        batch_size=args.batch_size,
        allow_remote_code=frozenset(args.allow_remote_code),
        notes=tuple(notes),
    )


def planned_tasks(spec: JobSpec) -> tuple[str, ...]:
    """The tasks the job will run: the chosen ones, else every task of the inputs' modalities."""
    if spec.tasks:
        return spec.tasks
    modalities = {item.modality for item in spec.inputs}
    return tuple(task.pipeline_tag for task in ANALYZER_TASKS if task.modality in modalities)


def cached_models() -> tuple[tuple[str, str | None], ...]:
    """(repo id, pipeline tag) of the cached transformers models (a cache scan, as the app does at start)."""
    from hftui.hub.cache import scan_local_cache

    repos = scan_local_cache().of_type("model")
    return tuple((repo.repo_id, repo.pipeline_tag) for repo in repos if repo.library_name in (None, "transformers"))


def _on_hub_only(model: str) -> bool:
    """Whether `model` is a Hub id with nothing on disk yet (loading it needs the Hub)."""
    from hftui.analyze.pipelines import model_folder

    if Path(model).expanduser().exists() or not _REPO_ID.fullmatch(model):
        return False
    return model_folder(model) is None


def prepare_models(spec: JobSpec, *, offline: bool) -> tuple[tuple[tuple[str, str | None], ...], list[str]]:
    """The cached models to offer the engine, and notes: when a model must come from the Hub and the Hub does
    not answer, the process is switched to offline mode (the load then fails at once, saying why)."""
    from hftui.analyze.pipelines import resolve_model

    tasks = planned_tasks(spec)
    if not spec.inputs or not tasks:
        return (), []
    notes: list[str] = []
    cached: tuple[tuple[str, str | None], ...] = ()
    if any(task not in spec.models for task in tasks):
        try:
            cached = cached_models()
        except Exception as error:  # an unreadable cache: fall back to the defaults, and say so
            notes.append(f"The HF cache could not be scanned ({type(error).__name__}: {error}).")
    if offline:
        return cached, notes
    needs_hub = [
        choice.model
        for choice in (resolve_model(task, spec.models.get(task), cached) for task in tasks)
        if _on_hub_only(choice.model)
    ]
    if needs_hub:
        from huggingface_hub import constants

        from hftui.hub.connectivity import probe_hub, set_offline_mode

        reach = probe_hub(constants.ENDPOINT)
        if not reach.online:
            set_offline_mode(True)
            notes.append(
                f"The Hub ({reach.endpoint}) is unreachable ({reach.detail}), so {', '.join(needs_hub)} cannot be "
                "downloaded: working from the cache only (pass --model TASK=PATH for a local model)."
            )
    return cached, notes


# --- what the user sees on stderr ---------------------------------------------------------------------------------


def _plain(text: object) -> Any:
    """Untrusted text as a Rich `Text`: never parsed as markup, terminal controls made visible."""
    from rich.text import Text

    from hftui.hub.plain_text import printable

    return Text(printable(text))


class JobDisplay:
    """The engine's events on stderr: a progress bar (only on a terminal) and every warning as it comes."""

    def __init__(self, console: Console, *, show_progress: bool) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bar: TaskID | None = None
        self.phase = "planning"
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=16),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]}", markup=False),
                TextColumn("{task.fields[eta]}", markup=False),
                console=console,
                transient=True,
            )
            self.bar = self.progress.add_task("planning", total=None, speed="", eta="")

    def __enter__(self) -> JobDisplay:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def say(self, prefix: str, message: object) -> None:
        """One line on stderr (above the bar), `message` as plain text."""
        from rich.text import Text

        self.console.print(Text(prefix, style="bold"), _plain(message), soft_wrap=True)

    def show(self, event: AnalyzerEvent) -> None:
        """Handle one engine event (the job's `on_event`)."""
        from hftui.analyze.events import ItemsAnalysed, JobStarted, JobWarned, ModelLoadPhased

        if isinstance(event, JobWarned):
            self.say("warning:", event.message)
            return
        if self.progress is None or self.bar is None:
            return
        if isinstance(event, JobStarted):
            self.progress.update(self.bar, total=event.total, description=f"on {event.device} ({event.dtype})")
        elif isinstance(event, ModelLoadPhased):
            shown = f"{TASK_LABELS.get(event.task, event.task)} {_short(event.model)}"
            if event.phase not in ("ready", "cached"):
                shown += f": {event.phase}"
            self.progress.update(self.bar, description=shown)
        elif isinstance(event, ItemsAnalysed):
            eta = "" if event.eta_s is None else f"ETA {_duration(event.eta_s)}"
            self.progress.update(self.bar, completed=event.done, speed=f"{event.items_per_s:.1f} items/s", eta=eta)

    def cancelling(self) -> None:
        """Say at once that Ctrl+C was heard (the engine stops after the current batch or model load)."""
        if self.progress is not None and self.bar is not None:
            self.progress.update(self.bar, description="cancelling")
        self.say("cancelling:", "stopping after the current batch (Ctrl+C again to stop at once)")


def _short(model: str, limit: int = 28) -> str:
    """A model as the bar names it: a folder's last part, cut to `limit` characters (80 columns hold the bar)."""
    from hftui.hub.plain_text import printable

    path = Path(model)
    name = printable(path.name if len(path.parts) > 2 or path.is_absolute() else model, single_line=True)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{whole}s"


@contextmanager
def ctrl_c_cancels(on_first: Callable[[], None]) -> Iterator[threading.Event]:
    """While inside, the first Ctrl+C sets the returned event (and calls `on_first`); the second raises
    KeyboardInterrupt as usual. Outside the main thread (no signal handlers there) Ctrl+C is left alone."""
    cancel = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        on_first()

    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def _report_item_errors(display: JobDisplay, result: JobResult) -> None:
    failed = [row for row in result.results if not row.ok]
    for row in failed[:MAX_ERROR_LINES]:
        display.say("error:", f"{row.origin} ({row.task}): {row.error}")
    if len(failed) > MAX_ERROR_LINES:
        display.say("error:", f"… and {len(failed) - MAX_ERROR_LINES} more items failed (see the report).")


def _summary_line(result: JobResult) -> str:
    summary = result.summary
    failed = f", {summary.failed} failed" if summary.failed else ""
    return (
        f"{result.state}: {summary.succeeded} of {summary.total} analysed{failed} on {summary.device} in "
        f"{summary.duration_s:.1f} s ({summary.items_per_s:.1f} items/s)"
    )


# --- the command ----------------------------------------------------------------------------------------------------


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse the inputs, print or write the report; 0 when something was analysed, 1 when nothing (or the
    job failed), 130 when cancelled with Ctrl+C. Raises AnalyzeUsageError for arguments that make no sense."""
    from dataclasses import replace

    from rich.console import Console

    from hftui.analyze.engine import MultiModalAnalyzer
    from hftui.analyze.reports import render_report, write_report
    from hftui.hub.plain_text import printable

    where = destination(args.out, args.format)
    spec = spec_from_args(args)
    errors = Console(stderr=True)
    offline = bool(getattr(args, "offline", False))
    if offline:
        from hftui.hub.connectivity import set_offline_mode

        set_offline_mode(True)
    else:
        from huggingface_hub import constants

        offline = constants.is_offline_mode()
    display = JobDisplay(errors, show_progress=errors.is_terminal)
    try:
        with ctrl_c_cancels(display.cancelling) as cancel:
            cached, notes = prepare_models(spec, offline=offline)
            spec = replace(spec, notes=(*spec.notes, *notes))
            with display:
                result = MultiModalAnalyzer(cached_models=cached).run(spec, display.show, cancel.is_set)
    except KeyboardInterrupt:
        display.say("stopped:", "interrupted before the job could finish; no report was written")
        return EXIT_CANCELLED
    if result.error:
        display.say("error:", result.error)
    _report_item_errors(display, result)
    if result.results or result.state != "failed":
        report = render_report(result, where.fmt)
        if where.path is None:
            sys.stdout.write(printable(report) if sys.stdout.isatty() else report)
            sys.stdout.flush()
        else:
            try:
                written = write_report(result, where.path, where.fmt)
            except OSError as error:
                display.say("error:", f"cannot write {where.path}: {error.strerror or error}")
                return 1
            display.say("wrote", f"{written} ({where.fmt}, {len(result.results)} rows)")
    if errors.is_terminal:
        display.say("done:", _summary_line(result))
    if result.state == "cancelled":
        return EXIT_CANCELLED
    if result.state == "failed":
        return 1
    if not result.analysed_any:
        if result.results:
            display.say("error:", f"nothing could be analysed: all {len(result.results)} items failed")
        return 1
    return 0
