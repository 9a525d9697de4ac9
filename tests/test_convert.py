"""The format converter: three differently-shaped files, one schema, stratified splits and the quality report."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hftui.data.convert import (
    ConvertCancelled,
    ConvertError,
    ConvertPlan,
    SplitFractions,
    convert,
    default_plan,
    name_key,
    read_schema,
    read_schemas,
)

CLASSES = ("neg", "neutral", "pos")


def label_of(index: int) -> str:
    """60% pos, 30% neg, 10% neutral: imbalanced, so a split that ignores the label drifts visibly."""
    return "pos" if index % 10 < 6 else ("neg" if index % 10 < 9 else "neutral")


def write_sources(folder: Path, rows: int = 100) -> tuple[Path, Path, Path]:
    """A CSV `Text,Sentiment` (one blank label, one duplicate row), a JSONL `text,label,extra,score` and a
    Parquet `review,label,score` whose score is text that needs a cast."""
    folder.mkdir(parents=True, exist_ok=True)
    reviews = folder / "reviews.csv"
    with reviews.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Text", "Sentiment"])
        for index in range(rows):
            writer.writerow(["csv 6" if index == 7 else f"csv {index}", "" if index == 3 else label_of(index)])
    writer_rows = [{"text": f"json {i}", "label": label_of(i), "extra": i, "score": i % 5} for i in range(rows)]
    more = folder / "more.jsonl"
    more.write_text("".join(json.dumps(row) + "\n" for row in writer_rows))
    table = folder / "table.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"review": f"pq {i}", "label": label_of(i), "score": f"{i % 5}.5"} for i in range(rows)]),
        table,
    )
    # CSV row 7 repeats row 6 ("csv 6", pos): one exact duplicate among labelled rows.
    assert label_of(6) == label_of(7)
    return reviews, more, table


def unified_plan(folder: Path, *, seed: int = 42, **changes: object) -> ConvertPlan:
    """Map the three files onto text/label/score: Sentiment and review renamed, score cast, extra dropped."""
    plan = default_plan(read_schemas(write_sources(folder / "in")), output=folder / "out")
    plan = plan.rename_target("sentiment", "label").rename_target("review", "text")
    plan = plan.cast_target("score", "float64").drop_target("extra").with_label("label")
    return replace(plan, seed=seed, **changes)


def labels_in(path: Path) -> list[str]:
    """The label names of a written split, read back through its ClassLabel metadata."""
    from datasets import load_dataset

    dataset = load_dataset("parquet", data_files={"train": [str(path)]}, split="train")
    names = dataset.features["label"].names
    return [names[value] for value in dataset["label"]]


def test_name_keys_match_case_and_spacing() -> None:
    assert name_key("Text") == name_key(" text ") == name_key("TEXT") == "text"
    assert name_key("Review Text") == name_key("review-text") == "review_text"
    assert name_key("???") == "???"


def test_read_schemas_describe_each_file(tmp_path: Path) -> None:
    schemas = read_schemas(write_sources(tmp_path))
    assert [(schema.name, schema.data_format, schema.rows) for schema in schemas] == [
        ("reviews.csv", "csv", 100),
        ("more.jsonl", "json", 100),
        ("table.parquet", "parquet", 100),
    ]
    assert [(column.name, column.dtype) for column in schemas[0].columns] == [
        ("Text", "string"),
        ("Sentiment", "string"),
    ]
    assert schemas[1].column("extra").dtype == "int64"
    assert schemas[2].column("score").dtype == "string"


def test_default_plan_maps_by_name(tmp_path: Path) -> None:
    plan = default_plan(read_schemas(write_sources(tmp_path)))
    assert [column.name for column in plan.columns] == ["text", "sentiment", "label", "extra", "score", "review"]
    by_source = [found.name if found else None for found in plan.sources_for("text")]
    assert by_source == ["Text", "text", None]  # "review" is not a synonym: the user merges it
    assert plan.column("score").dtype == "string"  # int64 in one file, text in the other
    assert plan.column("extra").dtype == "int64"
    assert plan.label == "label"
    assert plan.output == tmp_path / "converted"


def test_plan_edits(tmp_path: Path) -> None:
    plan = default_plan(read_schemas(write_sources(tmp_path)))
    merged = plan.rename_target("review", "text")
    assert [found.name for found in merged.sources_for("text")] == ["Text", "text", "review"]
    assert merged.column("review") is None
    with pytest.raises(ConvertError, match="has a column for each"):
        plan.rename_target("extra", "score")  # more.jsonl has both
    moved = plan.map_column(2, "review", "text")
    assert [found.name for found in moved.sources_for("text")] == ["Text", "text", "review"]
    assert moved.column("review") is None  # nothing maps there any more
    dropped = plan.drop_target("label")
    assert not dropped.column("label").keep and dropped.label is None
    assert dropped.drop_target("label", keep=True).column("label").keep
    with pytest.raises(ConvertError, match="unknown type"):
        plan.cast_target("score", "decimal")
    assert plan.cast_target("score", "float64").rename_target("score", "rating").column("rating").dtype == "float64"
    with pytest.raises(ConvertError) as missing:
        plan.with_label("stars")
    assert missing.value.kind == "label_missing" and "text, sentiment, label" in missing.value.message


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_three_files_become_stratified_splits(tmp_path: Path, seed: int) -> None:
    plan = unified_plan(tmp_path, seed=seed)
    report = convert(plan)
    out = tmp_path / "out"
    assert sorted(path.name for path in out.iterdir()) == [
        "REPORT.md",
        "report.json",
        "test.parquet",
        "train.parquet",
        "validation.parquet",
    ]
    written = {split: labels_in(out / f"{split}.parquet") for split in ("train", "validation", "test")}
    everything = [label for labels in written.values() for label in labels]
    assert len(everything) == 299  # 300 read, one blank label dropped, the duplicate kept
    assert {split: len(labels) for split, labels in written.items()} == {"train": 239, "validation": 30, "test": 30}
    overall = Counter(everything)
    assert set(overall) == set(CLASSES)
    for split, labels in written.items():
        counts = Counter(labels)
        for name in CLASSES:
            expected = overall[name] / len(everything) * len(labels)
            # Stratified: every class within one row of its overall share in every split.
            assert abs(counts[name] - expected) <= 1, (split, name, counts[name], expected)
        assert report.split(split).rows == len(labels)
        assert dict(zip(report.classes, report.split(split).counts, strict=True)) == {n: counts[n] for n in CLASSES}
    columns = pq.read_schema(out / "train.parquet")
    assert columns.names == ["text", "label", "score"]
    assert str(columns.field("score").type) == "double"


def test_same_seed_same_splits_other_seed_other_splits(tmp_path: Path) -> None:
    def train_texts(folder: Path, seed: int) -> list[str]:
        convert(unified_plan(folder, seed=seed))
        return pq.read_table(folder / "out" / "train.parquet").column("text").to_pylist()

    first = train_texts(tmp_path / "a", 7)
    assert train_texts(tmp_path / "b", 7) == first
    assert train_texts(tmp_path / "c", 8) != first


def test_report_counts_drops_nulls_and_duplicates(tmp_path: Path) -> None:
    report = convert(unified_plan(tmp_path))
    assert [(source.path.name, source.rows) for source in report.sources] == [
        ("reviews.csv", 100),
        ("more.jsonl", 100),
        ("table.parquet", 100),
    ]
    assert report.rows_in == 300 and report.rows_out == 299
    assert report.dropped == (("missing label", 1),)
    assert report.duplicates == 1
    nulls = {count.column: count.per_source for count in report.nulls}
    assert nulls == {"text": (0, 0, 0), "label": (1, 0, 0), "score": (100, 0, 0)}
    markdown = report.report_path.read_text()
    assert "- missing label: 1" in markdown
    assert "Exact duplicates among labelled rows: 1, kept" in markdown
    assert "| train | 239 |" in markdown and "seed 42" in markdown
    assert "| `label` | string | `Sentiment` (string) | `label` (string) | `label` (string) |" in markdown
    data = json.loads(report.json_path.read_text())
    assert data["dropped"] == {"missing label": 1} and data["balance"]["test"]["rows"] == 30

    deduped = convert(unified_plan(tmp_path / "again", dedupe=True, add_source_column=True))
    assert deduped.dropped == (("missing label", 1), ("exact duplicate", 1))
    assert deduped.rows_out == 298
    table = pq.read_table(tmp_path / "again" / "out" / "train.parquet")
    assert table.column_names == ["text", "label", "score", "source"]
    assert set(table.column("source").to_pylist()) == {"reviews.csv", "more.jsonl", "table.parquet"}


def test_inputs_are_untouched_and_never_overwritten(tmp_path: Path) -> None:
    plan = unified_plan(tmp_path)
    before = {path: path.read_bytes() for path in (tmp_path / "in").iterdir()}
    convert(plan)
    assert {path: path.read_bytes() for path in (tmp_path / "in").iterdir()} == before
    train = tmp_path / "in" / "train.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "x", "label": "pos"}] * 10), train)
    clash = default_plan(read_schemas([train]), output=tmp_path / "in")
    with pytest.raises(ConvertError) as refused:
        convert(clash)
    assert refused.value.kind == "would_overwrite"
    assert pq.read_table(train).num_rows == 10


def test_a_value_that_does_not_fit_names_source_and_column(tmp_path: Path) -> None:
    plan = unified_plan(tmp_path).cast_target("text", "int64")
    with pytest.raises(ConvertError) as failed:
        convert(plan)
    assert failed.value.kind == "bad_cast"
    assert "reviews.csv" in failed.value.message and "'Text'" in failed.value.message
    assert "int64" in failed.value.message
    assert re.search(r"'csv \d+'", failed.value.message)  # the value that does not fit
    assert not (tmp_path / "out" / "train.parquet").exists()


def test_a_class_too_small_to_stratify_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "few.jsonl"
    rows = [{"text": f"t{i}", "label": "common"} for i in range(40)] + [{"text": "only", "label": "rare"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ConvertError) as failed:
        convert(default_plan(read_schemas([path])))
    assert failed.value.kind == "class_too_small"
    assert "'rare' has only 1 row" in failed.value.message and "at least 2" in failed.value.message


def test_missing_label_column(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("text,stars\na,1\nb,2\n")
    plan = default_plan(read_schemas([path]))
    assert plan.label is None
    with pytest.raises(ConvertError) as failed:
        convert(plan)
    assert failed.value.kind == "label_missing"
    with pytest.raises(ConvertError) as named:
        default_plan(read_schemas([path]), label="label")
    assert named.value.kind == "label_missing" and "text, stars" in named.value.message


@pytest.mark.parametrize(
    ("name", "content", "kind", "words"),
    [
        ("missing.csv", None, "not_found", "does not exist"),
        ("broken.csv", 'a,b\n1,2\n3,4,5,6\n"open\n', "bad_file", "as CSV"),
        ("broken.jsonl", '{"a": 1}\n{"a": 2\n', "bad_file", "broken.jsonl line 2"),
        ("broken.parquet", "not parquet", "bad_file", "not a valid Parquet file"),
        ("empty.csv", "", "empty", "empty"),
        ("notes.txt", "hello\n", "unsupported", "cannot be converted"),
    ],
)
def test_unreadable_inputs(tmp_path: Path, name: str, content: str | None, kind: str, words: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConvertError) as failed:
        read_schema(path)
    assert failed.value.kind == kind
    assert words in failed.value.message


def test_split_fractions() -> None:
    assert SplitFractions.parse("0.8,0.1,0.1") == SplitFractions(0.8, 0.1, 0.1)
    assert SplitFractions.parse("70, 15, 15") == SplitFractions(0.7, 0.15, 0.15)
    assert SplitFractions.parse("0.9,0.1") == SplitFractions(0.9, 0.0, 0.1)
    for bad in ("0.8,0.3,0.1", "a,b,c", "0.5", "0,0.5,0.5", "1.2,-0.1,-0.1"):
        with pytest.raises(ConvertError):
            SplitFractions.parse(bad)


def test_two_splits_and_stale_validation_removed(tmp_path: Path) -> None:
    convert(unified_plan(tmp_path))
    assert (tmp_path / "out" / "validation.parquet").exists()
    report = convert(unified_plan(tmp_path / "x", splits=SplitFractions(0.8, 0.0, 0.2), output=tmp_path / "out"))
    assert [split.name for split in report.splits] == ["train", "test"]
    assert not (tmp_path / "out" / "validation.parquet").exists()


def test_cancel_writes_nothing(tmp_path: Path) -> None:
    plan = unified_plan(tmp_path)
    steps: list[str] = []
    with pytest.raises(ConvertCancelled):
        convert(plan, progress=lambda step: steps.append(step.step), is_cancelled=lambda: len(steps) >= 2)
    assert steps == ["reading reviews.csv", "reading more.jsonl"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_class_label_source_keeps_class_names(tmp_path: Path) -> None:
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    encoded = tmp_path / "encoded.parquet"
    Dataset.from_dict({"text": [f"e{i}" for i in range(20)], "label": [i % 2 for i in range(20)]}, features).to_parquet(
        encoded
    )
    words = tmp_path / "words.jsonl"
    words.write_text("".join(json.dumps({"text": f"w{i}", "label": ["neg", "pos"][i % 2]}) + "\n" for i in range(20)))
    plan = default_plan(read_schemas([encoded, words]), output=tmp_path / "out")
    assert plan.column("label").dtype == "string"
    report = convert(plan)
    assert report.classes == ("neg", "pos")
    assert report.overall.counts == (20, 20)


def test_domain_module_does_not_import_textual_or_datasets() -> None:
    code = "import sys, hftui.data.convert; print(' '.join(sys.modules))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "textual" not in loaded
    assert "datasets" not in loaded and "torch" not in loaded


def test_lists_the_sources_agree_on_are_kept(tmp_path: Path) -> None:
    rows = [{"text": f"t{i}", "tags": ["a", "b"][: i % 3], "label": i % 2} for i in range(40)]
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_text("".join(json.dumps(row) + "\n" for row in rows[:20]))
    second.write_text("".join(json.dumps(row) + "\n" for row in rows[20:]))
    plan = default_plan(read_schemas([first, second]), output=tmp_path / "out")
    assert plan.column("tags").dtype == "list" and plan.column("label").dtype == "int64"
    report = convert(plan)
    assert report.classes == ("0", "1")  # an int label is class-encoded by its text
    table = pq.read_table(tmp_path / "out" / "train.parquet")
    assert str(table.schema.field("tags").type).startswith("list")
    assert sorted(len(tags) for tags in table.column("tags").to_pylist())[-1] == 2


def test_split_errors_name_the_class_and_what_each_split_needs(tmp_path: Path) -> None:
    """Failed before: a class too small for validation + test leaked datasets' own wording (n_samples=...)."""
    path = tmp_path / "few.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{'xy'[i % 2]}\n" for i in range(6)) + "lonely,rare\n")
    plan = replace(default_plan(read_schemas([path]), label="label"), splits=SplitFractions(0.5, 0.1, 0.4))
    with pytest.raises(ConvertError) as failed:
        convert(plan)
    message = failed.value.message
    assert failed.value.kind == "class_too_small"
    assert "class 'rare' has only 1 row" in message and "at least 3 rows" in message
    assert "merge it into another" in message and "fewer splits" in message
    assert "n_samples" not in message and "test_size" not in message


