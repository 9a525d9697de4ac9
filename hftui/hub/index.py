"""One local SQLite index of model and dataset metadata, fed by Hub listings and the local cache, searched offline.

Listings are written through (`upsert_model_infos`, `upsert_dataset_infos`), the local HF cache is folded in
at start-up (`index_cache`, models and datasets with their card facts), and `search`/`count`/`facet_counts`
answer a `ModelQuery` or a `DatasetQuery` from the file alone, so the Models and Datasets screens work the
same online and offline.

Datasets live in the same file, connection and lock, with their own tables (`datasets`, `dataset_cards`,
`dataset_terms`) built the same way, described by a `_Kind`: one table holds every column (datasets are
far fewer than models, so the narrow keys table is not worth a join), the multi-valued facets (task
categories, modalities, size categories, languages, licences) are JSON lists, and `facet_totals` counts
their values under "dataset."-prefixed facet names. Everything below about words, tokens and the two
query plans holds for both.

How it stays fast at a million rows (bench/index_scale.py measures it):

* Two tables per model, joined by id. `model_keys` is narrow: the five sort columns, the parameter count
  and the facet values (author, task, library, licence, languages), with one index per sort column.
  Sorting, numeric filters and facet counts read only these rows, so they stay in the page cache.
  `models` holds the rest of the record (repo id, tags, gating, cache state) and `words`: the searchable
  words of the id, author and tags plus one token per filterable fact ("_t_text_2d_generation" for
  task=text-generation, "_l_en", "_g_1" for gated, "_k_1" for cached).
* `model_terms` is a contentless FTS5 index (rowids only, `detail=none`, prefix indexes for 1-5
  characters) of each row's `words` plus parameter-size tokens ("_p_1000000000" on every model of at most
  1B parameters). A text search with filters is one intersection of posting lists. Facet tokens spell
  values injectively (case-folded), so filters are exact, not approximations checked later.
* Each search picks one of two plans by fetching at most `_MATCH_CAP + 1` rowids of the FTS match: up to
  `_MATCH_CAP` matches, those rowids are looked up in `model_keys` and sorted ("match"; the FTS query is
  not run a second time); more matches are dense, so walking the sort column's index from
  the top and testing each row's `words` with `instr` fills a page after a few thousand rows ("scan").
  The scan tests single-valued facet filters on the narrow key columns first, and reads `words` by a
  correlated lookup, never a join (see `search`). Both plans test the same tokens, so they agree exactly.
* `facet_totals` holds each facet value's count over the whole table (kept in step by every write), so an
  unfiltered picker and `len()` are one lookup; other counts are remembered until the file changes.
* Non-ASCII characters in words are spelled `u` + six hex digits, so FTS only ever tokenizes ASCII letters
  and digits: what Python splits is exactly what FTS indexes, and a quoted user term can never become a
  phrase query (unsupported with `detail=none`), whatever is typed.

The FTS index is contentless, so removing a row's old terms needs them spelled exactly as inserted;
they are rebuilt from the stored `words` and `parameters` (`_fts_terms`). Changing how words or tokens
are made therefore needs a new `SCHEMA_VERSION` (the old file is then rebuilt).

Threads: one connection opened with `check_same_thread=False`, every use under one lock. Queries take a
few milliseconds, so serialising them is simpler than a connection per worker thread, and it keeps
`close()` and corruption recovery in one place. WAL mode lets another hftui process read meanwhile.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
import threading
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from hftui.hub.cache import CachedRepo, CacheScan
from hftui.hub.cards.text import read_card
from hftui.hub.catalog.query import DEFAULT_SORT, DatasetQuery, ModelQuery
from hftui.hub.repo_files import safetensors_parameters
from hftui.paths import hftui_home

if TYPE_CHECKING:
    from huggingface_hub import DatasetInfo, ModelInfo

SCHEMA_VERSION = 2  # 2: datasets
CACHE_STATES = ("cached", "partial", "remote")
FACETS = ("task", "library", "language", "license", "author")
DATASET_FACETS = ("task_category", "modality", "size_category", "language", "license", "author")

# Above this many FTS matches, walking the sort index beats fetching and sorting every match
# (bench/index_scale.py: a page needs ~50 * rows / matches scanned rows; a match costs about one).
_MATCH_CAP = 8_000
_BATCH = 10_000
_REMEMBERED_COUNTS = 256
# Parameter counts are indexed as "at most T" tokens for these T, so a size filter narrows the FTS match;
# the exact bound is then checked on the row.
PARAMETER_STEPS = (
    10**7, 3 * 10**7, 10**8, 3 * 10**8, 10**9, 2 * 10**9, 4 * 10**9, 8 * 10**9,
    15 * 10**9, 35 * 10**9, 75 * 10**9, 150 * 10**9, 400 * 10**9, 10**12,
)  # fmt: skip

_SORT_COLUMNS = {
    "trending": "trending_score",
    "likes": "likes",
    "downloads": "downloads",
    "updated": "last_modified",
    "created": "created_at",
}
# A facet value the scan plan can compare on its column (see `_Plan.scan_key_conditions`).
_PLAIN_FACET_VALUE = re.compile(r"[!-~]+")
_FACET_COLUMNS = {"task": "pipeline_tag", "library": "library_name", "license": "license", "author": "author"}
# Every dataset facet but the author is a JSON list column.
_DATASET_FACET_COLUMNS = {
    "task_category": "task_categories",
    "modality": "modalities",
    "size_category": "size_categories",
    "language": "languages",
    "license": "licenses",
    "author": "author",
}
# Token prefixes in `words`; "_" is a token character for FTS but never part of a searched word, so typed
# text cannot reach these.
_FACET_TOKENS = {
    "task": "_t_",
    "library": "_b_",
    "language": "_l_",
    "license": "_c_",
    "author": "_a_",
    "task_category": "_tc_",
    "modality": "_mo_",
    "size_category": "_sc_",
}
_GATED, _NOT_GATED, _CACHED = "_g_1", "_g_0", "_k_1"

_MODEL_COLUMNS = (
    "repo_id",
    "tags",
    "gated",
    "cache_state",
    "cached_revisions",
    "size_on_disk",
    "card_revision",
    "words",
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
)
_JSON_COLUMNS = frozenset({"languages", "tags", "cached_revisions"})
_SELECT_ROW = ", ".join(
    ["m.id", *(f"m.{column}" for column in _MODEL_COLUMNS), *(f"k.{column}" for column in _KEY_COLUMNS)]
)
_FROM_ROWS = "models AS m JOIN model_keys AS k ON k.id = m.id"

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
_DATASET_JSON_COLUMNS = frozenset(
    {"task_categories", "modalities", "size_categories", "languages", "licenses", "tags", "cached_revisions"}
)
_DATASET_SELECT_ROW = ", ".join(["k.id", *(f"k.{column}" for column in _DATASET_COLUMNS)])

SCHEMA_SQL = f"""
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    tags TEXT,
    gated TEXT,
    cache_state TEXT NOT NULL DEFAULT 'remote',
    cached_revisions TEXT,
    size_on_disk INTEGER,
    card_revision TEXT,
    words TEXT NOT NULL
);
CREATE TABLE model_keys (
    id INTEGER PRIMARY KEY,
    trending_score REAL,
    likes INTEGER,
    downloads INTEGER,
    last_modified REAL,
    created_at REAL,
    parameters INTEGER,
    author TEXT,
    pipeline_tag TEXT,
    library_name TEXT,
    license TEXT,
    languages TEXT
);
CREATE INDEX keys_by_trending ON model_keys(trending_score);
CREATE INDEX keys_by_likes ON model_keys(likes);
CREATE INDEX keys_by_downloads ON model_keys(downloads);
CREATE INDEX keys_by_updated ON model_keys(last_modified);
CREATE INDEX keys_by_created ON model_keys(created_at);

