"""`hftui bench-endpoints`: saved endpoints, failover chains and local models side by side on the same prompts;
the table on stdout (or JSON), a report file on request, progress and problems on stderr.

The benchmark runs in the calling thread. Ctrl+C sets the stop event the benchmark reads before every call and
hands to the running stream, so the answer in progress ends at once and the calls made so far are still shown
and reported (exit 130); a second Ctrl+C stops at once, without a report. Text from endpoints, models and files
is shown as plain text, never parsed as Rich markup.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.commands.analyze import EXIT_CANCELLED, ctrl_c_cancels
from hftui.commands.arguments import positive_int

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from hftui.infer.benchmark import BenchEvent, Contestant, EndpointBenchResult, PromptSet

DEFAULT_ROUNDS = 3
DEFAULT_MAX_TOKENS = 64
# The table's columns on a terminal (the report's headers are longer).
SCREEN_HEADER = ("Contestant", "Calls", "Errors", "Error kinds", "Failovers", "1st token p50 ms", "p95",
                 "Total p50 ms", "p95", "Tokens/s", "Tokens counted")  # fmt: skip
PIPED_WIDTH = 160  # a table written to a file or a pipe is not squeezed into 80 columns


class BenchEndpointsUsageError(ValueError):
    """A command-line argument that cannot be used: an unknown endpoint, no prompts, a report name without a
    known suffix (exit 2, like argparse)."""


def add_bench_endpoints_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui bench-endpoints`."""
    parser.add_argument(
        "names", nargs="*", metavar="ENDPOINT", help="saved endpoints to compare, by name (`hftui endpoints list`)"
    )
    parser.add_argument(
        "--chain",
        action="append",
        default=[],
        metavar="A,B,...",
        help="a failover chain of saved endpoints, tried in order, as one contestant (repeatable)",
    )
    parser.add_argument(
        "--local",
        action="append",
        default=[],
        metavar="MODEL",
        help="a local text-generation model (a folder or a Hub id in the HF cache) as a contestant (repeatable)",
    )
    parser.add_argument("--device", default=None, metavar="D", help="local models' device: auto (default), cpu, cuda")
    parser.add_argument("--prompt", action="append", default=[], metavar="TEXT", help="a prompt (repeatable)")
    parser.add_argument(
        "--prompts",
        default=None,
        metavar="FILE",
        help="prompts from a file: text one a line, or a column of a .jsonl or .csv file (see --column)",
    )
    parser.add_argument(
        "--dataset",
        default=None,
        metavar="D",
        help="prompts from a dataset's --column: a local folder or file, or a Hub dataset id (cached when offline)",
    )
    parser.add_argument(
        "--column", default=None, metavar="C", help="the prompt column (default for files: prompt, else text)"
    )
    parser.add_argument("--split", default="train", metavar="S", help="the dataset's split (default train)")
    parser.add_argument(
        "--limit", type=positive_int, default=None, metavar="N", help="the first N prompts of the file or dataset"
        " (default: all of a file, 20 of a dataset)"
    )  # fmt: skip
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=DEFAULT_ROUNDS,
        metavar="N",
        help=f"ask every prompt N times, the order of the contestants rotating each round (default {DEFAULT_ROUNDS})",
    )
    parser.add_argument(
        "--max-tokens",
        type=positive_int,
        default=DEFAULT_MAX_TOKENS,
        metavar="N",
        help=f"the longest answer, in tokens (default {DEFAULT_MAX_TOKENS})",
    )
    parser.add_argument(
        "--warmup", action="store_true", help="let each contestant answer one untimed prompt before the first round"
    )
    parser.add_argument(
        "--no-usage",
        action="store_true",
        help="do not ask endpoints' streams for token usage (for a server that refuses stream_options); tokens "
        "are then estimated from the streamed chunks",
    )
    parser.add_argument("--report", default=None, metavar="FILE", help="also write a report: .md, .json or .csv")
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout instead of the table")
    # Also accepted after the sub-command; SUPPRESS keeps `hftui --offline bench-endpoints` working too.
    parser.add_argument(
        "--offline", action="store_true", default=argparse.SUPPRESS, help="local models from the HF cache only"
    )


# --- arguments to a plan ------------------------------------------------------------------------------------------


