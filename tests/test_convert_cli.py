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


def _good_parquet(path: Path) -> Path:
    import pyarrow as pa

    pq.write_table(pa.table({"text": [f"t{i}" for i in range(50)], "label": ["x", "y"] * 25}), path)
    return path


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("empty.csv", lambda path: path.write_bytes(b""), "empty.csv is empty"),
        (
            "bad.parquet",
            lambda path: path.write_bytes(_good_parquet(path.with_name("good.parquet")).read_bytes()[:300]),
            "bad.parquet is not a valid Parquet file",
        ),
        (
            "broken.jsonl",
            lambda path: path.write_text('{"text": "a", "label": "x"}\n{"text": broken\n'),
            "invalid JSON at broken.jsonl line 2",
        ),
        ("header.csv", lambda path: path.write_text("text,label\n"), "header.csv has no rows"),
    ],
)
def test_unreadable_files_exit_1_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, make: object, words: str
) -> None:
    """Failed before: read_schemas raised ConvertError out of plan_from_args, so a traceback reached the user."""
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    code = main(["convert", str(path), "--label", "label", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and words in " ".join(err.split())
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_latin1_csv_is_named_as_not_utf8_and_reads_with_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Failed before: the file was called invalid JSON, with a traceback, and there was no --encoding."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"text,label\n" + "".join(f"café {i},{'ab'[i % 2]}\n" for i in range(20)).encode("latin-1"))
    out = tmp_path / "out"
    assert main(["convert", str(path), "--label", "label", "--out", str(out)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "latin1.csv is not UTF-8 text: byte 0xe9 at offset 14 (line 2)" in err
    assert "--encoding latin-1 (or cp1252)" in err and "JSON" not in err
    assert not out.exists()
    assert main(["convert", str(path), "--label", "label", "--out", str(out), "--encoding", "latin-1"]) == 0
    texts = pq.read_table(out / "train.parquet").column("text").to_pylist()
    assert all(text.startswith("café ") for text in texts)
    assert json.loads((out / "report.json").read_text())["sources"][0]["encoding"] == "iso8859-1"
    with pytest.raises(SystemExit) as unknown:
        main(["convert", str(path), "--label", "label", "--out", str(tmp_path / "o2"), "--encoding", "klingon"])
    assert unknown.value.code == 2 and "unknown encoding 'klingon'" in capsys.readouterr().err


def _ragged(path: Path) -> Path:
    rows = [f"t{i},{'ab'[i % 2]}" for i in range(20)]
    rows[0] += ",extra"  # the first data row: pandas would make the text an index and shift the columns
    rows[5] += ",x,y"
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    return path


def test_ragged_csv_rows_are_refused_with_their_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Failed before: the file was silently reshaped (a made-up index column, text holding the label)."""
    path = _ragged(tmp_path / "ragged.csv")
    code = main(["convert", str(path), "--label", "label", "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "ragged.csv" in err and "2 rows have more fields than its header's 2 (lines 2 and 7)" in err
    assert "--skip-bad-rows" in err
    assert not (tmp_path / "out").exists()


def test_skip_bad_rows_skips_and_counts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed before: there was no --skip-bad-rows; the rows were reshaped into a wrong table instead."""
    monkeypatch.setenv("COLUMNS", "160")
    path = _ragged(tmp_path / "ragged.csv")
    out = tmp_path / "out"
    code = main(["convert", str(path), "--label", "label", "--out", str(out), "--skip-bad-rows", "--splits", "1,0,0"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "skipped 2 rows of ragged.csv with more fields than the header (lines 2 and 7)" in printed
    table = pq.read_table(out / "train.parquet")
    assert table.column_names == ["text", "label"]
    assert sorted(table.column("text").to_pylist()) == sorted(f"t{i}" for i in range(20) if i not in (0, 5))
    report = json.loads((out / "report.json").read_text())
    assert report["skipped_rows"] == 2 and report["sources"][0]["skipped_lines"] == [2, 7]
    markdown = (out / "REPORT.md").read_text()
    assert "more fields than the header, skipped while reading `ragged.csv`: 2 (lines 2 and 7)" in markdown


def test_split_errors_are_in_hftuis_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Failed before: "With n_samples=4, test_size=0.8 and train_size=None, the resulting train set will be
    empty..." reached the user."""
    path = tmp_path / "four.csv"
    path.write_text("text,label\na,x\nb,x\nc,y\nd,y\n")
    code = main(["convert", str(path), "--label", "label", "--out", str(tmp_path / "out"), "--splits", "0.2,0.4,0.4"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "n_samples" not in err and "aforementioned" not in err
    assert "validation + test would take all of them" in err and "Give train a larger share" in err
    assert not (tmp_path / "out").exists()


def test_more_bad_input_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Failed before: a file as --out gave 'cannot write … File exists' after the work; a JSON array in cp1252
    had no --encoding; a CSV whose rows are all ragged was read as a shifted table."""
    good = tmp_path / "good.csv"
    good.write_text("text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(20)))
    taken = tmp_path / "taken"
    taken.write_text("not a folder\n")
    with pytest.raises(SystemExit) as exited:
        main(["convert", str(good), "--label", "label", "--out", str(taken)])
    assert exited.value.code == 2 and f"the output {taken} is a file; choose a folder" in capsys.readouterr().err
    assert taken.read_text() == "not a folder\n"

    array = tmp_path / "array.json"
    array.write_bytes('[{"text": "café", "label": "x"}]'.encode("cp1252"))
    assert main(["convert", str(array), "--label", "label", "--out", str(tmp_path / "o1"), "--encoding", "cp1252"]) == 1
    assert "array.json is one JSON array, which can only be read as UTF-8" in " ".join(capsys.readouterr().err.split())

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\na,b,c\nd,e,f\n")
    out = tmp_path / "o2"
    assert main(["convert", str(ragged), "--label", "label", "--out", str(out), "--skip-bad-rows"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "ragged.csv has no rows once the 2 with more fields than the header are skipped" in err
    assert not (tmp_path / "o1").exists() and not out.exists()
