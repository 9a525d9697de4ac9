"""Card drafting and checking: one failing card per rule, drafts that pass, and atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hftui.hub.cards.check import blocking, check_dataset_card, check_model_card
from hftui.hub.cards.draft import draft_dataset_card, draft_model_card, guess_pipeline_tag, save_card

GOOD_MODEL = """---
license: apache-2.0
pipeline_tag: text-classification
library_name: transformers
metrics: [accuracy]
---
# A model

Some words.

## Evaluation results

| metric | value |
"""


def fields(problems: tuple) -> list[tuple[str, str]]:
    return [(problem.field, problem.severity) for problem in problems]


def test_a_good_card_has_no_problems() -> None:
    assert check_model_card(GOOD_MODEL) == ()


@pytest.mark.parametrize(
    ("card", "field", "words"),
    [
        ("# No metadata at all\n", "card", "no YAML metadata"),
        ("---\nlicense: [mit\n---\n# Broken YAML\n", "card", "Hub would refuse"),
        ("---\nlicense: made-up-licence\n---\n# x\n", "license", "not one of the Hub's licence ids"),
        ("---\nlicense: other\nlicense_link: https://x.org/l\n---\n# x\n", "license_name", "license: other needs"),
        ("---\nlicense: other\nlicense_name: mine\n---\n# x\n", "license_link", "license: other needs"),
        ("---\nlicense: mit\npipeline_tag: sentiment\n---\n# x\n", "pipeline_tag", "not one of the Hub's tasks"),
        ("---\nlicense: mit\nmetrics: [accuracy]\n---\n# x\n\nno results here\n", "card", "no evaluation section"),
        ("---\nlicense: mit\nmodel-index: {name: x}\n---\n# x\n## Evaluation\n", "model-index", "model-index"),
    ],
)
def test_each_model_card_rule_has_a_failing_card(card: str, field: str, words: str) -> None:
    problems = blocking(check_model_card(card))
    assert any(p.field == field and words in p.message for p in problems), problems


def test_missing_licence_and_empty_body_are_warnings() -> None:
    problems = check_model_card("---\npipeline_tag: fill-mask\n---\n")
    assert fields(problems) == [("license", "warning"), ("card", "warning")]
    assert "all rights are reserved" in problems[0].message
    assert blocking(problems) == ()


@pytest.mark.parametrize(
    ("base", "chosen", "words"),
    [
        ("cc-by-nc-4.0", "apache-2.0", "non-commercial"),
        ("gpl-3.0", "mit", "same licence"),
        ("llama3.1", "apache-2.0", "community licence"),
        ("openrail", "mit", "use restrictions"),
        ("cc-by-nc-nd-4.0", "cc-by-nc-nd-4.0", "forbids sharing modified versions"),
    ],
)
def test_a_licence_the_base_model_does_not_allow_is_refused(base: str, chosen: str, words: str) -> None:
    card = GOOD_MODEL.replace("license: apache-2.0", f"license: {chosen}\nbase_model: org/base")
    problems = blocking(check_model_card(card, base_license=base))
    assert any(p.field == "license" and words in p.message for p in problems), problems


@pytest.mark.parametrize(("base", "chosen"), [("apache-2.0", "mit"), ("cc-by-nc-4.0", "cc-by-nc-4.0"), ("mit", "mit")])
def test_licences_the_base_allows_pass(base: str, chosen: str) -> None:
    card = GOOD_MODEL.replace("license: apache-2.0", f"license: {chosen}")
    assert check_model_card(card, base_license=base) == ()


def test_a_base_without_licence_is_a_warning() -> None:
    problems = check_model_card(GOOD_MODEL, base_license=[])
    assert fields(problems) == [("license", "warning")] and "all rights are reserved" in problems[0].message


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ("task_categories: [not-a-task]", "task_categories"),
        ("size_categories: [lots]", "size_categories"),
        ("configs: {config_name: x}", "configs"),
        ("configs:\n- data_files: train.csv", "configs"),
        ("configs:\n- config_name: default", "configs"),
        ("configs:\n- {config_name: a, data_files: a.csv}\n- {config_name: a, data_files: b.csv}", "configs"),
        ("license: nope", "license"),
    ],
)
def test_each_dataset_card_rule_has_a_failing_card(metadata: str, field: str) -> None:
    card = f"---\n{metadata}\n---\n# Data\n"
    assert field in [p.field for p in blocking(check_dataset_card(card))]


def test_a_good_dataset_card_passes() -> None:
    card = (
        "---\nlicense: cc-by-4.0\ntask_categories: [text-classification]\nsize_categories: [n<1K]\n"
        "configs:\n- config_name: default\n  data_files: [{split: train, path: train.csv}]\n---\n# Data\n"
    )
    assert check_dataset_card(card) == ()


def test_model_draft_is_prefilled_from_the_folder_and_passes(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    (tmp_path / "all_results.json").write_text(json.dumps({"eval_accuracy": 0.9, "eval_loss": 0.3, "epoch": 1}))
    draft = draft_model_card(tmp_path, base_license="apache-2.0")
    assert "pipeline_tag: text-classification" in draft and "license: apache-2.0" in draft
    assert "metrics:\n- accuracy" in draft and "| eval_accuracy | 0.9 |" in draft
    assert 'pipeline("text-classification"' in draft
    assert check_model_card(draft, base_license="apache-2.0") == ()


def test_adapter_folders_draft_as_peft_with_their_base(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "org/base", "task_type": "SEQ_CLS"})
    )
    draft = draft_model_card(tmp_path)
    assert "library_name: peft" in draft and "base_model: org/base" in draft
    assert "pipeline_tag: text-classification" in draft


def test_an_existing_readme_is_what_the_editor_opens(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\nmine\n")
    assert draft_model_card(tmp_path) == "---\nlicense: mit\n---\nmine\n"


def test_dataset_draft_lists_data_files_as_configs(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a\n1\n")
    (tmp_path / "test.csv").write_text("a\n2\n")
    draft = draft_dataset_card(tmp_path)
    assert "config_name: default" in draft and "split: test" in draft and "path: train.csv" in draft
    assert blocking(check_dataset_card(draft)) == ()


def test_guess_pipeline_tag() -> None:
    assert guess_pipeline_tag({"architectures": ["Wav2Vec2ForCTC"]}) == "automatic-speech-recognition"
    assert guess_pipeline_tag({"architectures": ["BertModel"]}) is None
    assert guess_pipeline_tag({}) is None


def test_save_card_is_atomic_and_keeps_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = save_card(tmp_path, "---\nlicense: mit\n---\nfirst\n")
    target.chmod(0o600)
    save_card(tmp_path, "second")
    assert target.read_text() == "second" and (target.stat().st_mode & 0o777) == 0o600

    import os

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_card(tmp_path, "third")
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary left behind


def test_a_card_with_an_impossible_date_is_broken_yaml_not_a_crash() -> None:
    # PyYAML builds `2023-13-45` as a date and fails with ValueError; the editor's form edits crashed on it.
    from hftui.hub.cards.edit import read_front_matter, set_metadata
    from hftui.hub.cards.text import parse_card

    text = "---\ndate: 2023-13-45\nlicense: mit\n---\n# Model\n"
    assert read_front_matter(text) is None
    assert set_metadata(text, "license", "apache-2.0") is None
    card = parse_card(text)
    assert card.metadata == {} and card.problem and "month must be in 1..12" in card.problem
