"""What the index knows about one model or dataset repo, and how a record is made from a Hub listing or a card.

Records made from a cached repo's card derive their tags as the Hub derives them, so a search offline finds
what the same search online would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.cache import CachedRepo
from hftui.hub.inference_providers import InferenceProvider, providers_from_info
from hftui.hub.repo_files import safetensors_parameters

if TYPE_CHECKING:
    from huggingface_hub import DatasetInfo, ModelInfo

CACHE_STATES = ("cached", "partial", "remote")


@dataclass(frozen=True)
class RepoRecord:
    """What the index knows about any repo: Hub metadata, card facts and its local cache state."""

    repo_id: str
    author: str | None = None
    languages: tuple[str, ...] = ()
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
    def is_cached(self) -> bool:
        """Whether any of the repo is on disk (fully or with downloads still incomplete)."""
        return self.cache_state != "remote"


@dataclass(frozen=True)
class ModelRecord(RepoRecord):
    """What the index knows about one model repo: besides any repo's facts, its task, library, licence, size and
    the inference providers last seen serving it.

    `providers` (the names, the provider filter's facet) follows `inference_providers` whenever those are given.
    `providers_seen_at` says when the Hub last listed them (None: never seen); a record that says it replaces
    the stored providers even by none, one that does not leaves them as they were."""

    pipeline_tag: str | None = None
    library_name: str | None = None
    license: str | None = None
    parameters: int | None = None
    providers: tuple[str, ...] = ()
    inference_providers: tuple[InferenceProvider, ...] = ()
    providers_seen_at: float | None = None

    def __post_init__(self) -> None:
        if self.inference_providers:
            names = tuple(dict.fromkeys(entry.provider for entry in self.inference_providers))
            object.__setattr__(self, "providers", names)


@dataclass(frozen=True)
class DatasetRecord(RepoRecord):
    """What the index knows about one dataset repo: besides any repo's facts, its categories and licences."""

    task_categories: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    size_categories: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()

    @property
    def license(self) -> str | None:
        """The first licence (most datasets have one)."""
        return self.licenses[0] if self.licenses else None


# -- values from the Hub and from cards ----------------------------------------------------------------------

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


def _first(value: Any) -> str | None:
    values = _text_list(value)
    return values[0] if values else None


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


def _owner(repo_id: str) -> str | None:
    return repo_id.split("/", 1)[0] if "/" in repo_id else None


def _card_data(info: ModelInfo | DatasetInfo) -> dict[str, Any]:
    """The card metadata a listing or info call carried (only when asked for), as a plain dict."""
    card_data = getattr(info, "card_data", None)
    if card_data is None:
        return {}
    try:
        return card_data.to_dict()
    except Exception:  # third-party card data may hold anything; listing must not fail on it
        return {}


def _hub_facts(info: ModelInfo | DatasetInfo) -> dict[str, Any]:
    """The record fields models and datasets take alike from a Hub info."""
    return {
        "repo_id": info.id,
        "author": info.author or _owner(info.id),
        "downloads": _int_or_none(info.downloads),
        "likes": _int_or_none(info.likes),
        "trending_score": float(info.trending_score) if info.trending_score is not None else None,
        "created_at": _timestamp(info.created_at),
        "last_modified": _timestamp(info.last_modified),
        "gated": _gated_value(info.gated),
    }


def _card_gated(metadata: dict[str, Any]) -> str | None:
    # A card only says that access is gated; "manual" (approval needed) is the cautious reading.
    return "manual" if "extra_gated_prompt" in metadata or "extra_gated_fields" in metadata else None


# -- models ----------------------------------------------------------------------------------------------------


def record_from_model_info(info: ModelInfo, *, seen_at: float | None = None) -> ModelRecord:
    """A record from a `ModelInfo` of `list_models`/`model_info`; languages and licence come from the card
    data when it was fetched, else from the Hub's tags ("license:mit", "en"). When the info carries the
    inference provider mapping (only sent when expanded), its providers, seen at `seen_at` (default now)."""
    tags = _text_list(info.tags)
    card = _card_data(info)
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
    providers = providers_from_info(info)
    return ModelRecord(
        **_hub_facts(info),
        pipeline_tag=info.pipeline_tag or _first(card.get("pipeline_tag")),
        library_name=info.library_name or _first(card.get("library_name")),
        languages=tuple(language.lower() for language in languages),
        license=licenses[0].lower() if licenses else None,
        tags=tags,
        parameters=parameters,
        inference_providers=providers or (),
        providers_seen_at=None if providers is None else (time.time() if seen_at is None else seen_at),
    )


def model_card_record(repo: CachedRepo, metadata: dict[str, Any]) -> ModelRecord:
    """Card facts of a cached model, with tags derived as the Hub derives them, so offline search agrees."""
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
        author=_owner(repo.repo_id),
        pipeline_tag=pipeline_tag,
        library_name=library_name,
        languages=languages,
        license=licenses[0] if licenses else None,
        tags=tuple(tags),
        gated=_card_gated(metadata),
        # Offline, the weights' own headers are the only source of a parameter count (for the Fits column).
        parameters=safetensors_parameters(repo.snapshot_path),
    )


# -- datasets --------------------------------------------------------------------------------------------------

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
    from hftui.hub.cards.fields import read_names

    problems: list[str] = []  # a list needs no explanations; the dataset page shows them
    try:
        flat = joined_per_config_fields(metadata if isinstance(metadata, dict) else {})
        return {
            "task_categories": read_names(flat, ("task_categories",), problems),
            "size_categories": read_names(flat, ("size_categories",), problems),
            "languages": tuple(v.lower() for v in read_names(flat, ("language", "languages"), problems, language=True)),
            "licenses": tuple(v.lower() for v in read_names(flat, ("license", "licenses"), problems)),
            "tags": read_names(flat, ("tags",), problems),
        }
    except Exception:  # hand-written metadata can hold anything; indexing must not fail on it
        return {"task_categories": (), "size_categories": (), "languages": (), "licenses": (), "tags": ()}


def record_from_dataset_info(info: DatasetInfo) -> DatasetRecord:
    """A record from a `DatasetInfo` of `list_datasets`/`dataset_info`: facets from the Hub's tags
    ("task_categories:…", "modality:…", "size_categories:…", "language:…", "license:…"), else from the card
    data when it was fetched (`full=True`)."""
    tags = _text_list(info.tags)
    card = _card_data(info)
    from_card = _dataset_card_fields(card) if card else {}

    def facet(tag_key: str, card_key: str) -> tuple[str, ...]:
        return _tag_values(tags, tag_key) or from_card.get(card_key, ())

    return DatasetRecord(
        **_hub_facts(info),
        task_categories=facet("task_categories", "task_categories"),
        modalities=_tag_values(tags, "modality"),
        size_categories=facet("size_categories", "size_categories"),
        languages=tuple(language.lower() for language in facet("language", "languages")),
        licenses=tuple(license_id.lower() for license_id in facet("license", "licenses")),
        tags=tags,
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


def dataset_card_record(repo: CachedRepo, metadata: dict[str, Any]) -> DatasetRecord:
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
        author=_owner(repo.repo_id),
        task_categories=facts["task_categories"],
        modalities=modalities,
        size_categories=facts["size_categories"],
        languages=facts["languages"],
        licenses=facts["licenses"],
        tags=tuple(tags),
        gated=_card_gated(metadata),
    )
