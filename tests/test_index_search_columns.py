"""Searches, counts and picker counts answered with the in-memory columns (a long prefix spelled by the
vocabulary, common filter tokens tested on the columns, the FTS plan's matches sorted in numpy, text matches
remembered) give exactly what SQL alone gives, through ties, missing sort values, offsets and writes made after
the columns were loaded."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hftui.hub.catalog.query import SORTS, DatasetQuery, ModelQuery
from hftui.hub.index import DatasetRecord, ModelRecord, RepoIndex, plan
from hftui.hub.index.facet_columns import FacetColumns
from hftui.hub.index.kinds import kind_of
from hftui.hub.index.plan import count_sql, facet_counts_sql, page_sql, plan_query, prefix_term
from hftui.hub.index.rows import records_by_id
from hftui.hub.index.vocabulary import Vocabulary

WORDS = ["llama", "llamafile", "llamafied", "instruct", "instructions", "instructor", "bert", "tiny", "café"]
AUTHORS = ["acme", "Acme", "zeta", "karl"]
TEXTS = ["", "l", "llama", "llamaf", "llamafi", "llamafiles", "instruc", "instructi", "instructo", "instructions",
         "zzzzzzz", "bert instru", "tiny llamafie", "cafe", "café"]  # fmt: skip


def model_record(rng: random.Random, number: int) -> ModelRecord:
    author = rng.choice(AUTHORS)
    return ModelRecord(
        f"{author}/{'-'.join(rng.sample(WORDS, rng.randint(1, 2)))}-{number}",
        author=author,
        pipeline_tag=rng.choice([None, "fill-mask", "text-generation"]),
        library_name=rng.choice([None, "transformers", "transformers", "transformers", "gguf"]),
        languages=tuple(rng.sample(["en", "en", "fr"], rng.randint(0, 2))),
        license=rng.choice([None, "mit", "apache-2.0"]),
        tags=tuple(rng.sample(WORDS, rng.randint(0, 2))),
        # Few values, so ties are common; None for some sorts (NULL sorts last best-first).
        downloads=rng.choice([None, 0, 5, 5, 100]),
        likes=rng.choice([0, 1, 1, 7]),
        trending_score=rng.choice([None, 0.0, 2.5]),
        created_at=rng.choice([None, 1.7e9, 1.6e9]),
        last_modified=rng.choice([None, 1.7e9]),
        gated=rng.choice([None, None, None, "auto"]),
        parameters=rng.choice([None, 5 * 10**6, 10**9, 7 * 10**9]),
    )


def model_query(rng: random.Random) -> ModelQuery:
    return ModelQuery(
        text=rng.choice(TEXTS),
        sort=rng.choice(list(SORTS)),
        library=rng.choice([None, None, "transformers", "gguf"]),
        language=rng.choice([None, None, "en"]),
        author=rng.choice([None, None, "acme", "karl"]),
        max_parameters=rng.choice([None, None, 10**9, 10**10]),
        gated=rng.choice([None, None, False, True]),
    )


def sql_page(index: RepoIndex, query: ModelQuery | DatasetQuery, limit: int, offset: int) -> list[str]:
    """The page SQL alone gives: no vocabulary, every token in the FTS probe, sorted by SQLite."""
    assert index._conn is not None
    kind = kind_of(query)
    statement = page_sql(plan_query(index._conn, query, kind), kind, query.sort, limit, offset)
    ids = [row[0] for row in index._conn.execute(*statement)] if statement else []
    return [record.repo_id for record in records_by_id(index._conn, ids, kind)]


def sql_count(index: RepoIndex, query: ModelQuery) -> int:
    assert index._conn is not None
    kind = kind_of(query)
    return int(index._conn.execute(*count_sql(plan_query(index._conn, query, kind, probe=False), kind)).fetchone()[0])


def sql_facet_counts(index: RepoIndex, facet: str, query: ModelQuery) -> list[tuple[str, int]]:
    assert index._conn is not None
    kind = kind_of(query)
    others = query.replace(**{facet: None})
    statement = facet_counts_sql(plan_query(index._conn, others, kind, probe=False), kind, facet, 50)
    return [(str(value), int(n)) for value, n in index._conn.execute(*statement)]


def check_counts(index: RepoIndex, rng: random.Random, rounds: int) -> None:
    index.load_facet_columns()
    assert index._columns, "the columns should be loaded"
    for _ in range(rounds):
        query = model_query(rng)
        index._counts.clear()  # each answer computed, not remembered from an equal query
        assert index.count(query) == sql_count(index, query), query.describe()
        facet = rng.choice(["author", "library", "language", "task"])
        assert index.facet_counts(facet, query) == sql_facet_counts(index, facet, query), (facet, query.describe())


def check_pages(index: RepoIndex, rng: random.Random, rounds: int) -> None:
    index.load_facet_columns()
    assert index._columns, "the columns should be loaded"
    for _ in range(rounds):
        query = model_query(rng)
        limit, offset = rng.choice([(50, 0), (3, 0), (3, 4), (10, 200)])
        got = [record.repo_id for record in index.search(query, limit=limit, offset=offset)]
        assert got == sql_page(index, query, limit, offset), (query.describe(), limit, offset)


@pytest.mark.parametrize(("share", "cap"), [(0.2, 8_000), (0.0, 8_000), (0.0, 15), (1.0, 15)])
def test_pages_equal_sql_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float, cap: int) -> None:
    # share 0: every filter token is tested on the columns; a small cap sends dense matches to the scan, and
    # makes the probe without the common tokens fall back to the probe with all of them.
    monkeypatch.setattr(plan, "COMMON_TOKEN_SHARE", share)
    monkeypatch.setattr(plan, "MATCH_CAP", cap)
    rng = random.Random(5)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(400))
        check_pages(index, rng, 150)


@pytest.mark.parametrize("share", [0.2, 0.0, 1.0])
def test_counts_equal_sql_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    monkeypatch.setattr(plan, "COMMON_TOKEN_SHARE", share)
    rng = random.Random(7)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(400))
        check_counts(index, rng, 150)
        # Remembered text matches are dropped by a write: the new row is counted.
        query = ModelQuery(text="llama", library="gguf")
        before = index.count(query)
        index.upsert([ModelRecord("karl/llama-new", library_name="gguf")])
        assert index.count(query) == before + 1 == sql_count(index, query)
        counted = dict(index.facet_counts("author", query))
        assert counted["karl"] == dict(sql_facet_counts(index, "author", query))["karl"]


def test_pages_follow_writes_made_after_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "COMMON_TOKEN_SHARE", 0.0)
    rng = random.Random(9)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(200))
        index.load_facet_columns()
        # New words, rewritten rows (new sort values, new facets) and new rows, all after the columns loaded.
        index.upsert([ModelRecord("acme/instructionalist-1", downloads=10**6, library_name="gguf")])
        index.upsert(model_record(rng, i) for i in range(100, 300))
        assert index._columns, "the columns should have followed the writes"
        check_counts(index, rng, 60)
        top = index.search(ModelQuery(text="instructiona", sort="downloads"))
        assert [record.repo_id for record in top] == ["acme/instructionalist-1"]
        check_pages(index, rng, 100)


def test_dataset_pages_equal_sql_alone(tmp_path: Path) -> None:
    rng = random.Random(3)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert_datasets(
            DatasetRecord(f"{rng.choice(AUTHORS)}/{rng.choice(WORDS)}-{i}", downloads=rng.choice([None, 1, 2]))
            for i in range(200)
        )
        index.load_facet_columns()
        for text in TEXTS:
            for sort in DatasetQuery.SORTS:
                query = DatasetQuery(text=text, sort=sort)
                assert [r.repo_id for r in index.search(query, limit=7)] == sql_page(index, query, 7, 0), query


def test_the_columns_change_the_plan(tmp_path: Path) -> None:
    """The faster paths are taken: a long prefix becomes whole terms, a common filter is left to the columns."""
    rng = random.Random(1)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(300))
        index.load_facet_columns()
        columns = index._columns["model"][1]
        assert index._conn is not None
        assert prefix_term("llamaf", columns.vocabulary) == '("llamafied" OR "llamafile")'
        assert prefix_term("llama", columns.vocabulary) == '"llama"*'  # the prefix index answers it
        assert prefix_term("llamaz", columns.vocabulary) == '"llamaz"'  # no term: nothing matches, at once
        assert prefix_term("llamaf", None) == '"llamaf"*'
        chosen = plan_query(index._conn, ModelQuery(text="karl", library="transformers"), kind_of(ModelQuery()),
                            columns=columns)  # fmt: skip
        assert chosen.column_tokens == ("_b_transformers",)
        assert chosen.matched_ids is not None and chosen.match is not None and "_b_transformers" in chosen.match


def test_vocabulary_prefixes() -> None:
    vocabulary = Vocabulary(["beta", "alpha", "alphabet", "_b_gguf", "alpine"])
    assert vocabulary.starting_with("alp", 5) == ["alpha", "alphabet", "alpine"]
    assert vocabulary.starting_with("alp", 2) is None  # more than the cap
    assert vocabulary.starting_with("_b", 5) == []  # tokens are not words
    vocabulary.add(["alpaca", "alpha", "_c_mit"])
    assert vocabulary.starting_with("alp", 5) == ["alpaca", "alpha", "alphabet", "alpine"]
    assert len(vocabulary) == 5


def test_sort_values_treat_null_and_text_as_sql_does(tmp_path: Path) -> None:
    """NULL sorts below every number best-first, text above (SQLite's order of types)."""
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert([ModelRecord(f"acme/llama-{i}", downloads=value) for i, value in enumerate([3, None, 10])])
        assert index._conn is not None
        index._conn.execute("UPDATE model_keys SET downloads = 'many' WHERE id = 1")
        index._conn.commit()
        index.load_facet_columns()
        columns: FacetColumns = index._columns["model"][1]
        assert columns.page([1, 2, 3], (), "downloads", None, 10, 0) == [1, 3, 2]
        assert sql_page(index, ModelQuery(text="llama", sort="downloads"), 10, 0) == [
            "acme/llama-0",
            "acme/llama-2",
            "acme/llama-1",
        ]
