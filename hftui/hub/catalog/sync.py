"""Bulk-copy Hub model and dataset listings into the local index so they can be browsed offline later.

A sync is resumable: its progress is saved after every page, and re-running the same sync skips the
listings already written (the Hub's listing has no offset, so skipped pages are still read, not written).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.catalog.query import DatasetQuery, ModelQuery, RepoQuery
from hftui.hub.index import RepoIndex
from hftui.paths import hftui_home

if TYPE_CHECKING:
    from huggingface_hub import HfApi

SYNC_PAGE = 500


@dataclass(frozen=True)
class SyncProgress:
    """How far a sync has come."""

    written: int
    limit: int | None
    resumed_from: int


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one sync run."""

    written: int
    resumed_from: int
    complete: bool
    seconds: float


def _state_path(kind: str, query: RepoQuery, limit: int | None) -> Path:
    key = json.dumps({"query": query.to_dict(), "limit": limit}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return hftui_home() / "sync" / f"{kind}-{digest}.json"


def sync_models(
    query: ModelQuery,
    *,
    api: HfApi,
    index: RepoIndex,
    limit: int | None,
    on_progress: Callable[[SyncProgress], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> SyncReport:
    """Page through `HfApi.list_models` for `query`, writing each page to the index; resumes where a
    previous run of the same sync stopped. Raises the client's errors (progress so far is kept)."""
    listing = api.list_models(**query.to_hub_kwargs(), full=True, cardData=True, limit=limit)
    state_path = _state_path("models", query, limit)
    return _sync(listing, index.upsert_model_infos, state_path, limit, on_progress, is_cancelled)


def sync_datasets(
    query: DatasetQuery,
    *,
    api: HfApi,
    index: RepoIndex,
    limit: int | None,
    on_progress: Callable[[SyncProgress], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> SyncReport:
    """Page through `HfApi.list_datasets` for `query` (with card data), writing each page to the index;
    resumable like `sync_models`."""
    listing = api.list_datasets(**query.to_hub_kwargs(), full=True, limit=limit)
    state_path = _state_path("datasets", query, limit)
    return _sync(listing, index.upsert_dataset_infos, state_path, limit, on_progress, is_cancelled)


def _sync(
    listing: Iterable[Any],
    write: Callable[[list[Any]], int],
    state_path: Path,
    limit: int | None,
    on_progress: Callable[[SyncProgress], None] | None,
    is_cancelled: Callable[[], bool] | None,
) -> SyncReport:
    """Write a listing page by page, saving how far it came in `state_path` after each page."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        done = int(state.get("written", 0)) if not state.get("complete") else 0
    except (OSError, ValueError, TypeError, AttributeError):
        done = 0
    started = time.perf_counter()
    pages = iter(listing)
    if done:
        for _ in islice(pages, done):
            pass
    written = done
    complete = False
    state_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        if is_cancelled is not None and is_cancelled():
            break
        page = list(islice(pages, SYNC_PAGE))
        if page:
            write(page)
            written += len(page)
        complete = len(page) < SYNC_PAGE or (limit is not None and written >= limit)
        state_path.write_text(json.dumps({"written": written, "complete": complete}), encoding="utf-8")
        if on_progress is not None:
            on_progress(SyncProgress(written, limit, done))
        if complete:
            break
    return SyncReport(written - done, done, complete, time.perf_counter() - started)
