"""Column statistics, value counts, sorting, bars, saving a sample, and cell descriptions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hftui.data.cells import describe_cell, full_value
from hftui.data.stats import bar, column_stats, save_sample, sort_rows, value_counts

FEATURES = {
    "score": {"dtype": "float64", "_type": "Value"},
    "text": {"dtype": "string", "_type": "Value"},
    "label": {"names": ["neg", "pos"], "_type": "ClassLabel"},
    "flag": {"dtype": "bool", "_type": "Value"},
}


def _rows() -> list[dict[str, object]]:
    return [
        {"score": 1.0, "text": "a" * 10, "label": 0, "flag": True, "meta": {"k": [1, 2]}, "image": _image()},
        {"score": None, "text": "b" * 60, "label": 1, "flag": False, "meta": {"k": []}, "image": None},
        {"score": 3.0, "text": "c" * 95, "label": 1, "flag": True, "meta": None, "image": _image()},
        {"score": 5.0, "text": None, "label": 1, "flag": True, "meta": {"k": [3]}, "image": _image()},
    ]


def _image() -> Image.Image:
    return Image.new("RGB", (32, 32), (255, 0, 0))


def test_column_stats_by_kind() -> None:
    stats = {column.name: column for column in column_stats(_rows(), FEATURES)}
    assert list(stats) == ["score", "text", "label", "flag", "meta", "image"]
    score = stats["score"]
    assert (score.kind, score.count, score.nulls) == ("number", 4, 1)
    assert (score.minimum, score.mean, score.maximum) == (1.0, 3.0, 5.0)
    text = stats["text"]
    assert text.kind == "text" and text.nulls == 1
    assert (text.length_min, text.length_max) == (10, 95)
    assert text.length_mean == pytest.approx(55.0)
    assert text.length_histogram[0] == ("10-19", 1)
    assert sum(count for _, count in text.length_histogram) == 3
    assert stats["label"].kind == "class_label"
    assert stats["label"].classes == (("neg", 1), ("pos", 3))
    assert stats["flag"].kind == "bool" and dict(stats["flag"].classes) == {"True": 3, "False": 1}
    assert stats["meta"].kind == "nested" and stats["meta"].nulls == 1
    assert stats["image"].kind == "image" and stats["image"].distinct is None


def test_kinds_without_features() -> None:
    rows = [{"n": 1, "m": 1, "z": None}, {"n": 2.5, "m": "x", "z": None}, {"n": float("nan"), "m": None}]
    stats = {column.name: column for column in column_stats(rows)}
    assert stats["n"].kind == "number" and stats["n"].maximum == 2.5
    assert stats["m"].kind == "mixed"
    assert stats["z"].kind == "null" and stats["z"].nulls == 3
    low = column_stats([{"c": value} for value in ["a", "b", "a", "a", "b", "a"]])[0]
    assert low.classes == (("a", 4), ("b", 2))
    assert column_stats([]) == ()


def test_value_counts() -> None:
    rows = [{"c": value} for value in ["x", "y", "x", None, {"a": 1}, {"a": 1}, "x"]]
    assert value_counts(rows, "c") == (("x", 3), ('{"a":1}', 2), ("y", 1), ("∅", 1))
    assert value_counts(rows, "c", top=1) == (("x", 3),)


def test_sort_rows_puts_missing_last_and_tolerates_mixed_types() -> None:
    rows = [{"v": 3}, {"v": None}, {"v": "b"}, {"v": 1.5}, {}, {"v": [1]}, {"v": "a"}, {"v": math.nan}]
    ascending = [row.get("v") for row in sort_rows(rows, "v")]
    assert ascending[:5] == [1.5, 3, "a", "b", [1]]
    assert ascending[5] is None and ascending[6] is None and math.isnan(ascending[7])
    descending = [row.get("v") for row in sort_rows(rows, "v", descending=True)]
    assert descending[:5] == [[1], "b", "a", 3, 1.5]
    assert descending[5] is None


def test_bar_widths() -> None:
    assert bar(10, 10) == "█" * 20
    assert bar(5, 10, width=10) == "█████"
    assert bar(0, 10) == ""
    assert bar(1, 1000) == "▏"
    assert bar(3, 0) == ""
    assert bar(7, 16, width=10) == "████▍"
    assert all(len(bar(count, 97, width=13)) <= 13 for count in range(98))


def test_save_sample_parquet_with_image(tmp_path: Path) -> None:
    from datasets import load_dataset

    rows = [{"text": "hi", "image": _image()}, {"text": "there", "image": _image()}]
    path = save_sample(rows, tmp_path / "out" / "sample.parquet")
    reopened = load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    assert reopened["text"] == ["hi", "there"]
    assert reopened[0]["image"].size == (32, 32)
    assert [p.name for p in path.parent.iterdir()] == ["sample.parquet"]


def test_save_sample_jsonl_with_features(tmp_path: Path) -> None:
    from datasets import load_dataset

    rows = [
        {"score": 1.0, "text": "a", "label": 1, "flag": True},
        {"score": None, "text": "é", "label": 0, "flag": False},
    ]
    path = save_sample(rows, tmp_path / "sample.jsonl", features=FEATURES)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[1]["text"] == "é"
    reopened = load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    assert reopened["label"] == [1, 0] and reopened["score"] == [1.0, None]


def test_save_sample_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datasets import Dataset

    def fail_midway(self: object, path: str, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(Dataset, "to_parquet", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        save_sample([{"a": 1}], tmp_path / "sample.parquet")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"parquet or \.jsonl"):
        save_sample([{"a": 1}], tmp_path / "sample.csv")


def test_describe_cell_each_kind() -> None:
    assert describe_cell(None) == "∅"
    assert describe_cell("short") == "short"
    assert describe_cell("line\nbreak") == "line break"
    long = describe_cell("x" * 200, max_chars=10)
    assert long == "xxxxxxxxxx… (200 chars)"
    assert describe_cell(_image()) == "image 32x32 RGB"
    audio = {"array": np.zeros(24000), "sampling_rate": 16000, "path": None}
    assert describe_cell(audio) == "audio 1.50 s @ 16000 Hz"
    assert describe_cell({"path": "a.wav", "bytes": None}, {"_type": "Audio"}) == "audio a.wav"
    assert describe_cell({"path": None, "bytes": b"123"}, {"_type": "Audio"}) == "audio <3 bytes>"
    label = {"names": ["neg", "pos"], "_type": "ClassLabel"}
    assert describe_cell(1, label) == "1 (pos)"
    assert describe_cell(-1, label) == "-1"
    assert describe_cell(1) == "1"
    assert describe_cell(True) == "True"
    assert describe_cell(0.1 + 0.2) == "0.3"
    assert describe_cell({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"é"}'
    assert describe_cell(list(range(100)), max_chars=12) == "[0,1,2,3,4,…"
    assert describe_cell(b"\x00" * 2048) == "<2,048 bytes>"
    assert describe_cell(np.int64(7)) == "7"
    assert describe_cell(np.arange(3)) == "[0,1,2]"


def test_describe_encoded_image() -> None:
    import io

    buffer = io.BytesIO()
    Image.new("L", (4, 3)).save(buffer, format="PNG")
    assert describe_cell({"bytes": buffer.getvalue(), "path": None}) == "image 4x3 L"
    assert describe_cell({"bytes": b"junk", "path": None}, {"_type": "Image"}) == "image <4 bytes>"
    assert describe_cell({"bytes": None, "path": "x.png"}) == "image x.png"


def test_full_value() -> None:
    assert full_value("x" * 200) == "x" * 200
    assert full_value({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'
    assert full_value(1, {"names": ["neg", "pos"], "_type": "ClassLabel"}) == "1 (pos)"
    assert full_value(None) == "∅"
    assert full_value({"bytes": b"12", "path": None}) == "image <2 bytes>"
