"""The `hftui` command: launch the app, seed and open the offline demo, or run a headless command.

`main` is the one place a command's failure becomes what the user sees: hftui's own errors (listed with their
wording in `hftui/commands/errors.py`) print `error: <message>` and exit 1, or show the command's usage and exit 2
when the arguments are at fault; Ctrl+C exits 130 with one line; anything else is a bug, shown with its traceback
and a line asking for a report.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hftui import __version__

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout (`| head`) went away


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `hftui` and its sub-commands."""
    parser = argparse.ArgumentParser(prog="hftui", description="The Hugging Face ecosystem in a terminal.")
    parser.add_argument("--version", action="version", version=f"hftui {__version__}")
    parser.add_argument("--offline", action="store_true", help="never contact the Hub; browse the local cache only")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="seed a demo Hub cache under hftui's home and open the app offline on it")
    demo.add_argument("--seed-only", action="store_true", help="seed the demo cache, print a summary, exit")

    models = commands.add_parser("models", help="search models on the Hub (or the local index offline)")
    _add_query_arguments(models, "models")
    models.add_argument("--limit", type=int, default=30, help="how many results (default 30)")
    models.add_argument("--json", action="store_true", help="print JSON lines instead of a table")

    sync = commands.add_parser("sync", help="copy Hub listings into the local index for offline browsing")
    sync_what = sync.add_subparsers(dest="what", required=True)
    sync_models = sync_what.add_parser("models", help="sync model listings")
    _add_query_arguments(sync_models, "models")
    sync_models.add_argument("--limit", type=int, default=None, help="stop after N models (default: all)")

    datasets = commands.add_parser("datasets", help="search datasets on the Hub (or the local index offline)")
    _add_query_arguments(datasets, "datasets")
    datasets.add_argument("--limit", type=int, default=30, help="how many results (default 30)")
    datasets.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    sync_datasets = sync_what.add_parser("datasets", help="sync dataset listings")
    _add_query_arguments(sync_datasets, "datasets")
    sync_datasets.add_argument("--limit", type=int, default=None, help="stop after N datasets (default: all)")

    from hftui.commands.convert import add_convert_arguments

    convert = commands.add_parser("convert", help="local CSV/JSONL/Parquet files to one schema and stratified splits")
    add_convert_arguments(convert)

    from hftui.commands.train import add_runs_arguments, add_train_arguments

    train = commands.add_parser("train", help="start a fine-tuning run from a spec file (detached; prints its id)")
    add_train_arguments(train)
    runs = commands.add_parser("runs", help="list training runs; stop, resume or watch one")
    add_runs_arguments(runs)

    from hftui.commands.analyze import add_analyze_arguments

    analyze = commands.add_parser(
        "analyze", help="analyse text, image and audio files with the Analyzer's models; a report on stdout or a file"
    )
    add_analyze_arguments(analyze)

    from hftui.commands.endpoints import add_endpoints_arguments
    from hftui.commands.infer import add_chat_arguments, add_infer_arguments

    infer = commands.add_parser(
        "infer", help="one input through a model on disk or a saved endpoint (@NAME): any playground task"
    )
    add_infer_arguments(infer)
    chat = commands.add_parser("chat", help="a line-mode chat with a model on disk or saved endpoints (@NAME)")
    add_chat_arguments(chat)
    endpoints = commands.add_parser("endpoints", help="list, add, test or remove saved inference endpoints")
    add_endpoints_arguments(endpoints)

    from hftui.commands.bench_endpoints import add_bench_endpoints_arguments

    bench_endpoints = commands.add_parser(
        "bench-endpoints",
        help="endpoints, failover chains and local models side by side on the same prompts; a table and a report",
    )
    add_bench_endpoints_arguments(bench_endpoints)

    from hftui.commands.publish import add_card_arguments, add_push_arguments

    push = commands.add_parser("push", help="upload a folder to a Hub repo (created if needed) as one commit")
    add_push_arguments(push)
    card = commands.add_parser("card", help="print a folder's model or dataset card (or a draft) and its problems")
    add_card_arguments(card)
    # Each command knows its own parser, so an error in its arguments is shown with its usage.
    for action in (commands, sync_what):
        for command_parser in action.choices.values():
            command_parser.set_defaults(command_parser=command_parser)
    return parser


# What --search looks in, the --filter keys and the --sort orders of the model and dataset commands.
_QUERY_HELP = {
    "models": (
        "model ids",
        "task=, library=, language=, license=, author=, provider=, params=<1B, gated=yes|no, cached=yes (repeatable)",
        "trending, likes, downloads, updated or created",
    ),
    "datasets": (
        "dataset ids",
        "task=, modality=, size=, language=, license=, author=, cached=yes (repeatable)",
        "trending, likes, downloads or updated",
    ),
}


