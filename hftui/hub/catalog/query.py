"""Model and dataset searches as immutable values: what the user typed and picked, for the Hub and the index.

`ModelQuery` and `DatasetQuery` are built and changed in the domain (`replace`), described in the user's words
(`describe`), turned into `HfApi.list_models` / `HfApi.list_datasets` arguments (`to_hub_kwargs`) and
remembered as JSON (`to_dict`/`from_dict`). What they share lives in `RepoQuery`. The local index
(`hftui.hub.index`) answers the same values offline.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Self

SORTS: dict[str, str] = {
    "trending": "Trending",
    "likes": "Most likes",
    "downloads": "Most downloads",
    "updated": "Recently updated",
    "created": "Recently created",
}
DEFAULT_SORT = "trending"
# The dataset listing offers the same sorts but "created" (the Datasets issue asks for these four).
DATASET_SORTS: dict[str, str] = {name: SORTS[name] for name in ("trending", "likes", "downloads", "updated")}

# The Hub's names for our sorts (HfApi.list_models' ModelSort_T); every sort is descending there too.
_HUB_SORTS = {
    "trending": "trending_score",
    "likes": "likes",
    "downloads": "downloads",
    "updated": "last_modified",
    "created": "created_at",
}
_TEXT_FIELDS = ("task", "library", "language", "license", "author", "provider")
_DATASET_TEXT_FIELDS = ("task_category", "modality", "size_category", "language", "license", "author")
# How the filter picker and help name each facet (the fields in TEXT_FIELDS).
FACET_LABELS = {
    "task": "Task",
    "library": "Library",
    "task_category": "Task category",
    "modality": "Modality",
    "size_category": "Size category",
    "language": "Language",
    "license": "Licence",
    "author": "Author",
    "provider": "Inference provider",
}
_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_PARAMETER_COUNT = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([kmbt]?)$")


def parse_parameter_count(text: str) -> int | None:
    """Read a parameter count as people write one ("1B", "350M", "7b", "1.5B", "12,000"); junk gives None."""
    if not isinstance(text, str):
        return None
    cleaned = text.strip().lower().replace(",", "").replace("_", "").replace(" ", "")
    cleaned = cleaned.removesuffix("params").removesuffix("parameters")
    match = _PARAMETER_COUNT.match(cleaned)
    if match is None:
        return None
    number, suffix = match.groups()
    value = float(number) * _SUFFIXES[suffix]
    if not math.isfinite(value) or value > 10**15:
        return None
    return round(value)


def format_parameter_count(count: int) -> str:
    """The shortest exact spelling of a count: 7000000000 -> "7B", 1500000000 -> "1500M", 1234 -> "1234"."""
    for suffix, unit in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= unit and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)


class RepoQuery:
    """What model and dataset searches share: search text, facet values (`TEXT_FIELDS`), a sort from `SORTS`
    (always descending) and the cached-only switch; subclasses are frozen dataclasses with those fields."""

    TEXT_FIELDS: ClassVar[tuple[str, ...]] = ()
    SORTS: ClassVar[dict[str, str]] = SORTS
    text: str
    sort: str
    cached_only: bool

    def _normalise(self) -> None:
        """Validate the sort and strip the facet values; a blank picker value means "any", so equal queries
        stay equal."""
        if self.sort not in self.SORTS:
            raise ValueError(f"unknown sort {self.sort!r}; expected one of {', '.join(self.SORTS)}")
        for name in self.TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and not value.strip():
                object.__setattr__(self, name, None)
            elif value is not None and value != value.strip():
                object.__setattr__(self, name, value.strip())

    @classmethod
    def facets(cls) -> tuple[tuple[str, str], ...]:
        """The facet fields a picker offers, with their labels: (field, label), in TEXT_FIELDS order."""
        return tuple((name, FACET_LABELS[name]) for name in cls.TEXT_FIELDS)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated like a new query)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @property
    def is_default(self) -> bool:
        """Whether nothing narrows or reorders the listing."""
        return self == type(self)()

    def _limits(self) -> list[str]:
        """Descriptions of the filters that are not facet values (subclasses add theirs)."""
        return []

    def describe(self) -> str:
        """The query in one line, e.g. 'text "bert" · task=text-classification · license=mit · sort=likes'."""
        parts: list[str] = []
        text = self.text.strip()
        if text:
            parts.append('text "{}"'.format(text.replace("\\", "\\\\").replace('"', '\\"')))
        parts.extend(f"{name}={getattr(self, name)}" for name in self.TEXT_FIELDS if getattr(self, name))
        parts.extend(self._limits())
        if self.cached_only:
            parts.append("cached only")
        parts.append(f"sort={self.sort}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields that differ from the defaults."""
        default = type(self)()
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if getattr(self, field.name) != getattr(default, field.name)
        }

    @classmethod
    def _more_from_dict(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Values of the fields only a subclass has, read from `to_dict` output."""
        return {}

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Rebuild a query from `to_dict` output; unknown keys and values of the wrong shape are dropped."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        text = data.get("text")
        if isinstance(text, str):
            values["text"] = text
        for name in cls.TEXT_FIELDS:
            value = data.get(name)
            if isinstance(value, str) and value.strip():
                values[name] = value
        sort = data.get("sort")
        if isinstance(sort, str) and sort in cls.SORTS:
            values["sort"] = sort
        cached_only = data.get("cached_only")
        if isinstance(cached_only, bool):
            values["cached_only"] = cached_only
        values.update(cls._more_from_dict(data))
        return cls(**values)


@dataclass(frozen=True)
class ModelQuery(RepoQuery):
    """One model search: free text, facet filters (task, library, language, licence, author, inference provider),
    a sort (always descending) and local-only switches."""

    TEXT_FIELDS: ClassVar[tuple[str, ...]] = _TEXT_FIELDS
    text: str = ""
    task: str | None = None
    library: str | None = None
    language: str | None = None
    license: str | None = None
    author: str | None = None
    provider: str | None = None  # an inference provider serving the model ("together", "hf-inference")
    sort: str = DEFAULT_SORT
    max_parameters: int | None = None
    gated: bool | None = None
    cached_only: bool = False

    def __post_init__(self) -> None:
        self._normalise()
        if self.max_parameters is not None and self.max_parameters < 0:
            raise ValueError("max_parameters cannot be negative")

    def _limits(self) -> list[str]:
        parts = []
        if self.max_parameters is not None:
            parts.append(f"params≤{format_parameter_count(self.max_parameters)}")
        if self.gated is not None:
            parts.append("gated" if self.gated else "not gated")
        return parts

    def to_hub_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `HfApi.list_models`; `cached_only` has no Hub twin (the caller filters)."""
        kwargs: dict[str, Any] = {"sort": _HUB_SORTS[self.sort]}
        if self.text.strip():
            kwargs["search"] = self.text.strip()
        if self.author:
            kwargs["author"] = self.author
        if self.task:
            kwargs["pipeline_tag"] = self.task
        if self.provider:
            kwargs["inference_provider"] = self.provider
        # The Hub filters libraries and languages by their bare tag, licences by "license:<id>".
        tags = [tag for tag in (self.library, self.language) if tag]
        if self.license:
            tags.append(f"license:{self.license}")
        if tags:
            kwargs["filter"] = tags
        if self.gated is not None:
            kwargs["gated"] = self.gated
        if self.max_parameters is not None:
            kwargs["num_parameters"] = f"max:{format_parameter_count(self.max_parameters)}"
        return kwargs

    @classmethod
    def _more_from_dict(cls, data: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {"max_parameters": _parameters_from_json(data.get("max_parameters"))}
        gated = data.get("gated")
        if isinstance(gated, bool):
            values["gated"] = gated
        return values


@dataclass(frozen=True)
class DatasetQuery(RepoQuery):
    """One dataset search: free text, the dataset facets (task category, modality, size category, language,
    licence, author), a sort (always descending) and cached only."""

    TEXT_FIELDS: ClassVar[tuple[str, ...]] = _DATASET_TEXT_FIELDS
    SORTS: ClassVar[dict[str, str]] = DATASET_SORTS
    text: str = ""
    task_category: str | None = None
    modality: str | None = None
    size_category: str | None = None
    language: str | None = None
    license: str | None = None
    author: str | None = None
    sort: str = DEFAULT_SORT
    cached_only: bool = False

    def __post_init__(self) -> None:
        self._normalise()

    def to_hub_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `HfApi.list_datasets` (which has no `cardData`: pass `full=True` for cards);
        `cached_only` has no Hub twin (the caller filters)."""
        kwargs: dict[str, Any] = {"sort": _HUB_SORTS[self.sort]}
        if self.text.strip():
            kwargs["search"] = self.text.strip()
        if self.author:
            kwargs["author"] = self.author
        # list_datasets turns these into "task_categories:<v>", "size_categories:<v>", "language:<v>" tags.
        if self.task_category:
            kwargs["task_categories"] = self.task_category
        if self.size_category:
            kwargs["size_categories"] = self.size_category
        if self.language:
            kwargs["language"] = self.language
        tags = []
        if self.modality:
            tags.append(f"modality:{self.modality}")
        if self.license:
            tags.append(f"license:{self.license}")
        if tags:
            kwargs["filter"] = tags
        return kwargs


def _parameters_from_json(value: Any) -> int | None:
    if isinstance(value, bool):  # bool is an int subclass; true is not a parameter count
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return round(value)
    if isinstance(value, str):
        return parse_parameter_count(value)
    return None
