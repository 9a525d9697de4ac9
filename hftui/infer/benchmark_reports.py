"""Reports of an endpoint benchmark, as the Analyzer's benchmark has them: Markdown for a ticket, JSON for
programs (every call included), CSV for spreadsheets (one row per contestant), chosen by the file's suffix.

Answers, prompts, endpoint names and error details are untrusted text: they go through the Analyzer's report
escaping (`analyze.reports.md_cell`, `md_text`, `csv_cell`). No report holds a token: endpoints are described
by where their token comes from, never by the token (see `benchmark`).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hftui.analyze.reports import csv_cell, format_for, md_cell, md_text, preview
from hftui.atomic_write import write_text_atomically
from hftui.infer.benchmark import TASK, TOKEN_COUNTS, CallRecord, ContestantRow, EndpointBenchResult

REPORT_SCHEMA = 1
MAX_MARKDOWN_CALLS = 500  # the JSON report has every call
MAX_MARKDOWN_PROMPTS = 100
CSV_COLUMNS = (
    "contestant", "kind", "calls", "answered", "errors", "error_rate", "error_kinds", "stopped", "failovers",
    "first_token_p50_s", "first_token_p95_s", "total_p50_s", "total_p95_s", "tokens_per_s", "tokens",
    "tokens_counted", "load_s", "error", "description",
)  # fmt: skip


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value * 1000:.1f}"


def _pairs(pairs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs)


def counted_as(key: str) -> str:
    """How a row's or a call's tokens were counted, in words."""
    return TOKEN_COUNTS.get(key, key)


def table_cells(row: ContestantRow) -> tuple[str, ...]:
    """A contestant's row as the report's (and the command's) table shows it."""
    errors = "" if row.error_rate is None else f"{row.errors} ({row.error_rate:.0%})"
    return (
        row.name if row.error is None else f"{row.name} (did not start: {row.error})",
        str(row.calls),
        errors,
        _pairs(row.error_kinds),
        str(row.failovers),
        _ms(row.first_token_p50_s),
        _ms(row.first_token_p95_s),
        _ms(row.total_p50_s),
        _ms(row.total_p95_s),
        "" if row.tokens_per_s is None else f"{row.tokens_per_s:.1f}",
        {"chunks": "chunks (estimate)"}.get(row.tokens_counted, row.tokens_counted),
    )


TABLE_HEADER = ("Contestant", "Calls", "Errors", "Error kinds", "Failovers", "First token p50 (ms)",
                "First token p95 (ms)", "Total p50 (ms)", "Total p95 (ms)", "Tokens/s", "Tokens counted")  # fmt: skip


def _state_line(result: EndpointBenchResult) -> str:
    rounds = result.plan.rounds
    return f"{result.state} ({result.rounds_done} of {rounds} round{'s' if rounds != 1 else ''})"


def render_markdown(result: EndpointBenchResult) -> str:
    """The side-by-side table with the verdict, the contestants, the prompts and the calls, for a ticket."""
    plan = result.plan
    lines = [f"# hftui endpoint benchmark: {TASK}", ""]
    warm = "; each contestant first answered one untimed prompt" if plan.warmup else ""
    lines += [
        f"- **State:** {_state_line(result)}",
        f"- **Started:** {result.started_at or 'unknown'}",
        f"- **Prompts:** {len(plan.prompts)} ({md_text(plan.prompts.source)})",
        f"- **Rounds:** {plan.rounds}, every prompt each round, the contestants' order rotating one place a round;"
        f" at most {plan.max_tokens} tokens an answer{warm}",
        f"- **Duration:** {result.duration_s:.1f} s",
        "",
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|" + "|".join(" --- " for _ in TABLE_HEADER) + "|",
    ]
    lines += ["| " + " | ".join(md_cell(cell) for cell in table_cells(row)) + " |" for row in result.rows]
    lines += ["", f"**Verdict:** {md_text(result.verdict)}", ""]
    lines.append(
        "Latency percentiles are over answered calls; errors over every call not stopped. Tokens/s is the mean"
        " over answers of tokens after the first divided by the time after the first token. Tokens counted:"
        " usage is the server's own count; chunks count the streamed pieces of text (an estimate: a piece may"
        " hold several tokens); generated is the local model's count."
    )
    lines += ["", "## Contestants", ""]
    for row in result.rows:
        loaded = f"; loaded in {row.load_s:.2f} s" if row.load_s is not None and row.error is None else ""
        answered = f"; answered by {_pairs(row.answered_by)}" if row.kind == "chain" and row.answered_by else ""
        lines.append(f"- **{md_text(row.name)}** ({row.kind}): {md_text(row.description)}{loaded}{answered}")
    lines += ["", "## Prompts", ""]
    shown = plan.prompts.prompts[:MAX_MARKDOWN_PROMPTS]
    lines += [f"{i}. {md_text(preview(prompt))}" for i, prompt in enumerate(shown, start=1)]
    if len(plan.prompts) > len(shown):
        lines += ["", f"… and {len(plan.prompts) - len(shown)} more (see the JSON report)."]
    lines += ["", "## Calls", ""]
    if result.calls:
        header = ("Round", "Order", "Prompt", "Contestant", "Outcome", "Answered by", "First token (ms)",
                  "Total (ms)", "Tokens", "Tokens/s", "Detail")  # fmt: skip
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        for record in result.calls[:MAX_MARKDOWN_CALLS]:
            lines.append("| " + " | ".join(md_cell(cell) for cell in _call_cells(record)) + " |")
        if len(result.calls) > MAX_MARKDOWN_CALLS:
            lines += ["", f"… and {len(result.calls) - MAX_MARKDOWN_CALLS} more calls (see the JSON report)."]
    else:
        lines.append("No call was made.")
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {md_text(warning)}" for warning in result.warnings]
    return "\n".join(lines) + "\n"


def _call_cells(record: CallRecord) -> tuple[object, ...]:
    reply = record.reply
    speed = reply.tokens_per_s
    return (
        record.round,
        record.position + 1,
        record.prompt + 1,
        record.contestant,
        reply.outcome,
        reply.answered_by or "",
        _ms(reply.first_token_s),
        _ms(reply.total_s),
        f"{reply.tokens} ({reply.tokens_counted})" if reply.tokens_counted else "",
        "" if speed is None else f"{speed:.1f}",
        reply.detail,
    )


def call_data(record: CallRecord) -> dict[str, Any]:
    """One call as plain JSON-ready data."""
    reply = record.reply
    return {
        "round": record.round,
        "prompt": record.prompt,
        "position": record.position,
        "contestant": record.contestant,
        "outcome": reply.outcome,
        "answered_by": reply.answered_by,
        "first_token_s": reply.first_token_s,
        "total_s": reply.total_s,
        "tokens": reply.tokens,
        "tokens_counted": reply.tokens_counted,
        "tokens_per_s": reply.tokens_per_s,
        "failovers": reply.failovers,
        "detail": reply.detail,
        "attempts": [asdict(attempt) for attempt in reply.attempts],
        "text": reply.text,
    }


def row_data(row: ContestantRow) -> dict[str, Any]:
    """A contestant's row as plain data (error kinds and who answered as objects)."""
    data = asdict(row)
    data["error_kinds"] = dict(row.error_kinds)
    data["answered_by"] = dict(row.answered_by)
    return data


def report_data(result: EndpointBenchResult) -> dict[str, Any]:
    """The benchmark as plain JSON-ready data: how it ran, the contestants, the rows and every call."""
    plan = result.plan
    return {
        "schema": REPORT_SCHEMA,
        "kind": "endpoint-benchmark",
        "task": TASK,
        "state": result.state,
        "started_at": result.started_at,
        "duration_s": result.duration_s,
        "rounds": plan.rounds,
        "rounds_done": result.rounds_done,
        "max_tokens": plan.max_tokens,
        "warmup": plan.warmup,
        "order": "every prompt each round; the contestants' order rotates one place a round",
        "prompts": {"source": plan.prompts.source, "prompts": list(plan.prompts.prompts)},
        "contestants": [
            {
                "name": c.name,
                "kind": c.kind,
                "description": c.describe(),
                "endpoints": [asdict(endpoint) for endpoint in c.endpoints],
                "model": c.model,
                "device": c.device,
            }
            for c in plan.contestants
        ],
        "token_counts": dict(TOKEN_COUNTS),
        "rows": [row_data(row) for row in result.rows],
        "verdict": result.verdict,
        "calls": [call_data(record) for record in result.calls],
        "warnings": list(result.warnings),
    }


def render_json(result: EndpointBenchResult) -> str:
    return json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n"


def render_csv(result: EndpointBenchResult) -> str:
    """One CSV row per contestant (every call is in the JSON report)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        values = {
            **asdict(row),
            "contestant": row.name,
            "error_kinds": "; ".join(f"{k}:{n}" for k, n in row.error_kinds),
        }
        writer.writerow([csv_cell("" if values[name] is None else values[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()


def render_report(result: EndpointBenchResult, fmt: str) -> str:
    """`result` rendered in `fmt` ("md", "json" or "csv")."""
    return {"md": render_markdown, "json": render_json, "csv": render_csv}[fmt](result)


def write_report(result: EndpointBenchResult, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write `result`'s report to `path` atomically, in `fmt` or the format its suffix names (.md, .json,
    .csv; ValueError for another); returns the path."""
    return write_text_atomically(path, render_report(result, format_for(path, fmt)))
