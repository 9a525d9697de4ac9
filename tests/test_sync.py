"""A model sync writes listings page by page and resumes where a stopped run left off."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import HfApi

from hftui.hub.catalog import sync
from hftui.hub.catalog.query import ModelQuery
from hftui.hub.index import RepoIndex
from tests.test_models_screen import N_MODELS, build_browse_hub


def test_stopped_sync_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "SYNC_PAGE", 10)
    hub = build_browse_hub()
    url = hub.start()
    try:
        api = HfApi(endpoint=url)
        with RepoIndex(tmp_path / "index.sqlite") as index:
            pages = []
            first = sync.sync_models(
                ModelQuery(),
                api=api,
                index=index,
                limit=None,
                on_progress=pages.append,
                is_cancelled=lambda: len(pages) >= 2,
            )
            assert (first.written, first.complete) == (20, False)
            assert len(index) == 20
            second = sync.sync_models(ModelQuery(), api=api, index=index, limit=None)
            assert second.resumed_from == 20 and second.complete
            assert second.written == N_MODELS + 1 - 20
            assert len(index) == N_MODELS + 1
            # A finished sync starts over next time (to pick up new models), rather than resuming.
            third = sync.sync_models(ModelQuery(), api=api, index=index, limit=None)
            assert third.resumed_from == 0
    finally:
        hub.stop()


def test_stopped_dataset_sync_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hftui.hub.catalog.query import DatasetQuery
    from tests.test_dataset_index import N_DATASETS, build_dataset_hub

    monkeypatch.setattr(sync, "SYNC_PAGE", 10)
    hub = build_dataset_hub()
    url = hub.start()
    try:
        api = HfApi(endpoint=url)
        with RepoIndex(tmp_path / "index.sqlite") as index:
            pages = []
            first = sync.sync_datasets(
                DatasetQuery(),
                api=api,
                index=index,
                limit=None,
                on_progress=pages.append,
                is_cancelled=lambda: len(pages) >= 3,
            )
            assert (first.written, first.complete) == (30, False)
            assert index.dataset_count() == 30 and len(index) == 0
            second = sync.sync_datasets(DatasetQuery(), api=api, index=index, limit=None)
            assert second.resumed_from == 30 and second.complete and second.written == N_DATASETS - 30
            assert index.dataset_count() == N_DATASETS
            # The same sync of models is another sync: it does not resume from the datasets' state.
            assert sync.sync_models(ModelQuery(), api=api, index=index, limit=None).resumed_from == 0
    finally:
        hub.stop()
