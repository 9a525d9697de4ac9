"""The generated model card: licence inheritance by the catalogue, metadata and sections that round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftui.hub.cards.derivatives import inherited_license
from hftui.hub.cards.text import parse_card
from hftui.train.card import build_model_card, hub_id_of
from hftui.train.spec import DatasetRef, Hyperparameters, LoraSettings, RunSpec

METRICS = {
    "accuracy": 0.75,
    "f1_macro": 0.7333,
    "loss": 0.52,
    "confusion_matrix": [[3, 1], [1, 3]],
    "count": 8,
    "labels": ["neg", "pos"],
}


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"license": "apache-2.0"}, "apache-2.0"),
        ({"license": "MIT"}, "mit"),
        ({"license": "cc-by-sa-4.0"}, "cc-by-sa-4.0"),  # share-alike: must carry on
        ({"license": "llama3"}, "llama3"),
        ({"license": "openrail"}, "openrail"),
        ({"license": "cc-by-nd-4.0"}, None),  # no derivatives
        ({"license": "other", "license_name": "acme"}, None),
        ({"license": "unknown"}, None),
        ({"license": "my-own-licence"}, None),
        ({}, None),
    ],
)
def test_inherited_license(metadata: dict[str, str], expected: str | None) -> None:
    choice = inherited_license(metadata)
    assert choice.license_id == expected
    assert choice.note


def test_restrictions_are_said_to_carry_over() -> None:
    assert "restrictions apply to this model too" in inherited_license({"license": "openrail"}).note
    assert "must not be published" in inherited_license({"license": "cc-by-nd-4.0"}).note


def test_hub_id_of_local_folders_ids_and_cache_snapshots(tmp_path: Path) -> None:
    assert hub_id_of("org/model") == "org/model"
    assert hub_id_of(str(tmp_path)) is None
    assert hub_id_of(str(tmp_path), "org/explicit") == "org/explicit"
    snapshot = tmp_path / "models--org--name" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    assert hub_id_of(str(snapshot)) == "org/name"


def _card(**changes: object) -> str:
    spec = RunSpec(
        "org/base",
        DatasetRef("org/reviews", kind="hub", eval_split="test"),
        hyperparameters=Hyperparameters(max_steps=20, learning_rate=2e-5),
        lora=LoraSettings(r=4, alpha=8, target_modules=("query", "value")),
    )
    facts: dict[str, object] = {
        "run_id": "20250101-000000-base-abcd",
        "labels": ["neg", "pos"],
        "metrics": METRICS,
        "base_metadata": {"license": "apache-2.0"},
        "train_rows": 56,
        "eval_rows": 8,
        "trainable_params": 2_000,
        "total_params": 50_000,
        "adapter": True,
    }
    facts.update(changes)
    return build_model_card(spec, **facts)  # type: ignore[arg-type]


def test_card_metadata_round_trips_through_huggingface_hub_and_hftui(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    text = _card()
    (tmp_path / "README.md").write_text(text)
    card = ModelCard.load(tmp_path / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == "org/base" and data["datasets"] == ["org/reviews"]
    assert data["license"] == "apache-2.0" and data["pipeline_tag"] == "text-classification"
    assert data["library_name"] == "peft" and {"lora", "peft", "hftui"} <= set(data["tags"])
    results = {r.metric_type: r for r in card.data.eval_results}
    assert results["accuracy"].metric_value == 0.75 and results["f1"].metric_value == 0.7333
    assert results["accuracy"].dataset_type == "org/reviews" and results["accuracy"].dataset_split == "test"
    parsed = parse_card(text)
    assert parsed.problem is None and parsed.metadata["base_model"] == "org/base"
    assert parsed.metadata["model-index"][0]["results"][0]["metrics"]


def test_card_body_has_the_checklist_sections() -> None:
    body = parse_card(_card()).body
    for heading in ("## Intended use", "## Training data", "## Training procedure", "## Evaluation results"):
        assert heading in body
    assert "- learning rate: 2e-05" in body and "- LoRA rank r: 4" in body and "`query`, `value`" in body
    assert "| neg | 3 | 1 |" in body and "| macro F1 | 0.7333 |" in body
    assert "2,000 of 50,000 parameters were trained (4.00%)" in body
    assert "AutoPeftModelForSequenceClassification" in body


def test_a_base_without_licence_and_a_run_without_evaluation() -> None:
    text = _card(metrics=None, base_metadata={}, adapter=False)
    parsed = parse_card(text)
    assert "license" not in parsed.metadata and "model-index" not in parsed.metadata
    assert "declares no licence" in parsed.body and "No evaluation was run" in parsed.body
