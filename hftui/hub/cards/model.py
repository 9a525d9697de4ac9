"""The facts a model page shows (licence, languages, datasets, base models, evaluation results), read from
card metadata that may hold anything.

Card metadata is written by hand, so every field may have the wrong type: a string where a list belongs,
a number where text belongs, the legacy plural keys `languages:` and `licenses:`, a model-index that
misses required parts. Each field is read on its own; what cannot be read becomes a plain sentence in
`problems` and the rest of the page still shows. Values are kept as the card gives them (the UI escapes
them); only their types are made certain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hftui.hub.cards.licenses import NO_LICENSE, LicenseTerms, license_terms
from hftui.hub.cards.text import CardText

# The keys of the `co2_eq_emissions` mapping (hub-docs "model-cards-co2"), in the words shown for them.
_CO2_DETAILS = (
    ("source", "source"),
    ("training_type", "training"),
    ("geographical_location", "location"),
    ("hardware_used", "hardware"),
)
# Nested lists deeper than this are not metadata anyone meant; YAML anchors can even make them endless.
_MAX_DEPTH = 4


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
        problems.append(f"The card's metadata should be a mapping of fields but is {_kind(metadata)}.")
        return _empty_facts(problems)
    eval_results, index_name = _eval_results(metadata.get("model-index"), problems)
    return ModelCardFacts(
        license=_license(metadata, problems),
        languages=_names(metadata, ("language", "languages"), problems, language=True),
        datasets=_names(metadata, ("datasets",), problems),
        base_models=_names(metadata, ("base_model",), problems),
        base_model_relation=_text(metadata, "base_model_relation", problems),
        pipeline_tag=_text(metadata, "pipeline_tag", problems),
        library_name=_text(metadata, "library_name", problems),
        tags=_names(metadata, ("tags",), problems),
        metrics=_names(metadata, ("metrics",), problems),
        co2=_co2(metadata.get("co2_eq_emissions"), problems),
        model_name=index_name or _text(metadata, "model_name", problems),
        eval_results=eval_results,
        problems=tuple(problems),
    )


def _kind(value: object) -> str:
    """How a wrong value is described in a problem sentence."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    return "text" if isinstance(value, str) else f"a {type(value).__name__}"


