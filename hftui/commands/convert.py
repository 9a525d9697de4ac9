"""`hftui convert`: local CSV, JSON Lines and Parquet files to one schema and stratified Parquet splits, headless."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from hftui.data.convert import (
    CAST_TYPES,
    ConvertError,
    ConvertPlan,
    ConvertReport,
    SplitFractions,
    check_plan,
    name_key,
)

# Problems with what was asked (exit 2, like argparse) rather than with the data (exit 1).
_USAGE_KINDS = ("not_found", "bad_plan", "label_missing", "unsupported", "would_overwrite")


class ConvertUsageError(ValueError):
    """A command-line argument that cannot be understood or does not fit the files."""


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui convert`."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, JSON Lines or Parquet files (or folders)")
    parser.add_argument("--label", required=True, metavar="COL", help="the target column to stratify the splits by")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the splits and REPORT.md")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="[SRC:]OLD=NEW",
        help="send source column OLD to target column NEW (SRC: a file name, stem or 1-based number; "
        "without it, every file with OLD; NEW empty drops it) (repeatable)",
    )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="[SRC:]COL",
        help="leave out target column COL, or SRC's column COL (repeatable)",
    )
    parser.add_argument(
        "--cast",
        action="append",
        default=[],
        metavar="COL=TYPE",
        help=f"cast target column COL to TYPE: {', '.join(CAST_TYPES)} (repeatable)",
    )
    parser.add_argument("--splits", default="0.8,0.1,0.1", help="train,validation,test shares (default 0.8,0.1,0.1)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the stratified shuffles (default 42)")
    parser.add_argument("--dedupe", action="store_true", help="drop exact duplicate rows (they are counted anyway)")
    parser.add_argument("--source-column", action="store_true", help="add a `source` column with each row's file")
    parser.add_argument(
        "--encoding",
        default="utf-8",
        metavar="NAME",
        help="text encoding of the CSV and JSON Lines files, such as latin-1 or cp1252 (default utf-8)",
    )
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="skip CSV rows with more fields than the header (counted in the report) instead of stopping",
    )


# How to change the setting a ConvertError names, in command-line terms (appended to its message).
_SETTING_HINTS = {
    "encoding": "; pass --encoding latin-1 (or cp1252) if it was exported that way",
    "skip_bad_rows": " with --skip-bad-rows (they are counted in the report)",
}


def error_text(error: ConvertError) -> str:
    """The error's message with, when a setting would get past it, the option that changes that setting."""
    return error.message + _SETTING_HINTS.get(error.setting or "", "")


def _source_index(plan: ConvertPlan, text: str) -> int | None:
    """The source `text` names: its 1-based number, file name, stem or path; None when it names none."""
    if text.isdigit() and 1 <= int(text) <= len(plan.schemas):
        return int(text) - 1
    for index, schema in enumerate(plan.schemas):
        if (
            text in (schema.name, schema.path.stem, str(schema.path))
            or Path(text).expanduser().resolve() == schema.path
        ):
            return index
    return None


def _source_column(plan: ConvertPlan, index: int, name: str) -> str | None:
    """The column of source `index` called `name` (exactly, else by the name key)."""
    columns = [column.name for column in plan.schemas[index].columns]
    if name in columns:
        return name
    return next((column for column in columns if name_key(column) == name_key(name)), None)


def _target(plan: ConvertPlan, name: str) -> str:
    found = plan.column(name) or plan.column(name_key(name))
    if found is None:
        names = ", ".join(column.name for column in plan.columns)
        raise ConvertUsageError(f"no target column {name!r}; the columns are: {names}")
    return found.name


def _split_source(plan: ConvertPlan, text: str) -> tuple[int | None, str]:
    """`SRC:NAME` as (source index, NAME) when SRC names a source; otherwise (None, text)."""
    head, colon, tail = text.partition(":")
    if colon:
        index = _source_index(plan, head)
        if index is not None:
            return index, tail
    return None, text


def _apply_map(plan: ConvertPlan, item: str) -> ConvertPlan:
    left, equals, new = item.rpartition("=")
    if not equals or not left:
        raise ConvertUsageError(f"--map {item!r}: expected [SRC:]OLD=NEW")
    index, old = _split_source(plan, left)
    indexes = [index] if index is not None else range(len(plan.schemas))
    changed = False
    for source in indexes:
        column = _source_column(plan, source, old)
        if column is not None:
            plan = plan.map_column(source, column, new.strip() or None)
            changed = True
    if not changed:
        where = plan.schemas[index].name if index is not None else "any file"
        raise ConvertUsageError(f"--map {item!r}: {where} has no column {old!r}")
    return plan


def _apply_drop(plan: ConvertPlan, item: str) -> ConvertPlan:
    index, name = _split_source(plan, item)
    if index is None:
        return plan.drop_target(_target(plan, name))
    column = _source_column(plan, index, name)
    if column is None:
        raise ConvertUsageError(f"--drop {item!r}: {plan.schemas[index].name} has no column {name!r}")
    return plan.map_column(index, column, None)


