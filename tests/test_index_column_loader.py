"""A large index's in-memory columns are read by a child process and sent back whole; the answers are those of
columns loaded in this process, and a child that cannot run leaves the load to a thread."""

from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path

import pytest

from hftui.hub.catalog.query import ModelQuery
from hftui.hub.index import ModelRecord, RepoIndex, column_loader
from hftui.hub.index.kinds import MODELS
from tests.test_index_search_columns import check_counts, check_pages, model_record


def loaded(index: RepoIndex) -> object:
    index.load_facet_columns()
    return index._columns["model"][1]


def test_columns_survive_pickling_and_keep_following_writes(tmp_path: Path) -> None:
    rng = random.Random(2)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(300))
        columns = column_loader.read_columns(index.path, MODELS)
        copy = pickle.loads(pickle.dumps(columns))
        assert copy.kind is MODELS
        for facet, info in columns.facets.items():
            assert copy.facets[facet].values == info.values
            assert copy.facets[facet].code_of == info.code_of
            assert copy.facets[facet].codes_of_token == info.codes_of_token
        assert (copy.sort_values["downloads"] == columns.sort_values["downloads"]).all()
        assert copy.vocabulary.starting_with("llama", 10) == columns.vocabulary.starting_with("llama", 10)
        assert len(copy.vocabulary) == len(columns.vocabulary)
        # A new value after the copy gets the next code, as it would have in the original.
        assert copy.facets["author"].code("newcomer") == len(columns.facets["author"].values)


def test_a_child_process_loads_the_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(column_loader, "ROWS_FOR_A_PROCESS", 0)
    children: list[object] = []
    real = column_loader.load_in_child
    monkeypatch.setattr(column_loader, "load_in_child", lambda *a: children.append(a) or real(*a))
    rng = random.Random(4)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(300))
        loaded(index)
        assert children, "the columns should have come from a child process"
        check_pages(index, rng, 60)
        check_counts(index, rng, 60)
        # Writes after the child's load are applied to what it sent.
        index.upsert([ModelRecord("karl/instructionalist-9", downloads=10**7, library_name="gguf")])
        top = index.search(ModelQuery(text="instructiona", sort="downloads"))
        assert [record.repo_id for record in top] == ["karl/instructionalist-9"]
        check_pages(index, rng, 30)


def test_a_child_that_cannot_run_leaves_the_load_to_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(column_loader, "ROWS_FOR_A_PROCESS", 0)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(column_loader.ChildFailed):
        column_loader.load_in_child(tmp_path / "i.sqlite", MODELS)
    rng = random.Random(6)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(model_record(rng, i) for i in range(200))
        assert loaded(index) is not None
        check_pages(index, rng, 30)


def test_a_child_that_fails_says_why(tmp_path: Path) -> None:
    (tmp_path / "broken.sqlite").write_bytes(b"not a database, not at all" * 100)
    with pytest.raises(column_loader.ChildFailed, match=r"sqlite3\.Error"):
        column_loader.load_in_child(tmp_path / "broken.sqlite", MODELS)
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(column_loader.ChildFailed, match=r"sqlite3\.Error"):
        column_loader.load_in_child(missing, MODELS)
    assert not missing.exists(), "a load must never create an index"
