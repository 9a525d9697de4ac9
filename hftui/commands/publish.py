"""`hftui push` and `hftui card`: publish a folder to the Hub, and draft or check its card, headless."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from hftui.humanize import human_size


def add_push_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui push`."""
    parser.add_argument("folder", type=Path, help="the folder to upload (a model, an adapter, a dataset)")
    parser.add_argument("repo_id", help="namespace/name of the repo to create or update")
    parser.add_argument("--dataset", action="store_true", help="a dataset repo (default: a model repo)")
    parser.add_argument("--private", action="store_true", help="create the repo private (ignored if it exists)")
    parser.add_argument("--message", default="Upload with hftui", help="the commit message")
    parser.add_argument(
        "--include", action="append", default=[], metavar="GLOB", help="only files matching (repeatable)"
    )
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="also leave out (repeatable)")
    parser.add_argument(
        "--with-checkpoints", action="store_true", help="also upload checkpoint-*/ folders and optimizer states"
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be sent, send nothing")


def add_card_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui card`."""
    parser.add_argument("folder", type=Path, help="the folder whose README.md to draft or check")
    parser.add_argument("--dataset", action="store_true", help="a dataset card (default: a model card)")
    parser.add_argument("--check", action="store_true", help="only check the card; exit 1 when it has errors")
    parser.add_argument("--write", action="store_true", help="save the draft as README.md if there is none")
    parser.add_argument("--base-license", help="the base model's licence, to check the card's licence against")


def _errors() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_problems(console: Any, problems: tuple[Any, ...]) -> None:
    from rich.text import Text

    for problem in problems:
        console.print(Text(f"{problem.severity}: {problem.field}: {problem.message}"))


def run_card(args: argparse.Namespace) -> int:
    """Print the folder's card (its README or a draft) and its problems; exit 1 on errors with --check."""
    from hftui.hub.cards.check import blocking, check_card
    from hftui.hub.cards.draft import CARD_FILE, draft_dataset_card, draft_model_card, save_card

    console = _errors()
    if not args.folder.is_dir():
        console.print(f"{args.folder} is not a folder.", markup=False)
        return 2
    existing = (args.folder / CARD_FILE).is_file()
    text = draft_dataset_card(args.folder) if args.dataset else draft_model_card(args.folder)
    problems = check_card(text, dataset=args.dataset, base_license=args.base_license)
    if not args.check:
        sys.stdout.write(text)
        if args.write and not existing:
            console.print(f"wrote {save_card(args.folder, text)}", markup=False)
    _print_problems(console, problems)
    if not problems:
        console.print("the card has no problems", markup=False)
    return 1 if blocking(problems) else 0


def run_push(args: argparse.Namespace) -> int:
    """Plan, check and publish; exit 0 on success, 1 when refused or failed, 130 when interrupted."""
    from rich.text import Text

    from hftui.hub.cards.check import blocking, check_card
    from hftui.hub.client import hub_api
    from hftui.hub.errors import explain_hub_error
    from hftui.hub.publish import PublishCancelled, PublishRefused, plan_publish, publish
    from hftui.hub.settings import HubSettings

    console = _errors()
    repo_type = "dataset" if args.dataset else "model"
    plan = plan_publish(
        args.folder,
        args.repo_id,
        repo_type=repo_type,
        private=args.private,
        include=args.include,
        exclude=args.exclude,
        include_checkpoints=args.with_checkpoints,
    )
    for problem in plan.problems:
        console.print(Text(f"error: {problem}"))
    if not plan.ok:
        return 1
    for warning in plan.warnings:
        console.print(Text(f"warning: {warning}"))
    readme = plan.folder / "README.md"
    if readme.is_file():
        problems = check_card(readme.read_text(encoding="utf-8", errors="replace"), dataset=args.dataset)
        _print_problems(console, problems)
        if blocking(problems):
            console.print("the card has errors: fix them (see `hftui card FOLDER --check`), then push again")
            return 1
    left_out = f", {len(plan.excluded)} left out" if plan.excluded else ""
    summary = f"{len(plan.files)} files, {human_size(plan.total_bytes)}{left_out} -> {repo_type} {plan.repo_id}"
    console.print(Text(summary))
    if args.dry_run:
        for planned in plan.files:
            print(f"{planned.size:>12}  {planned.path}")
        return 0
    settings = HubSettings.from_environment(force_offline=getattr(args, "offline", False), read_token=False)
    if settings.offline_forced:
        console.print("push needs the Hub, and offline mode is on (--offline or HF_HUB_OFFLINE).")
        return 1
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if _main_thread() else None
    try:
        with _progress(console, plan.total_bytes) as show:
            result = publish(
                plan,
                api=hub_api(settings.endpoint),
                commit_message=args.message,
                on_progress=show,
                cancelled=stop.is_set,
            )
    except PublishRefused as refused:
        console.print(Text(f"refused: {refused.message}"))
        return 1
    except PublishCancelled:
        console.print("cancelled: nothing was committed; run the same command to start again")
        return 130
    except Exception as error:
        hub_problem = explain_hub_error(error, endpoint=settings.endpoint)
        console.print(Text(f"push failed: {hub_problem.message} Nothing was committed; run the same command again."))
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if result.changed:
        print(f"{result.repo_url}\ncommit {result.commit_oid} {result.commit_url}")
    else:
        print(f"{result.repo_url}\nnothing changed since commit {result.commit_oid}")
    return 0


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class _progress:
    """A Rich bytes bar on a terminal; silent elsewhere (CI logs get the summary lines only)."""

    def __init__(self, console: Any, total: int) -> None:
        self.console, self.total = console, total
        self.bar: Any = None  # a rich Progress once entered on a terminal
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.console.is_terminal:
            return lambda progress: None
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.bar.start()
        self.task = self.bar.add_task("checking", total=self.total)

        def show(progress: Any) -> None:
            name = f" {progress.current_file}" if progress.current_file and progress.phase == "uploading" else ""
            label = escape(f"{progress.phase}{name}"[:40])  # file names are the user's, never markup
            self.bar.update(self.task, completed=progress.done_bytes, description=label)

        return show

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
