"""The two kinds of repo the index holds, each described by a `RepoKind`: its tables and columns, its facets
and how they are spelled, so storing, planning and cache folding are written once for both.

Models take two tables, joined by id. `model_keys` is narrow: the five sort columns, the parameter count and
the facet values (author, task, library, licence, languages, inference provider names), with one index per sort
column, so sorting, numeric filters and facet counts read only these rows and they stay in the page cache.
`models` holds the rest of the record (repo id, tags, gating, cache state, the inference providers' entries and
when they were seen) and `words`. Datasets are far fewer, so one table holds
every column (the narrow keys table is not worth a join); their multi-valued facets (task categories,
modalities, size categories, languages, licences) are JSON lists, counted in `facet_totals` under
"dataset."-prefixed facet names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from hftui.hub.cache import CachedRepo
from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.index.records import DatasetRecord, ModelRecord, RepoRecord, dataset_card_record, model_card_record
from hftui.hub.index.words import fts_terms, row_words
from hftui.hub.inference_providers import InferenceProvider

# The facets are the queries' filter fields: one list, in the query types.
FACETS = ModelQuery.TEXT_FIELDS
# Each sort of a query and the column it orders by; each kind has an index per sort column.
SORT_COLUMNS = {
    "trending": "trending_score",
    "likes": "likes",
    "downloads": "downloads",
    "updated": "last_modified",
    "created": "created_at",
}
DATASET_FACETS = DatasetQuery.TEXT_FIELDS

_MODEL_COLUMNS = (
    "repo_id",
    "tags",
    "gated",
    "cache_state",
    "cached_revisions",
    "size_on_disk",
    "card_revision",
    "words",
    "inference_providers",
    "providers_seen_at",
)
_KEY_COLUMNS = (
    "trending_score",
    "likes",
    "downloads",
    "last_modified",
    "created_at",
    "parameters",
    "author",
    "pipeline_tag",
    "library_name",
    "license",
    "languages",
    "providers",
)
_DATASET_COLUMNS = (
    "repo_id",
    "author",
    "task_categories",
    "modalities",
    "size_categories",
    "languages",
    "licenses",
    "tags",
    "trending_score",
    "likes",
    "downloads",
    "last_modified",
    "created_at",
    "gated",
    "cache_state",
    "cached_revisions",
    "size_on_disk",
    "card_revision",
    "words",
)


@dataclass(frozen=True)
class RepoKind:
    """How one kind of repo is stored: its tables (each keyed by the same id; the first holds repo_id and `words`,
    the last is sorted, filtered and counted as `k`), how rows are written, which facets it has and how they are
    spelled in `words` and `facet_totals`. Its cards and FTS tables are named after the repo type."""

    repo_type: str
    record_type: type[RepoRecord]
    tables: tuple[tuple[str, str, tuple[str, ...]], ...]  # (table, alias, columns)
    sort_index: str  # the prefix of the sort indexes' names
    json_columns: frozenset[str]  # columns of tuples, stored as JSON lists; multi-valued facets among them
    facets: tuple[str, ...]
    # (facet, column) in the order their tokens are written to `words` (stored: the order must not change).
    word_facets: tuple[tuple[str, str], ...]
    gated_tokens: bool  # whether `words` says gated or not (only model queries filter on it)
    facet_prefix: str  # before facet names in `facet_totals`
    card_record: Callable[[CachedRepo, dict[str, Any]], RepoRecord]
    # (column, item from JSON) of columns of tuples of small frozen records, stored as JSON lists of objects
    # (`to_json` of each; items the reader refuses are dropped).
    object_columns: tuple[tuple[str, Callable[[Any], Any]], ...] = ()
    # (field, seen-at field): fields a record replaces as a whole, even by nothing, when it says when it saw
    # them; a record that does not say keeps the stored value (a listing that did not ask is not news).
    replaced_when_seen: tuple[tuple[str, str], ...] = ()

    @cached_property
    def record_fields(self) -> tuple[str, ...]:
        """The record's fields stored in the row (the card text has its own table)."""
        return tuple(field.name for field in fields(self.record_type) if field.name != "card_text")

    @cached_property
    def row_columns(self) -> tuple[str, ...]:
        """The columns of `select_row`, in order."""
        return ("id", *(column for _, _, columns in self.tables for column in columns))

    @cached_property
    def select_row(self) -> str:
        """The select list of one whole row, read from `from_rows`."""
        return ", ".join(
            [f"{self.alias}.id", *(f"{a}.{column}" for _, a, columns in self.tables for column in columns)]
        )

    @cached_property
    def from_rows(self) -> str:
        """The tables of a whole row, joined by id."""
        (first, alias, _), *others = self.tables
        return f"{first} AS {alias}" + "".join(f" JOIN {t} AS {a} ON {a}.id = {alias}.id" for t, a, _ in others)

    @cached_property
    def alias(self) -> str:
        """The alias of the first table in `from_rows`, the one holding repo_id and `words`."""
        return self.tables[0][1]

    @cached_property
    def keys_table(self) -> str:
        """The table sorted, filtered and counted (as `k`)."""
        return self.tables[-1][0]

    @cached_property
    def words_table(self) -> str:
        """The table holding `words`, looked up by id, when it is not the keys table (else empty)."""
        return self.tables[0][0] if len(self.tables) > 1 else ""

    @cached_property
    def terms_table(self) -> str:
        """The contentless FTS table of every row's terms."""
        return f"{self.repo_type}_terms"

    @cached_property
    def cards_table(self) -> str:
        """The card texts, by id."""
        return f"{self.repo_type}_cards"

    @cached_property
    def single_facets(self) -> dict[str, str]:
        """Facet -> column of the facets a row has at most one value of."""
        return {facet: column for facet, column in self.word_facets if column not in self.json_columns}

    @cached_property
    def multi_facets(self) -> dict[str, str]:
        """Facet -> JSON list column of the facets a row may have several values of."""
        return {facet: column for facet, column in self.word_facets if column in self.json_columns}

    @cached_property
    def total_facet(self) -> str:
        """The `facet_totals` entry counting every row."""
        return self.facet_prefix + "*"

    def words(self, row: dict[str, Any]) -> str:
        """The `words` column of a row."""
        return row_words(row, self.word_facets, gated_tokens=self.gated_tokens)

    def fts_terms(self, row: dict[str, Any]) -> str:
        """What the FTS table indexes for a row (datasets have no parameter count)."""
        return fts_terms(row["words"], row.get("parameters"))


