"""Checks a model or dataset card before it is uploaded, each problem said in a sentence with what to do.

The rules are the Hub's own where the Hub enforces them (YAML that parses to a mapping, licence ids from its
list, task ids from its `pipelines.ts`, dataset `configs` and `size_categories` shapes), plus the ones a
careful publisher follows: `license: other` names and links its licence, a fine-tune's licence is one its
base model's licence allows, and a card whose metadata reports metrics also has an evaluation section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hftui.hub.cards.derivatives import base_license_of, derivative_verdict
from hftui.hub.cards.licenses import LICENSES, license_terms
from hftui.hub.cards.text import CardText, parse_card, split_front_matter
from hftui.hub.pipeline_tags import PIPELINE_TAGS_BY_ID, SIZE_CATEGORIES

SEVERITIES = ("error", "warning")
_EVALUATION_HEADING = re.compile(r"^#{1,6}\s+.*\b(evaluation|results)\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class CardProblem:
    """One thing wrong with a card: the metadata field (or "card"), how bad, and what to do about it."""

    field: str
    severity: str  # "error" stops an upload, "warning" does not
    message: str


def _card(text: str) -> tuple[CardText, list[CardProblem]]:
    card = parse_card(text)
    problems: list[CardProblem] = []
    if split_front_matter(text.replace("\r\n", "\n"))[0] is None:
        problems.append(CardProblem("card", "error", "The card has no YAML metadata block (--- ... --- at the top)."))
    elif card.problem and not card.metadata:
        problems.append(CardProblem("card", "error", f"{card.problem} The Hub would refuse this card."))
    return card, problems


def _license_problems(metadata: Mapping[str, Any]) -> list[CardProblem]:
    raw = metadata.get("license")
    if raw is None:
        return [
            CardProblem(
                "license",
                "warning",
                "No licence: by default all rights are reserved, so nobody may reuse the work. "
                "Pick one from the catalogue.",
            )
        ]
    problems = []
    for value in raw if isinstance(raw, list) else [raw]:
        if not isinstance(value, str) or value.strip().lower() not in LICENSES:
            problems.append(
                CardProblem(
                    "license",
                    "error",
                    f'"{value}" is not one of the Hub\'s licence ids; use one of them, or "other" with '
                    "license_name and license_link.",
                )
            )
    first = raw[0] if isinstance(raw, list) and raw else raw
    if isinstance(first, str) and first.strip().lower() == "other":
        for key in ("license_name", "license_link"):
            if not (isinstance(metadata.get(key), str) and metadata[key].strip()):
                problems.append(
                    CardProblem(key, "error", f"license: other needs {key} so readers can find the licence's terms.")
                )
    return problems


def check_model_card(text: str, *, base_license: object = None) -> tuple[CardProblem, ...]:
    """Every problem with a model card; `base_license` is the base model card's `license` value, when known."""
    from hftui.hub.cards.model import card_facts

    card, problems = _card(text)
    metadata = card.metadata
    if not metadata:
        return tuple(problems)
    problems.extend(_license_problems(metadata))
    tag = metadata.get("pipeline_tag")
    if tag is not None and (not isinstance(tag, str) or tag not in PIPELINE_TAGS_BY_ID):
        problems.append(
            CardProblem("pipeline_tag", "error", f'"{tag}" is not one of the Hub\'s tasks (e.g. text-classification).')
        )
    base_models = metadata.get("base_model")
    base_model = base_models[0] if isinstance(base_models, list) and base_models else base_models
    if base_license is not None and metadata.get("license") is not None:
        chosen = license_terms(metadata.get("license"), license_name=metadata.get("license_name"))
        base = license_terms(base_license)  # type: ignore[arg-type]
        verdict = derivative_verdict(chosen, base, str(base_model or "the base model"))
        if verdict is not None:
            problems.append(CardProblem("license", *verdict))
    facts = card_facts(card)
    for problem in facts.problems:
        if "model-index" in problem:
            problems.append(CardProblem("model-index", "error", problem))
    if (metadata.get("metrics") or facts.eval_results) and not _EVALUATION_HEADING.search(card.body):
        problems.append(
            CardProblem(
                "card",
                "error",
                "The metadata reports metrics but the card has no evaluation section: add one "
                "(## Evaluation results) saying on what data and how they were measured.",
            )
        )
    if not card.body.strip():
        problems.append(CardProblem("card", "warning", "The card has metadata but no text: describe the model."))
    return tuple(problems)


def check_dataset_card(text: str) -> tuple[CardProblem, ...]:
    """Every problem with a dataset card (licence, task categories, size categories, configs)."""
    card, problems = _card(text)
    metadata = card.metadata
    if not metadata:
        return tuple(problems)
    problems.extend(_license_problems(metadata))
    for key, known, example in (
        ("task_categories", PIPELINE_TAGS_BY_ID, "text-classification"),
        ("size_categories", SIZE_CATEGORIES, "1K<n<10K"),
    ):
        values = metadata.get(key)
        for value in values if isinstance(values, list) else [] if values is None else [values]:
            if not isinstance(value, str) or value not in known:
                problems.append(
                    CardProblem(key, "error", f'"{value}" is not a value the Hub knows for {key} ({example}).')
                )
    configs = metadata.get("configs")
    if configs is not None:
        if not isinstance(configs, list):
            problems.append(CardProblem("configs", "error", "configs must be a list of {config_name, data_files}."))
        else:
            names = []
            for position, config in enumerate(configs, start=1):
                if not isinstance(config, Mapping) or not config.get("config_name"):
                    problems.append(CardProblem("configs", "error", f"configs entry {position} has no config_name."))
                    continue
                names.append(config["config_name"])
                if not config.get("data_files"):
                    problems.append(
                        CardProblem("configs", "error", f'config "{config["config_name"]}" has no data_files.')
                    )
            if len(names) != len(set(names)):
                problems.append(CardProblem("configs", "error", "Two configs have the same config_name."))
    return tuple(problems)


def blocking(problems: tuple[CardProblem, ...]) -> tuple[CardProblem, ...]:
    """The problems that stop an upload."""
    return tuple(problem for problem in problems if problem.severity == "error")


def check_card(text: str, *, dataset: bool, base_license: object = None) -> tuple[CardProblem, ...]:
    """The checks that fit the repo type; a model card's base licence is found locally when not given."""
    if dataset:
        return check_dataset_card(text)
    return check_model_card(text, base_license=base_license if base_license else base_license_of(text))
