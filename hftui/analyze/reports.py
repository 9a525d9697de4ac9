"""Reports of analysis jobs and benchmarks: Markdown for a ticket, JSON for programs, CSV for spreadsheets.

Every value from the inputs or the models (file names, texts, labels, captions) is untrusted: Markdown
cells have pipes, newlines and HTML escaped and terminal controls made visible, and CSV cells that a
spreadsheet would run as a formula are quoted. Files are written atomically (a temporary file in the same
folder, then `os.replace`), so a reader never sees half a report.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hftui.analyze.benchmark import BenchmarkResult
from hftui.analyze.events import ItemResult, JobResult
from hftui.analyze.inputs import AnalysisInput, count_by_modality
from hftui.atomic_write import write_text_atomically
from hftui.hub.plain_text import printable
from hftui.humanize import human_size

REPORT_FORMATS = ("md", "json", "csv")
REPORT_SCHEMA = 1
MAX_MARKDOWN_ROWS = 1000  # a ticket, not a data dump: the JSON and CSV reports carry every row
MAX_MARKDOWN_INPUTS = 200
PREVIEW_CHARS = 80
CSV_COLUMNS = (
    "index", "origin", "modality", "task", "model", "label", "score", "top_k", "text", "error", "latency_s",
)  # fmt: skip
BENCHMARK_CSV_COLUMNS = (
    "model", "source", "license", "state", "error", "load_s", "latency_p50_s", "latency_p95_s", "items_per_s",
    "peak_memory_bytes", "accuracy", "macro_f1", "labelled", "succeeded", "failed",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- escaping ----------------------------------------------------------------------------------------------


def md_cell(value: object) -> str:
    """`value` as one Markdown table cell: one line, pipes and backslashes escaped, no raw HTML or controls."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # newlines and runs of spaces end a row or break the layout
    text = printable(text, single_line=True)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return _inline(text)


def md_text(value: object) -> str:
    """`value` as Markdown prose on one line (a list item): controls visible, no raw HTML."""
    text = printable(" ".join(("" if value is None else str(value)).split()), single_line=True)
    return _inline(text.replace("\\", "\\\\"))


