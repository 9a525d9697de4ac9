"""Model card facts: real cards read whole, broken ones report problems, odd metadata never raises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hftui.hub.cards.licenses import LICENSES
from hftui.hub.cards.model import EvalResult, ModelCardFacts, card_facts
from hftui.hub.cards.text import CardText, parse_card, read_card


def facts_of(metadata: dict[Any, Any]) -> ModelCardFacts:
    return card_facts(CardText(metadata, "body"))


def assert_well_typed(facts: ModelCardFacts) -> None:
    """Every field has the type the UI relies on, whatever the card held."""
    for names in (facts.languages, facts.datasets, facts.base_models, facts.tags, facts.metrics):
        assert isinstance(names, tuple) and all(isinstance(name, str) and name.strip() for name in names)
    for text in (
        facts.base_model_relation,
        facts.pipeline_tag,
        facts.library_name,
        facts.co2,
        facts.model_name,
    ):
        assert text is None or isinstance(text, str)
    assert all(isinstance(result, EvalResult) for result in facts.eval_results)
    for result in facts.eval_results:
        for text in (result.task, result.dataset, result.dataset_config, result.split, result.metric):
            assert text is None or isinstance(text, str)
        assert result.verified is None or isinstance(result.verified, bool)
    assert all(isinstance(problem, str) and problem for problem in facts.problems)
    assert not any("could not be read: " in p and p.endswith("Error.") for p in facts.problems), facts.problems


def real_cards(realworld: Path, *folders: str) -> list[Path]:
    cards = sorted(path for folder in folders for path in (realworld / folder).glob("*.md"))
    assert cards, f"no cards in {folders}"
    return cards


# --- real cards ---------------------------------------------------------------------------------------


def test_every_real_card_reads_without_raising(realworld: Path) -> None:
    unknown_ids: dict[str, str] = {}
    for path in real_cards(realworld, "model_cards", "card_fixtures"):
        facts = card_facts(read_card(path))
        assert_well_typed(facts)
        if facts.license.family == "unknown" and facts.license.license_id not in LICENSES:
            unknown_ids[path.name] = facts.license.license_id
    # No model card or fixture names a licence outside the Hub's list; a new one would show here.
    assert unknown_ids == {}


def test_legacy_dataset_cards_read_their_plural_keys(realworld: Path) -> None:
    unknown_ids = set()
    for path in real_cards(realworld, "dataset_cards"):
        card = read_card(path)
        facts = card_facts(card)
        assert_well_typed(facts)
        assert facts.problems == ()
        if card.metadata.get("languages"):
            assert facts.languages, path.name
        if card.metadata.get("licenses"):
            assert facts.license.license_id == str(card.metadata["licenses"][0]).lower(), path.name
        if facts.license.family == "unknown" and facts.license.license_id not in LICENSES:
            unknown_ids.add(facts.license.license_id)
    # The 2022 dataset cards use identifiers the Hub list never had; they must show as unknown, not vanish.
    assert unknown_ids == {
        "odc-by-1.0",
        "other-amazon-license",
        "other-several-licenses",
        "other-yelp-licence",
    }


def test_quoted_no_is_norwegian_in_dataset_cards(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "dataset_cards" / "opus100.md"))
    assert "no" in facts.languages and len(facts.languages) > 50


def test_second_licence_of_a_real_card_is_named(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "dataset_cards" / "wikitext.md"))
    assert facts.license.license_id == "cc-by-sa-3.0"
    assert "gfdl-1.3-or-later" in facts.license.summary


def test_cards_with_model_index_give_their_results(realworld: Path) -> None:
    with_index = [
        path
        for path in real_cards(realworld, "model_cards", "card_fixtures")
        if "model-index" in read_card(path).metadata
    ]
    assert len(with_index) >= 2
    for path in with_index:
        text = path.read_text(encoding="utf-8")
        facts = card_facts(read_card(path))
        assert facts.eval_results, path.name
        assert facts.model_name and f"name: {facts.model_name}" in text
        for result in facts.eval_results:
            assert f"value: {result.value}" in text, (path.name, result)


def test_simple_model_index_values(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "card_fixtures" / "sample_simple_model_index.md"))
    assert facts.problems == ()
    assert facts.model_name == "my-cool-model"
    assert facts.eval_results == (
        EvalResult("image-classification", "Beans", None, None, "accuracy", 0.9, None),
        EvalResult("image-classification", "Beans", "default", "test", "f1", 0.66, None),
    )
    assert (facts.license.license_id, facts.library_name, facts.metrics) == ("mit", "timm", ("accuracy",))


def test_invalid_model_index_is_a_problem_not_a_crash(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "card_fixtures" / "sample_invalid_model_index.md"))
    assert len(facts.problems) == 1
    assert "model-index" in facts.problems[0] and "'dataset'" in facts.problems[0]
    # What is there is still shown, with the missing dataset left empty.
    assert facts.eval_results == (EvalResult("image-classification", None, None, None, "acc", 0.9, None),)
    assert facts.model_name == "my-cool-model"
    assert facts.license.license_id == "mit" and facts.datasets == ("beans",)


def test_invalid_card_data_is_a_problem_not_a_crash(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "card_fixtures" / "sample_invalid_card_data.md"))
    assert facts.problems and "should be a dict" in facts.problems[0]
    assert facts.license.family == "none" and facts.eval_results == ()


def test_all_minilm_card(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "model_cards" / "sentence-transformers__all-MiniLM-L6-v2.md"))
    assert facts.problems == ()
    assert facts.license.license_id == "apache-2.0" and facts.license.family == "permissive"
    assert facts.pipeline_tag == "sentence-similarity"
    assert facts.library_name == "sentence-transformers"
    assert facts.languages == ("en",)
    assert len(facts.datasets) == 21 and facts.datasets[0] == "s2orc" and "ms_marco" in facts.datasets
    assert "sentence-similarity" in facts.tags


def test_windows_line_breaks_card(realworld: Path) -> None:
    facts = card_facts(read_card(realworld / "card_fixtures" / "sample_windows_line_breaks.md"))
    assert (facts.license.license_id, facts.languages, facts.problems) == ("mit", ("eo",), ())


# --- odd metadata ---------------------------------------------------------------------------------------


def test_empty_card_has_no_facts_and_no_problems() -> None:
    facts = facts_of({})
    assert facts.license.family == "none"
    assert (facts.languages, facts.eval_results, facts.co2, facts.problems) == ((), (), None, ())


def test_card_problem_is_passed_on() -> None:
    card = parse_card("---\nlicense: [mit\n---\nbody\n")
    facts = card_facts(card)
    assert card.problem and facts.problems == (card.problem,)


def test_single_strings_and_numbers_where_lists_and_text_belong() -> None:
    facts = facts_of(
        {
            "language": "fr",
            "datasets": "squad",
            "base_model": "org/base",
            "base_model_relation": "adapter",
            "tags": ["a", 7, "a", 1.5],
            "pipeline_tag": 123,
            "library_name": ["transformers", "peft"],
            "metrics": "accuracy",
        }
    )
    assert facts.languages == ("fr",) and facts.datasets == ("squad",)
    assert facts.base_models == ("org/base",) and facts.base_model_relation == "adapter"
    assert facts.tags == ("a", "7", "1.5")
    assert facts.pipeline_tag == "123"
    assert facts.library_name == "transformers"
    assert facts.metrics == ("accuracy",)
    assert facts.problems == ("library_name should be a single name, but it lists 2; the first is shown.",)


def test_language_shapes() -> None:
    assert facts_of({"languages": ["en", "de"]}).languages == ("en", "de")
    assert facts_of({"language": ["en"], "languages": ["en", "fr"]}).languages == ("en", "fr")
    # Old dataset cards: languages per configuration, as a mapping or a list of mappings.
    assert facts_of({"languages": {"cfg_a": ["en"], "cfg_b": ["fr", "en"]}}).languages == ("en", "fr")
    assert facts_of({"language": [{"cfg": ["de", "it"]}, "es"]}).languages == ("de", "it", "es")
    # YAML 1.1 reads an unquoted `no` (Norwegian) as false.
    assert facts_of({"language": ["en", False]}).languages == ("en", "no")
    odd = facts_of({"language": ["en", True, None, ["xx", ["yy"]]]})
    assert odd.languages == ("en", "xx", "yy")
    assert odd.problems == ("Some entries of language are not names (true/false), so they are not shown.",)


def test_wrong_types_become_problems() -> None:
    facts = facts_of(
        {
            "datasets": {"name": "squad"},
            "tags": ["ok", {"nested": 1}, ["fine"]],
            "pipeline_tag": {"task": "x"},
            "library_name": [],
            "base_model": True,
            "model_name": ["m"],
        }
    )
    assert facts.datasets == () and facts.tags == ("ok", "fine")
    assert facts.pipeline_tag is None and facts.library_name is None and facts.base_models == ()
    assert facts.model_name == "m"
    assert facts.problems == (
        "datasets should be a list of names, but it is a mapping, so it is not shown.",
        "Some entries of base_model are not names (true/false), so they are not shown.",
        "pipeline_tag should be a name, but it is a mapping, so it is not shown.",
        "library_name should be a single name, but it is a list with nothing readable in it.",
        "Some entries of tags are not names (a mapping), so they are not shown.",
    )


def test_licence_shapes() -> None:
    assert facts_of({"licenses": ["CC-BY-4.0"]}).license.license_id == "cc-by-4.0"
    assert facts_of({"license": "mit", "licenses": ["gpl-3.0"]}).license.license_id == "mit"
    assert facts_of({"license": None, "licenses": "gpl-3.0"}).license.license_id == "gpl-3.0"
    other = facts_of({"license": "other", "license_name": "acme", "license_link": "LICENSE.md"}).license
    assert (other.name, other.link, other.family) == ("acme", "LICENSE.md", "custom")
    several = facts_of({"license": ["apache-2.0", "mit"]}).license
    assert several.license_id == "apache-2.0" and "also names mit" in several.summary

    unreadable = facts_of({"license": {"id": "mit"}})
    assert unreadable.license.family == "unknown" and unreadable.license.license_id not in LICENSES
    assert "could not be read" in unreadable.license.summary
    assert unreadable.problems == ("license should be a list of names, but it is a mapping, so it is not shown.",)


def test_co2_shapes() -> None:
    assert facts_of({"co2_eq_emissions": 149.2}).co2 == "149.2 g CO2eq"
    assert facts_of({"co2_eq_emissions": "about 3 kg"}).co2 == "about 3 kg"
    detailed = facts_of(
        {
            "co2_eq_emissions": {
                "emissions": 10,
                "source": "CodeCarbon",
                "training_type": "fine-tuning",
                "geographical_location": "Frankfurt",
                "hardware_used": "8 x A100",
            }
        }
    )
    assert detailed.co2 == (
        "10 g CO2eq (source: CodeCarbon; training: fine-tuning; location: Frankfurt; hardware: 8 x A100)"
    )
    assert facts_of({"co2_eq_emissions": {"source": "x"}}).co2 == "amount not given (source: x)"
    empty = facts_of({"co2_eq_emissions": {"other": [1]}})
    assert empty.co2 is None and "co2_eq_emissions" in empty.problems[0]
    listed = facts_of({"co2_eq_emissions": [1, 2]})
    assert listed.co2 is None and "but it is a list" in listed.problems[0]


_RESULT = {
    "task": {"type": "text-classification", "name": "Text Classification"},
    "dataset": {"type": "glue", "name": "GLUE SST-2", "config": "sst2", "split": "validation"},
    "metrics": [{"type": "accuracy", "value": 0.93, "verified": True}, {"type": "f1", "value": "91.2 ± 0.3"}],
}


def test_model_index_results_keep_the_cards_names_and_values() -> None:
    facts = facts_of({"model-index": [{"name": "my-model", "results": [_RESULT]}]})
    assert facts.problems == () and facts.model_name == "my-model"
    assert facts.eval_results == (
        EvalResult("Text Classification", "GLUE SST-2", "sst2", "validation", "accuracy", 0.93, True),
        EvalResult("Text Classification", "GLUE SST-2", "sst2", "validation", "f1", "91.2 ± 0.3", None),
    )


@pytest.mark.parametrize(
    ("model_index", "results", "problem"),
    [
        ("a string", 0, "should be a list of models with results, but it is text"),
        ([], 0, "should be a list of models with results, but it is a list"),
        ({"name": "m", "results": [_RESULT]}, 2, "single mapping"),
        ([{"name": "m"}], 0, "no 'results' field; no result could be read"),
        (
            [{"name": "m", "results": [{**_RESULT, "source": {"name": "leaderboard"}}]}],
            2,
            "must also be provided; 2",
        ),
        (
            [{"name": "m", "results": [{"task": "x", "dataset": {}, "metrics": [{"value": 1}]}]}],
            1,
            "wrong type",
        ),
        ([{"name": "m", "results": [{**_RESULT, "metrics": [{"type": "acc"}, "junk"]}]}], 0, "'value'"),
        (["junk", {"results": "junk"}], 0, "model-index"),
    ],
)
def test_broken_model_index_is_salvaged_with_a_problem(model_index: object, results: int, problem: str) -> None:
    facts = facts_of({"model-index": model_index, "license": "mit"})
    assert len(facts.eval_results) == results
    assert any(problem in text for text in facts.problems), facts.problems
    assert facts.license.license_id == "mit"
    assert_well_typed(facts)


def test_untrusted_text_is_kept_as_given() -> None:
    markup = "[bold red]boom[/]\x1b[31m"
    facts = facts_of({"tags": [markup], "pipeline_tag": markup, "license": markup})
    assert facts.tags == (markup,) and facts.pipeline_tag == markup
    assert markup in facts.license.summary


def test_yaml_oddities_never_raise() -> None:
    recursive = parse_card("---\nlanguage: &loop [en, *loop]\ntags: &t\n  a: *t\n---\nbody\n")
    facts = card_facts(recursive)
    assert facts.languages == ("en",)
    assert_well_typed(facts)

    odd_values: list[object] = [
        None,
        True,
        0,
        -1.5,
        "",
        "  ",
        [],
        {},
        [[[[[["deep"]]]]]],
        {1: 2},
        dt.date(2024, 1, 2),
    ]
    keys = [
        "language",
        "languages",
        "license",
        "licenses",
        "license_name",
        "license_link",
        "datasets",
        "base_model",
        "base_model_relation",
        "pipeline_tag",
        "library_name",
        "tags",
        "metrics",
        "co2_eq_emissions",
        "model-index",
        "model_name",
    ]
    for key in keys:
        for value in odd_values:
            assert_well_typed(facts_of({key: value, 3: "non-string key"}))
    assert facts_of({"pipeline_tag": dt.date(2024, 1, 2)}).pipeline_tag == "2024-01-02"
    assert card_facts(CardText(["not", "a", "mapping"], "body")).problems  # type: ignore[arg-type]


def test_front_matter_pattern_is_huggingface_hubs() -> None:
    # cards.py spells the pattern out to keep huggingface_hub.repocard (and its HTTP client) off start-up.
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    from hftui.hub.cards.text import FRONT_MATTER_BLOCK

    assert FRONT_MATTER_BLOCK.pattern == REGEX_YAML_BLOCK.pattern
    assert FRONT_MATTER_BLOCK.flags == REGEX_YAML_BLOCK.flags
