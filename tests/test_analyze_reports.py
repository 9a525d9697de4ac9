"""Analysis reports: what the Markdown, JSON and CSV say, how untrusted text is escaped, and atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from hftui.analyze.events import ItemResult, JobResult, JobSummary, UsedModel
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.reports import (
    CSV_COLUMNS,
    csv_cell,
    format_for,
    md_cell,
    render_csv,
    render_json,
    render_markdown,
    write_report,
)

TEXT = "text-classification"
CAPTION = "image-text-to-text"


def _result(state: str = "finished", error: str | None = None) -> JobResult:
    inputs = (
        AnalysisInput("text", "typed 1", "Great | film\nwith <b>bold</b> claims"),
        AnalysisInput("image", "pics/cat|[x](http://evil).png", "pics/cat|[x](http://evil).png"),
        AnalysisInput("text", "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil")'),
    )
    results = (
        ItemResult(0, "typed 1", "text", TEXT, "org/sst", "POSITIVE", 0.93, (("POSITIVE", 0.93), ("NEGATIVE", 0.07)),
                   latency_s=0.012),
        ItemResult(2, inputs[2].origin, "text", TEXT, "org/sst", error="the text is empty", latency_s=0.0),
        ItemResult(1, inputs[1].origin, "image", CAPTION, "org/blip", text="a cat | on a\nmat \x1b[31m", latency_s=0.2),
    )  # fmt: skip
    summary = JobSummary(
        total=3,
        succeeded=2,
        failed=1,
        label_counts={TEXT: {"POSITIVE": 1}},
        mean_latency_s=0.106,
        items_per_s=9.5,
        duration_s=1.25,
        device="cpu",
        peak_memory_bytes=512 * 1024**2,
        device_name="CPU, 2 threads",
        dtype="float32",
        batch_size=8,
    )
    models = (
        UsedModel(TEXT, "org/sst", "cached", "apache-2.0", 1.5),
        UsedModel(CAPTION, "org/blip", "default", None, 0.0, cached=True),
    )
    return JobResult(
        state=state,
        error=error,
        results=results,
        summary=summary,
        models=models,
        inputs=inputs,
        warnings=("org/old has only pickle weights: loading pickle weights can run code.",),
        tasks=(TEXT, CAPTION),
        started_at="2025-01-02T03:04:05+00:00",
    )


def _table_rows(markdown: str, heading: str) -> list[str]:
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")][2:]  # after the header and rule


def test_markdown_is_ticket_ready() -> None:
    markdown = render_markdown(_result())
    assert markdown.startswith("# hftui analysis report\n")
    assert "- **State:** finished" in markdown
    assert "- **Device:** cpu (CPU, 2 threads), float32, batch size 8" in markdown
    assert "3 input(s): 2 text, 1 image." in markdown
    models = _table_rows(markdown, "Models")
    assert models == [
        "| text-classification | org/sst | cached | apache-2.0 | 1.500 |",
        "| image-text-to-text | org/blip | default | unknown | already loaded |",
    ]
    results = _table_rows(markdown, "Results")
    assert len(results) == 3
    assert (
        results[0]
        == '| 0 | typed 1: "Great \\| film with &lt;b&gt;bold&lt;/b&gt; claims" | text-classification | POSITIVE '
        "| 0.930 | 12.0 |"
    )
    assert "error: the text is empty" in results[1]
    assert "- Items: 3 planned, 2 analysed, 1 failed" in markdown
    assert "- Throughput: 9.50 items/s" in markdown
    assert "- Labels (text-classification): POSITIVE 1" in markdown
    assert "## Warnings\n\n- org/old has only pickle weights" in markdown
    failed = render_markdown(_result("failed", "Out of memory on cuda:0: lower the batch size or choose the CPU."))
    assert "- **State:** failed: Out of memory on cuda:0" in failed


def test_markdown_escapes_untrusted_text() -> None:
    markdown = render_markdown(_result())
    for line in _table_rows(markdown, "Results") + _table_rows(markdown, "Inputs"):
        cells = line.replace("\\|", "").split("|")
        assert len(cells) - 2 in (3, 6)  # the escaped pipes do not add columns
    assert "<b>" not in markdown and "\x1b" not in markdown and "\\\\x1b" in markdown
    assert "[x](http://evil)" not in markdown and "\\[x\\](http://evil)" in markdown
    assert "a cat \\| on a mat" in markdown  # the newline did not end the row
    assert md_cell("a\r\nb|c") == "a b\\|c"
    assert md_cell(None) == ""


def test_json_carries_everything() -> None:
    data = json.loads(render_json(_result()))
    assert data["kind"] == "analysis" and data["state"] == "finished" and data["schema"] == 1
    assert data["tasks"] == [TEXT, CAPTION]
    assert data["summary"]["items_per_s"] == 9.5 and data["summary"]["device"] == "cpu"
    assert [m["license"] for m in data["models"]] == ["apache-2.0", None]
    assert data["inputs"][0] == {"index": 0, "modality": "text", "origin": "typed 1", "text": _result().inputs[0].value}
    assert data["inputs"][1]["path"] == "pics/cat|[x](http://evil).png"
    first = data["results"][0]
    assert first["label"] == "POSITIVE" and first["top_k"] == [["POSITIVE", 0.93], ["NEGATIVE", 0.07]] and first["ok"]
    assert data["results"][1]["ok"] is False and data["results"][2]["text"].startswith("a cat | on")
    assert data["warnings"] == list(_result().warnings)


def test_csv_rows_and_formula_guard() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(_result()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["label"] == "POSITIVE" and first["top_k"] == "POSITIVE:0.9300; NEGATIVE:0.0700"
    assert float(first["score"]) == pytest.approx(0.93) and float(first["latency_s"]) == pytest.approx(0.012)
    second = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert second["origin"].startswith("'=cmd") and second["error"] == "the text is empty" and second["label"] == ""
    third = dict(zip(CSV_COLUMNS, rows[3], strict=True))
    assert third["text"] == "a cat | on a\nmat \x1b[31m"  # CSV keeps the value; quoting keeps the row whole
    assert csv_cell("-2+3") == "'-2+3" and csv_cell(-2.5) == -2.5 and csv_cell("ok") == "ok"


def test_write_report_is_atomic_and_picks_the_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _result()
    for name, check in (
        ("r.md", lambda text: text.startswith("# hftui analysis report")),
        ("r.JSON", lambda text: json.loads(text)["kind"] == "analysis"),
        ("r.csv", lambda text: text.startswith("index,origin")),
    ):
        path = write_report(result, tmp_path / name)
        assert path == tmp_path / name and check(path.read_text(encoding="utf-8"))
    assert write_report(result, tmp_path / "plain.txt", "json").read_text(encoding="utf-8").startswith("{")
    with pytest.raises(ValueError, match="cannot tell the report format"):
        write_report(result, tmp_path / "report.xlsx")
    with pytest.raises(ValueError, match="unknown report format"):
        format_for("r.md", "html")

    target = tmp_path / "r.md"
    target.chmod(0o640)
    before = target.read_text(encoding="utf-8")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(_result("failed", "boom"), target)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == before  # the old report is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "r.JSON", "r.csv", "r.md"]  # no temp left
    write_report(_result("failed", "boom"), target)
    assert "failed: boom" in target.read_text(encoding="utf-8")
    assert target.stat().st_mode & 0o777 == 0o640  # a replaced report keeps its mode
