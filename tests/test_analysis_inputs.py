"""Analysis inputs taken from a dataset sample: the modality of each cell, what is skipped, where each came from."""

from __future__ import annotations

from PIL import Image

from hftui.analyze.inputs import count_by_modality, inputs_from_sample, modality_of

FEATURES = {
    "text": {"_type": "Value", "dtype": "string"},
    "label": {"_type": "ClassLabel", "names": ["neg", "pos"]},
    "score": {"_type": "Value", "dtype": "float64"},
    "image": {"_type": "Image"},
    "audio": {"_type": "Audio", "sampling_rate": 16000},
}


def test_modality_by_feature_and_by_value() -> None:
    assert modality_of("good film", FEATURES["text"]) == "text"
    assert modality_of("   ", FEATURES["text"]) is None
    assert modality_of(1, FEATURES["label"]) is None
    assert modality_of(0.5, FEATURES["score"]) is None
    assert modality_of({"bytes": b"x", "path": None}, FEATURES["image"]) == "image"
    assert modality_of(None, FEATURES["image"]) is None
    assert modality_of({"array": [0.0], "sampling_rate": 16000}, FEATURES["audio"]) == "audio"
    # Without features (CSV, JSON), the value decides.
    assert modality_of("text") == "text"
    assert modality_of(Image.new("RGB", (2, 2))) == "image"
    assert modality_of({"array": [0.0], "sampling_rate": 8000}) == "audio"
    assert modality_of({"path": "clips/a.FLAC"}) == "audio"
    assert modality_of({"path": "cats/a.jpeg", "bytes": None}) == "image"
    assert modality_of({"a": 1}) is None
    assert modality_of(3) is None


def test_a_column_and_a_row() -> None:
    rows = [
        {"text": "great", "label": 1, "score": 0.9, "image": Image.new("L", (3, 3))},
        {"text": "", "label": 0, "score": 0.1, "image": None},
        {"text": "awful", "label": 0, "score": 0.2, "image": Image.new("RGB", (4, 4))},
    ]
    column = inputs_from_sample(rows, columns=["text"], features=FEATURES, source="imdb")
    assert [item.value for item in column.inputs] == ["great", "awful"]
    assert [item.origin for item in column.inputs] == ["imdb row 0 text", "imdb row 2 text"]
    assert column.skipped == 1

    row = inputs_from_sample(rows[2:], columns=list(rows[0]), features=FEATURES, source="imdb", row_numbers=[2])
    assert [item.modality for item in row.inputs] == ["text", "image"]
    assert row.skipped == 2  # the label and the score
    assert count_by_modality(row.inputs) == {"text": 1, "image": 1}
