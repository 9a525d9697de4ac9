"""RunSpec as JSON (strict about typos), validation before launch, and LoRA target suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hftui.train.lora import module_leaf_names, suggest_target_modules, unmatched_targets
from hftui.train.spec import (
    DatasetRef,
    Hyperparameters,
    LoraSettings,
    RunSpec,
    SpecError,
    load_spec,
    resolve_paths,
    save_spec,
    spec_from_dict,
    spec_to_dict,
)
from hftui.train.validate import errors_of, validate
from tests.test_train_support import review_rows, reviews, small_spec, tiny_bert, write_csv

__all__ = ["reviews", "tiny_bert"]


def test_spec_round_trips_through_spec_json(tmp_path: Path) -> None:
    spec = RunSpec(
        "org/model",
        DatasetRef("imdb", kind="hub", eval_split="test"),
        hyperparameters=Hyperparameters(max_steps=10, precision="bf16"),
        lora=LoraSettings(target_modules=("query", "value")),
    )
    save_spec(spec, tmp_path)
    assert load_spec(tmp_path) == spec
    assert json.loads((tmp_path / "spec.json").read_text())["lora"]["target_modules"] == ["query", "value"]
    assert spec_from_dict(spec_to_dict(spec)) == spec


def test_relative_paths_are_made_absolute_against_a_base(tmp_path: Path) -> None:
    (tmp_path / "models" / "mine").mkdir(parents=True)
    spec = RunSpec("models/mine", DatasetRef("data/train.csv", eval_location="data/eval.csv"))
    resolved = resolve_paths(spec, tmp_path)
    assert resolved.base_model == str(tmp_path / "models" / "mine")
    assert resolved.dataset.location == str(tmp_path / "data" / "train.csv")
    assert resolved.dataset.eval_location == str(tmp_path / "data" / "eval.csv")
    hub = RunSpec("org/model", DatasetRef("imdb", kind="hub"))
    assert resolve_paths(hub, tmp_path) == hub  # Hub ids stay ids


def test_a_minimal_spec_takes_the_defaults() -> None:
    spec = spec_from_dict({"base_model": "m", "dataset": {"location": "d.csv"}})
    assert spec.task == "sequence-classification" and spec.lora is None
    assert spec.hyperparameters == Hyperparameters()


def test_spec_errors_name_every_bad_field() -> None:
    with pytest.raises(SpecError) as caught:
        spec_from_dict(
            {
                "base_model": 3,
                "dataset": {"location": "d.csv", "lable_column": "y"},
                "hyperparameters": {"learning_rate": "fast", "max_steps": 1.5, "eval_strategy": "often"},
                "lora": {"target_modules": "query"},
                "colour": "red",
            }
        )
    problems = caught.value.problems
    assert any(p.startswith("base_model: expected a string") for p in problems)
    assert any(p.startswith("dataset.lable_column: unknown field") for p in problems)
    assert any(p.startswith("hyperparameters.learning_rate: expected a number") for p in problems)
    assert any(p.startswith("hyperparameters.max_steps: expected a whole number") for p in problems)
    assert any(p.startswith("hyperparameters.eval_strategy: 'often' is not one of") for p in problems)
    assert any(p.startswith("lora.target_modules: expected a list of strings") for p in problems)
    assert any(p.startswith("colour: unknown field") for p in problems)
    with pytest.raises(SpecError, match="dataset: required"):
        spec_from_dict({"base_model": "m"})


def test_load_spec_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid JSON"):
        (tmp_path / "s.json").write_text("{")
        load_spec(tmp_path / "s.json")
    with pytest.raises(SpecError):
        load_spec(tmp_path / "missing.json")


def test_value_checks_need_no_sources(tmp_path: Path) -> None:
    spec = RunSpec(
        "./no/such/folder",
        DatasetRef(str(tmp_path / "missing.csv"), eval_fraction=0.0),
        hyperparameters=Hyperparameters(learning_rate=0, batch_size=0, max_steps=0, eval_strategy="steps"),
        lora=LoraSettings(r=0, dropout=1.5, target_modules=()),
    )
    fields = {p.field for p in validate(spec, check_sources=False)}
    assert {
        "base_model",
        "dataset.location",
        "hyperparameters.learning_rate",
        "hyperparameters.batch_size",
        "hyperparameters.max_steps",
        "hyperparameters.eval_strategy",
        "lora.r",
        "lora.dropout",
        "lora.target_modules",
    } <= fields


def test_fp16_without_a_gpu_is_a_warning_not_an_error(tiny_bert: Path, reviews: Path) -> None:
    spec = small_spec(tiny_bert, reviews, precision="fp16")
    problems = validate(spec)
    from hftui.device import detect_device

    if detect_device().kind != "cuda":
        assert [p.field for p in problems] == ["hyperparameters.precision"]
        assert problems[0].severity == "warning" and not errors_of(problems)


def test_a_good_spec_has_no_problems(tiny_bert: Path, reviews: Path) -> None:
    assert validate(small_spec(tiny_bert, reviews, lora=True)) == []


def test_missing_columns_are_named_with_the_columns_there_are(tiny_bert: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "other.csv", [{"sentence": r["text"], "y": r["label"]} for r in review_rows(8)])
    problems = validate(small_spec(tiny_bert, data))
    messages = {p.field: p.message for p in problems}
    assert "no text column `text`" in messages["dataset.text_column"]
    assert "no label column `label`" in messages["dataset.label_column"]
    assert "its columns are sentence, y" in messages["dataset.label_column"]


def test_a_base_model_without_a_classification_head_is_explained(reviews: Path, tmp_path: Path) -> None:
    from transformers import ViTConfig

    folder = tmp_path / "vit"
    ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64).save_pretrained(folder)
    (problem,) = errors_of(validate(small_spec(folder, reviews)))
    assert problem.field == "base_model"
    assert "`vit` model" in problem.message and "no sequence-classification head" in problem.message


def test_lora_targets_matching_nothing_list_the_module_names(tiny_bert: Path, reviews: Path) -> None:
    spec = small_spec(tiny_bert, reviews).replace(lora=LoraSettings(target_modules=("q_proj", "value")))
    (problem,) = validate(spec)
    assert problem.field == "lora.target_modules"
    assert problem.message.startswith("q_proj match no module")
    assert "query, key, value, dense" in problem.message


def test_suggested_targets_follow_the_architecture(tiny_bert: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert)
    assert suggest_target_modules(model) == ("query", "value")
    assert suggest_target_modules(["q_proj", "k_proj", "v_proj", "o_proj", "score"]) == ("q_proj", "v_proj")
    assert suggest_target_modules(["c_attn", "c_proj", "c_fc"]) == ("c_attn",)
    assert suggest_target_modules(["fc1", "fc2", "classifier"]) == ("fc1", "fc2")


def test_module_names_and_unmatched_targets() -> None:
    named = [
        ("", "Model"),
        ("encoder.layer.0.attention", "BertAttention"),
        ("encoder.layer.0.attention.query", "Linear"),
        ("encoder.layer.0.norm", "LayerNorm"),
    ]
    assert module_leaf_names(named) == ["query"]
    assert unmatched_targets(["query", "attention", "nope"], ["query"], [name for name, _ in named]) == ["nope"]


def test_the_example_spec_of_hftui_train_is_a_valid_spec() -> None:
    from hftui.commands.train import EXAMPLE_SPEC

    spec = spec_from_dict(EXAMPLE_SPEC)
    assert spec.lora is not None and spec.lora.target_modules is None
    assert not errors_of([p for p in validate(spec, check_sources=False) if p.field != "dataset.location"])


def test_a_spec_that_is_not_utf8_is_a_spec_error_naming_the_byte(tmp_path: Path) -> None:
    # The app's resume path calls load_spec directly: a raw UnicodeDecodeError used to escape it.
    from hftui.train.spec import SpecError, load_spec

    (tmp_path / "spec.json").write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(SpecError) as raised:
        load_spec(tmp_path)
    assert str(raised.value) == "spec.json is not UTF-8 text: byte 0xe9 at offset 13"