CREATE INDEX models_on_disk ON models(cache_state) WHERE cache_state != 'remote';

CREATE TABLE model_cards (id INTEGER PRIMARY KEY, card_text TEXT NOT NULL);

CREATE VIRTUAL TABLE model_terms USING fts5(
    terms, content='', detail=none, columnsize=0,
    tokenize="unicode61 remove_diacritics 0 tokenchars '_'", prefix='1 2 3 4 5'
);

CREATE TABLE facet_totals (
    facet TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (facet, value)
) WITHOUT ROWID;

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    author TEXT,
    task_categories TEXT,
    modalities TEXT,
    size_categories TEXT,
    languages TEXT,
    licenses TEXT,
    tags TEXT,
    trending_score REAL,
    likes INTEGER,
    downloads INTEGER,
    last_modified REAL,
    created_at REAL,
    gated TEXT,
    cache_state TEXT NOT NULL DEFAULT 'remote',
    cached_revisions TEXT,
    size_on_disk INTEGER,
    card_revision TEXT,
    words TEXT NOT NULL
);
CREATE INDEX datasets_by_trending ON datasets(trending_score);
CREATE INDEX datasets_by_likes ON datasets(likes);
CREATE INDEX datasets_by_downloads ON datasets(downloads);
CREATE INDEX datasets_by_updated ON datasets(last_modified);
CREATE INDEX datasets_by_created ON datasets(created_at);
CREATE INDEX datasets_on_disk ON datasets(cache_state) WHERE cache_state != 'remote';

CREATE TABLE dataset_cards (id INTEGER PRIMARY KEY, card_text TEXT NOT NULL);

CREATE VIRTUAL TABLE dataset_terms USING fts5(
    terms, content='', detail=none, columnsize=0,
    tokenize="unicode61 remove_diacritics 0 tokenchars '_'", prefix='1 2 3 4 5'
);
PRAGMA user_version = {SCHEMA_VERSION};
"""


@dataclass(frozen=True)
class ModelRecord:
    """What the index knows about one model repo: Hub metadata, card facts and its local cache state."""

    repo_id: str
    author: str | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    languages: tuple[str, ...] = ()
    license: str | None = None
    tags: tuple[str, ...] = ()
    downloads: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    created_at: float | None = None
    last_modified: float | None = None
    gated: str | None = None
    parameters: int | None = None
    cache_state: str = "remote"
    cached_revisions: tuple[str, ...] = ()
    size_on_disk: int | None = None
    card_text: str | None = None

    @property
    def is_cached(self) -> bool:
        """Whether any of the repo is on disk (fully or with downloads still incomplete)."""
        return self.cache_state != "remote"


@dataclass(frozen=True)
class DatasetRecord:
    """What the index knows about one dataset repo: Hub metadata, card facts and its local cache state."""

    repo_id: str
    author: str | None = None
    task_categories: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    size_categories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    downloads: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    created_at: float | None = None
    last_modified: float | None = None
    gated: str | None = None
    cache_state: str = "remote"
    cached_revisions: tuple[str, ...] = ()
    size_on_disk: int | None = None
    card_text: str | None = None

    @property
    def license(self) -> str | None:
        """The first licence (most datasets have one)."""
        return self.licenses[0] if self.licenses else None

    @property
    def is_cached(self) -> bool:
        """Whether any of the repo is on disk (fully or with downloads still incomplete)."""
        return self.cache_state != "remote"


# -- words and tokens --------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Every model has a "region:us"-style tag; its words would only make short prefixes match everything.
_UNSEARCHED_TAG_KEYS = frozenset({"region"})


def _fold(text: str) -> str:
    """Lowercase without accents, so "Café" and "cafe" are one word."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _ascii_spelling(word: str) -> str:
    """Spell non-ASCII characters as u + six hex digits; the fixed width keeps prefixes prefixes."""
    if word.isascii():
        return word
    return "".join(ch if ch.isascii() else f"u{ord(ch):06x}" for ch in word)


def search_words(text: str) -> list[str]:
    """The words of `text` as the index stores and matches them (split on anything not a letter or digit)."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    words: list[str] = []
    for raw in _WORD.findall(text):
        words.extend(_ASCII_WORD.findall(_ascii_spelling(_fold(raw))))
    return words


def _words_and_parts(source: str) -> list[str]:
    """Words of an id, author or tag, plus camelCase parts of its words ("TinyLlama" is found by "llama")."""
    words = search_words(source)
    if _CAMEL.search(source):
        words += search_words(_CAMEL.sub(" ", source))
    return words


# A million rows share a few thousand authors and tags: their words are worth remembering.
_author_words = lru_cache(maxsize=65536)(_words_and_parts)


@lru_cache(maxsize=65536)
def _tag_words(tag: str) -> tuple[str, ...]:
    """Words of a tag; for "key:value" tags only the value counts ("license:mit" is found by "mit")."""
    key, colon, value = tag.partition(":")
    if not colon:
        return tuple(_words_and_parts(tag))
    if key in _UNSEARCHED_TAG_KEYS:
        return ()
    return tuple(_words_and_parts(value))


@lru_cache(maxsize=65536)
def _facet_token(facet: str, value: str) -> str:
    """The token for one facet value: case-folded, every character but a-z0-9 escaped as _hex_ (injective)."""
    spelled = "".join(
        ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else f"_{ord(ch):x}_" for ch in value.strip().casefold()
    )
    return _FACET_TOKENS[facet] + spelled


def _row_words(row: dict[str, Any]) -> str:
    """The `words` column: searchable words, then fact tokens; space-delimited at both ends for `instr`."""
    repo_id: str = row["repo_id"]
    owner, slash, name = repo_id.rpartition("/")
    words = _words_and_parts(name)
    if slash:
        words.extend(_author_words(owner))
    if row["author"]:
        words.extend(_author_words(row["author"]))
    for tag in row["tags"]:
        words.extend(_tag_words(tag))
    for facet, column in _FACET_COLUMNS.items():
        if row[column]:
            words.append(_facet_token(facet, row[column]))
    for language in row["languages"]:
        words.append(_facet_token("language", language))
    words.append(_GATED if row["gated"] else _NOT_GATED)
    if row["cache_state"] != "remote":
        words.append(_CACHED)
    return " " + " ".join(dict.fromkeys(words)) + " "


def _dataset_row_words(row: dict[str, Any]) -> str:
    """The `words` column of a dataset row, built like `_row_words` from the dataset facets."""
    repo_id: str = row["repo_id"]
    owner, slash, name = repo_id.rpartition("/")
    words = _words_and_parts(name)
    if slash:
        words.extend(_author_words(owner))
    if row["author"]:
        words.extend(_author_words(row["author"]))
    for tag in row["tags"]:
        words.extend(_tag_words(tag))
    for facet, column in _DATASET_FACET_COLUMNS.items():
        values = row[column]
        for value in (values,) if isinstance(values, str) else values or ():
            words.append(_facet_token(facet, value))
    if row["cache_state"] != "remote":
        words.append(_CACHED)
    return " " + " ".join(dict.fromkeys(words)) + " "


def _parameter_token(step: int) -> str:
    return f"_p_{step}"


@lru_cache(maxsize=4096)
def _parameter_tokens(parameters: int | None) -> str:
    if parameters is None:
        return ""
    first = bisect.bisect_left(PARAMETER_STEPS, parameters)
    return "".join(" " + _parameter_token(step) for step in PARAMETER_STEPS[first:])


def _fts_terms(words: str, parameters: int | None) -> str:
    """What `model_terms` indexes for a row; must be reproducible from the stored row (see module doc)."""
    return words + _parameter_tokens(parameters)


# -- records from the Hub ----------------------------------------------------------------------------------

# ISO 639-1 codes: the Hub lists a model's languages among its tags as bare codes.
_LANGUAGE_CODES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
    dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie
    ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg
    mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro
    ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty
    ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)


def _text_list(value: Any) -> tuple[str, ...]:
    """Card values may be a string, a list, or junk; keep the non-empty strings."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    seen: dict[str, None] = {}
    for item in value:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip():
            seen[str(item).strip()] = None
    return tuple(seen)


