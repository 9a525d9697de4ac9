"""Dataset card facts: real 2022 cards with their dataset_infos.json, today's dataset_info format, broken cards."""

from __future__ import annotations

from pathlib import Path

from hftui.hub.cards.dataset import SplitInfo, dataset_card_facts, read_dataset_infos
from hftui.hub.cards.text import parse_card, read_card


def _facts(realworld: Path, name: str):
    card = read_card(realworld / "dataset_cards" / f"{name}.md")
    return dataset_card_facts(card, read_dataset_infos(realworld / "dataset_infos" / f"{name}.json"))


def test_every_real_card_parses_with_its_infos(realworld: Path) -> None:
    cards = sorted((realworld / "dataset_cards").glob("*.md"))
    assert len(cards) > 50
    with_splits = 0
    for path in cards:
        infos = read_dataset_infos(realworld / "dataset_infos" / f"{path.stem}.json")
        facts = dataset_card_facts(read_card(path), infos)
        assert facts.license.license_id
        if infos and any(isinstance(info, dict) and info.get("splits") for info in infos.values()):
            counts = [split.num_examples for config in facts.configs for split in config.splits]
            assert counts and all(isinstance(count, int) for count in counts), path.stem
            with_splits += 1
    assert with_splits > 40


def test_real_split_counts(realworld: Path) -> None:
    imdb = _facts(realworld, "imdb")
    config = next(config for config in imdb.configs if config.name == "plain_text")
    assert SplitInfo("train", 25000, 33432835) in config.splits
    assert config.features is not None and config.features["label"]["_type"] == "ClassLabel"
    glue = _facts(realworld, "glue")
    cola = next(config for config in glue.configs if config.name == "cola")
    assert {split.name: split.num_examples for split in cola.splits}["train"] == 8551
    assert len(glue.configs) >= 12


def test_legacy_plural_keys(realworld: Path) -> None:
    facts = _facts(realworld, "imdb")
    assert facts.languages == ("en",)
    assert facts.license.license_id == "other"
    assert facts.pretty_name == "IMDB"
    assert facts.task_categories == ("text-classification",)
    assert facts.size_categories == ("10K<n<100K",)
    assert facts.source_datasets == ("original",)


def test_card_fixtures(realworld: Path) -> None:
    for path in sorted((realworld / "card_fixtures").glob("sample_datasetcard_*.md")):
        facts = dataset_card_facts(read_card(path))
        assert facts.configs == ()
    simple = dataset_card_facts(read_card(realworld / "card_fixtures" / "sample_datasetcard_simple.md"))
    assert simple.license.license_id == "bsd-3-clause"
    assert simple.pretty_name == "Sample Segmentation"
    assert simple.task_ids == ("semantic-segmentation",)


CURRENT = """---
license: mit
language: [en, fr]
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: [data/test-*.parquet]
- config_name: extra
  data_files: extra/*.csv
dataset_info:
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': neg
          '1': pos
  splits:
  - name: train
    num_bytes: 1000
    num_examples: 10
  - name: test
    num_examples: 4
---
# Card
"""


def test_current_format() -> None:
    facts = dataset_card_facts(parse_card(CURRENT))
    default, extra = facts.configs
    assert default.data_files == ("data/train-*", "data/test-*.parquet")
    assert default.splits == (SplitInfo("train", 10, 1000), SplitInfo("test", 4, None))
    assert default.features is not None and default.features["label"]["names"] == ["neg", "pos"]
    assert extra.data_files == ("extra/*.csv",)
    assert facts.languages == ("en", "fr")
    assert facts.problems == ()


def test_dataset_info_list_and_per_config_mappings() -> None:
    card = parse_card(
        """---
size_categories:
  en: [10K<n<100K]
  de: [1K<n<10K]
dataset_info:
- config_name: a
  splits: [{name: train, num_examples: 3}]
- config_name: b
  features: 12
  splits: nonsense
configs: 7
---
"""
    )
    facts = dataset_card_facts(card)
    assert [config.name for config in facts.configs] == ["a", "b"]
    assert facts.configs[0].splits == (SplitInfo("train", 3, None),)
    assert facts.size_categories == ("10K<n<100K", "1K<n<10K")
    assert any("configs" in problem for problem in facts.problems)
    assert any("features of configuration b" in problem for problem in facts.problems)


def test_broken_inputs_never_raise(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert read_dataset_infos(broken) is None
    assert read_dataset_infos(tmp_path / "missing.json") is None
    facts = dataset_card_facts(parse_card("no metadata"), {"x": "nope", "y": {"splits": {"t": {"num_examples": True}}}})
    assert [config.name for config in facts.configs] == ["y"]
    assert facts.configs[0].splits == (SplitInfo("t", None, None),)
