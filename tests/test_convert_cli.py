"""`hftui convert`: the schemas side by side, the splits written, and bad arguments refused with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hftui.cli import main
from tests.test_convert import write_sources


def sources(tmp_path: Path) -> list[str]:
    return [str(path) for path in write_sources(tmp_path / "in")]


def test_convert_writes_splits_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # Rich wraps table cells at a pipe's 80 columns
    out = tmp_path / "out"
    code = main(
        [
            "convert",
            *sources(tmp_path),
            "--label",
            "label",
            "--out",
            str(out),
            "--map",
            "reviews:Sentiment=label",
            "--map",
            "review=text",
            "--cast",
            "score=float64",
            "--drop",
            "extra",
            "--splits",
            "70,15,15",
            "--seed",
            "3",
            "--dedupe",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "3 files onto one schema" in printed and "Sentiment (string)" in printed and "review (string)" in printed
    assert "dropped 1 rows: missing label" in printed and "dropped 1 rows: exact duplicate" in printed
    assert "REPORT.md" in printed
    data = json.loads((out / "report.json").read_text())
    assert data["seed"] == 3 and data["rows_out"] == 298
    assert pq.read_schema(out / "train.parquet").names == ["text", "label", "score"]
    balance = data["balance"]
    for split in ("train", "validation", "test"):
        rows = balance[split]["rows"]
        assert rows == pq.read_metadata(out / f"{split}.parquet").num_rows
        for name, count in balance[split]["counts"].items():
            assert abs(count - balance["all"]["counts"][name] / balance["all"]["rows"] * rows) <= 1
    assert {split: balance[split]["rows"] for split in ("train", "validation", "test")} == {
        "train": 208,
        "validation": 45,
        "test": 45,
    }


def test_drop_a_source_column_and_add_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    files = sources(tmp_path)
    args = ["convert", *files, "--label", "label", "--out", str(out), "--map", "1:Sentiment=label"]
    code = main([*args, "--drop", "more.jsonl:score", "--drop", "review", "--drop", "extra", "--source-column"])
    assert code == 0, capsys.readouterr()
    table = pq.read_table(out / "train.parquet")
    assert table.column_names == ["text", "label", "score", "source"]
    rows = table.to_pylist()
    assert all(row["score"] is None for row in rows if row["source"] == "more.jsonl")
    assert any(row["score"] is not None for row in rows if row["source"] == "table.parquet")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--map", "Sentiment"], "expected [SRC:]OLD=NEW"),
        (["--map", "nothing=label"], "has no column 'nothing'"),
        (["--cast", "score=decimal"], "unknown type 'decimal'"),
        (["--cast", "stars=int64"], "no target column 'stars'"),
        (["--drop", "reviews.csv:Stars"], "reviews.csv has no column 'Stars'"),
        (["--splits", "0.8,0.3,0.1"], "must add up to 1"),
        (["--seed", "-1"], "--seed -1"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["convert", *sources(tmp_path), "--label", "label", "--out", str(tmp_path / "out"), *extra])
    assert exited.value.code == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_file_and_label_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sources(tmp_path)
    with pytest.raises(SystemExit) as missing:
        main(["convert", files[0], str(tmp_path / "gone.csv"), "--label", "label", "--out", str(tmp_path / "o")])
    assert missing.value.code == 2 and "gone.csv does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as no_label:
        main(["convert", files[0], "--label", "stars", "--out", str(tmp_path / "o")])
    assert no_label.value.code == 2
    assert "no column 'stars' to use as the label; the columns are: text, sentiment" in capsys.readouterr().err
    with pytest.raises(SystemExit) as no_out:
        main(["convert", files[0], "--label", "sentiment"])
    assert no_out.value.code == 2 and "--out" in capsys.readouterr().err


def test_data_that_cannot_be_split_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "few.csv"
    path.write_text("text,label\n" + "".join(f"t{i},common\n" for i in range(30)) + "lonely,rare\n")
    code = main(["convert", str(path), "--label", "label", "--out", str(tmp_path / "out")])
    assert code == 1
    assert "convert failed: cannot stratify" in capsys.readouterr().err
    assert not (tmp_path / "out" / "train.parquet").exists()