def _timestamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _gated_value(value: Any) -> str | None:
    if value in (None, False):
        return None
    if value is True:
        return "auto"
    return str(value)


def record_from_model_info(info: ModelInfo) -> ModelRecord:
    """A record from a `ModelInfo` of `list_models`/`model_info`; languages and licence come from the card
    data when it was fetched, else from the Hub's tags ("license:mit", "en")."""
    tags = _text_list(info.tags)
    card: dict[str, Any] = {}
    card_data = getattr(info, "card_data", None)
    if card_data is not None:
        try:
            card = card_data.to_dict()
        except Exception:  # third-party card data may hold anything; listing must not fail on it
            card = {}
    languages = _text_list(card.get("language"))
    if not languages:
        languages = tuple(tag for tag in tags if tag in _LANGUAGE_CODES)
    licenses = _text_list(card.get("license"))
    if not licenses:
        licenses = tuple(tag.removeprefix("license:") for tag in tags if tag.startswith("license:"))
    parameters = None
    safetensors = getattr(info, "safetensors", None)
    if safetensors is not None:
        parameters = _int_or_none(getattr(safetensors, "total", None))
    gguf = getattr(info, "gguf", None)
    if parameters is None and isinstance(gguf, dict):
        parameters = _int_or_none(gguf.get("total"))
    author = info.author or (info.id.split("/", 1)[0] if "/" in info.id else None)
    return ModelRecord(
        repo_id=info.id,
        author=author,
        pipeline_tag=info.pipeline_tag or _first(card.get("pipeline_tag")),
        library_name=info.library_name or _first(card.get("library_name")),
        languages=tuple(language.lower() for language in languages),
        license=licenses[0].lower() if licenses else None,
        tags=tags,
        downloads=_int_or_none(info.downloads),
        likes=_int_or_none(info.likes),
        trending_score=float(info.trending_score) if info.trending_score is not None else None,
        created_at=_timestamp(info.created_at),
        last_modified=_timestamp(info.last_modified),
        gated=_gated_value(info.gated),
        parameters=parameters,
    )


def _first(value: Any) -> str | None:
    values = _text_list(value)
    return values[0] if values else None


def _card_record(repo: CachedRepo, metadata: dict[str, Any]) -> ModelRecord:
    """Card facts of a cached repo, with tags derived as the Hub derives them, so offline search agrees."""
    pipeline_tag = _first(metadata.get("pipeline_tag"))
    library_name = _first(metadata.get("library_name"))
    languages = tuple(language.lower() for language in _text_list(metadata.get("language")))
    licenses = tuple(value.lower() for value in _text_list(metadata.get("license")))
    tags: dict[str, None] = {}
    for tag in (library_name, pipeline_tag, *_text_list(metadata.get("tags")), *languages):
        if tag:
            tags[tag] = None
    for dataset in _text_list(metadata.get("datasets")):
        tags[f"dataset:{dataset}"] = None
    for base in _text_list(metadata.get("base_model")):
        tags[f"base_model:{base}"] = None
    for license_id in licenses:
        tags[f"license:{license_id}"] = None
    return ModelRecord(
        repo_id=repo.repo_id,
        author=repo.repo_id.split("/", 1)[0] if "/" in repo.repo_id else None,
        pipeline_tag=pipeline_tag,
        library_name=library_name,
        languages=languages,
        license=licenses[0] if licenses else None,
        tags=tuple(tags),
        # A card only says that access is gated; "manual" (approval needed) is the cautious reading.
        gated="manual" if "extra_gated_prompt" in metadata or "extra_gated_fields" in metadata else None,
        # Offline, the weights' own headers are the only source of a parameter count (for the Fits column).
        parameters=safetensors_parameters(repo.snapshot_path),
    )


# How the Hub names a dataset's modalities from its data files (as the local Hub does too).
_MODALITIES_BY_SUFFIX = {
    ".csv": ("tabular", "text"),
    ".tsv": ("tabular", "text"),
    ".parquet": ("tabular", "text"),
    ".arrow": ("tabular", "text"),
    ".jsonl": ("text",),
    ".json": ("text",),
    ".txt": ("text",),
    ".png": ("image",),
    ".jpg": ("image",),
    ".jpeg": ("image",),
    ".webp": ("image",),
    ".wav": ("audio",),
    ".mp3": ("audio",),
    ".flac": ("audio",),
    ".ogg": ("audio",),
    ".mp4": ("video",),
}
_MODALITY_FILES_CHECKED = 10_000  # a snapshot of a million images needs only its first files looked at


def _tag_values(tags: tuple[str, ...], key: str) -> tuple[str, ...]:
    prefix = key + ":"
    return tuple(dict.fromkeys(tag[len(prefix) :] for tag in tags if tag.startswith(prefix) and len(tag) > len(prefix)))


