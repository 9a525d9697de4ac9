"""Datasets in the local index, DatasetQuery and DatasetSearch: the local Hub online, the index offline."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from huggingface_hub import HfApi, snapshot_download

from hftui.hub.cache import scan_local_cache
from hftui.hub.catalog.datasets import DatasetSearch, fetch_dataset_record
from hftui.hub.catalog.query import DATASET_SORTS, DatasetQuery, ModelQuery
from hftui.hub.index import DATASET_FACETS, ModelRecord, RepoIndex
from hftui.localhub import LocalHub

TASKS = ("text-classification", "translation", "image-classification", "automatic-speech-recognition")
# One data file per task, so each dataset's modality follows from its files as on the Hub.
DATA_FILES = {
    "text-classification": ("data/train.jsonl", b'{"text": "good", "label": 1}\n'),
    "translation": ("data/train.csv", b"en,fr\nhello,bonjour\n"),
    "image-classification": ("images/cat.png", b"\x89PNG not really"),
    "automatic-speech-recognition": ("audio/hello.wav", b"RIFF not really"),
}
MODALITY = {
    "text-classification": ("text",),
    "translation": ("tabular", "text"),
    "image-classification": ("image",),
    "automatic-speech-recognition": ("audio",),
}
SIZES = ("n<1K", "1K<n<10K", "10K<n<100K")
LANGUAGES = ("en", "fr", "de", "zh", "ja")
LICENSES = ("mit", "apache-2.0", "cc-by-nc-4.0", "odc-by")
FAMILIES = ("reviews", "news", "photos", "speech")
N_DATASETS = 60


def dataset_card(index: int) -> str:
    task = TASKS[index % 4]
    return (
        f"---\nlicense: {LICENSES[index % 4]}\nlanguage:\n- {LANGUAGES[index % 5]}\n"
        f"task_categories:\n- {task}\nsize_categories:\n- {SIZES[index % 3]}\n---\n\n# Dataset {index}\n"
    )


def build_dataset_hub() -> LocalHub:
    """60 datasets of four families with varied task, modality, size, language, licence and popularity."""
    hub = LocalHub()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for index in range(N_DATASETS):
        task = TASKS[index % 4]
        path, content = DATA_FILES[task]
        hub.add_dataset(
            f"org{index % 3}/{FAMILIES[index % 4]}-set-{index:02d}",
            files={"README.md": dataset_card(index).encode(), path: content},
            downloads=(index * 7919) % 1000,
            likes=(index * 104729) % 500,
            trending_score=(index * 31) % 97,
            created_at=start + timedelta(days=(index * 13) % 60),
            last_modified=start + timedelta(days=60 + (index * 17) % 60),
        )
    return hub


@pytest.fixture
def dataset_hub() -> Iterator[LocalHub]:
    hub = build_dataset_hub()
    hub.start()
    yield hub
    hub.stop()


def synced_index(hub: LocalHub, path: Path) -> RepoIndex:
    index = RepoIndex(path)
    index.upsert_dataset_infos(HfApi(endpoint=hub.url).list_datasets(full=True))
    return index


def ids(index: RepoIndex, query: DatasetQuery, **kwargs: int) -> list[str]:
    return [record.repo_id for record in index.search(query, **kwargs)]


# -- the query value -------------------------------------------------------------------------------------------


def test_dataset_query_value() -> None:
    query = DatasetQuery(text=" imdb ", task_category=" text-classification ", modality="", license="mit")
    assert query.task_category == "text-classification" and query.modality is None
    assert query.describe() == 'text "imdb" · task_category=text-classification · license=mit · sort=trending'
    assert DatasetQuery.from_dict(query.to_dict()) == query
    assert DatasetQuery.from_dict({"sort": "created", "modality": 3, "cached_only": "yes", "x": 1}) == DatasetQuery()
    assert DatasetQuery.from_dict(None).is_default and not query.is_default
    assert query.replace(license=None).license is None
    with pytest.raises(ValueError, match="unknown sort"):
        DatasetQuery(sort="created")  # the dataset listing offers four sorts
    assert DatasetQuery(cached_only=True).describe() == "cached only · sort=trending"
    # A dataset query never equals a model query, so remembered counts cannot be mixed up.
    assert DatasetQuery() != ModelQuery()


def test_to_hub_kwargs_are_list_datasets_arguments() -> None:
    query = DatasetQuery(
        text="news",
        task_category="translation",
        modality="text",
        size_category="n<1K",
        language="fr",
        license="mit",
        author="org1",
        sort="updated",
    )
    assert query.to_hub_kwargs() == {
        "sort": "last_modified",
        "search": "news",
        "author": "org1",
        "task_categories": "translation",
        "size_categories": "n<1K",
        "language": "fr",
        "filter": ["modality:text", "license:mit"],
    }
    import inspect

    accepted = inspect.signature(HfApi.list_datasets).parameters
    for sort in DATASET_SORTS:
        kwargs = DatasetQuery(sort=sort).to_hub_kwargs()
        assert set(kwargs) <= set(accepted)


def test_the_local_hub_honours_every_filter(dataset_hub: LocalHub) -> None:
    api = HfApi(endpoint=dataset_hub.url)
    cases = {
        "task_category": ("translation", lambda i: TASKS[i % 4] == "translation"),
        "modality": ("image", lambda i: TASKS[i % 4] == "image-classification"),
        "size_category": ("n<1K", lambda i: SIZES[i % 3] == "n<1K"),
        "language": ("fr", lambda i: LANGUAGES[i % 5] == "fr"),
        "license": ("odc-by", lambda i: LICENSES[i % 4] == "odc-by"),
        "author": ("org2", lambda i: i % 3 == 2),
    }
    for field, (value, expected) in cases.items():
        query = DatasetQuery(**{field: value})
        found = [info.id for info in api.list_datasets(**query.to_hub_kwargs())]
        assert len(found) == sum(1 for i in range(N_DATASETS) if expected(i)), field
    likes = [info.likes for info in api.list_datasets(**DatasetQuery(sort="likes").to_hub_kwargs())]
    assert likes == sorted(likes, reverse=True)


# -- the index -----------------------------------------------------------------------------------------------


def test_listings_are_written_through_with_their_facets(dataset_hub: LocalHub, tmp_path: Path) -> None:
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        assert index.dataset_count() == N_DATASETS and len(index) == 0  # models are counted apart
        record = index.get_dataset("ORG1/NEWS-SET-01")  # ids are case-insensitive
        assert record is not None and record.repo_id == "org1/news-set-01"
        assert record.task_categories == ("translation",)
        assert record.modalities == ("tabular", "text")
        assert record.size_categories == ("1K<n<10K",)
        assert record.languages == ("fr",)
        assert record.license == "apache-2.0" and record.author == "org1"
        assert record.cache_state == "remote" and record.likes == (104729 % 500)
        assert index.get("org1/news-set-01") is None  # not a model


def test_offline_search_agrees_with_the_hub(dataset_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=dataset_hub.url)
    queries = [
        DatasetQuery(),
        DatasetQuery(text="news"),
        DatasetQuery(text="speech-set"),
        DatasetQuery(task_category="image-classification", sort="likes"),
        DatasetQuery(modality="text", language="en", sort="downloads"),
        DatasetQuery(size_category="10K<n<100K", license="mit", sort="updated"),
        DatasetQuery(author="org0", modality="audio"),
    ]
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        for query in queries:
            hub = [info.id for info in api.list_datasets(**query.to_hub_kwargs())]
            local = ids(index, query, limit=100)
            assert sorted(local) == sorted(hub), query.describe()
            assert index.count(query) == len(hub)
            if query.sort != "trending":  # ties in trending order differently; the others are distinct
                assert local == hub, query.describe()


def test_every_sort_orders_descending(dataset_hub: LocalHub, tmp_path: Path) -> None:
    keys = {
        "trending": lambda r: r.trending_score,
        "likes": lambda r: r.likes,
        "downloads": lambda r: r.downloads,
        "updated": lambda r: r.last_modified,
    }
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        for sort, key in keys.items():
            values = [key(record) for record in index.search(DatasetQuery(sort=sort), limit=100)]
            assert len(values) == N_DATASETS and values == sorted(values, reverse=True), sort
        pages = [ids(index, DatasetQuery(sort="likes"), limit=7, offset=o) for o in range(0, N_DATASETS, 7)]
        assert [repo for page in pages for repo in page] == ids(index, DatasetQuery(sort="likes"), limit=100)


def test_both_plans_agree(dataset_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hftui.hub.index import plan as index_plan

    queries = [DatasetQuery(modality="text"), DatasetQuery(text="re", sort="likes"), DatasetQuery(license="mit")]
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        matched = [ids(index, query, limit=100) for query in queries]
        assert {index.explain(query) for query in queries} == {"match"}
        monkeypatch.setattr(index_plan, "MATCH_CAP", 0)
        assert {index.explain(query) for query in queries} == {"scan"}
        assert [ids(index, query, limit=100) for query in queries] == matched


def test_facet_counts(dataset_hub: LocalHub, tmp_path: Path) -> None:
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        assert index.facet_counts("task_category", DatasetQuery()) == [(task, 15) for task in sorted(TASKS)]
        assert dict(index.facet_counts("modality", DatasetQuery())) == {
            "text": 30,
            "tabular": 15,
            "image": 15,
            "audio": 15,
        }
        assert dict(index.facet_counts("size_category", DatasetQuery())) == {size: 20 for size in SIZES}
        assert dict(index.facet_counts("language", DatasetQuery())) == {language: 12 for language in LANGUAGES}
        assert dict(index.facet_counts("license", DatasetQuery())) == {license_id: 15 for license_id in LICENSES}
        assert dict(index.facet_counts("author", DatasetQuery())) == {"org0": 20, "org1": 20, "org2": 20}
        # With other filters: counts among the matching datasets, ignoring the facet's own filter.
        photos = DatasetQuery(text="photos", modality="audio")
        assert index.facet_counts("modality", photos) == [("image", 15)]
        assert index.facet_counts("task_category", DatasetQuery(language="en", license="mit")) == [
            ("text-classification", 3)
        ]
        with pytest.raises(ValueError, match="unknown facet"):
            index.facet_counts("library", DatasetQuery())
        assert set(DATASET_FACETS) == {"task_category", "modality", "size_category", "language", "license", "author"}


def test_sparse_rewrites_keep_what_was_known(tmp_path: Path) -> None:
    from hftui.hub.index import DatasetRecord

    with RepoIndex(tmp_path / "index.sqlite") as index:
        index.upsert_datasets([DatasetRecord("a/b", task_categories=("translation",), licenses=("mit",), likes=3)])
        index.upsert_datasets([DatasetRecord("a/b", likes=5)])
        record = index.get_dataset("a/b")
        assert record is not None and record.task_categories == ("translation",) and record.likes == 5
        index.set_dataset_card("a/b", "# Card")
        assert index.get_dataset("a/b").card_text == "# Card"  # type: ignore[union-attr]
        assert index.search(DatasetQuery())[0].card_text is None
        assert index.facet_counts("license", DatasetQuery()) == [("mit", 1)]
        index.upsert_datasets([DatasetRecord("a/b", licenses=("apache-2.0",))])
        assert index.facet_counts("license", DatasetQuery()) == [("apache-2.0", 1)]
        index.upsert([ModelRecord("a/b", license="mit")])  # a model of the same id is another repo
        assert len(index) == 1 and index.dataset_count() == 1


def test_an_index_of_the_previous_schema_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE models (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;")
    conn.close()
    with RepoIndex(path) as index:
        assert index.rebuilt_reason and "older" in index.rebuilt_reason
        assert index.dataset_count() == 0


# -- the cache -----------------------------------------------------------------------------------------------

LEGACY_CARD = """\
---
languages:
  plain_text:
  - en
  - fr
