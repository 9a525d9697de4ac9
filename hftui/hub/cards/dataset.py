"""The facts a dataset page shows (licence, languages, tasks, sizes, configurations with their splits), read
from card metadata that may hold anything and, for old datasets, from a `dataset_infos.json`.

Configurations come from the card's `dataset_info:` (one mapping or a list, today's format), its `configs:`
(data file patterns, or a bare list of names in 2022 cards) and the legacy `dataset_infos.json`. Each part is
read on its own; what cannot be read becomes a sentence in `problems`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.hub.cards.fields import kind_of, read_license, read_name, read_names, scalar_text
from hftui.hub.cards.licenses import LicenseTerms
from hftui.hub.cards.text import CardText
from hftui.libraries import import_serially


@dataclass(frozen=True)
class SplitInfo:
    """One split of a configuration; the counts are None where nothing says them."""

    name: str
    num_examples: int | None = None
    num_bytes: int | None = None


@dataclass(frozen=True)
class ConfigInfo:
    """One configuration (subset): its splits, its features as `Features.to_dict()`, its data file patterns."""

    name: str
    splits: tuple[SplitInfo, ...] = ()
    features: dict[str, Any] | None = None
    data_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetCardFacts:
    """What a dataset page shows from the card and its infos, with every reason something could not be read."""

    license: LicenseTerms
    languages: tuple[str, ...]
    task_categories: tuple[str, ...]
    task_ids: tuple[str, ...]
    size_categories: tuple[str, ...]
    multilinguality: tuple[str, ...]
    annotations_creators: tuple[str, ...]
    source_datasets: tuple[str, ...]
    pretty_name: str | None
    tags: tuple[str, ...]
    configs: tuple[ConfigInfo, ...] = ()
    problems: tuple[str, ...] = field(default=())


def read_dataset_infos(path: Path) -> dict[str, Any] | None:
    """A `dataset_infos.json` as a mapping, or None when it is missing, unreadable or not a mapping."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def dataset_card_facts(card: CardText, dataset_infos: Mapping[str, Any] | None = None) -> DatasetCardFacts:
    """Read a dataset card's facts; never raises."""
    metadata = joined_per_config_fields(card.metadata if isinstance(card.metadata, Mapping) else {})
    problems: list[str] = []
    try:
        configs = _configs(card.metadata, dataset_infos, problems)
    except Exception as error:  # hand-written metadata can hold shapes nobody foresaw; the page still opens
        problems.append(f"The configurations could not be read: {error}")
        configs = ()
    return DatasetCardFacts(
        license=read_license(metadata, problems),
        languages=read_names(metadata, ("language", "languages"), problems, language=True),
        task_categories=read_names(metadata, ("task_categories",), problems),
        task_ids=read_names(metadata, ("task_ids",), problems),
        size_categories=read_names(metadata, ("size_categories",), problems),
        multilinguality=read_names(metadata, ("multilinguality",), problems),
        annotations_creators=read_names(metadata, ("annotations_creators",), problems),
        source_datasets=read_names(metadata, ("source_datasets",), problems),
        pretty_name=read_name(metadata, "pretty_name", problems),
        tags=read_names(metadata, ("tags",), problems),
        configs=configs,
        problems=tuple(problems),
    )


_PER_CONFIG_KEYS = (
    "task_categories",
    "task_ids",
    "size_categories",
    "multilinguality",
    "annotations_creators",
    "source_datasets",
    "licenses",
    "license",
    "pretty_name",
)


def joined_per_config_fields(metadata: Mapping[Any, Any]) -> dict[Any, Any]:
    """2022 cards give some fields per configuration (a mapping of config to values); join those values."""
    flattened = dict(metadata)
    for key in _PER_CONFIG_KEYS:
        value = flattened.get(key)
        if isinstance(value, Mapping):
            joined: list[Any] = []
            for item in value.values():
                joined.extend(item if isinstance(item, list | tuple) else [item])
            flattened[key] = joined
    return flattened


def _configs(
    metadata: Mapping[Any, Any], dataset_infos: Mapping[str, Any] | None, problems: list[str]
) -> tuple[ConfigInfo, ...]:
    """Configurations merged by name: the card's `configs:` order first, then `dataset_info:`, then infos."""
    merged: dict[str, ConfigInfo] = {}
    for config in _card_configs(metadata.get("configs"), problems):
        merged[config.name] = config
    for config in _card_dataset_info(metadata.get("dataset_info"), problems):
        merged[config.name] = _merge(merged.get(config.name), config)
    if isinstance(dataset_infos, Mapping):
        for name, info in dataset_infos.items():
            if isinstance(info, Mapping):
                merged[str(name)] = _merge(merged.get(str(name)), _legacy_info(str(name), info))
    return tuple(merged.values())