MODELS = RepoKind(
    repo_type="model",
    record_type=ModelRecord,
    tables=(("models", "m", _MODEL_COLUMNS), ("model_keys", "k", _KEY_COLUMNS)),
    sort_index="keys_by_",
    json_columns=frozenset({"languages", "tags", "cached_revisions", "providers"}),
    facets=FACETS,
    word_facets=(
        ("task", "pipeline_tag"),
        ("library", "library_name"),
        ("license", "license"),
        ("author", "author"),
        ("language", "languages"),
        ("provider", "providers"),
    ),
    gated_tokens=True,
    facet_prefix="",
    card_record=model_card_record,
    object_columns=(("inference_providers", InferenceProvider.from_json),),
    replaced_when_seen=(("providers", "providers_seen_at"), ("inference_providers", "providers_seen_at")),
)
DATASETS = RepoKind(
    repo_type="dataset",
    record_type=DatasetRecord,
    tables=(("datasets", "k", _DATASET_COLUMNS),),
    sort_index="datasets_by_",
    json_columns=frozenset(
        {"task_categories", "modalities", "size_categories", "languages", "licenses", "tags", "cached_revisions"}
    ),
    facets=DATASET_FACETS,
    # Every dataset facet but the author is a JSON list column.
    word_facets=(
        ("task_category", "task_categories"),
        ("modality", "modalities"),
        ("size_category", "size_categories"),
        ("language", "languages"),
        ("license", "licenses"),
        ("author", "author"),
    ),
    gated_tokens=False,
    facet_prefix="dataset.",
    card_record=dataset_card_record,
)
KINDS = (MODELS, DATASETS)


def kind_of(query: ModelQuery | DatasetQuery) -> RepoKind:
    """The kind of repo a query searches."""
    return DATASETS if isinstance(query, DatasetQuery) else MODELS