def _scalar_text(value: object) -> str | None:
    """A single value as text: strings as given, numbers and dates written out; anything else is None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):  # YAML reads an unquoted 2023-01-01 as a date
        return value.isoformat()
    return None


def _text(metadata: Mapping[Any, Any], key: str, problems: list[str]) -> str | None:
    """A field that holds one value; a list gives its first entry, with a problem when it lists several."""
    value = metadata.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        texts = [text for text in map(_scalar_text, value) if text is not None]
        if not texts:
            problems.append(f"{key} should be a single name, but it is a list with nothing readable in it.")
            return None
        if len(value) > 1:
            problems.append(f"{key} should be a single name, but it lists {len(value)}; the first is shown.")
        return texts[0]
    text = _scalar_text(value)
    if text is None:
        problems.append(f"{key} should be a name, but it is {_kind(value)}, so it is not shown.")
    return text


def _names(
    metadata: Mapping[Any, Any], keys: tuple[str, ...], problems: list[str], *, language: bool = False
) -> tuple[str, ...]:
    """A field that holds a list of names (a single name counts as a list of one), over its legacy keys."""
    found: list[str] = []
    for key in keys:
        value = metadata.get(key)
        if value is None:
            continue
        skipped: list[str] = []
        if isinstance(value, Mapping) and not language:
            problems.append(f"{key} should be a list of names, but it is a mapping, so it is not shown.")
            continue
        found.extend(_flatten(value, skipped, language=language, depth=0))
        if skipped:
            kinds = ", ".join(sorted(set(skipped)))
            problems.append(f"Some entries of {key} are not names ({kinds}), so they are not shown.")
    return tuple(dict.fromkeys(found))


def _flatten(value: object, skipped: list[str], *, language: bool, depth: int) -> Iterable[str]:
    if depth > _MAX_DEPTH:
        skipped.append("nested too deeply")
        return
    if language and value is False:
        # YAML 1.1 reads an unquoted `no` (Norwegian) as false; the Hub's YAML 1.2 reader keeps it as "no".
        yield "no"
        return
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item, skipped, language=language, depth=depth + 1)
        return
    if isinstance(value, Mapping):
        if language:
            # Old dataset cards give languages per configuration, as a mapping of configuration to codes.
            for item in value.values():
                yield from _flatten(item, skipped, language=language, depth=depth + 1)
        else:
            skipped.append(_kind(value))
        return
    text = _scalar_text(value)
    if text is None:
        if value is not None and value != "":
            skipped.append(_kind(value))
        return
    yield text


def _license(metadata: Mapping[Any, Any], problems: list[str]) -> LicenseTerms:
    """The licence from `license` or the legacy `licenses`; `license_name`/`license_link` serve `other`."""
    name = _text(metadata, "license_name", problems)
    link = _text(metadata, "license_link", problems)
    for key in ("license", "licenses"):
        raw = metadata.get(key)
        if raw is None or raw == "" or raw == []:
            continue
        identifiers = list(_names(metadata, (key,), problems))
        if identifiers:
            return license_terms(identifiers, license_name=name, license_link=link)
        return LicenseTerms(
            license_id="unreadable",
            name="Unreadable licence",
            family="unknown",
            commercial_use="unknown",
            attribution_required="unknown",
            share_modifications="unknown",
            use_restrictions="unknown",
            summary=(
                f"The card's {key} field could not be read, so hftui cannot say what the licence allows. "
                "Read the card or the repository's licence file before use."
            ),
            link=link,
        )
    return license_terms(None, license_name=name, license_link=link)


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
            else _scalar_text(emissions)
        )
        details = [
            f"{label}: {text}" for key, label in _CO2_DETAILS if (text := _scalar_text(value.get(key))) is not None
        ]
        if amount is None and not details:
            problems.append("co2_eq_emissions holds no readable amount or details, so it is not shown.")
            return None
        if not details:
            return amount
        return f"{amount or 'amount not given'} ({'; '.join(details)})"
    problems.append(f"co2_eq_emissions should be a number or a mapping, but it is {_kind(value)}.")
    return None


def _eval_results(model_index: object, problems: list[str]) -> tuple[tuple[EvalResult, ...], str | None]:
    """The model-index's results and model name, read by huggingface_hub; a broken index is salvaged."""
    if model_index is None:
        return (), None
    if isinstance(model_index, Mapping):
        problems.append("model-index should be a list of models, but it is a single mapping; it is read as one.")
        model_index = [model_index]
    if not isinstance(model_index, list) or not model_index:
        problems.append(f"model-index should be a list of models with results, but it is {_kind(model_index)}.")
        return (), None
    # huggingface_hub answers with the last model's name; the page names the first, the card's own model.
    names = (_scalar_text(entry.get("name")) for entry in model_index if isinstance(entry, Mapping))
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
            task=_scalar_text(result.task_name) or _scalar_text(result.task_type),
            dataset=_scalar_text(result.dataset_name) or _scalar_text(result.dataset_type),
            dataset_config=_scalar_text(result.dataset_config),
            split=_scalar_text(result.dataset_split),
            metric=_scalar_text(result.metric_name) or _scalar_text(result.metric_type),
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
            task = result.get("task") if isinstance(result.get("task"), Mapping) else {}
            dataset = result.get("dataset") if isinstance(result.get("dataset"), Mapping) else {}
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else ():
                if not isinstance(metric, Mapping) or "value" not in metric:
                    continue
                verified = metric.get("verified")
                yield EvalResult(
                    task=_scalar_text(task.get("name")) or _scalar_text(task.get("type")),
                    dataset=_scalar_text(dataset.get("name")) or _scalar_text(dataset.get("type")),
                    dataset_config=_scalar_text(dataset.get("config")),
                    split=_scalar_text(dataset.get("split")),
                    metric=_scalar_text(metric.get("name")) or _scalar_text(metric.get("type")),
                    value=metric.get("value"),
                    verified=verified if isinstance(verified, bool) else None,
                )