def _add_query_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    """--search, --filter, --sort and --offline for the `kind` ("models" or "datasets") commands."""
    ids, filters, sorts = _QUERY_HELP[kind]
    parser.add_argument("--search", default="", help=f"text to look for in {ids}")
    parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE", help=filters)
    parser.add_argument("--sort", default="trending", help=sorts)
    # Also accepted after the sub-command; SUPPRESS keeps `hftui --offline models` working too.
    parser.add_argument("--offline", action="store_true", default=argparse.SUPPRESS, help="use the local index only")


def run_app(*, force_offline: bool) -> int:
    """Start the Textual app with the Hub configuration from the environment."""
    from hftui.app import HfTuiApp
    from hftui.hub.settings import HubSettings

    HfTuiApp(HubSettings.from_environment(force_offline=force_offline, read_token=False)).run()
    return 0


def run_demo(*, seed_only: bool) -> int:
    """Point HF_HOME at the demo home (before huggingface_hub reads it), seed it, then open the app."""
    from hftui.paths import demo_hf_home

    os.environ["HF_HOME"] = str(demo_hf_home())
    # Seeding talks to an in-process Hub on 127.0.0.1; the app then opens forced offline.
    for name in ("HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        os.environ.pop(name, None)
    if "huggingface_hub" in sys.modules:  # pragma: no cover - only when embedded in another program
        print("hftui demo must run in a fresh process (huggingface_hub was already imported).", file=sys.stderr)
        return 2
    from hftui.demo.seed import seed_demo

    report = seed_demo(progress=lambda line: print(line, file=sys.stderr))
    if seed_only:
        print(report.summary())
        return 0
    return run_app(force_offline=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m hftui`: parse, run the command, and turn its failure
    into a message and an exit status (see the module docstring)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        try:
            code = run_command(args)
            sys.stdout.flush()  # a reader that went away (`| head`) fails here, where it is handled, not at exit
            return code
        except Exception as error:
            return _failed(error, args, parser)
    except KeyboardInterrupt:
        print("hftui: interrupted", file=sys.stderr)
        return 130


def run_command(args: argparse.Namespace) -> int:
    """Run the command `args` name (the app when none); its errors rise to `main`."""
    if args.command == "demo":
        return run_demo(seed_only=args.seed_only)
    if args.command in ("train", "runs"):
        from hftui.commands.train import run_runs, run_train

        return run_train(args) if args.command == "train" else run_runs(args)
    if args.command == "convert":
        from hftui.commands.convert import run_convert

        return run_convert(args)
    if args.command in ("push", "card"):
        from hftui.commands.publish import run_card, run_push

        return run_push(args) if args.command == "push" else run_card(args)
    if args.command == "analyze":
        from hftui.commands.analyze import run_analyze

        return run_analyze(args)
    if args.command in ("infer", "chat"):
        from hftui.commands.infer import run_chat, run_infer

        return run_infer(args) if args.command == "infer" else run_chat(args)
    if args.command == "endpoints":
        from hftui.commands.endpoints import run_endpoints

        return run_endpoints(args)
    if args.command == "bench-endpoints":
        from hftui.commands.bench_endpoints import run_bench_endpoints

        return run_bench_endpoints(args)
    if args.command == "datasets" or (args.command == "sync" and args.what == "datasets"):
        from hftui.commands.datasets import run_datasets, run_sync_datasets

        return run_datasets(args) if args.command == "datasets" else run_sync_datasets(args)
    if args.command in ("models", "sync"):
        from hftui.commands.models import run_models, run_sync_models

        return run_models(args) if args.command == "models" else run_sync_models(args)
    return run_app(force_offline=args.offline)


def _failed(error: Exception, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """What the user sees when a command raised: usage and exit 2, `error: ...` and exit 1, or the traceback."""
    if isinstance(error, BrokenPipeError):
        # Nothing more can reach the reader; point stdout at /dev/null so the exit's flush does not fail again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (embedded, or captured by a test)
            pass
        return EXIT_BROKEN_PIPE
    from hftui.commands.errors import known_failure

    failure = known_failure(error)
    if failure is not None and failure.usage:
        getattr(args, "command_parser", parser).error(failure.message)  # exits 2
    if failure is not None:
        print(f"error: {failure.message}", file=sys.stderr)
        return failure.exit_code
    import platform
    import traceback

    traceback.print_exception(error)
    command = " ".join(part for part in ("hftui", args.command, getattr(args, "what", None)) if part)
    print(
        "hftui: unexpected error; please report it with the traceback above: "
        f"hftui {__version__}, Python {platform.python_version()}, `{command}`",
        file=sys.stderr,
    )
    return 1
