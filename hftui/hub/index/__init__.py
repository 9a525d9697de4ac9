"""One local SQLite index of model and dataset metadata, fed by Hub listings and the local cache, searched offline.

Listings are written through (`RepoIndex.upsert_model_infos`, `upsert_dataset_infos`), the local HF cache is
folded in at start-up (`index_cache`, models and datasets with their card facts), and `search`/`count`/
`facet_counts` answer a `ModelQuery` or a `DatasetQuery` from the file alone, so the Models and Datasets screens
work the same online and offline.

The modules, in the order a search meets them: `store` (`RepoIndex`: the connection, its lock, writes and
reads), `plan` (a query as FTS terms and SQL, and the choice between the two plans), `rows` (rows read back,
merged and written with their FTS terms and facet totals), `facet_columns` (the facet values held in memory,
counted for a filtered picker), `cache_fold` (a cache scan folded in), `kinds` (how models and datasets are
stored, one `RepoKind` each), `words` (the searchable words and fact tokens), `records` (`ModelRecord`,
`DatasetRecord`, and making them from Hub infos and cards), `schema` (the file: tables, schema version,
opening, moving a damaged one aside).
"""

from __future__ import annotations

from hftui.hub.index.kinds import DATASET_FACETS, FACETS
from hftui.hub.index.records import (
    CACHE_STATES,
    DatasetRecord,
    ModelRecord,
    RepoRecord,
    record_from_dataset_info,
    record_from_model_info,
)
from hftui.hub.index.schema import SCHEMA_SQL, SCHEMA_VERSION, default_index_path
from hftui.hub.index.store import RepoIndex
from hftui.hub.index.words import PARAMETER_STEPS, search_words

__all__ = [
    "CACHE_STATES",
    "DATASET_FACETS",
    "FACETS",
    "PARAMETER_STEPS",
    "SCHEMA_SQL",
    "SCHEMA_VERSION",
    "DatasetRecord",
    "ModelRecord",
    "RepoIndex",
    "RepoRecord",
    "default_index_path",
    "record_from_dataset_info",
    "record_from_model_info",
    "search_words",
]