def _apply_cast(plan: ConvertPlan, item: str) -> ConvertPlan:
    name, equals, dtype = item.rpartition("=")
    if not equals or not name:
        raise ConvertUsageError(f"--cast {item!r}: expected COL=TYPE, TYPE one of {', '.join(CAST_TYPES)}")
    return plan.cast_target(_target(plan, name), dtype.strip().lower())


def plan_from_args(args: argparse.Namespace) -> ConvertPlan:
    """Read the files and build the plan: default mapping by name, then --map, --drop, --cast, --label, --splits."""
    from hftui.data.convert import default_plan, read_schemas

    try:
        schemas = read_schemas(args.files, encoding=args.encoding, skip_bad_rows=args.skip_bad_rows)
        plan = default_plan(schemas, output=Path(args.out).expanduser().resolve())
        for item in args.map:
            plan = _apply_map(plan, item)
        for item in args.drop:
            plan = _apply_drop(plan, item)
        for item in args.cast:
            plan = _apply_cast(plan, item)
        plan = plan.with_label(args.label)
        if args.seed < 0:
            raise ConvertUsageError(f"--seed {args.seed}: expected a number of 0 or more")
        plan = replace(
            plan,
            splits=SplitFractions.parse(args.splits),
            seed=args.seed,
            dedupe=args.dedupe,
            add_source_column=args.source_column,
            encoding=schemas[0].encoding if schemas else args.encoding,
            skip_bad_rows=args.skip_bad_rows,
        )
        check_plan(plan)
    except ConvertError as error:
        if error.kind in _USAGE_KINDS:
            raise ConvertUsageError(error.message) from error
        raise
    return plan


def schema_table(plan: ConvertPlan) -> object:
    """The sources side by side: one row per target column, one column per source (a Rich Table)."""
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.plain_text import printable

    table = Table(title=f"{len(plan.schemas)} files onto one schema (label: {plan.label})")
    table.add_column("target", no_wrap=True)
    table.add_column("type", no_wrap=True)
    for schema in plan.schemas:
        table.add_column(Text(printable(f"{schema.name}\n{schema.rows} rows, {schema.data_format}")))
    for column in plan.columns:
        marks = " (label)" if column.name == plan.label else ("" if column.keep else " (dropped)")
        cells = [
            Text(printable(f"{found.name} ({found.dtype})", single_line=True)) if found is not None else Text("-")
            for found in plan.sources_for(column.name)
        ]
        name = Text(printable(column.name + marks, single_line=True))
        table.add_row(name, Text(column.dtype if column.keep else "-"), *cells)
    return table


def balance_table(report: ConvertReport) -> object:
    """Rows and label balance per split (a Rich Table)."""
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.plain_text import printable

    table = Table(title=f"label balance ({printable(report.label, single_line=True)})")
    table.add_column("split")
    table.add_column("rows", justify="right")
    for name in report.classes:
        table.add_column(Text(printable(name, single_line=True)), justify="right")
    for balance in (report.overall, *report.splits):
        cells = [f"{count} ({100 * balance.share(index):.1f}%)" for index, count in enumerate(balance.counts)]
        table.add_row(balance.name, str(balance.rows), *cells)
    return table


def run_convert(args: argparse.Namespace) -> int:
    """Print the schemas side by side, convert with a progress bar, say where the files and report went."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from hftui.data.convert import ConvertProgress, convert
    from hftui.hub.plain_text import printable

    out = Console()
    errors = Console(stderr=True)
    try:
        plan = plan_from_args(args)
    except ConvertError as error:  # a file that cannot be read (bad arguments are ConvertUsageError: exit 2)
        errors.print(Text(printable(f"error: {error_text(error)}")), soft_wrap=True)  # one line, never cut mid-name
        return 1
    out.print(schema_table(plan))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task("converting", total=None)

        def show(step: ConvertProgress) -> None:
            progress.update(
                task, description=printable(step.step, single_line=True), completed=step.done, total=step.total
            )

        try:
            report = convert(plan, progress=show)
        except ConvertError as error:
            progress.stop()
            errors.print(Text(printable(f"convert failed: {error_text(error)}")), soft_wrap=True)
            return 1
    out.print(balance_table(report))
    for source in report.sources:
        if source.skipped is not None:
            out.print(
                Text(
                    printable(
                        f"skipped {source.skipped.count} row{'s' if source.skipped.count != 1 else ''} of "
                        f"{source.path.name} with more fields than the "
                        f"header ({source.skipped.where()})"
                    )
                )
            )
    for reason, count in report.dropped:
        out.print(Text(f"dropped {count} rows: {reason}"))
    if report.duplicates and not plan.dedupe:
        out.print(Text(f"{report.duplicates} exact duplicate rows kept (--dedupe drops them)"))
    written = ", ".join(
        f"{path.name} ({split.rows} rows)" for path, split in zip(report.files, report.splits, strict=True)
    )
    out.print(Text(printable(f"wrote {written} to {plan.output}")))
    out.print(Text(printable(f"report: {report.report_path} (and {report.json_path.name})")))
    return 0