def report_path(report: str | None) -> Path | None:
    """The report file, checked before anything runs."""
    from hftui.analyze.reports import format_for

    if report is None:
        return None
    path = Path(report).expanduser()
    try:
        format_for(path)
    except ValueError as error:
        raise BenchEndpointsUsageError(f"--report {report!r}: {error}") from None
    if path.is_dir():
        raise BenchEndpointsUsageError(f"--report {report!r} is a folder; name a file")
    if not path.parent.is_dir():
        raise BenchEndpointsUsageError(f"--report {report!r}: the folder {str(path.parent)!r} does not exist")
    return path


def contestants_from_args(args: argparse.Namespace, warn: Any) -> tuple[Contestant, ...]:
    """The contestants the arguments name: saved endpoints, chains of them, local models. `warn` hears the
    endpoint book's problems."""
    from hftui.infer.benchmark import Contestant
    from hftui.infer.endpoints import EndpointBook, endpoints_file

    contestants: list[Contestant] = []
    if args.names or args.chain:
        book = EndpointBook.load()
        for problem in book.problems:
            warn(problem)

        def find(name: str) -> Any:
            found = book.endpoints.get(name.strip())
            if found is None:
                known = ", ".join(sorted(book.endpoints)) or f"none saved in {endpoints_file()}"
                raise BenchEndpointsUsageError(f"no endpoint named {name!r} (saved: {known}); add it with "
                                               "`hftui endpoints add`")  # fmt: skip
            return found

        contestants += [Contestant.of_endpoint(find(name)) for name in args.names]
        for item in args.chain:
            names = [name for name in item.split(",") if name.strip()]
            if not names:
                raise BenchEndpointsUsageError(f"--chain {item!r}: name saved endpoints, separated by commas")
            contestants.append(Contestant.of_chain([find(name) for name in names]))
    contestants += _locals(args.local, args.device)
    if not contestants:
        raise BenchEndpointsUsageError("nothing to compare: name saved endpoints, --chain A,B or --local MODEL")
    return tuple(contestants)


def _locals(models: Sequence[str], device: str | None) -> list[Contestant]:
    """Local contestants, named by their folder's name when that is unique (paths are long in a table)."""
    from hftui.infer.benchmark import Contestant

    models = [model.strip() for model in models if model.strip()]
    short = [Path(model).name if Path(model).expanduser().is_dir() else model for model in models]
    return [
        Contestant.of_local(model, name=f"local:{name if short.count(name) == 1 else model}", device=device)
        for model, name in zip(models, short, strict=True)
    ]


def prompts_from_args(args: argparse.Namespace) -> PromptSet:
    """The prompts: typed ones, then the file's, then the dataset column's."""
    from hftui.infer.benchmark import PromptSet, prompts_from_dataset, read_prompts

    prompts = PromptSet.typed(args.prompt)
    if args.prompts:
        prompts = prompts + read_prompts(args.prompts, column=args.column, limit=args.limit)
    if args.dataset:
        if not args.column:
            raise BenchEndpointsUsageError("--dataset needs --column: the column that holds the prompts")
        prompts = prompts + prompts_from_dataset(args.dataset, args.column, split=args.split, limit=args.limit)
    if not prompts.prompts:
        raise BenchEndpointsUsageError("no prompts: give --prompt TEXT, --prompts FILE or --dataset D --column C")
    return prompts


# --- what the user sees on stderr ---------------------------------------------------------------------------------


def _plain(text: object) -> Any:
    """Untrusted text as a Rich `Text`: never parsed as markup, terminal controls made visible."""
    from rich.text import Text

    from hftui.hub.plain_text import printable

    return Text(printable(text, single_line=True))


