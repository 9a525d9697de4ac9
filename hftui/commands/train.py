"""`hftui train SPEC.json`, `hftui runs`, `hftui runs stop|resume|watch ID`: training runs, headless.

`hftui train compare-lora MODEL` measures full fine-tuning against LoRA for a base model (see
hftui/train/lora_compare.py) and prints the table the LoRA comparison screen shows.

A run is a detached process (see hftui/train/launch.py), so these commands only start it, stop it, or follow
its events.jsonl: the run's id goes to stdout, progress and metrics to stderr, and Ctrl+C while following
detaches without stopping the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.humanize import human_duration

if TYPE_CHECKING:
    from rich.console import Console

    from hftui.train.events import RunEvent
    from hftui.train.runs import RunRecord

POLL_S = 0.25
EXAMPLE_SPEC: dict[str, Any] = {
    "base_model": "distilbert-base-uncased",
    "dataset": {"location": "reviews.csv", "kind": "local", "text_column": "text", "label_column": "label"},
    "hyperparameters": {"epochs": 3, "learning_rate": 5e-5, "batch_size": 16, "max_length": 128},
    "lora": {"r": 8, "alpha": 16, "dropout": 0.1, "target_modules": None},
}
_DETACH_HELP = "Ctrl+C detaches: the run keeps going (stop it with `hftui runs stop ID`)"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui train`."""
    parser.add_argument(
        "spec", nargs="?", type=Path, metavar="SPEC.json", help="the run spec (see --example), or compare-lora"
    )
    parser.add_argument("model", nargs="?", metavar="MODEL", help="compare-lora: the base model (Hub id or folder)")
    parser.add_argument(
        "--detach", action="store_true", help="print the run id and return at once (the run goes on alone)"
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the checks that read the dataset and the model before launch (the run reports them itself)",
    )
    parser.add_argument("--example", action="store_true", help="print an example spec and exit")
    lora = parser.add_argument_group(
        "compare-lora", "hftui train compare-lora MODEL: full fine-tuning vs LoRA, a short run of each"
    )
    lora.add_argument("--dataset", help="a CSV/JSON Lines/Parquet file or Hub dataset (default: generated rows)")
    lora.add_argument(
        "--text-column", default=COMPARE_LORA_DEFAULTS["text_column"], help="the dataset's text column (default: text)"
    )
    lora.add_argument(
        "--label-column",
        default=COMPARE_LORA_DEFAULTS["label_column"],
        help="the dataset's label column (default: label)",
    )
    lora.add_argument(
        "--steps", type=int, default=COMPARE_LORA_DEFAULTS["steps"], help="training steps of each variant (default: 4)"
    )
    lora.add_argument(
        "--batch-size", type=int, default=COMPARE_LORA_DEFAULTS["batch_size"], help="batch size of both (default: 8)"
    )
    lora.add_argument(
        "--max-length",
        type=int,
        default=COMPARE_LORA_DEFAULTS["max_length"],
        help="sequence length of both (default: 128)",
    )
    lora.add_argument("--lora-r", type=int, default=COMPARE_LORA_DEFAULTS["lora_r"], help="LoRA rank (default: 8)")
    lora.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default=COMPARE_LORA_DEFAULTS["device"], help="default: auto"
    )
    lora.add_argument("--json", action="store_true", help="print the comparison as JSON on stdout")
    parser.epilog = f"Without --detach, progress and metrics are shown as they come; {_DETACH_HELP}."


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui runs` and its stop, resume and watch sub-commands."""
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    what = parser.add_subparsers(dest="runs_command")
    stop = what.add_parser("stop", help="stop a run gracefully (it saves a checkpoint at its next step)")
    stop.add_argument("run", metavar="ID", help="a run id, a unique prefix of one, or a run folder")
    resume = what.add_parser("resume", help="continue a stopped or failed run from its last checkpoint")
    resume.add_argument("run", metavar="ID", help="a run id, a unique prefix of one, or a run folder")
    resume.add_argument("--detach", action="store_true", help="return at once instead of following the run")
    resume.epilog = f"Without --detach it follows the run; {_DETACH_HELP}."
    watch = what.add_parser("watch", help="follow a run's progress and metrics (a finished run is replayed)")
    watch.add_argument("run", metavar="ID", help="a run id, a unique prefix of one, or a run folder")
    watch.epilog = _DETACH_HELP + "."


def _errors() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _say(console: Console, text: str, style: str | None = None) -> None:
    """Print plain text (run messages and paths are never parsed as markup)."""
    from rich.text import Text

    from hftui.hub.plain_text import printable

    # Not wrapped: a message stays one line that grep finds whole.
    console.print(Text(printable(text), style=style or ""), soft_wrap=True)


def run_train(args: argparse.Namespace) -> int:
    """Validate the spec, start the run detached, print its id; then follow it unless --detach."""
    try:
        return _train(args)
    except KeyboardInterrupt:  # during the checks, before anything was started
        _say(_errors(), "interrupted; no run was started")
        return 130


def _train(args: argparse.Namespace) -> int:
    if args.example:
        print(json.dumps(EXAMPLE_SPEC, indent=2))
        return 0
    errors = _errors()
    if args.spec is None:
        _say(errors, "hftui train: give a spec file (hftui train --example prints one)")
        return 2
    if str(args.spec) == COMPARE_LORA and not args.spec.is_file():
        return compare_lora_command(args, errors)
    if getattr(args, "model", None) is not None:
        _say(errors, f"hftui train: one spec file at a time (got {args.spec} and {args.model})")
        return 2
    given = [
        f"--{name.replace('_', '-')}"
        for name, default in COMPARE_LORA_DEFAULTS.items()
        if getattr(args, name, default) != default
    ]
    if given:
        _say(
            errors, f"hftui train: {', '.join(given)} belong to compare-lora; a spec file sets its own hyperparameters"
        )
        return 2
    from hftui.paths import runs_dir
    from hftui.train.launch import SpecInvalid, start_run
    from hftui.train.spec import SpecError, load_spec, resolve_paths
    from hftui.train.validate import validate

    try:
        # Relative paths in a spec file are relative to the file's folder, wherever hftui is run from.
        spec = resolve_paths(load_spec(args.spec), args.spec.resolve().parent)
    except SpecError as error:
        for message in error.problems:
            _say(errors, f"error: {message}", "bold")
        return 2
    except UnicodeDecodeError as error:  # a spec saved in another encoding, or not a text file at all
        byte = error.object[error.start : error.start + 1].hex()
        _say(errors, f"error: {args.spec} is not UTF-8 text: byte 0x{byte} at offset {error.start}", "bold")
        return 2
    problems = validate(spec, check_sources=not args.no_check)
    for problem in problems:
        _say(errors, f"{problem.severity}: {problem}", "bold" if problem.severity == "error" else None)
    if any(problem.severity == "error" for problem in problems):
        return 2
    try:
        # The spec was checked just above; start_run checks again only its cheap values.
        run_id = start_run(spec, runs_dir(), check=False)
    except SpecInvalid as error:
        for problem in error.problems:
            _say(errors, f"error: {problem}", "bold")
        return 2
    print(run_id, flush=True)
    if args.detach:
        _say(errors, f"started; follow it with `hftui runs watch {run_id}`, stop it with `hftui runs stop {run_id}`")
        return 0
    return follow(runs_dir() / run_id, errors)


COMPARE_LORA = "compare-lora"
# The compare-lora options and their defaults: given with a spec file they would be ignored, so they are refused.
COMPARE_LORA_DEFAULTS = {
    "dataset": None,
    "text_column": "text",
    "label_column": "label",
    "steps": 4,
    "batch_size": 8,
    "max_length": 128,
    "lora_r": 8,
    "device": "auto",
    "json": False,
}


def compare_lora_command(args: argparse.Namespace, errors: Console) -> int:
    """`hftui train compare-lora MODEL`: measure both variants with a progress line, print the table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hftui.train.lora_compare import CompareSettings, LoraCompareError, compare_lora

    if not args.model:
        _say(errors, "hftui train compare-lora: give the base model (a Hub id or a model folder)")
        return 2
    if args.steps < 1 or args.batch_size < 1 or args.max_length < 8 or args.lora_r < 1:
        _say(errors, "hftui train compare-lora: --steps, --batch-size and --lora-r must be >= 1, --max-length >= 8")
        return 2
    settings = CompareSettings(
        base_model=args.model,
        dataset=args.dataset,
        text_column=args.text_column,
        label_column=args.label_column,
        steps=args.steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
        lora_r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        device=args.device,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"))
    progress = Progress(*columns, console=errors, transient=True, auto_refresh=errors.is_terminal)
    task = progress.add_task("starting", total=settings.steps, detail="")

    def show(update: Any) -> None:
        detail = update.message or update.stage
        progress.update(task, description=update.variant, completed=update.step, detail=detail)

    try:
        with progress:
            result = compare_lora(settings, progress=show)
    except LoraCompareError as error:
        _say(errors, f"hftui train compare-lora: {error}", "bold")
        return 1
    except KeyboardInterrupt:
        _say(errors, "interrupted; the measuring process was stopped")
        return 130
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    print_lora_comparison(result)
    return 0


def print_lora_comparison(result: Any) -> None:
    """The comparison as a Rich table on stdout, with how memory was measured and the notes."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.plain_text import printable

    settings = result.settings
    title = (
        f"{printable(settings.base_model, single_line=True)}: full fine-tuning vs LoRA "
        f"({settings.steps} steps, batch {settings.batch_size}, length {settings.max_length}, r {settings.lora_r})"
    )
    table = Table(title=Text(title))
    table.add_column("")
    table.add_column("full", justify="right")
    table.add_column("LoRA", justify="right")
    for measure, full, lora in result.rows():
        table.add_row(Text(measure), Text(full), Text(lora))
    console = Console(highlight=False)
    console.print(table)
    lines = [
        result.summary(),
        f"dataset: {result.dataset}",
        f"LoRA targets: {', '.join(result.lora.target_modules) or '-'}",
        f"peak memory: {result.memory_method}",
        *result.notes,
    ]
    for line in lines:
        console.print(Text(printable(line)), soft_wrap=True)


def run_runs(args: argparse.Namespace) -> int:
    """`hftui runs` (the list), `runs stop ID`, `runs resume ID`, `runs watch ID`."""
    from hftui.paths import runs_dir
    from hftui.train.runs import RunNotFound, find_run

    errors = _errors()
    command = getattr(args, "runs_command", None)
    if command is None:
        return _list_runs(args, runs_dir())
    try:
        run_dir = find_run(runs_dir(), args.run)
    except RunNotFound as error:
        _say(errors, f"hftui runs {command}: {error}")
        return 2
    if command == "stop":
        from hftui.train.launch import request_stop
        from hftui.train.runs import run_state

        if request_stop(run_dir):
            _say(errors, f"stop requested: {run_dir.name} saves a checkpoint at its next step and ends")
            return 0
        state = run_state(run_dir)
        _say(errors, f"{run_dir.name} is not running ({state.state}); nothing to stop")
        return 1
    if command == "resume":
        from hftui.train.launch import RunError, resume_run
        from hftui.train.spec import SpecError

        try:
            attempt = resume_run(run_dir)
        except RunError as error:
            _say(errors, f"hftui runs resume: {error}")
            return 1
        except SpecError as error:  # the run's spec.json was damaged or edited since it started
            _say(errors, f"error: {run_dir.name}: {error}")
            return 1
        print(run_dir.name, flush=True)
        _say(errors, f"resumed (attempt {attempt}) from the last checkpoint")
        return 0 if args.detach else follow(run_dir, errors)
    return follow(run_dir, errors)


def _state_text(record: RunRecord) -> str:
    if record.reason and record.state in ("failed", "stopped"):
        return f"{record.state} ({record.reason})"
    if record.state == "running" and record.step is not None and record.max_steps:
        return f"running {record.step}/{record.max_steps}"
    return record.state


def _list_runs(args: argparse.Namespace, root: Path) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.plain_text import printable
    from hftui.train.runs import list_runs

    records = list_runs(root)
    if args.json:
        for record in records:
            print(json.dumps(asdict(record), default=str))
        return 0
    if not records:
        _say(_errors(), f"no runs yet under {root}; start one with `hftui train SPEC.json`")
        return 0
    table = Table(title=f"{len(records)} runs in {root}")
    for column in ("Run", "State", "Base model", "Dataset", "Best eval", "Duration"):
        table.add_column(column, no_wrap=column in ("Run", "State", "Duration"))
    for record in records:
        base = record.base_model or "-"
        if base.startswith("/") or base.startswith("~"):
            base = Path(base).name
        table.add_row(
            *(
                Text(printable(value, single_line=True))
                for value in (
                    record.run_id,
                    _state_text(record),
                    base + (" +LoRA" if record.lora else ""),
                    record.dataset or "-",
                    record.best.label if record.best else "-",
                    human_duration(record.duration_s),
                )
            )
        )
    Console().print(table)
    return 0


def _event_line(event: RunEvent) -> str | None:
    """One line for an event worth printing (logs, evaluations, checkpoints, notes), or None."""
    if event.kind == "log":
        if event.number("loss") is None and event.get("loss") is None and "nonfinite" not in event.data:
            if event.get("train_runtime") is not None:
                return f"training took {event.number('train_runtime') or 0:.1f} s, mean loss {event.get('train_loss')}"
            return None
        loss = event.number("loss")
        parts = [f"step {event.step}", f"loss {loss:.4f}" if loss is not None else "loss NaN/inf"]
        if event.number("learning_rate") is not None:
            parts.append(f"lr {event.number('learning_rate'):.3g}")
        if event.number("grad_norm") is not None:
            parts.append(f"grad_norm {event.number('grad_norm'):.3g}")
        if event.number("epoch") is not None:
            parts.append(f"epoch {event.number('epoch'):.2f}")
        return "  ".join(parts)
    if event.kind == "eval":
        metrics = _mapping(event, "metrics")
        shown = [
            f"{name.removeprefix('eval_')} {value:.4f}"
            for name, value in metrics.items()
            if name in ("eval_loss", "eval_accuracy", "eval_f1_macro") and isinstance(value, int | float)
        ]
        label = "final eval" if event.get("final") else "eval"
        return f"{label} at step {event.step}: " + ", ".join(shown)
    if event.kind == "checkpoint":
        return f"checkpoint saved at step {event.step}: {event.get('path')}"
    if event.kind == "note":
        return f"{event.get('level', 'info')}: {event.get('message')}"
    if event.kind == "started":
        trainable, total = event.number("trainable_params") or 0, event.number("total_params") or 0
        device = _mapping(event, "device")
        resumed = f", resumed from step {event.get('resumed_from_step')}" if event.get("resumed_from") else ""
        return (
            f"training {trainable:,.0f} of {total:,.0f} parameters for {event.get('max_steps')} steps on "
            f"{device.get('kind', '?')} ({event.get('precision')}){resumed}"
        )
    return None


def _mapping(event: RunEvent, name: str) -> dict[str, Any]:
    """A field that should hold an object; {} when an edited or damaged events.jsonl gives something else."""
    value = event.get(name)
    return value if isinstance(value, dict) else {}


def follow(run_dir: Path, errors: Console) -> int:
    """Follow a run's events with a progress bar until it ends (0 finished or stopped, 1 failed)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hftui.train.events import TERMINAL_KINDS
    from hftui.train.folder_changes import FolderChanges
    from hftui.train.follow import RunFollower
    from hftui.train.watch import follow_to_end

    follower = RunFollower(run_dir)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    progress = Progress(*columns, console=errors, transient=False, auto_refresh=errors.is_terminal)
    task = progress.add_task("starting", total=None, detail="")
    try:
        # The changes watch is opened before the first poll, so nothing written after that poll is missed.
        with progress, FolderChanges(run_dir, poll_s=POLL_S) as changes:
            for update in follow_to_end(follower, changes=changes):
                for warning in update.warnings:
                    _say(progress.console, f"warning: {warning}")
                for event in update.events:
                    _show(progress, task, event)
            ended = follower.last_lifecycle
            if (ended is None or ended.kind not in TERMINAL_KINDS) and update.state.state in ("failed", "unknown"):
                _say(progress.console, f"{run_dir.name}: {update.state.state}: {update.state.message}", "bold")
                return 1
    except KeyboardInterrupt:
        _say(errors, f"detached; {run_dir.name} keeps going (hftui runs stop {run_dir.name} stops it)")
        return 0
    last_lifecycle = follower.last_lifecycle
    if last_lifecycle is None:
        return 1
    kind = last_lifecycle.kind
    message = last_lifecycle.get("message") or ""
    if kind == "finished":
        metrics = _mapping(last_lifecycle, "metrics")
        scores = ", ".join(
            f"{name} {metrics[name]:.4f}" for name in ("accuracy", "f1_macro") if isinstance(metrics.get(name), float)
        )
        _say(errors, f"finished: {scores or message}; model in {last_lifecycle.get('model_dir')}", "bold")
        return 0
    if kind == "stopped":
        _say(errors, f"stopped: {message} (hftui runs resume {run_dir.name})", "bold")
        return 0
    _say(errors, f"failed ({last_lifecycle.get('reason')}): {message}", "bold")
    return 1


def _show(progress: Any, task: Any, event: RunEvent) -> None:
    """Move the bar for progress events, print a line for the others."""
    if event.kind in ("started", "progress") and isinstance(event.get("max_steps"), int):
        progress.update(task, total=event.get("max_steps"), completed=event.step or 0, description="training")
    if event.kind == "progress":
        eta = event.number("eta_s")
        epoch = event.number("epoch")
        detail = []
        if epoch is not None:
            detail.append(f"epoch {epoch:.2f}")
        if event.number("samples_per_s") is not None:
            detail.append(f"{event.number('samples_per_s'):.1f} samples/s")
        if eta is not None:
            detail.append(f"ETA {human_duration(eta)}")
        progress.update(task, completed=event.step or 0, detail="  ".join(detail))
        return
    if event.kind == "log" and event.step is not None:
        progress.update(task, completed=event.step)
    line = _event_line(event)
    if line is not None:
        _say(progress.console, line)
    if not sys.stderr.isatty():
        sys.stderr.flush()