def _inline(text: str) -> str:
    # No raw HTML, and no links, images, code spans or emphasis made up by a file name or a caption.
    for char in "[]`*":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def csv_cell(value: object) -> object:
    """A CSV value that a spreadsheet shows as text: a str starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The start of `text` on one line, cut at `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_input(item: AnalysisInput) -> str:
    """An input as a report shows it: its origin, and for text the start of the text."""
    if item.modality == "text" and isinstance(item.value, str) and item.value.strip() != item.origin:
        return f'{item.origin}: "{preview(item.value)}"'
    return item.origin


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value * 1000:.1f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows)
    return lines


# --- analysis job reports -------------------------------------------------------------------------------------


def _device_line(result: JobResult) -> str:
    summary = result.summary
    device = summary.device + (f" ({summary.device_name})" if summary.device_name else "")
    return ", ".join(part for part in (device, summary.dtype, f"batch size {summary.batch_size}") if part)


def render_markdown(result: JobResult) -> str:
    """A report a person can paste into a ticket: inputs, models and licences, device, results, summary."""
    summary = result.summary
    lines = ["# hftui analysis report", ""]
    state = result.state if result.error is None else f"{result.state}: {result.error}"
    lines += [
        f"- **State:** {md_text(state)}",
        f"- **Started:** {result.started_at or 'unknown'}",
        f"- **Tasks:** {md_text(', '.join(result.tasks) or 'none')}",
        f"- **Device:** {md_text(_device_line(result))}",
        "",
        "## Inputs",
        "",
    ]
    counts = count_by_modality(result.inputs)
    lines.append(
        f"{len(result.inputs)} input(s): " + (", ".join(f"{n} {m}" for m, n in counts.items()) or "none") + "."
    )
    if result.inputs:
        lines.append("")
        shown = result.inputs[:MAX_MARKDOWN_INPUTS]
        lines += _table(("#", "Modality", "Input"), ((i, x.modality, describe_input(x)) for i, x in enumerate(shown)))
        if len(result.inputs) > len(shown):
            lines += ["", f"… and {len(result.inputs) - len(shown)} more (see the JSON or CSV report)."]
    lines += ["", "## Models", ""]
    if result.models:
        rows = (
            (m.task, m.model, m.source, m.license or "unknown", "already loaded" if m.cached else _seconds(m.load_s))
            for m in result.models
        )
        lines += _table(("Task", "Model", "Chosen", "Licence", "Load (s)"), rows)
    else:
        lines.append("No model was loaded.")
    lines += ["", "## Results", ""]
    if result.results:
        shown_results = result.results[:MAX_MARKDOWN_ROWS]
        lines += _table(
            ("#", "Input", "Task", "Output", "Score", "Latency (ms)"),
            (_markdown_row(r, result.inputs) for r in shown_results),
        )
        if len(result.results) > len(shown_results):
            lines += ["", f"… and {len(result.results) - len(shown_results)} more rows (see the JSON or CSV report)."]
    else:
        lines.append("No item was analysed.")
    lines += ["", "## Summary", ""]
    lines += [
        f"- Items: {summary.total} planned, {summary.succeeded} analysed, {summary.failed} failed",
        f"- Mean latency per item: {_ms(summary.mean_latency_s)} ms",
        f"- Throughput: {summary.items_per_s:.2f} items/s",
        f"- Duration: {summary.duration_s:.2f} s (model loads included)",
        f"- Peak memory: {human_size(summary.peak_memory_bytes) if summary.peak_memory_bytes else 'unknown'}"
        + (" (GPU)" if summary.device.startswith("cuda") else " (process)"),
    ]
    for task, labels in summary.label_counts.items():
        counted = ", ".join(f"{label} {count}" for label, count in labels.items())
        lines.append(f"- Labels ({md_text(task)}): {md_text(counted)}")
    if result.warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {md_text(warning)}" for warning in result.warnings]
    return "\n".join(lines) + "\n"


def _markdown_row(row: ItemResult, inputs: Sequence[AnalysisInput]) -> tuple[object, ...]:
    shown = describe_input(inputs[row.index]) if 0 <= row.index < len(inputs) else row.origin
    output = row.output if row.label is None or row.error else row.label
    score = "" if row.score is None or row.error else f"{row.score:.3f}"
    return (row.index, shown, row.task, output, score, _ms(row.latency_s))


def _input_json(index: int, item: AnalysisInput) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index, "modality": item.modality, "origin": item.origin}
    if item.modality == "text" and isinstance(item.value, str):
        entry["text"] = item.value
    elif isinstance(item.value, str):
        entry["path"] = item.value
    return entry


def report_data(result: JobResult) -> dict[str, Any]:
    """The job as plain JSON-ready data (inputs by origin; media values themselves are not included)."""
    return {
        "schema": REPORT_SCHEMA,
        "kind": "analysis",
        "state": result.state,
        "error": result.error,
        "started_at": result.started_at,
        "tasks": list(result.tasks),
        "summary": asdict(result.summary),
        "models": [asdict(model) for model in result.models],
        "inputs": [_input_json(i, item) for i, item in enumerate(result.inputs)],
        "results": [
            {**asdict(row), "top_k": [list(pair) for pair in row.top_k], "ok": row.ok} for row in result.results
        ],
        "warnings": list(result.warnings),
    }


def render_json(result: JobResult) -> str:
    """The whole job as JSON: state, summary, models, inputs, every row and the warnings."""
    return json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n"


def render_csv(result: JobResult) -> str:
    """One CSV row per (item, task), with the top k as `label:score` pairs joined by "; "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.results:
        top = "; ".join(f"{label}:{score:.4f}" for label, score in row.top_k)
        values = (
            row.index, row.origin, row.modality, row.task, row.model, row.label,
            "" if row.score is None else f"{row.score:.6f}", top, row.text, row.error, f"{row.latency_s:.6f}",
        )  # fmt: skip
        writer.writerow([csv_cell("" if value is None else value) for value in values])
    return buffer.getvalue()