class BenchDisplay:
    """The benchmark's events on stderr: a progress bar (only on a terminal) and contestants that sit out."""

    def __init__(self, console: Console, *, show_progress: bool) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bar: TaskID | None = None
        self.round = ""
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=16),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self.bar = self.progress.add_task("preparing", total=None)

    def __enter__(self) -> BenchDisplay:
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

    def show(self, event: BenchEvent) -> None:
        """Handle one benchmark event (the run's `on_event`)."""
        from hftui.infer.benchmark import CallFinished, ContestantPrepared, RoundStarted

        if isinstance(event, ContestantPrepared):
            if event.error:
                self.say("warning:", f"{event.name} sits out: {event.error}")
            elif event.load_s >= 0.5:
                self.say("loaded", f"{event.name} in {event.load_s:.1f} s")
            return
        if self.progress is None or self.bar is None:
            return
        if isinstance(event, RoundStarted):
            self.round = f"round {event.round}/{event.rounds}"
            self.progress.update(self.bar, description=self.round)
        elif isinstance(event, CallFinished):
            shown = f"{self.round} {event.record.contestant}"
            self.progress.update(self.bar, total=event.total, completed=event.done, description=shown[:40])

    def cancelling(self) -> None:
        """Say at once that Ctrl+C was heard."""
        if self.progress is not None and self.bar is not None:
            self.progress.update(self.bar, description="cancelling")
        self.say("cancelling:", "stopping the answer in progress (Ctrl+C again to stop at once)")


def print_table(result: EndpointBenchResult, console: Console) -> None:
    """The side-by-side table, the verdict and what each row's tokens are, on `console` (stdout)."""
    from rich.table import Table

    from hftui.infer.benchmark_reports import counted_as, table_cells

    plan = result.plan
    title = (
        f"{len(plan.contestants)} contestants, {len(plan.prompts)} prompts, {result.rounds_done} of "
        f"{plan.rounds} rounds ({result.state})"
    )
    table = Table(title=title)
    for number, column in enumerate(SCREEN_HEADER):
        table.add_column(column, justify="left" if number in (0, 3, 10) else "right")
    for row in result.rows:
        table.add_row(*(_plain(cell) for cell in table_cells(row)))
    console.print(table)
    console.print(_plain(result.verdict))
    counts = [f"{row.name}: {counted_as(row.tokens_counted)}" for row in result.rows if row.tokens_counted]
    if counts:
        console.print(_plain("Tokens counted from " + "; ".join(counts) + "."))


# --- the command ----------------------------------------------------------------------------------------------------


def run_bench_endpoints(args: argparse.Namespace) -> int:
    """Compare the contestants, print the table (or JSON) and write the report; 0 when some contestant
    answered, 1 when none did, 130 when cancelled with Ctrl+C (the calls made so far still shown and
    reported). Raises BenchEndpointsUsageError for arguments that make no sense."""
    from rich.console import Console

    from hftui.hub.plain_text import printable
    from hftui.infer.benchmark import EndpointBenchPlan, run_endpoint_bench
    from hftui.infer.benchmark_reports import render_json, write_report

    where = report_path(args.report)
    errors = Console(stderr=True)
    display = BenchDisplay(errors, show_progress=errors.is_terminal)
    contestants = contestants_from_args(args, lambda problem: display.say("warning:", problem))
    prompts = prompts_from_args(args)
    plan = EndpointBenchPlan(contestants, prompts, rounds=args.rounds, max_tokens=args.max_tokens,
                             warmup=args.warmup, ask_usage=not args.no_usage)  # fmt: skip
    try:
        plan.checked()
    except ValueError as error:
        raise BenchEndpointsUsageError(str(error)) from None
    if getattr(args, "offline", False):
        from hftui.hub.connectivity import set_offline_mode

        set_offline_mode(True)
    try:
        with ctrl_c_cancels(display.cancelling) as cancel, display:
            result = run_endpoint_bench(plan, on_event=display.show, stop=cancel)
    except KeyboardInterrupt:
        display.say("stopped:", "interrupted before the benchmark could finish; no report was written")
        return EXIT_CANCELLED
    for warning in result.warnings:
        display.say("warning:", warning)
    if args.json:
        report = render_json(result)
        sys.stdout.write(printable(report) if sys.stdout.isatty() else report)
        sys.stdout.flush()
    else:
        out = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
        print_table(result, out)
    if where is not None:
        try:
            written = write_report(result, where)
        except OSError as error:
            display.say("error:", f"cannot write {where}: {error.strerror or error}")
            return 1
        display.say("wrote", f"{written} ({len(result.rows)} contestants, {len(result.calls)} calls)")
    if result.state == "cancelled":
        return EXIT_CANCELLED
    if not result.answered_any:
        display.say("error:", "no contestant answered; see the error kinds in the table")
        return 1
    return 0