def test_ragged_rows_refused_or_skipped_when_asked(tmp_path: Path) -> None:
    """Failed before: `text,label` / `one,pos,extra` was read as an index column, text holding the label."""
    path = tmp_path / "ragged.csv"
    path.write_text('text,label\n"one",pos,extra\n"two",neg\n"multi\nline",pos\n"four",neg,x\n\nfive,pos\n')
    with pytest.raises(ConvertError) as refused:
        read_schema(path)
    assert refused.value.kind == "bad_file" and refused.value.setting == "skip_bad_rows"
    assert "2 rows have more fields than its header's 2 (lines 2 and 6)" in refused.value.message
    schema = read_schema(path, skip_bad_rows=True)
    assert [column.name for column in schema.columns] == ["text", "label"] and schema.rows == 3
    assert schema.skipped is not None and schema.skipped.lines == (2, 6)


def test_a_bad_byte_past_the_first_chunk_is_found_at_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    head = "text,label\n" + "é,x\n" * 400_000  # 2 MB of two-byte characters, straddling the 1 MiB reads
    path.write_bytes(head.encode() + b"caf\xe9,y\n")
    with pytest.raises(ConvertError) as failed:
        read_schema(path)
    offset = len(head.encode()) + 3
    assert failed.value.kind == "bad_encoding" and failed.value.setting == "encoding"
    assert f"long.csv is not UTF-8 text: byte 0xe9 at offset {offset} (line 400002)" in failed.value.message


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("table.csv", b"PAR1\x15\x04rest", "table.csv is a Parquet file by its first bytes, not text"),
        ("sheet.csv", b"PK\x03\x04rest", "sheet.csv is a ZIP archive"),
        ("lines.csv", b'{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', "lines.csv holds JSON, not CSV"),
        ("wide.csv", b"text,label\r\none,pos,extra\r\ntwo,neg\r\n", "1 row has more fields than its header's 2"),
    ],
)
def test_wrong_extensions_and_ragged_rows_are_named(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    """Failed before: Parquet or ZIP bytes under .csv were 'invalid JSON', JSON Lines under .csv a CSV of odd
    column names, and a ragged first row silently shifted the columns."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConvertError) as failed:
        read_schema(path)
    assert failed.value.kind == "bad_file" and words in failed.value.message
