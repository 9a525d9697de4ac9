"""The facts a model page shows (licence, languages, datasets, base models, evaluation results), read from
card metadata that may hold anything.

Card metadata is written by hand, so every field may have the wrong type: a string where a list belongs,
a number where text belongs, the legacy plural keys `languages:` and `licenses:`, a model-index that
misses required parts. Each field is read on its own; what cannot be read becomes a plain sentence in
`problems` and the rest of the page still shows. Values are kept as the card gives them (the UI escapes
them); only their types are made certain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hftui.hub.cards.fields import kind_of, read_license, read_name, read_names, scalar_text
from hftui.hub.cards.licenses import NO_LICENSE, LicenseTerms
from hftui.hub.cards.text import CardText

# The keys of the `co2_eq_emissions` mapping (hub-docs "model-cards-co2"), in the words shown for them.
_CO2_DETAILS = (
    ("source", "source"),
    ("training_type", "training"),
    ("geographical_location", "location"),
    ("hardware_used", "hardware"),
)


@dataclass(frozen=True)
class EvalResult:
    """One reported score from a card's model-index, named the way the card's authors named it.

    `task`, `dataset` and `metric` are the display names the card gives, else their identifiers.
    """

    task: str | None
    dataset: str | None
    dataset_config: str | None
    split: str | None
    metric: str | None
    value: object
    verified: bool | None = None


@dataclass(frozen=True)
class ModelCardFacts:
    """What a model page shows from the card's metadata, with every reason something could not be read."""

    license: LicenseTerms
    languages: tuple[str, ...]
    datasets: tuple[str, ...]
    base_models: tuple[str, ...]
    base_model_relation: str | None
    pipeline_tag: str | None
    library_name: str | None
    tags: tuple[str, ...]
    metrics: tuple[str, ...]
    co2: str | None
    model_name: str | None
    eval_results: tuple[EvalResult, ...]
    problems: tuple[str, ...]


def card_facts(card: CardText) -> ModelCardFacts:
    """Read the facts of a model card's metadata; never raises, whatever the metadata holds."""
    problems = [card.problem] if card.problem else []
    try:
        return _read_facts(card.metadata, problems)
    # The metadata is untrusted: the page must open even if a reader below misses a case.
    except Exception as error:
        problems.append(f"The card's metadata could not be read: {type(error).__name__}.")
        return _empty_facts(problems)


def _empty_facts(problems: list[str]) -> ModelCardFacts:
    return ModelCardFacts(
        license=NO_LICENSE,
        languages=(),
        datasets=(),
        base_models=(),
        base_model_relation=None,
        pipeline_tag=None,
        library_name=None,
        tags=(),
        metrics=(),
        co2=None,
        model_name=None,
        eval_results=(),
        problems=tuple(problems),
    )


def _read_facts(metadata: object, problems: list[str]) -> ModelCardFacts:
    if not isinstance(metadata, Mapping):
        problems.append(f"The card's metadata should be a mapping of fields but is {kind_of(metadata)}.")
        return _empty_facts(problems)
    eval_results, index_name = _eval_results(metadata.get("model-index"), problems)
    return ModelCardFacts(
        license=read_license(metadata, problems),
        languages=read_names(metadata, ("language", "languages"), problems, language=True),
        datasets=read_names(metadata, ("datasets",), problems),
        base_models=read_names(metadata, ("base_model",), problems),
        base_model_relation=read_name(metadata, "base_model_relation", problems),
        pipeline_tag=read_name(metadata, "pipeline_tag", problems),
        library_name=read_name(metadata, "library_name", problems),
        tags=read_names(metadata, ("tags",), problems),
        metrics=read_names(metadata, ("metrics",), problems),
        co2=_co2(metadata.get("co2_eq_emissions"), problems),
        model_name=index_name or read_name(metadata, "model_name", problems),
        eval_results=eval_results,
        problems=tuple(problems),
    )


