"""The in-memory facet columns behind `RepoIndex.facet_counts` agree with a plain GROUP BY over the file, through
mixed upserts, card writes, cache folds and writes from another connection, for models and datasets."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from pathlib import Path

import pytest

from hftui.hub.cache import CachedRepo, CachedRevision, CacheScan
from hftui.hub.catalog.query import DEFAULT_SORT, DatasetQuery, ModelQuery
from hftui.hub.index import DATASET_FACETS, FACETS, DatasetRecord, ModelRecord, RepoIndex, facet_columns
from hftui.hub.index.kinds import kind_of
from hftui.hub.index.plan import facet_counts_sql, plan_query

WORDS = ["alpha", "beta", "gamma", "llama", "bert", "tiny", "instruct", "chat"]
AUTHORS = ["acme", "Acme", "delta-labs", "zeta", "\u212aarl", "karl"]
TASKS = [None, "fill-mask", "text-generation", "Text-Generation", "a:b", "", " mit "]
LANGUAGES = ["en", "fr", "de", "EN", "zh", ""]
SIZES = [None, 5 * 10**6, 10**9, 7 * 10**9, 2 * 10**12]


def group_by(index: RepoIndex, facet: str, query: ModelQuery | DatasetQuery, limit: int) -> list[tuple[str, int]]:
    """The counts a plain GROUP BY over the matching rows gives (the statement facet_counts used to run)."""
    assert index._conn is not None
    kind = kind_of(query)
    others = query.replace(**{facet: None}, sort=DEFAULT_SORT)
    plan = plan_query(index._conn, others, kind, probe=False)
    sql, params = facet_counts_sql(plan, kind, facet, limit)
    return [(str(value), int(n)) for value, n in index._conn.execute(sql, params)]


def model_record(rng: random.Random, number: int) -> ModelRecord:
    author = rng.choice(AUTHORS)
    return ModelRecord(
        f"{author}/{'-'.join(rng.sample(WORDS, rng.randint(1, 2)))}-{number}",
        author=rng.choice([author, None]),
        pipeline_tag=rng.choice(TASKS),
        library_name=rng.choice([None, "transformers", "gguf", "GGUF"]),
        languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 3))),
        license=rng.choice([None, "mit", "MIT", "apache-2.0"]),
        tags=tuple(rng.sample(WORDS, rng.randint(0, 2))),
        downloads=rng.randint(0, 100),
        gated=rng.choice([None, None, "auto", "manual"]),
        parameters=rng.choice(SIZES),
        cache_state=rng.choice(["remote", "remote", "remote", "cached", "partial"]),
        providers=tuple(rng.sample(["together", "Together", "hf-inference", ""], rng.randint(0, 2))),
    )


def dataset_record(rng: random.Random, number: int) -> DatasetRecord:
    author = rng.choice(AUTHORS)
    return DatasetRecord(
        f"{author}/{rng.choice(WORDS)}-{number}",
        author=rng.choice([author, None]),
        task_categories=tuple(rng.sample(["text-classification", "translation", "Translation", ""], rng.randint(0, 2))),
        modalities=tuple(rng.sample(["text", "image", "audio"], rng.randint(0, 2))),
        size_categories=tuple(rng.sample(["n<1K", "1K<n<10K", "10K<n<100K"], rng.randint(0, 1))),
        languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 2))),
        licenses=tuple(rng.sample(["mit", "cc-by-4.0", "MIT"], rng.randint(0, 2))),
        tags=tuple(rng.sample(WORDS, rng.randint(0, 2))),
        downloads=rng.randint(0, 100),
        cache_state=rng.choice(["remote", "remote", "cached"]),
    )


def model_query(rng: random.Random) -> ModelQuery:
    return ModelQuery(
        text=rng.choice(["", "", "", "l", "llama", "bert ins", "acme", "zz"]),
        task=rng.choice([None, None, "fill-mask", "text-generation", "a:b", " mit "]),
        library=rng.choice([None, None, "gguf", "transformers"]),
        language=rng.choice([None, None, "en", "FR"]),
        license=rng.choice([None, None, "mit"]),
        author=rng.choice([None, None, "acme", "karl", "KARL"]),
        provider=rng.choice([None, None, None, "together", "hf-inference"]),
        max_parameters=rng.choice([None, None, 10**9, 8 * 10**9, 5 * 10**12, 0]),
        gated=rng.choice([None, None, True, False]),
        cached_only=rng.random() < 0.2,
    )


def dataset_query(rng: random.Random) -> DatasetQuery:
    return DatasetQuery(
        text=rng.choice(["", "", "", "a", "llama", "acme"]),
        task_category=rng.choice([None, None, "translation", "text-classification"]),
        modality=rng.choice([None, None, "text", "image"]),
        size_category=rng.choice([None, None, "n<1K"]),
        language=rng.choice([None, None, "en"]),
        license=rng.choice([None, None, "mit"]),
        author=rng.choice([None, None, "acme"]),
        cached_only=rng.random() < 0.2,
    )


def check(index: RepoIndex, rng: random.Random, rounds: int = 40) -> None:
    """Every facet's counts for random model and dataset queries equal the GROUP BY's, at several limits."""
    index.load_facet_columns()  # else the first calls count in SQL while the columns load
    assert index._columns, "the columns should be loaded"
    for _ in range(rounds):
        limit = rng.choice([1, 3, 50])
        query: ModelQuery | DatasetQuery = model_query(rng)
        for facet in FACETS:
            assert index.facet_counts(facet, query, limit=limit) == group_by(index, facet, query, limit), (
                facet,
                query.describe(),
            )
        query = dataset_query(rng)
        for facet in DATASET_FACETS:
            assert index.facet_counts(facet, query, limit=limit) == group_by(index, facet, query, limit), (
                facet,
                query.describe(),
            )


def cache_scan(tmp_path: Path, repo_ids: list[tuple[str, str]], rng: random.Random) -> CacheScan:
    """A scan of these (repo type, repo id) repos, each with a card whose facts the fold reads."""
    repos = []
    for repo_type, repo_id in repo_ids:
        commit = f"{rng.getrandbits(160):040x}"
        revision = CachedRevision(commit, ("main",), 10, 1, 0.0)
        metadata = (
            {"pipeline_tag": rng.choice(["fill-mask", "summarization"]), "language": ["en", "ja"], "license": "mit"}
            if repo_type == "model"
            else {"task_categories": ["translation"], "language": ["ja"], "license": "mit"}
        )
        repos.append(CachedRepo(repo_id, repo_type, 10, 1, (revision,), 0.0, 0.0, None, card_metadata=metadata))
    return CacheScan(tmp_path, tuple(repos), 10 * len(repos))


@pytest.mark.parametrize("chunk", [7, 50_000])
def test_counts_follow_mixed_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(facet_columns, "_CHUNK", chunk)  # loading in many chunks, or in one
    rng = random.Random(17)
    models = [model_record(rng, i) for i in range(300)]
    datasets = [dataset_record(rng, i) for i in range(200)]
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(models)
        index.upsert_datasets(datasets)
        check(index, rng)  # loads the columns
        for step in range(6):
            # Rewrites of known rows (a fuller or sparser listing), new rows, duplicates in one batch.
            rewrites = [
                dataclasses.replace(model_record(rng, i), repo_id=rng.choice(models).repo_id) for i in range(60)
            ]
            fresh = [model_record(rng, 1000 * (step + 1) + i) for i in range(40)]
            models += fresh
            index.upsert(rewrites + fresh + rewrites[:5])
            index.upsert_datasets(
                [dataclasses.replace(dataset_record(rng, i), repo_id=rng.choice(datasets).repo_id) for i in range(30)]
                + [dataset_record(rng, 1000 * (step + 1))]
            )
            index.set_card(rng.choice(models).repo_id, "# a card")
            index.set_card(f"new/carded-{step}", "# a card for a repo never listed")
            index.set_dataset_card(rng.choice(datasets).repo_id, "# a dataset card")
            # The cache: some listed repos downloaded, some new ones, and the last fold's repos gone.
            on_disk = [("model", rng.choice(models).repo_id) for _ in range(5)]
            on_disk += [("model", f"cached/only-{step}"), ("dataset", rng.choice(datasets).repo_id)]
            on_disk += [("dataset", f"cached/data-{step}")]
            index.index_cache(cache_scan(tmp_path, on_disk, rng))
            check(index, rng, rounds=15)
        index.index_cache(CacheScan(tmp_path, (), 0))  # everything back to "remote"
        check(index, rng, rounds=15)


def test_counts_follow_writes_from_another_connection(tmp_path: Path) -> None:
    rng = random.Random(3)
    path = tmp_path / "i.sqlite"
    with RepoIndex(path) as index, RepoIndex(path) as other:
        index.upsert([model_record(rng, i) for i in range(100)])
        index.upsert_datasets([dataset_record(rng, i) for i in range(50)])
        check(index, rng, rounds=10)
        other.upsert([model_record(rng, 100 + i) for i in range(50)])
        other.upsert_datasets([dataset_record(rng, 50 + i) for i in range(20)])
        check(index, rng, rounds=10)
        index.upsert([model_record(rng, 200 + i) for i in range(10)])  # our own write after theirs
        check(index, rng, rounds=10)


def test_counts_while_the_columns_load_are_the_same(tmp_path: Path) -> None:
    rng = random.Random(9)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert([model_record(rng, i) for i in range(200)])
        query = ModelQuery(library="gguf")
        before = index.facet_counts("task", query)  # counted in SQL; starts the load
        assert before == group_by(index, "task", query, 50)
        index.load_facet_columns()
        index._counts.clear()
        assert index.facet_counts("task", query) == before


def test_a_failed_write_leaves_the_counts_as_the_file_has_them(tmp_path: Path) -> None:
    rng = random.Random(5)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert([model_record(rng, i) for i in range(100)])
        check(index, rng, rounds=5)

        def records() -> object:
            yield model_record(rng, 500)
            raise RuntimeError("the listing failed mid-page")

        try:
            index.upsert(records())  # type: ignore[arg-type]
        except RuntimeError:
            pass
        blocker = sqlite3.connect(tmp_path / "i.sqlite")
        blocker.execute("CREATE TRIGGER refuse BEFORE INSERT ON model_keys BEGIN SELECT RAISE(ABORT, 'no'); END")
        blocker.close()
        try:
            index.upsert([model_record(rng, 600)])
        except sqlite3.DatabaseError:
            pass
        check(index, rng, rounds=10)