def _merge(known: ConfigInfo | None, new: ConfigInfo) -> ConfigInfo:
    """Join two descriptions of a configuration; what the first already says is kept."""
    if known is None:
        return new
    return ConfigInfo(
        name=known.name,
        splits=_merge_splits(known.splits, new.splits),
        features=known.features if known.features is not None else new.features,
        data_files=known.data_files or new.data_files,
    )


def _merge_splits(known: tuple[SplitInfo, ...], new: tuple[SplitInfo, ...]) -> tuple[SplitInfo, ...]:
    splits = {split.name: split for split in known}
    for split in new:
        old = splits.get(split.name)
        splits[split.name] = (
            split
            if old is None
            else SplitInfo(
                split.name,
                old.num_examples if old.num_examples is not None else split.num_examples,
                old.num_bytes if old.num_bytes is not None else split.num_bytes,
            )
        )
    return tuple(splits.values())


def _card_configs(value: object, problems: list[str]) -> list[ConfigInfo]:
    """The card's `configs:`: mappings with `config_name` and `data_files`, or (2022) bare names."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"configs should be a list of configurations, but it is {kind_of(value)}.")
        return []
    configs = []
    for entry in value:
        if isinstance(entry, Mapping):
            name = scalar_text(entry.get("config_name")) or "default"
            patterns, splits = _data_files(entry.get("data_files"))
            configs.append(ConfigInfo(name=name, splits=splits, data_files=patterns))
        elif (bare_name := scalar_text(entry)) is not None:
            configs.append(ConfigInfo(name=bare_name))
        else:
            problems.append(f"An entry of configs is {kind_of(entry)}, not a configuration, so it is not shown.")
    return configs


def _data_files(value: object) -> tuple[tuple[str, ...], tuple[SplitInfo, ...]]:
    """Patterns from `data_files` (a pattern, a list of them, or a list of {split, path}), and the splits named."""
    if isinstance(value, str):
        return (value,), ()
    patterns: list[str] = []
    splits: list[SplitInfo] = []
    for item in value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []:
        if isinstance(item, str):
            patterns.append(item)
        elif isinstance(item, Mapping):
            paths = item.get("path")
            patterns.extend(p for p in (paths if isinstance(paths, list) else [paths]) if isinstance(p, str))
            if (split := scalar_text(item.get("split"))) is not None:
                splits.append(SplitInfo(split))
    return tuple(patterns), tuple(splits)


def _card_dataset_info(value: object, problems: list[str]) -> list[ConfigInfo]:
    """The card's `dataset_info:`, one mapping or a list of them (one per configuration)."""
    if value is None:
        return []
    entries = [value] if isinstance(value, Mapping) else value
    if not isinstance(entries, list):
        problems.append(f"dataset_info should be a mapping or a list, but it is {kind_of(value)}.")
        return []
    configs = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            problems.append(f"An entry of dataset_info is {kind_of(entry)}, not a mapping, so it is not shown.")
            continue
        name = scalar_text(entry.get("config_name")) or "default"
        splits = entry.get("splits")
        if isinstance(splits, Mapping):
            splits = list(splits.values())
        configs.append(
            ConfigInfo(
                name=name,
                splits=tuple(_split(item) for item in splits or () if isinstance(item, Mapping)),
                features=_yaml_features(entry.get("features"), name, problems),
            )
        )
    return configs


def _legacy_info(name: str, info: Mapping[str, Any]) -> ConfigInfo:
    """One configuration of a `dataset_infos.json`: splits as a mapping by name, features as a dict."""
    splits = info.get("splits")
    items = list(splits.items()) if isinstance(splits, Mapping) else []
    if isinstance(splits, list):
        items = [(None, item) for item in splits]
    features = info.get("features")
    return ConfigInfo(
        name=name,
        splits=tuple(_split(item, key) for key, item in items if isinstance(item, Mapping)),
        features=dict(features) if isinstance(features, Mapping) else None,
    )


def _split(item: Mapping[str, Any], key: object = None) -> SplitInfo:
    return SplitInfo(
        name=scalar_text(item.get("name")) or scalar_text(key) or "?",
        num_examples=_count(item.get("num_examples")),
        num_bytes=_count(item.get("num_bytes")),
    )


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _yaml_features(value: object, config: str, problems: list[str]) -> dict[str, Any] | None:
    """Card YAML features (a list of {name, dtype}) as `Features.to_dict()`, read by datasets itself."""
    if value is None:
        return None
    import_serially("datasets")
    from datasets import Features

    try:
        # datasets reads the card's feature list with this (DatasetInfo._from_yaml_dict); there is no public twin.
        return Features._from_yaml_list(value).to_dict()
    except Exception as error:  # datasets raises TypeError/ValueError/KeyError on a malformed list
        problems.append(f"The features of configuration {config} could not be read: {error}")
        return None