# --- benchmark reports ---------------------------------------------------------------------------------------


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def render_benchmark_markdown(result: BenchmarkResult) -> str:
    """The speed-versus-accuracy table with the recommendation, ready for a ticket."""
    lines = [f"# hftui benchmark: {md_text(result.task)}", ""]
    lines += [
        f"- **State:** {result.state}",
        f"- **Started:** {result.started_at or 'unknown'}",
        f"- **Inputs:** {result.inputs}" + (" (labelled)" if result.labelled else ""),
        f"- **Device:** {md_text(result.device or 'unknown')}, batch size {result.batch_size}",
        "",
        "| Model | Licence | Load (s) | p50 (ms) | p95 (ms) | Items/s | Peak memory | Accuracy | Macro-F1 | Errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result.rows:
        cells = (
            row.model if row.error is None else f"{row.model} (failed: {row.error})",
            row.license or "unknown",
            _num(row.load_s, ".2f"),
            _num(None if row.latency_p50_s is None else row.latency_p50_s * 1000, ".1f"),
            _num(None if row.latency_p95_s is None else row.latency_p95_s * 1000, ".1f"),
            f"{row.items_per_s:.1f}",
            human_size(row.peak_memory_bytes) if row.peak_memory_bytes else "",
            _num(row.accuracy, ".1%"),
            _num(row.macro_f1, ".3f"),
            str(row.failed),
        )
        lines.append("| " + " | ".join(md_cell(cell) for cell in cells) + " |")
    lines += ["", f"**Recommendation:** {md_text(result.recommendation)}"]
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {md_text(warning)}" for warning in result.warnings]
    return "\n".join(lines) + "\n"


def render_benchmark_json(result: BenchmarkResult) -> str:
    """The benchmark as JSON: how it ran, every row, the recommendation and the warnings."""
    data = {"schema": 1, "kind": "benchmark", **asdict(result)}
    del data["remote_code_model"]  # the job's advice to the screen, not a fact of the comparison
    data["rows"] = [asdict(row) for row in result.rows]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_benchmark_csv(result: BenchmarkResult) -> str:
    """One CSV row per model."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BENCHMARK_CSV_COLUMNS)
    for row in result.rows:
        values = asdict(row)
        writer.writerow([csv_cell("" if values[name] is None else values[name]) for name in BENCHMARK_CSV_COLUMNS])
    return buffer.getvalue()


# --- writing ------------------------------------------------------------------------------------------------------


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The report format: `fmt` when given, else from the file's suffix (.md/.markdown, .json, .csv)."""
    if fmt is not None:
        if fmt not in REPORT_FORMATS:
            raise ValueError(f"unknown report format {fmt!r}; use md, json or csv")
        return fmt
    suffix = Path(path).suffix.lower()
    found = {".md": "md", ".markdown": "md", ".json": "json", ".csv": "csv"}.get(suffix)
    if found is None:
        raise ValueError(f"cannot tell the report format from {Path(path).name!r}; name it .md, .json or .csv")
    return found


def render_report(result: JobResult | BenchmarkResult, fmt: str) -> str:
    """`result` (an analysis job or a benchmark) rendered in `fmt` ("md", "json" or "csv")."""
    if isinstance(result, BenchmarkResult):
        renderers = {"md": render_benchmark_markdown, "json": render_benchmark_json, "csv": render_benchmark_csv}
        return renderers[fmt](result)
    return {"md": render_markdown, "json": render_json, "csv": render_csv}[fmt](result)


def write_report(result: JobResult | BenchmarkResult, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write `result`'s report to `path` atomically, in `fmt` or the format its suffix names; returns the path."""
    return write_text_atomically(path, render_report(result, format_for(path, fmt)))
