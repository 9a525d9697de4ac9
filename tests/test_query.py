"""ModelQuery as a value: changing, describing, Hub arguments, JSON round trips; parameter counts."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from huggingface_hub import HfApi

from hftui.hub.catalog.query import SORTS, ModelQuery, format_parameter_count, parse_parameter_count
from hftui.localhub import LocalHub
from tests.hubfixtures import SMALL_GPT, TINY_MODEL

FULL = ModelQuery(
    text="bert",
    task="text-classification",
    library="transformers",
    language="en",
    license="mit",
    author="google",
    provider="together",
    sort="likes",
    max_parameters=7_000_000_000,
    gated=False,
    cached_only=True,
)


def test_defaults_and_sorts() -> None:
    query = ModelQuery()
    assert query.sort == "trending" and query.is_default
    assert list(SORTS) == ["trending", "likes", "downloads", "updated", "created"]
    assert all(isinstance(label, str) and label for label in SORTS.values())


def test_replace_returns_a_new_value_and_validates() -> None:
    query = ModelQuery(text="bert")
    narrowed = query.replace(task="fill-mask", sort="downloads")
    assert query == ModelQuery(text="bert")  # unchanged
    assert (narrowed.text, narrowed.task, narrowed.sort) == ("bert", "fill-mask", "downloads")
    assert narrowed.replace(task=None) == ModelQuery(text="bert", sort="downloads")
    with pytest.raises(ValueError):
        query.replace(sort="stars")
    with pytest.raises(ValueError):
        query.replace(max_parameters=-1)
    with pytest.raises(AttributeError):
        query.text = "x"  # type: ignore[misc]


def test_blank_picker_values_mean_any() -> None:
    assert ModelQuery(task="", license="  ", author=" google ") == ModelQuery(author="google")
    assert hash(ModelQuery(task="")) == hash(ModelQuery())


def test_describe() -> None:
    query = ModelQuery(text="bert", task="text-classification", license="mit", sort="likes")
    assert query.describe() == 'text "bert" · task=text-classification · license=mit · sort=likes'
    assert ModelQuery().describe() == "sort=trending"
    assert FULL.describe() == (
        'text "bert" · task=text-classification · library=transformers · language=en · license=mit'
        " · author=google · provider=together · params≤7B · not gated · cached only · sort=likes"
    )
    assert ModelQuery(text='say "hi"', gated=True).describe() == 'text "say \\"hi\\"" · gated · sort=trending'


def test_to_hub_kwargs() -> None:
    assert ModelQuery().to_hub_kwargs() == {"sort": "trending_score"}
    assert FULL.to_hub_kwargs() == {
        "sort": "likes",
        "search": "bert",
        "author": "google",
        "pipeline_tag": "text-classification",
        "inference_provider": "together",
        "filter": ["transformers", "en", "license:mit"],
        "gated": False,
        "num_parameters": "max:7B",
    }
    hub_sorts = {sort: ModelQuery(sort=sort).to_hub_kwargs()["sort"] for sort in SORTS}
    assert hub_sorts == {
        "trending": "trending_score",
        "likes": "likes",
        "downloads": "downloads",
        "updated": "last_modified",
        "created": "created_at",
    }
    assert ModelQuery(max_parameters=1_500_000_000).to_hub_kwargs()["num_parameters"] == "max:1500M"
    # Every key is a real list_models parameter.
    signature = inspect.signature(HfApi.list_models)
    signature.bind(HfApi(), **FULL.to_hub_kwargs())


def test_hub_kwargs_work_against_the_local_hub(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    found = [info.id for info in api.list_models(**ModelQuery(task="fill-mask").to_hub_kwargs())]
    assert found == [TINY_MODEL]
    by_licence = ModelQuery(license="mit", sort="downloads").to_hub_kwargs()
    assert [info.id for info in api.list_models(**by_licence)] == [SMALL_GPT]
    assert [info.id for info in api.list_models(**ModelQuery(text="tiny").to_hub_kwargs())] == [TINY_MODEL]
    served = ModelQuery(provider=" together ").to_hub_kwargs()
    assert served["inference_provider"] == "together"
    assert [info.id for info in api.list_models(**served)] == [SMALL_GPT]


def test_provider_is_a_facet_of_models_only() -> None:
    assert ("provider", "Inference provider") in ModelQuery.facets()
    assert ModelQuery.facets()[-1][0] == "provider"  # the picker's other facets keep their places
    assert ModelQuery(provider="").is_default
    assert ModelQuery.from_dict({"provider": "hf-inference"}) == ModelQuery(provider="hf-inference")


def test_dict_round_trip_through_json() -> None:
    assert ModelQuery().to_dict() == {}
    for query in (ModelQuery(), FULL, ModelQuery(text="x", gated=True), ModelQuery(sort="created")):
        assert ModelQuery.from_dict(json.loads(json.dumps(query.to_dict()))) == query
    assert ModelQuery(text="bert", sort="likes").to_dict() == {"text": "bert", "sort": "likes"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, ModelQuery()),
        ([1, 2], ModelQuery()),
        ({"text": "bert", "unknown": 1, "colour": "red"}, ModelQuery(text="bert")),
        ({"sort": "stars"}, ModelQuery()),
        ({"sort": 3, "task": 5, "text": None}, ModelQuery()),
        ({"task": "  "}, ModelQuery()),
        ({"max_parameters": "7B"}, ModelQuery(max_parameters=7_000_000_000)),
        ({"max_parameters": -5}, ModelQuery()),
        ({"max_parameters": True}, ModelQuery()),
        ({"max_parameters": "lots"}, ModelQuery()),
        ({"max_parameters": 1e9}, ModelQuery(max_parameters=1_000_000_000)),
        ({"gated": "yes", "cached_only": 1}, ModelQuery()),
        ({"gated": False, "cached_only": True}, ModelQuery(gated=False, cached_only=True)),
    ],
)
def test_from_dict_is_tolerant(data: Any, expected: ModelQuery) -> None:
    assert ModelQuery.from_dict(data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1B", 1_000_000_000),
        ("350M", 350_000_000),
        ("7b", 7_000_000_000),
        ("1.5B", 1_500_000_000),
        (" 2.7 b ", 2_700_000_000),
        ("125m", 125_000_000),
        ("12K", 12_000),
        ("1T", 1_000_000_000_000),
        ("110000000", 110_000_000),
        ("12,000", 12_000),
        ("0.5B", 500_000_000),
        (".5B", 500_000_000),
        ("8B params", 8_000_000_000),
        ("0", 0),
        ("", None),
        ("B", None),
        ("abc", None),
        ("1.2.3B", None),
        ("-7B", None),
        ("7X", None),
        ("1e9", None),
        ("nan", None),
        ("inf", None),
        ("9" * 400, None),
    ],
)
def test_parse_parameter_count(text: str, expected: int | None) -> None:
    assert parse_parameter_count(text) == expected


def test_parse_parameter_count_rejects_non_strings() -> None:
    assert parse_parameter_count(7) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "text"),
    [(7_000_000_000, "7B"), (1_500_000_000, "1500M"), (350_000_000, "350M"), (12_000, "12K"), (1234, "1234")],
)
def test_format_parameter_count_round_trips(count: int, text: str) -> None:
    assert format_parameter_count(count) == text
    assert parse_parameter_count(text) == count