def _co2(value: object, problems: list[str]) -> str | None:
    """`co2_eq_emissions` as text: a number is grams of CO2 equivalent; a mapping adds its details."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value} g CO2eq"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        emissions = value.get("emissions")
        amount = (
            f"{emissions} g CO2eq"
            if isinstance(emissions, int | float) and not isinstance(emissions, bool)
            else scalar_text(emissions)
        )
        details = [
            f"{label}: {text}" for key, label in _CO2_DETAILS if (text := scalar_text(value.get(key))) is not None
        ]
        if amount is None and not details:
            problems.append("co2_eq_emissions holds no readable amount or details, so it is not shown.")
            return None
        if not details:
            return amount
        return f"{amount or 'amount not given'} ({'; '.join(details)})"
    problems.append(f"co2_eq_emissions should be a number or a mapping, but it is {kind_of(value)}.")
    return None


def _eval_results(model_index: object, problems: list[str]) -> tuple[tuple[EvalResult, ...], str | None]:
    """The model-index's results and model name, read by huggingface_hub; a broken index is salvaged."""
    if model_index is None:
        return (), None
    if isinstance(model_index, Mapping):
        problems.append("model-index should be a list of models, but it is a single mapping; it is read as one.")
        model_index = [model_index]
    if not isinstance(model_index, list) or not model_index:
        problems.append(f"model-index should be a list of models with results, but it is {kind_of(model_index)}.")
        return (), None
    # huggingface_hub answers with the last model's name; the page names the first, the card's own model.
    names = (scalar_text(entry.get("name")) for entry in model_index if isinstance(entry, Mapping))
    name = next((text for text in names if text), None)
    from huggingface_hub.repocard_data import model_index_to_eval_results

    try:
        _, hub_results = model_index_to_eval_results(model_index)
    except Exception as error:  # huggingface_hub raises KeyError/TypeError/ValueError on a malformed index
        salvaged = tuple(_salvage(model_index))
        readable = f"{len(salvaged)} result(s) could still be read" if salvaged else "no result could be read"
        problems.append(f"The model-index (evaluation results) is incomplete: {_why(error)}; {readable}.")
        return salvaged, name
    results = tuple(
        EvalResult(
            task=scalar_text(result.task_name) or scalar_text(result.task_type),
            dataset=scalar_text(result.dataset_name) or scalar_text(result.dataset_type),
            dataset_config=scalar_text(result.dataset_config),
            split=scalar_text(result.dataset_split),
            metric=scalar_text(result.metric_name) or scalar_text(result.metric_type),
            value=result.metric_value,
            verified=result.verified if isinstance(result.verified, bool) else None,
        )
        for result in hub_results
    )
    return results, name


def _why(error: Exception) -> str:
    """A malformed model-index error in a user's words."""
    if isinstance(error, KeyError) and error.args:
        return f"an entry has no {error.args[0]!r} field"
    if isinstance(error, TypeError):
        return "an entry has the wrong type (a list, mapping or value where another belongs)"
    message = str(error).strip().splitlines()
    return message[0].rstrip(".") if message else type(error).__name__


def _salvage(model_index: list[Any]) -> Iterable[EvalResult]:
    """Every metric with a value in a model-index that huggingface_hub refused; missing parts stay None."""
    for entry in model_index:
        results = entry.get("results") if isinstance(entry, Mapping) else None
        for result in results if isinstance(results, list) else ():
            if not isinstance(result, Mapping):
                continue
            task: Mapping[Any, Any] = result["task"] if isinstance(result.get("task"), Mapping) else {}
            dataset: Mapping[Any, Any] = result["dataset"] if isinstance(result.get("dataset"), Mapping) else {}
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else ():
                if not isinstance(metric, Mapping) or "value" not in metric:
                    continue
                verified = metric.get("verified")
                yield EvalResult(
                    task=scalar_text(task.get("name")) or scalar_text(task.get("type")),
                    dataset=scalar_text(dataset.get("name")) or scalar_text(dataset.get("type")),
                    dataset_config=scalar_text(dataset.get("config")),
                    split=scalar_text(dataset.get("split")),
                    metric=scalar_text(metric.get("name")) or scalar_text(metric.get("type")),
                    value=metric.get("value"),
                    verified=verified if isinstance(verified, bool) else None,
                )
