"""Streaming samples from local files and the local Hub: batches, skip/shuffle/filter, cancel, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile
from PIL import Image

from hftui.data.sampler import (
    SampleError,
    SampleOptions,
    SampleSource,
    detect_local_format,
    list_configs,
    stream_sample,
)
from hftui.localhub import LocalHub
from tests.hubfixtures import CSV_DATASET, TINY_DATASET, point_hf_client_at

ROWS = [{"text": f"row {i} " + "x" * i, "label": i % 3} for i in range(50)]


def local(path: Path, **fields: object) -> SampleSource:
    return SampleSource(kind="local", location=str(path), **fields)  # type: ignore[arg-type]


def all_rows(source: SampleSource, options: SampleOptions) -> list[dict]:
    return [row for batch in stream_sample(source, options) for row in batch.rows]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


def test_jsonl_batches_arrive_incrementally(jsonl: Path) -> None:
    batches = list(stream_sample(local(jsonl), SampleOptions(n=25, batch_size=10)))
    # The first row comes alone, as soon as it arrives; then full batches, then the rest.
    assert [len(b.rows) for b in batches] == [1, 10, 10, 4]
    assert [b.rows_so_far for b in batches] == [1, 11, 21, 25]
    assert batches[0].columns == ("text", "label")
    assert batches[0].features == {
        "text": {"dtype": "string", "_type": "Value"},
        "label": {"dtype": "int64", "_type": "Value"},
    }
    assert batches[0].seconds_to_first_row is not None and batches[-1].rows_per_second
    assert batches[0].rows[0] == ROWS[0]


@pytest.mark.parametrize("kind", ["csv", "parquet", "text"])
def test_other_formats(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"rows.{'txt' if kind == 'text' else kind}"
    if kind == "csv":
        path.write_text("text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in ROWS))
    elif kind == "parquet":
        pq.write_table(pa.Table.from_pylist(ROWS), path)
    else:
        path.write_text("".join(r["text"] + "\n" for r in ROWS))
    assert detect_local_format(path) == kind
    rows = all_rows(local(path), SampleOptions(n=7, batch_size=3))
    assert len(rows) == 7
    assert rows[1]["text"] == ROWS[1]["text"]


def test_folder_of_jsonl_and_format_detection(tmp_path: Path, jsonl: Path) -> None:
    assert detect_local_format(tmp_path) == "json"
    assert len(all_rows(local(tmp_path), SampleOptions(n=5))) == 5
    with pytest.raises(SampleError) as caught:
        detect_local_format(tmp_path / "nothing")
    assert caught.value.kind == "not_found"
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "empty-folder" / "notes.md").write_text("hi")
    with pytest.raises(SampleError) as caught:
        detect_local_format(tmp_path / "empty-folder")
    assert caught.value.kind == "no_files"


def test_skip_and_shuffle_are_deterministic(jsonl: Path) -> None:
    assert all_rows(local(jsonl), SampleOptions(n=3, skip=10)) == ROWS[10:13]
    options = SampleOptions(n=10, shuffle_buffer=50, seed=7)
    first = all_rows(local(jsonl), options)
    assert first == all_rows(local(jsonl), options)
    assert first != ROWS[:10]
    assert first != all_rows(local(jsonl), SampleOptions(n=10, shuffle_buffer=50, seed=8))


def test_filter_is_applied_before_take(jsonl: Path) -> None:
    rows = all_rows(local(jsonl), SampleOptions(n=4, row_filter="label == 2 and len(text) > 10"))
    assert rows == [r for r in ROWS if r["label"] == 2 and len(r["text"]) > 10][:4]
    assert all_rows(local(jsonl), SampleOptions(n=4, row_filter="label == 9")) == []


def test_filter_on_csv_learns_columns_from_first_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text,label\na,1\nb,2\nc,1\n")
    assert [r["text"] for r in all_rows(local(path), SampleOptions(row_filter="label == 1"))] == ["a", "c"]


def test_bad_filter(jsonl: Path) -> None:
    with pytest.raises(SampleError, match="no column named 'lable'") as caught:
        list(stream_sample(local(jsonl), SampleOptions(row_filter="lable == 1")))
    assert caught.value.kind == "bad_filter"


def test_cancel_stops_early(jsonl: Path) -> None:
    seen: list[int] = []
    batches = stream_sample(local(jsonl), SampleOptions(n=50, batch_size=5), is_cancelled=lambda: len(seen) >= 2)
    for batch in batches:
        seen.append(batch.rows_so_far)
    assert seen == [1, 6]


def test_imagefolder(tmp_path: Path) -> None:
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (4, 4), (i * 40, 0, 0)).save(tmp_path / label / f"{i}.png")
    assert detect_local_format(tmp_path) == "imagefolder"
    batches = list(stream_sample(local(tmp_path), SampleOptions(n=4, batch_size=2)))
    assert [b.rows_so_far for b in batches] == [1, 3, 4]
    assert batches[0].rows[0]["image"].size == (4, 4)
    assert "label" in batches[0].columns


def test_audiofolder(tmp_path: Path) -> None:
    for i in range(3):
        soundfile.write(tmp_path / f"{i}.wav", np.full(800, 0.1 * i, dtype=np.float32), 8000)
    assert detect_local_format(tmp_path) == "audiofolder"
    rows = all_rows(local(tmp_path), SampleOptions(n=2))
    assert len(rows) == 2
    audio = rows[0]["audio"]
    if isinstance(audio, dict):  # decoded here with soundfile when torchcodec is missing
        assert audio["sampling_rate"] == 8000 and len(audio["array"]) == 800


@pytest.mark.parametrize(
    ("name", "content", "kind", "match"),
    [
        ("ragged.csv", "a,b\n1,2\n3,4,5\n", "bad_file", "Expected 2 fields in line 3"),
        ("broken.jsonl", '{"a": 1}\n{"a": 2}\n{"a":\n{"a": 4}\n', "bad_file", "broken.jsonl line 3"),
        ("fake.parquet", "not parquet at all", "bad_file", "not a valid Parquet file"),
        ("empty.csv", "", "empty", "empty"),
        ("empty.jsonl", "", "empty", "empty"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str, kind: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SampleError, match=match) as caught:
        list(stream_sample(local(path), SampleOptions()))
    assert caught.value.kind == kind


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SampleError) as caught:
        list(stream_sample(local(tmp_path / "gone.jsonl"), SampleOptions()))
    assert caught.value.kind == "not_found"


def test_hub_dataset_streams_from_local_hub(hub_endpoint: str) -> None:
    source = SampleSource(kind="hub", location=TINY_DATASET)
    assert list_configs(source) == ["default"]
    batches = list(stream_sample(source, SampleOptions(n=5, batch_size=2, row_filter="label == 0")))
    rows = [row for batch in batches for row in batch.rows]
    assert rows[0] == {"text": "This is good.", "label": 0}
    assert len(rows) == 4 and all(r["label"] == 0 for r in rows)
    test_rows = all_rows(SampleSource(kind="hub", location=TINY_DATASET, split="test"), SampleOptions())
    assert len(test_rows) == 4


def test_unknown_hub_dataset(hub_endpoint: str) -> None:
    with pytest.raises(SampleError) as caught:
        list(stream_sample(SampleSource(kind="hub", location="hftui-test/nope"), SampleOptions()))
    assert caught.value.kind == "not_found"


def test_hub_dataset_with_several_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    card = "---\nconfigs:\n- config_name: en\n  data_files: en.jsonl\n- config_name: fr\n  data_files: fr.jsonl\n---\n"
    hub = LocalHub()
    hub.add_dataset(
        "hftui-test/two-configs",
        files={"README.md": card.encode(), "en.jsonl": b'{"t": "hi"}\n', "fr.jsonl": b'{"t": "salut"}\n'},
    )
    hub.start()
    try:
        point_hf_client_at(monkeypatch, hub.url)
        from huggingface_hub import HfFileSystem

        HfFileSystem.clear_instance_cache()
        source = SampleSource(kind="hub", location="hftui-test/two-configs")
        assert list_configs(source) == ["en", "fr"]
        with pytest.raises(SampleError) as caught:
            list(stream_sample(source, SampleOptions()))
        assert caught.value.kind == "needs_config"
        assert caught.value.choices == ("en", "fr")
        chosen = SampleSource(kind="hub", location="hftui-test/two-configs", config="fr")
        assert all_rows(chosen, SampleOptions()) == [{"t": "salut"}]
    finally:
        HfFileSystem.clear_instance_cache()
        hub.stop()


def test_offline_a_cached_hub_dataset_streams_from_its_snapshot(
    hub_endpoint: str, local_hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants, snapshot_download

    snapshot_download(TINY_DATASET, repo_type="dataset")
    local_hub.stop()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    train = all_rows(SampleSource(kind="hub", location=TINY_DATASET), SampleOptions())
    test = all_rows(SampleSource(kind="hub", location=TINY_DATASET, split="test"), SampleOptions())
    assert train[0] == {"text": "This is good.", "label": 0} and len(test) == 4
    assert train != test  # the split names in the file names still pick the split

    with pytest.raises(SampleError) as caught:
        list(stream_sample(SampleSource(kind="hub", location=CSV_DATASET), SampleOptions()))
    assert caught.value.kind == "network" and "not in the local cache" in caught.value.message
