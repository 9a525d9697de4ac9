"""The data quality report of a conversion: what was read, dropped and written, as values, Markdown and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hftui.data.convert.plan import SOURCE_COLUMN, BadRows, ConvertPlan


@dataclass(frozen=True)
class SourceReport:
    """How many rows one source gave, the encoding it was read with, and the CSV rows with more fields than the
    header that were skipped (only when the plan asked to skip them)."""

    path: Path
    data_format: str
    rows: int
    encoding: str = "utf-8"
    skipped: BadRows | None = None

    @property
    def skipped_rows(self) -> int:
        return self.skipped.count if self.skipped is not None else 0


@dataclass(frozen=True)
class NullCount:
    """Missing values of one target column, per source (in plan order) and in total."""

    column: str
    per_source: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class SplitBalance:
    """The rows of one split and how many of them carry each class (in `ConvertReport.classes` order)."""

    name: str
    rows: int
    counts: tuple[int, ...]

    def share(self, index: int) -> float:
        """The fraction of this split's rows in class `index`."""
        return self.counts[index] / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ConvertReport:
    """What a conversion read, dropped and wrote: the data quality report, also written as REPORT.md."""

    plan: ConvertPlan
    sources: tuple[SourceReport, ...]
    rows_in: int
    nulls: tuple[NullCount, ...]
    duplicates: int
    dropped: tuple[tuple[str, int], ...]
    label: str
    classes: tuple[str, ...]
    overall: SplitBalance
    splits: tuple[SplitBalance, ...]
    files: tuple[Path, ...]
    report_path: Path
    json_path: Path

    @property
    def rows_out(self) -> int:
        return sum(split.rows for split in self.splits)

    @property
    def skipped_rows(self) -> int:
        """CSV rows with more fields than the header, skipped while reading (not counted in rows_in)."""
        return sum(source.skipped_rows for source in self.sources)

    def split(self, name: str) -> SplitBalance | None:
        """The balance of split `name`, or None when the plan gives it no rows."""
        return next((split for split in self.splits if split.name == name), None)


def _code(text: object) -> str:
    """A Markdown code span that survives any name: backticks become quotes, pipes are escaped for tables."""
    value = str(text).replace("`", "'").replace("\n", " ").replace("|", "\\|")
    return f"`{value}`"


def _percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _skipped_words(report: ConvertReport) -> str:
    count = report.skipped_rows
    if not count:
        return ""
    return f" ({count} {'row' if count == 1 else 'rows'} with more fields than the header skipped)"


def report_markdown(report: ConvertReport) -> str:
    """The data quality report as Markdown: sources, mapping, nulls, duplicates, drops, label balance, files."""
    plan = report.plan
    lines = ["# Conversion report", ""]
    lines += [
        f"{report.rows_in} rows read from {len(report.sources)} files{_skipped_words(report)}; "
        f"{report.rows_out} rows written. "
        f"Label {_code(report.label)}, seed {plan.seed}, splits {plan.splits.text()} (train, validation, test).",
        "",
        "## Rows per source",
        "",
        "| source | format | rows | folder |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [
        f"| {_code(source.path.name)} | {source.data_format} | {source.rows} | {_code(source.path.parent)} |"
        for source in report.sources
    ]
    lines += ["", "## Mapping", ""]
    names = [_code(schema.name) for schema in plan.schemas]
    lines += ["| target | type | " + " | ".join(names) + " |", "| --- | --- |" + " --- |" * len(names)]
    for column in plan.columns:
        cells = [
            _code(found.name) + f" ({found.dtype})" if found is not None else "(null)"
            for found in plan.sources_for(column.name)
        ]
        name = _code(column.name) + (" (dropped)" if not column.keep else "")
        lines.append(f"| {name} | {column.dtype if column.keep else '-'} | " + " | ".join(cells) + " |")
    dropped_sources = [
        f"{_code(mapping.source.name)}: "
        + ", ".join(_code(column) for column, target in mapping.targets if target is None)
        for mapping in plan.mappings
        if any(target is None for _, target in mapping.targets)
    ]
    if dropped_sources:
        lines += ["", "Source columns left out: " + "; ".join(dropped_sources) + "."]
    if plan.add_source_column:
        lines += ["", f"A {_code(SOURCE_COLUMN)} column holds each row's file name."]
    lines += ["", "## Missing values", "", "| column | " + " | ".join(names) + " | total |"]
    lines.append("| --- |" + " ---: |" * (len(names) + 1))
    for nulls in report.nulls:
        lines.append(
            f"| {_code(nulls.column)} | " + " | ".join(str(n) for n in (*nulls.per_source, nulls.total)) + " |"
        )
    lines += ["", "## Rows dropped", ""]
    if report.dropped:
        lines += [f"- {reason}: {count}" for reason, count in report.dropped]
    elif not report.skipped_rows:
        lines.append("- none")
    for source in report.sources:
        if source.skipped is not None:
            lines.append(
                f"- more fields than the header, skipped while reading {_code(source.path.name)}: "
                f"{source.skipped.count} ({source.skipped.where()})"
            )
    kept = "dropped" if plan.dedupe else "kept (deduplication was off)"
    lines += ["", f"Exact duplicates among labelled rows: {report.duplicates}, {kept}."]
    lines += [
        "",
        "## Label balance",
        "",
        "| split | rows | " + " | ".join(_code(name) for name in report.classes) + " |",
    ]
    lines.append("| --- | ---: |" + " ---: |" * len(report.classes))
    for balance in (report.overall, *report.splits):
        cells = [f"{count} ({_percent(count, balance.rows)})" for count in balance.counts]
        lines.append(f"| {balance.name} | {balance.rows} | " + " | ".join(cells) + " |")
    lines += ["", "## Files", ""]
    lines += [f"- {_code(path)}" for path in (*report.files, report.report_path, report.json_path)]
    return "\n".join(lines) + "\n"


def report_json(report: ConvertReport) -> dict[str, Any]:
    """The report as plain JSON values (paths as strings), for scripts."""
    plan = report.plan
    return {
        "label": report.label,
        "seed": plan.seed,
        "splits": asdict(plan.splits),
        "dedupe": plan.dedupe,
        "source_column": plan.add_source_column,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "sources": [
            {
                "path": str(s.path),
                "format": s.data_format,
                "rows": s.rows,
                "encoding": s.encoding,
                "skipped_rows": s.skipped_rows,
                "skipped_lines": list(s.skipped.lines) if s.skipped is not None else [],
            }
            for s in report.sources
        ],
        "skipped_rows": report.skipped_rows,
        "mapping": [
            {"source": str(mapping.source), "columns": {column: target for column, target in mapping.targets}}
            for mapping in plan.mappings
        ],
        "columns": [{"name": c.name, "type": c.dtype, "kept": c.keep} for c in plan.columns],
        "nulls": {n.column: {"per_source": list(n.per_source), "total": n.total} for n in report.nulls},
        "duplicates": report.duplicates,
        "dropped": dict(report.dropped),
        "classes": list(report.classes),
        "balance": {
            b.name: {"rows": b.rows, "counts": dict(zip(report.classes, b.counts, strict=True))}
            for b in (report.overall, *report.splits)
        },
        "files": [str(path) for path in report.files],
    }