licenses:
- cc-by-4.0
task_categories:
  plain_text:
  - text-classification
size_categories:
- 1K<n<10K
tags:
- reviews
---
# Old card
"""


def _cached_dataset(cache: Path, repo_id: str, files: dict[str, bytes]) -> None:
    commit = "1" * 40
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    for name, content in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes(content)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_cached_datasets_and_their_cards_are_indexed(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    _cached_dataset(cache, "old/legacy", {"README.md": LEGACY_CARD.encode(), "train/a.png": b"x", "b.csv": b"a\n1\n"})
    _cached_dataset(cache, "new/plain", {"README.md": b"---\nlicense: MIT\nlanguage: de\n---\n", "x.jsonl": b"{}\n"})
    with RepoIndex(tmp_path / "index.sqlite") as index:
        assert index.index_cache(scan_local_cache(cache)) == 0  # no models on disk
        legacy = index.get_dataset("old/legacy")
        assert legacy is not None and legacy.cache_state == "cached" and legacy.cached_revisions == ("1" * 40,)
        assert legacy.languages == ("en", "fr") and legacy.licenses == ("cc-by-4.0",)
        assert legacy.task_categories == ("text-classification",) and legacy.size_categories == ("1K<n<10K",)
        assert legacy.modalities == ("image", "tabular", "text")
        assert "task_categories:text-classification" in legacy.tags and "reviews" in legacy.tags
        plain = index.get_dataset("new/plain")
        assert plain is not None and plain.license == "mit" and plain.languages == ("de",)
        assert sorted(ids(index, DatasetQuery(cached_only=True), limit=10)) == ["new/plain", "old/legacy"]
        assert ids(index, DatasetQuery(language="fr")) == ["old/legacy"]
        assert ids(index, DatasetQuery(text="review")) == ["old/legacy"]  # the card's tags are searched
        # Gone from the cache: back to remote, the row stays.
        index.index_cache(scan_local_cache(tmp_path / "empty"))
        assert index.get_dataset("old/legacy").cache_state == "remote"  # type: ignore[union-attr]
        assert ids(index, DatasetQuery(cached_only=True)) == []


def test_hub_facts_win_over_the_card_and_cache_state_is_merged(
    dataset_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    repo_id = "org0/reviews-set-00"
    snapshot_download(repo_id, repo_type="dataset", cache_dir=cache, endpoint=dataset_hub.url)
    with synced_index(dataset_hub, tmp_path / "index.sqlite") as index:
        index.index_cache(scan_local_cache(cache))
        record = index.get_dataset(repo_id)
        assert record is not None and record.cache_state == "cached" and record.modalities == ("text",)
        # A later Hub listing keeps the local cache state.
        index.upsert_dataset_infos(HfApi(endpoint=dataset_hub.url).list_datasets(search="reviews-set-00"))
        assert index.get_dataset(repo_id).cache_state == "cached"  # type: ignore[union-attr]
        assert ids(index, DatasetQuery(cached_only=True)) == [repo_id]


# -- searching -----------------------------------------------------------------------------------------------


def test_search_online_then_offline_from_the_index(dataset_hub: LocalHub, tmp_path: Path) -> None:
    with RepoIndex(tmp_path / "index.sqlite") as index:
        query = DatasetQuery(modality="text", sort="downloads")
        online = DatasetSearch(query, index=index, api=HfApi(endpoint=dataset_hub.url), page_size=20)
        first, second = online.next_page(), online.next_page()
        assert first.source == "hub" and first.has_more and len(first.records) == 20
        assert len(second.records) == 10 and not second.has_more
        hub_ids = [record.repo_id for record in (*first.records, *second.records)]
        record = fetch_dataset_record("org1/news-set-13", api=HfApi(endpoint=dataset_hub.url), index=index)
        assert record is not None and record.task_categories == ("translation",)
        dataset_hub.stop()
        offline = DatasetSearch(query, index=index, api=None, page_size=20)
        pages = [offline.next_page(), offline.next_page()]
        assert pages[0].source == "index" and pages[0].total == 30 and not pages[1].has_more
        assert [record.repo_id for page in pages for record in page.records] == hub_ids
        # Cached-only never asks the Hub, even with a client.
        cached = DatasetSearch(DatasetQuery(cached_only=True), index=index, api=HfApi(endpoint=dataset_hub.url))
        assert not cached.online and cached.next_page().records == ()