def _dataset_card_fields(metadata: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Task categories, size categories, languages and licences from dataset card metadata, over the legacy
    plural keys and 2022's per-configuration mappings (read by the dataset card code, never raising)."""
    from hftui.hub.cards.dataset import joined_per_config_fields
    from hftui.hub.cards.model import _names

    problems: list[str] = []  # a list needs no explanations; the dataset page shows them
    try:
        flat = joined_per_config_fields(metadata if isinstance(metadata, dict) else {})
        return {
            "task_categories": _names(flat, ("task_categories",), problems),
            "size_categories": _names(flat, ("size_categories",), problems),
            "languages": tuple(v.lower() for v in _names(flat, ("language", "languages"), problems, language=True)),
            "licenses": tuple(v.lower() for v in _names(flat, ("license", "licenses"), problems)),
            "tags": _names(flat, ("tags",), problems),
        }
    except Exception:  # hand-written metadata can hold anything; indexing must not fail on it
        return {"task_categories": (), "size_categories": (), "languages": (), "licenses": (), "tags": ()}


def record_from_dataset_info(info: DatasetInfo) -> DatasetRecord:
    """A record from a `DatasetInfo` of `list_datasets`/`dataset_info`: facets from the Hub's tags
    ("task_categories:…", "modality:…", "size_categories:…", "language:…", "license:…"), else from the card
    data when it was fetched (`full=True`)."""
    tags = _text_list(info.tags)
    card: dict[str, Any] = {}
    card_data = getattr(info, "card_data", None)
    if card_data is not None:
        try:
            card = card_data.to_dict()
        except Exception:  # third-party card data may hold anything; listing must not fail on it
            card = {}
    from_card = _dataset_card_fields(card) if card else {}

    def facet(tag_key: str, card_key: str) -> tuple[str, ...]:
        return _tag_values(tags, tag_key) or from_card.get(card_key, ())

    author = info.author or (info.id.split("/", 1)[0] if "/" in info.id else None)
    return DatasetRecord(
        repo_id=info.id,
        author=author,
        task_categories=facet("task_categories", "task_categories"),
        modalities=_tag_values(tags, "modality"),
        size_categories=facet("size_categories", "size_categories"),
        languages=tuple(language.lower() for language in facet("language", "languages")),
        licenses=tuple(license_id.lower() for license_id in facet("license", "licenses")),
        tags=tags,
        downloads=_int_or_none(info.downloads),
        likes=_int_or_none(info.likes),
        trending_score=float(info.trending_score) if info.trending_score is not None else None,
        created_at=_timestamp(info.created_at),
        last_modified=_timestamp(info.last_modified),
        gated=_gated_value(info.gated),
    )


def _snapshot_modalities(snapshot: Path | None) -> tuple[str, ...]:
    """Modalities of a cached snapshot's data files, named as the Hub names them."""
    if snapshot is None:
        return ()
    found: set[str] = set()
    try:
        for checked, path in enumerate(snapshot.rglob("*")):
            if checked >= _MODALITY_FILES_CHECKED:
                break
            found.update(_MODALITIES_BY_SUFFIX.get(path.suffix.lower(), ()))
    except OSError:
        pass
    return tuple(sorted(found))


def _dataset_card_record(repo: CachedRepo, metadata: dict[str, Any]) -> DatasetRecord:
    """Card facts of a cached dataset, with tags derived as the Hub derives them, so offline search agrees."""
    facts = _dataset_card_fields(metadata)
    modalities = _snapshot_modalities(repo.snapshot_path)
    tags: dict[str, None] = {}
    for key, values in (
        ("task_categories", facts["task_categories"]),
        ("language", facts["languages"]),
        ("license", facts["licenses"]),
        ("size_categories", facts["size_categories"]),
        ("modality", modalities),
    ):
        for value in values:
            tags[f"{key}:{value}"] = None
    for tag in facts["tags"]:
        tags[tag] = None
    return DatasetRecord(
        repo_id=repo.repo_id,
        author=repo.repo_id.split("/", 1)[0] if "/" in repo.repo_id else None,
        task_categories=facts["task_categories"],
        modalities=modalities,
        size_categories=facts["size_categories"],
        languages=facts["languages"],
        licenses=facts["licenses"],
        tags=tuple(tags),
        gated="manual" if "extra_gated_prompt" in metadata or "extra_gated_fields" in metadata else None,
    )


def default_index_path() -> Path:
    """Where hftui keeps its model and dataset index."""
    return hftui_home() / "index" / "models.sqlite"


# -- the index ---------------------------------------------------------------------------------------------

_T = TypeVar("_T")


def _is_corruption(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    message = str(error).lower()
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in message or "not a database" in message


def _json_list(values: tuple[str, ...]) -> str | None:
    return json.dumps(list(values), ensure_ascii=False) if values else None


def _tuple_from_json(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


# SQLite's NOCASE folds ASCII only; fold the same way so Python and SQL agree on which ids are the same.
_NOCASE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _nocase_key(repo_id: str) -> str:
    return repo_id.translate(_NOCASE)


@dataclass(frozen=True)
class _Plan:
    """How one query is answered: the FTS expression, the exact parameter bound, the `words` tests for a
    scan, and which of the two plans `search` uses."""

    match: str | None
    max_parameters: int | None
    word_tests: tuple[str, ...]
    scan: bool
    # The FTS rowids, when the probe found few enough to fetch: the page is then sorted from these alone,
    # without running the match a second time.
    matched_ids: tuple[int, ...] | None = None
    # (column, value) of single-valued facet filters whose value is plain ASCII: see `scan_key_conditions`.
    key_tests: tuple[tuple[str, str], ...] = ()

    def key_conditions(self) -> tuple[str, tuple[Any, ...]]:
        """Conditions on `model_keys AS k` alone."""
        if self.max_parameters is None:
            return "", ()
        return " AND k.parameters <= ?", (self.max_parameters,)

    def scan_key_conditions(self) -> tuple[str, tuple[Any, ...]]:
        """`key_conditions` plus a test of each facet filter on its `k` column, for the scan plan.

        The scan walks the sort index and would otherwise read every row's wide `words` row to test the
        facet tokens; testing the narrow column first skips most of those reads. For a stored value of
        printable ASCII without spaces, NOCASE equality is exactly token equality (casefold is lower,
        strip changes nothing); any other stored value passes this test and is decided by the token
        test, which is still applied, so both plans keep agreeing exactly.
        """
        where, params = self.key_conditions()
        for column, value in self.key_tests:
            where += f" AND (k.{column} = ? COLLATE NOCASE OR k.{column} GLOB '*[^!-~]*')"
            params = (*params, value)
        return where, params


_DATASET_TABLES = ("datasets", "dataset_cards", "dataset_terms")


class RepoIndex:
    """The model and dataset metadata index in one SQLite file; safe to share between threads (one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rebuilt_reason: str | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        # Counts by query (sort aside): pickers reopen and sorts change far more often than data does.
        self._counts: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._counts_version: tuple[int, int] = (-1, -1)
        self._writes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        problem = self._try_open()
        if problem is not None:
            self._move_aside(problem)
            problem = self._try_open()
            if problem is not None:  # a fresh file that fails too is not something to paper over
                raise sqlite3.DatabaseError(problem)

    # -- opening, validating, rebuilding -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable but for power loss; it is a cache
        conn.execute("PRAGMA cache_size=-131072")  # 128 MiB: the narrow keys and their indexes stay hot
        conn.execute("PRAGMA mmap_size=1073741824")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA analysis_limit=400")  # PRAGMA optimize samples instead of reading 1M rows
        # Checkpoint every 64 MiB rather than 4: a large listing sync then pays for far fewer fsyncs.
        conn.execute("PRAGMA wal_autocheckpoint=16384")
        return conn

    def _try_open(self) -> str | None:
        """Open and check the file; return why its content cannot be used (leaving it closed), or None.
        Other failures (a locked or unreadable file) raise: the file may be fine, so it is not replaced."""
        try:
            conn = self._connect()
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            return self._describe_failure(error)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            problem = None
            if version == 0 and not tables:
                conn.executescript(SCHEMA_SQL)
            elif version != SCHEMA_VERSION:
                newer = "a newer" if version > SCHEMA_VERSION else "an older"
                problem = f"the index was written by {newer} hftui (schema {version}, not {SCHEMA_VERSION})"
            elif not {"models", "model_keys", "model_cards", "model_terms", "facet_totals", *_DATASET_TABLES} <= tables:
                problem = "the index file is missing tables"
            else:
                # A cheap read of pages every query touches; a full integrity check would cost seconds.
                conn.execute("SELECT n FROM facet_totals WHERE facet = '*'").fetchall()
                conn.execute(f"SELECT {_SELECT_ROW} FROM {_FROM_ROWS} ORDER BY m.id DESC LIMIT 1").fetchall()
                conn.execute("SELECT rowid FROM model_terms WHERE model_terms MATCH '_g_1' LIMIT 1").fetchall()
                conn.execute(f"SELECT {_DATASET_SELECT_ROW} FROM datasets AS k ORDER BY k.id DESC LIMIT 1").fetchall()
                conn.execute("SELECT rowid FROM dataset_terms WHERE dataset_terms MATCH '_k_1' LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                conn.close()
                raise
            problem = self._describe_failure(error)
        if problem is not None:
            conn.close()
            return problem
        self._conn = conn
        return None

    @staticmethod
    def _describe_failure(error: sqlite3.Error) -> str:
        if "not a database" in str(error).lower():
            return "the index file is not an SQLite database"
        return f"the index file is damaged ({error})"

    def _move_aside(self, problem: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for n in range(1, 1000):  # two rebuilds in one second keep both files
            if not target.exists():
                break
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        if self.path.exists():
            self.path.replace(target)
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists():
                sidecar.replace(target.with_name(target.name + suffix))
        self.rebuilt_reason = f"{problem}; it was moved to {target.name} and rebuilt"

    def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `work` under the lock. A damaged file found mid-use is set aside and replaced by an empty
        index, as on opening, and `work` runs once more on that."""
        with self._lock:
            for attempt in (1, 2):
                if self._conn is None:
                    raise RuntimeError("the model index is closed")
                conn = self._conn
                try:
                    return work(conn)
                except sqlite3.DatabaseError as error:
                    if conn.in_transaction:
                        conn.rollback()
                    if attempt == 2 or not _is_corruption(error):
                        raise
                    conn.close()
                    self._conn = None
                    self._move_aside(self._describe_failure(error))
                    problem = self._try_open()
                    if problem is not None:
                        raise sqlite3.DatabaseError(problem) from error
                    self._writes += 1  # nothing remembered about the old file holds
            raise AssertionError("unreachable")

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `work` in one write transaction."""

        def transaction(conn: sqlite3.Connection) -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")
            self._writes += 1
            return result

        return self._run(transaction)

    def _remembered(self, conn: sqlite3.Connection, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        """`compute()`, remembered until this or another connection next writes to the file."""
        # data_version moves when another connection commits; our own commits bump _writes.
        version = (self._writes, int(conn.execute("PRAGMA data_version").fetchone()[0]))
        if version != self._counts_version:
            self._counts.clear()
            self._counts_version = version
        if key in self._counts:
            self._counts.move_to_end(key)
            return self._counts[key]  # type: ignore[no-any-return]
        value = compute()
        self._counts[key] = value
        if len(self._counts) > _REMEMBERED_COUNTS:
            self._counts.popitem(last=False)
        return value

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute("PRAGMA optimize")
                except sqlite3.Error:
                    pass  # closing must not fail on a statistics refresh
                self._conn.close()
                self._conn = None

    def __enter__(self) -> RepoIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        """How many models the index holds."""
        return self._run(lambda conn: _total(conn, _MODELS))

    def dataset_count(self) -> int:
        """How many datasets the index holds."""
        return self._run(lambda conn: _total(conn, _DATASETS))

    def optimize(self) -> None:
        """Tidy up after a large load: merge FTS segments, refresh planner statistics, trim the WAL."""

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO model_terms(model_terms) VALUES ('optimize')")
            conn.execute("INSERT INTO dataset_terms(dataset_terms) VALUES ('optimize')")
            conn.execute("PRAGMA optimize=0x10002")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._run(work)

    # -- writing -------------------------------------------------------------------------------------------

    def upsert(self, records: Iterable[ModelRecord]) -> int:
        """Insert or update records (e.g. a page of a Hub listing); returns how many were written.

        Fields a record leaves None or empty keep their stored value, so a sparse listing never erases what
        a fuller one or the card said (use `upsert_model_infos` for Hub data: there an explicit "not
        gated" clears gating). Cache fields are kept unless the record states a cache state of its own.
        Each batch of 10,000 records is one transaction.
        """
        return self._upsert(((record, False) for record in records), _MODELS)

    def upsert_model_infos(self, infos: Iterable[ModelInfo]) -> int:
        """Write through `HfApi.list_models`/`model_info` results."""
        return self._upsert(((record_from_model_info(info), info.gated is False) for info in infos), _MODELS)

    def set_card(self, repo_id: str, card_text: str) -> None:
        """Remember a card's text (e.g. after reading it from the Hub) so it can be shown offline."""
        self._upsert([(ModelRecord(repo_id, card_text=card_text), False)], _MODELS)

    def upsert_datasets(self, records: Iterable[DatasetRecord]) -> int:
        """Insert or update dataset records, by the same rules as `upsert`."""
        return self._upsert(((record, False) for record in records), _DATASETS)

    def upsert_dataset_infos(self, infos: Iterable[DatasetInfo]) -> int:
        """Write through `HfApi.list_datasets`/`dataset_info` results."""
        return self._upsert(((record_from_dataset_info(info), info.gated is False) for info in infos), _DATASETS)

    def set_dataset_card(self, repo_id: str, card_text: str) -> None:
        """Remember a dataset card's text so it can be shown offline."""
        self._upsert([(DatasetRecord(repo_id, card_text=card_text), False)], _DATASETS)

    def _upsert(self, records: Iterable[tuple[Any, bool]], kind: _Kind) -> int:
        """Upsert (record, whether its gated=None means "not gated") pairs in batches."""
        written = 0
        batch: list[tuple[Any, bool]] = []
        for item in records:
            if item[0].cache_state not in CACHE_STATES:
                raise ValueError(f"unknown cache state {item[0].cache_state!r}")
            batch.append(item)
            if len(batch) >= _BATCH:
                chunk, batch = batch, []
                written += self._write(lambda conn, chunk=chunk: self._upsert_batch(conn, chunk, kind))  # type: ignore[misc]
        if batch:
            written += self._write(lambda conn: self._upsert_batch(conn, batch, kind))
        return written

    def _upsert_batch(self, conn: sqlite3.Connection, batch: list[tuple[Any, bool]], kind: _Kind) -> int:
        existing = _existing_rows(conn, [record.repo_id for record, _ in batch], kind)
        pending: dict[str, dict[str, Any]] = {}
        cards: dict[str, str] = {}
        for record, ungated in batch:
            key = _nocase_key(record.repo_id)
            pending[key] = _merge(pending.get(key) or existing.get(key), record, kind, ungated=ungated)
            if record.card_text is not None:
                cards[key] = record.card_text
        _write_rows(conn, pending.values(), kind)
        if cards:
            conn.executemany(
                f"INSERT INTO {kind.cards_table}(id, card_text) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET card_text = excluded.card_text",
                [(pending[key]["id"], text) for key, text in cards.items()],
            )
        return len(batch)

    def index_cache(self, scan: CacheScan) -> int:
        """Fold a cache scan in: card facts and cache state for each cached model and dataset; repos gone
        from the cache go back to "remote" (their rows stay). A card is reread only when its snapshot
        changed. Returns the number of model repos on disk."""
        found = {kind.repo_type: (scan.of_type(kind.repo_type), _repos_with_incomplete_blobs(scan.cache_dir, kind))
                 for kind in (_MODELS, _DATASETS)}  # fmt: skip

        def work(conn: sqlite3.Connection) -> int:
            on_disk = {kind.repo_type: _fold_cache(conn, kind, *found[kind.repo_type]) for kind in (_MODELS, _DATASETS)}
            return on_disk["model"]

        return self._write(work)

    # -- reading -------------------------------------------------------------------------------------------

    def get(self, repo_id: str) -> ModelRecord | None:
        """One model record by repo id (case-insensitive), with its card text."""
        return self._run(lambda conn: _get(conn, repo_id, _MODELS))  # type: ignore[no-any-return]

    def get_dataset(self, repo_id: str) -> DatasetRecord | None:
        """One dataset record by repo id (case-insensitive), with its card text."""
        return self._run(lambda conn: _get(conn, repo_id, _DATASETS))  # type: ignore[no-any-return]

    def explain(self, query: ModelQuery | DatasetQuery) -> str:
        """Which plan `search` uses for `query`: "match" (FTS first) or "scan" (sort index first)."""
        return self._run(lambda conn: "scan" if _plan(conn, query, _kind_of(query)).scan else "match")

    @overload
    def search(self, query: ModelQuery, *, limit: int = 50, offset: int = 0) -> list[ModelRecord]: ...
    @overload
    def search(self, query: DatasetQuery, *, limit: int = 50, offset: int = 0) -> list[DatasetRecord]: ...
    def search(self, query: ModelQuery | DatasetQuery, *, limit: int = 50, offset: int = 0) -> list[Any]:
        """One page of models (for a `ModelQuery`) or datasets (`DatasetQuery`) matching `query`, best first by
        its sort (ties: the later-indexed first).

        Records in a page leave `card_text` None to keep pages light; `get`/`get_dataset` return it.
        """
        limit, offset = max(0, int(limit)), max(0, int(offset))
        if limit == 0:
            return []
        kind = _kind_of(query)
        column = _SORT_COLUMNS[query.sort]

        def work(conn: sqlite3.Connection) -> list[Any]:
            plan = _plan(conn, query, kind)
            keys_where, keys_params = plan.key_conditions()
            order = f"ORDER BY k.{column} DESC, k.id DESC LIMIT ? OFFSET ?"
            if plan.scan:
                keys_where, keys_params = plan.scan_key_conditions()
                tests = "".join(f" AND instr({kind.words_alias}.words, ?) > 0" for _ in plan.word_tests)
                if tests and kind.words_table:
                    # A correlated lookup, not a join: with sampled statistics (PRAGMA optimize at close)
                    # SQLite 3.40 may plan the join with a Bloom filter, built by first reading the whole
                    # wide table (1M rows: 0.8 s instead of 2 ms).
                    words = kind.words_alias
                    tests = f" AND EXISTS (SELECT 1 FROM {kind.words_table} AS {words} WHERE {words}.id = k.id{tests})"
                sql = f"SELECT k.id FROM {kind.keys_table} AS k INDEXED BY {kind.sort_index}{query.sort} "
                sql += f"WHERE 1{keys_where}{tests} {order}"
                params: tuple[Any, ...] = (*keys_params, *plan.word_tests, limit, offset)
            else:
                assert plan.matched_ids is not None
                if not plan.matched_ids:
                    return []
                sql = f"SELECT k.id FROM {kind.keys_table} AS k WHERE k.id IN (SELECT value FROM json_each(?))"
                sql += f"{keys_where} {order}"
                params = (json.dumps(plan.matched_ids), *keys_params, limit, offset)
            ids = [row[0] for row in conn.execute(sql, params)]
            return _records_by_id(conn, ids, kind)

        return self._run(work)

    def count(self, query: ModelQuery | DatasetQuery) -> int:
        """How many models or datasets match `query` (sort does not matter)."""
        kind = _kind_of(query)

        def work(conn: sqlite3.Connection) -> int:
            plan = _plan(conn, query, kind, probe=False)
            if plan.match is None and plan.max_parameters is None:
                return _total(conn, kind)
            if plan.max_parameters is None:
                terms = kind.terms_table
                sql, params = f"SELECT count(*) FROM {terms} WHERE {terms} MATCH ?", (plan.match,)
            else:
                sql, params = _matching("count(*)", plan, kind)
            key = ("count", query.replace(sort=DEFAULT_SORT))
            return self._remembered(conn, key, lambda: int(conn.execute(sql, params).fetchone()[0]))

        return self._run(work)

    def facet_counts(self, facet: str, query: ModelQuery | DatasetQuery, *, limit: int = 50) -> list[tuple[str, int]]:
        """How many models (or datasets, for a `DatasetQuery`) have each value of `facet` among those matching
        `query` without its own filter; most common first (what a picker shows next to each value)."""
        kind = _kind_of(query)
        if facet not in kind.facets:
            raise ValueError(f"unknown facet {facet!r}; expected one of {', '.join(kind.facets)}")
        others = query.replace(**{facet: None}, sort=DEFAULT_SORT)
        limit = max(0, int(limit))

        def work(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            plan = _plan(conn, others, kind, probe=False)
            if plan.match is None and plan.max_parameters is None:
                sql = "SELECT value, n FROM facet_totals WHERE facet = ? AND n > 0 "
                sql += "ORDER BY n DESC, value LIMIT ?"
                stored = kind.facet_prefix + facet
                return [(str(value), int(n)) for value, n in conn.execute(sql, (stored, limit))]
            if facet in kind.multi_facets:
                value, join = "j.value", f" CROSS JOIN json_each(k.{kind.multi_facets[facet]}) AS j"
            else:
                value, join = f"k.{kind.single_facets[facet]}", ""
            sql, params = _matching(f"{value} AS value, count(*) AS n", plan, kind, join)
            sql += " AND value IS NOT NULL GROUP BY value ORDER BY n DESC, value LIMIT ?"

            def compute() -> tuple[tuple[str, int], ...]:
                return tuple((str(value), int(n)) for value, n in conn.execute(sql, (*params, limit)))

            return list(self._remembered(conn, ("facet", facet, others, limit), compute))

        return self._run(work)


def _total(conn: sqlite3.Connection, kind: _Kind) -> int:
    row = conn.execute("SELECT n FROM facet_totals WHERE facet = ?", (kind.total_facet,)).fetchone()
    return int(row[0]) if row else 0


def _get(conn: sqlite3.Connection, repo_id: str, kind: _Kind) -> Any:
    raw = conn.execute(
        f"SELECT {kind.select_row}, c.card_text FROM {kind.from_rows} "
        f"LEFT JOIN {kind.cards_table} AS c ON c.id = {kind.alias}.id "
        f"WHERE {kind.alias}.repo_id = ?",
        (repo_id,),
    ).fetchone()
    return None if raw is None else _record(_row_dict(raw[:-1], kind), kind, raw[-1])


def _fold_cache(
    conn: sqlite3.Connection, kind: _Kind, repos: tuple[CachedRepo, ...], incomplete: dict[str, str]
) -> int:
    """Write the cache state of one kind's repos (see `RepoIndex.index_cache`); returns how many are on disk."""
    existing = _existing_rows(conn, [repo.repo_id for repo in repos] + list(incomplete.values()), kind)
    rows: dict[str, dict[str, Any]] = {}
    for repo in repos:
        key = _nocase_key(repo.repo_id)
        rows[key] = _cached_row(existing.get(key), repo, key in incomplete, kind)
    for key, repo_id in incomplete.items():
        if key not in rows:  # a first download still running or interrupted: no snapshot yet
            rows[key] = _merge(existing.get(key), kind.record_type(repo_id, cache_state="partial"), kind)
    on_disk = len(rows)
    sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.cache_state != 'remote'"
    for raw in conn.execute(sql):
        row = _row_dict(raw, kind)
        if _nocase_key(row["repo_id"]) not in rows:
            row.update(cache_state="remote", cached_revisions=(), size_on_disk=None, card_revision=None)
            rows[_nocase_key(row["repo_id"])] = row
    _write_rows(conn, rows.values(), kind)
    return on_disk


# -- plans -------------------------------------------------------------------------------------------------


def _plan(conn: sqlite3.Connection, query: ModelQuery | DatasetQuery, kind: _Kind, *, probe: bool = True) -> _Plan:
    """Turn a query into FTS terms and `words` tests, and (when `probe`) choose the search plan."""
    terms: list[str] = []
    tests: list[str] = []
    words = search_words(query.text)
    for i, word in enumerate(words):
        if i == len(words) - 1:  # typing-as-you-search: the last word is a prefix, earlier ones are whole
            terms.append(f'"{word}"*')
            tests.append(f" {word}")
        else:
            terms.append(f'"{word}"')
            tests.append(f" {word} ")
    tokens = [_facet_token(facet, getattr(query, facet)) for facet in kind.facets if getattr(query, facet)]
    gated = getattr(query, "gated", None)
    if gated is not None:
        tokens.append(_GATED if gated else _NOT_GATED)
    if query.cached_only:
        tokens.append(_CACHED)
    terms.extend(f'"{token}"' for token in tokens)
    tests.extend(f" {token} " for token in tokens)
    key_tests = tuple(
        (kind.single_facets[facet], value.strip())
        for facet in kind.facets
        if facet in kind.single_facets
        and isinstance(value := getattr(query, facet), str)
        and _PLAIN_FACET_VALUE.fullmatch(value.strip())
    )
    max_parameters: int | None = getattr(query, "max_parameters", None)
    if max_parameters is not None:
        step = bisect.bisect_left(PARAMETER_STEPS, max_parameters)
        if step < len(PARAMETER_STEPS):  # a superset; the exact bound is checked on model_keys
            terms.append(f'"{_parameter_token(PARAMETER_STEPS[step])}"')
    match = " AND ".join(terms) if terms else None
    scan, matched_ids = match is None, None
    if match is not None and probe:
        matched_ids = _capped_match(conn, match, kind)
        scan = matched_ids is None
    return _Plan(match, max_parameters, tuple(tests), scan, matched_ids, key_tests)


def _capped_match(conn: sqlite3.Connection, match: str, kind: _Kind) -> tuple[int, ...] | None:
    """The rowids matching `match`, or None when there are more than `_MATCH_CAP` (the scan plan is better)."""
    terms = kind.terms_table
    sql = f"SELECT rowid FROM {terms} WHERE {terms} MATCH ? LIMIT ?"
    ids = tuple(row[0] for row in conn.execute(sql, (match, _MATCH_CAP + 1)))
    return None if len(ids) > _MATCH_CAP else ids


def _matching(select: str, plan: _Plan, kind: _Kind, join: str = "") -> tuple[str, tuple[Any, ...]]:
    """SELECT over every row matching `plan` (FTS first when there is a match: never slower than a scan here,
    since every matching row is read either way)."""
    keys_where, keys_params = plan.key_conditions()
    if plan.match is None:
        return f"SELECT {select} FROM {kind.keys_table} AS k{join} WHERE 1{keys_where}", keys_params
    terms = kind.terms_table
    sql = f"SELECT {select} FROM {terms} AS t CROSS JOIN {kind.keys_table} AS k ON k.id = t.rowid{join} "
    return sql + f"WHERE {terms} MATCH ?{keys_where}", (plan.match, *keys_params)


# -- rows ----------------------------------------------------------------------------------------------------


def _row_dict(raw: tuple[Any, ...], kind: _Kind) -> dict[str, Any]:
    row = dict(zip(kind.row_columns, raw, strict=True))
    for column in kind.json_columns:
        row[column] = _tuple_from_json(row[column])
    row["stored_terms"] = kind.fts_terms(row)
    row["stored_facets"] = _facet_values(row, kind)
    return row


def _facet_values(row: dict[str, Any], kind: _Kind) -> tuple[tuple[str, str], ...]:
    """The (facet, value) pairs a row counts towards in `facet_totals` (facet names as stored there)."""
    prefix = kind.facet_prefix
    pairs = [(prefix + facet, row[column]) for facet, column in kind.single_facets.items() if row[column] is not None]
    for facet, column in kind.multi_facets.items():
        pairs.extend((prefix + facet, value) for value in row[column])
    return tuple(pairs)


_RECORD_FIELDS = tuple(field.name for field in fields(ModelRecord) if field.name != "card_text")
_DATASET_RECORD_FIELDS = tuple(field.name for field in fields(DatasetRecord) if field.name != "card_text")


def _record(row: dict[str, Any], kind: _Kind, card_text: str | None = None) -> Any:
    return kind.record_type(**{name: row[name] for name in kind.record_fields}, card_text=card_text)


def _records_by_id(conn: sqlite3.Connection, ids: list[int], kind: _Kind) -> list[Any]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.id IN ({marks})"
    rows = {raw[0]: raw for raw in conn.execute(sql, ids)}
    return [_record(_row_dict(rows[row_id], kind), kind) for row_id in ids if row_id in rows]


def _existing_rows(conn: sqlite3.Connection, repo_ids: list[str], kind: _Kind) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(repo_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.repo_id IN ({marks})"
        for raw in conn.execute(sql, chunk):
            row = _row_dict(raw, kind)
            rows[_nocase_key(row["repo_id"])] = row
    return rows


_CACHE_FIELDS = ("cache_state", "cached_revisions", "size_on_disk")


def _merge(old: dict[str, Any] | None, record: Any, kind: _Kind, *, ungated: bool = False) -> dict[str, Any]:
    """The row to store for `record` given the stored row (see `RepoIndex.upsert` for the rules);
    `ungated` says the record's gated=None is news (the Hub said "not gated"), not a gap."""
    row: dict[str, Any] = {name: getattr(record, name) for name in kind.record_fields}
    if row["author"] is None and "/" in record.repo_id:
        row["author"] = record.repo_id.split("/", 1)[0]
    for name, value in row.items():
        if isinstance(value, tuple):
            row[name] = tuple(dict.fromkeys(value))
    if old is None:
        row.update(id=None, card_revision=None, stored_terms=None, stored_facets=None)
        return row
    states_cache = record.cache_state != "remote" or record.cached_revisions or record.size_on_disk is not None
    for name, value in row.items():
        if name in _CACHE_FIELDS:
            if not states_cache:
                row[name] = old[name]
        elif (value is None or value == ()) and not (name == "gated" and ungated):
            row[name] = old[name]
    row.update(
        id=old["id"],
        card_revision=old["card_revision"],
        stored_terms=old["stored_terms"],
        stored_facets=old["stored_facets"],
    )
    return row


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table}(id, {', '.join(columns)}) VALUES ({', '.join('?' * (len(columns) + 1))})"


def _write_rows(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]], kind: _Kind) -> None:
    """Store merged rows: new ones get the next ids; changed terms are replaced in the FTS index."""
    first_table = kind.tables[0][0]
    next_id = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {first_table}").fetchone()[0]) + 1
    inserts: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _ in kind.tables}
    updates: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _ in kind.tables}
    term_deletes, term_inserts = [], []
    totals: Counter[tuple[str, str]] = Counter()
    json_columns = kind.json_columns
    for row in rows:
        facets = _facet_values(row, kind)
        if row["stored_facets"] is None:
            totals[(kind.total_facet, "")] += 1
            totals.update(facets)
        elif facets != row["stored_facets"]:
            totals.subtract(row["stored_facets"])
            totals.update(facets)
        row["stored_facets"] = facets
        row["words"] = kind.words(row)
        if row["id"] is None:
            row["id"] = next_id
            next_id += 1
        terms = kind.fts_terms(row)
        new = row["stored_terms"] is None
        for table, columns in kind.tables:
            values = [_json_list(row[c]) if c in json_columns else row[c] for c in columns]
            if new:
                inserts[table].append((row["id"], *values))
            else:
                updates[table].append((*values, row["id"]))
        if new:
            term_inserts.append((row["id"], terms))
        elif terms != row["stored_terms"]:
            term_deletes.append((row["id"], row["stored_terms"]))
            term_inserts.append((row["id"], terms))
        row["stored_terms"] = terms
    for table, columns in kind.tables:
        if updates[table]:
            conn.executemany(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", updates[table]
            )
    terms_table = kind.terms_table
    if term_deletes:
        conn.executemany(
            f"INSERT INTO {terms_table}({terms_table}, rowid, terms) VALUES ('delete', ?, ?)", term_deletes
        )
    for table, columns in kind.tables:
        if inserts[table]:
            conn.executemany(_insert_sql(table, columns), inserts[table])
    if term_inserts:
        conn.executemany(f"INSERT INTO {terms_table}(rowid, terms) VALUES (?, ?)", term_inserts)
    changed = [(facet, value, n) for (facet, value), n in totals.items() if n]
    if changed:
        conn.executemany(
            "INSERT INTO facet_totals VALUES (?, ?, ?) ON CONFLICT(facet, value) DO UPDATE SET n = n + excluded.n",
            changed,
        )


def _cached_row(old: dict[str, Any] | None, repo: CachedRepo, partial: bool, kind: _Kind) -> dict[str, Any]:
    """The row for a cached repo: its cache facts, plus card facts where the Hub has not said better."""
    newest = repo.revisions[0].commit_hash if repo.revisions else None
    cache = {
        "cache_state": "partial" if partial else "cached",
        "cached_revisions": tuple(revision.commit_hash for revision in repo.revisions),
        "size_on_disk": repo.size_on_disk,
    }
    if old is not None and newest is not None and old["card_revision"] == newest:
        return {**old, **cache}  # this snapshot's card is already in the row
    metadata = repo.card_metadata
    if metadata is None and repo.snapshot_path is not None:
        metadata = read_card(repo.snapshot_path / "README.md").metadata
    from_card = _merge(None, kind.card_record(repo, metadata or {}), kind)
    if old is None:
        row = from_card
    else:
        # The Hub's values (richer tags, real gating) win; the card fills what the Hub never said.
        row = {**old}
        for name, value in from_card.items():
            if name in kind.record_fields and (row.get(name) is None or row.get(name) == ()):
                row[name] = value
    row.update(cache, card_revision=newest)
    return row


def _repos_with_incomplete_blobs(cache_dir: Path, kind: _Kind) -> dict[str, str]:
    """Repos of `kind` with `*.incomplete` blobs (downloads running or interrupted), keyed like NOCASE."""
    found: dict[str, str] = {}
    prefix = f"{kind.repo_type}s--"
    try:
        folders = [path for path in cache_dir.glob(f"{prefix}*") if path.is_dir()]
    except OSError:
        return found
    for folder in folders:
        try:
            has_incomplete = any(folder.glob("blobs/*.incomplete"))
        except OSError:
            continue
        if has_incomplete:
            repo_id = folder.name.removeprefix(prefix).replace("--", "/")
            found[_nocase_key(repo_id)] = repo_id
    return found


# -- kinds ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How one kind of repo is stored: its tables (each keyed by the same id; the first holds repo_id), how
    rows are read back and written, which facets it has and how they are spelled in `facet_totals`."""

    repo_type: str
    record_type: type
    record_fields: tuple[str, ...]
    tables: tuple[tuple[str, tuple[str, ...]], ...]
    row_columns: tuple[str, ...]
    select_row: str
    from_rows: str
    alias: str  # the alias of the first table in `from_rows`
    keys_table: str  # sorted, filtered and counted as `k`
    words_table: str  # the table holding `words`, looked up by id, when it is not the keys table
    words_alias: str
    sort_index: str
    terms_table: str
    cards_table: str
    json_columns: frozenset[str]
    facets: tuple[str, ...]
    single_facets: dict[str, str]
    multi_facets: dict[str, str]
    facet_prefix: str
    total_facet: str
    words: Callable[[dict[str, Any]], str]
    fts_terms: Callable[[dict[str, Any]], str]
    card_record: Callable[[CachedRepo, dict[str, Any]], Any]

    def facet_column(self, facet: str) -> str:
        """The column holding `facet`'s value or values."""
        return self.single_facets.get(facet) or self.multi_facets[facet]


_MODELS = _Kind(
    repo_type="model",
    record_type=ModelRecord,
    record_fields=_RECORD_FIELDS,
    tables=(("models", _MODEL_COLUMNS), ("model_keys", _KEY_COLUMNS)),
    row_columns=("id", *_MODEL_COLUMNS, *_KEY_COLUMNS),
    select_row=_SELECT_ROW,
    from_rows=_FROM_ROWS,
    alias="m",
    keys_table="model_keys",
    words_table="models",
    words_alias="m",
    sort_index="keys_by_",
    terms_table="model_terms",
    cards_table="model_cards",
    json_columns=_JSON_COLUMNS,
    facets=FACETS,
    single_facets=_FACET_COLUMNS,
    multi_facets={"language": "languages"},
    facet_prefix="",
    total_facet="*",
    words=_row_words,
    fts_terms=lambda row: _fts_terms(row["words"], row["parameters"]),
    card_record=_card_record,
)
_DATASETS = _Kind(
    repo_type="dataset",
    record_type=DatasetRecord,
    record_fields=_DATASET_RECORD_FIELDS,
    tables=(("datasets", _DATASET_COLUMNS),),
    row_columns=("id", *_DATASET_COLUMNS),
    select_row=_DATASET_SELECT_ROW,
    from_rows="datasets AS k",
    alias="k",
    keys_table="datasets",
    words_table="",
    words_alias="k",
    sort_index="datasets_by_",
    terms_table="dataset_terms",
    cards_table="dataset_cards",
    json_columns=_DATASET_JSON_COLUMNS,
    facets=DATASET_FACETS,
    single_facets={"author": "author"},
    multi_facets={facet: column for facet, column in _DATASET_FACET_COLUMNS.items() if facet != "author"},
    facet_prefix="dataset.",
    total_facet="dataset.*",
    words=_dataset_row_words,
    fts_terms=lambda row: str(row["words"]),
    card_record=_dataset_card_record,
)


def _kind_of(query: ModelQuery | DatasetQuery) -> _Kind:
    return _DATASETS if isinstance(query, DatasetQuery) else _MODELS
