"""`RepoIndex`: the one SQLite file of model and dataset metadata, written through from listings and the cache,
searched, counted and faceted offline."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from hftui.hub.cache import CacheScan
from hftui.hub.catalog.query import DEFAULT_SORT, DatasetQuery, ModelQuery
from hftui.hub.index import column_loader
from hftui.hub.index.cache_fold import fold_cache, repos_with_incomplete_blobs
from hftui.hub.index.facet_columns import FacetColumns
from hftui.hub.index.kinds import DATASETS, KINDS, MODELS, SORT_COLUMNS, RepoKind, kind_of
from hftui.hub.index.plan import Plan, count_sql, facet_counts_sql, page_sql, plan_query
from hftui.hub.index.records import (
    CACHE_STATES,
    DatasetRecord,
    ModelRecord,
    RepoRecord,
    record_from_dataset_info,
    record_from_model_info,
)
from hftui.hub.index.rows import existing_rows, merge, nocase_key, record_by_repo_id, records_by_id, total, write_rows
from hftui.hub.index.schema import describe_failure, is_corruption, move_aside, open_index_file
from hftui.hub.index.words import search_words
from hftui.hub.inference_providers import InferenceProvider

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from huggingface_hub import DatasetInfo, ModelInfo

_T = TypeVar("_T")
_BATCH = 10_000
_REMEMBERED_COUNTS = 256


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
        # Facet columns by repo type, with the `_version` they hold; kept in step with our own writes.
        self._columns: dict[str, tuple[tuple[int, int], FacetColumns]] = {}
        # Background loads of facet columns in progress, by repo type.
        self._loaders: dict[str, threading.Thread] = {}
        # The rows the write transaction in progress stored, by repo type (see `_write`).
        self._journal: dict[str, list[dict[str, Any]]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        problem = self._try_open()
        if problem is not None:
            self.rebuilt_reason = move_aside(self.path, problem)
            problem = self._try_open()
            if problem is not None:  # a fresh file that fails too is not something to paper over
                raise sqlite3.DatabaseError(problem)

    # -- opening, rebuilding, transactions -----------------------------------------------------------------

    def _try_open(self) -> str | None:
        self._conn, problem = open_index_file(self.path)
        return problem

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
                    if attempt == 2 or not is_corruption(error):
                        raise
                    conn.close()
                    self._conn = None
                    self.rebuilt_reason = move_aside(self.path, describe_failure(error))
                    problem = self._try_open()
                    if problem is not None:
                        raise sqlite3.DatabaseError(problem) from error
                    self._writes += 1  # nothing remembered about the old file holds
            raise AssertionError("unreachable")

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `work` in one write transaction."""

        def transaction(conn: sqlite3.Connection) -> _T:
            self._journal = {kind.repo_type: [] for kind in KINDS}
            conn.execute("BEGIN IMMEDIATE")
            # Read under the write lock: no other connection can commit until this transaction ends.
            before = self._version(conn)
            try:
                result = work(conn)
            except BaseException:
                conn.rollback()
                self._journal = {}
                raise
            conn.execute("COMMIT")
            self._writes += 1
            after = (self._writes, before[1])
            for repo_type, (version, columns) in list(self._columns.items()):
                if version != before:  # stale already: reloaded on next use
                    del self._columns[repo_type]
                    continue
                columns.apply(self._journal[repo_type])
                self._columns[repo_type] = (after, columns)
            self._journal = {}
            return result

        return self._run(transaction)

    def _version(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """What changes whenever the file does: our own commits bump `_writes`, another connection's commit
        moves `data_version`."""
        return (self._writes, int(conn.execute("PRAGMA data_version").fetchone()[0]))

    def load_facet_columns(self) -> None:
        """Load the facet columns of models and datasets now and wait for them (`facet_counts` otherwise loads
        them in the background on first use and counts in SQL meanwhile); a background load under way is waited
        for, not repeated."""
        for kind in KINDS:
            with self._lock:
                loader = self._loaders.get(kind.repo_type)
            if loader is not None:
                loader.join()
            self._load_columns(kind)

    def start_loading_columns(self) -> None:
        """Start loading the in-memory columns of models and datasets in the background, where they are not
        loaded and current already (the app does at start-up, so the first search and picker find them)."""

        def work(conn: sqlite3.Connection) -> None:
            for kind in KINDS:
                self._current_columns(conn, kind)

        self._run(work)

    def _current_columns(self, conn: sqlite3.Connection, kind: RepoKind) -> FacetColumns | None:
        """`kind`'s facet columns if they hold what the file holds now; else None, and a load is started."""
        held = self._columns.get(kind.repo_type)
        if held is not None and held[0] == self._version(conn):
            return held[1]
        if kind.repo_type not in self._loaders:
            loader = threading.Thread(
                target=self._load_columns, args=(kind,), name=f"hftui-{kind.repo_type}-facet-columns", daemon=True
            )
            self._loaders[kind.repo_type] = loader
            loader.start()
        return None

    def _load_columns(self, kind: RepoKind) -> None:
        """Read `kind`'s facet columns apart from this store's connection, so searches and writes go on
        meanwhile (a million rows take seconds); they are kept only if the file did not change while they were
        read. A large index is read by a child process (`column_loader`: a thread would hold the GIL the
        searches need), a small one, or one the child failed on, on a snapshot of this process taken under the
        lock (`column_loader.snapshot_reader`)."""
        try:
            with self._lock:
                if self._conn is None:
                    return
                version = self._version(self._conn)
                held = self._columns.get(kind.repo_type)
                if held is not None and held[0] == version:
                    return
                top = self._conn.execute(f"SELECT max(id) FROM {kind.keys_table}").fetchone()[0] or 0
                reader = (
                    None if top >= column_loader.ROWS_FOR_A_PROCESS else column_loader.snapshot_reader(self.path, kind)
                )
            columns = None
            if reader is None:
                try:
                    columns = column_loader.load_in_child(self.path, kind)
                except column_loader.ChildFailed:
                    with self._lock:
                        if self._conn is None or self._version(self._conn) != version:
                            return  # changed meanwhile: the next search starts a load of what is there now
                        reader = column_loader.snapshot_reader(self.path, kind)
            if columns is None and reader is not None:
                try:
                    columns = FacetColumns.load(reader, kind)
                finally:
                    reader.close()
            with self._lock:
                if columns is not None and self._conn is not None and self._version(self._conn) == version:
                    self._columns[kind.repo_type] = (version, columns)
        except sqlite3.Error:
            pass  # counts stay in SQL; the next facet_counts tries again
        finally:
            with self._lock:
                if self._loaders.get(kind.repo_type) is threading.current_thread():
                    del self._loaders[kind.repo_type]

    def _remembered(self, conn: sqlite3.Connection, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        """`compute()`, remembered until this or another connection next writes to the file."""
        # data_version moves when another connection commits; our own commits bump _writes.
        version = self._version(conn)
        if version != self._counts_version:
            self._counts.clear()
            self._counts_version = version
        if key in self._counts:
            self._counts.move_to_end(key)
            return self._counts[key]
        value = compute()
        self._counts[key] = value
        if len(self._counts) > _REMEMBERED_COUNTS:
            self._counts.popitem(last=False)
        return value

    def close(self) -> None:
        """Close the file (idempotent), once any background load of facet columns has ended."""
        with self._lock:
            loaders = list(self._loaders.values())
        for loader in loaders:
            loader.join()
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
        return self._run(lambda conn: total(conn, MODELS))

    def dataset_count(self) -> int:
        """How many datasets the index holds."""
        return self._run(lambda conn: total(conn, DATASETS))

    def optimize(self) -> None:
        """Tidy up after a large load: merge FTS segments, refresh planner statistics, trim the WAL."""

        def work(conn: sqlite3.Connection) -> None:
            for kind in KINDS:
                conn.execute(f"INSERT INTO {kind.terms_table}({kind.terms_table}) VALUES ('optimize')")
            conn.execute("PRAGMA optimize=0x10002")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._run(work)

    # -- writing -------------------------------------------------------------------------------------------

    def upsert(self, records: Iterable[ModelRecord]) -> int:
        """Insert or update records (e.g. a page of a Hub listing); returns how many were written.

        Fields a record leaves None or empty keep their stored value, so a sparse listing never erases what
        a fuller one or the card said (use `upsert_model_infos` for Hub data: there an explicit "not
        gated" clears gating). Cache fields are kept unless the record states a cache state of its own. A
        model's inference providers are replaced, even by none, only by a record saying when they were seen.
        Each batch of 10,000 records is one transaction.
        """
        return self._upsert(((record, False) for record in records), MODELS)

    def upsert_model_infos(self, infos: Iterable[ModelInfo]) -> int:
        """Write through `HfApi.list_models`/`model_info` results."""
        return self._upsert(((record_from_model_info(info), info.gated is False) for info in infos), MODELS)

    def set_card(self, repo_id: str, card_text: str) -> None:
        """Remember a card's text (e.g. after reading it from the Hub) so it can be shown offline."""
        self._upsert([(ModelRecord(repo_id, card_text=card_text), False)], MODELS)

    def set_inference_providers(
        self, repo_id: str, providers: Iterable[InferenceProvider], *, seen_at: float | None = None
    ) -> None:
        """Remember which inference providers the Hub lists for a model (none is news too), seen at `seen_at`
        (default now), so the model page and the provider filter answer offline with what was last seen."""
        when = time.time() if seen_at is None else seen_at
        record = ModelRecord(repo_id, inference_providers=tuple(providers), providers_seen_at=when)
        self._upsert([(record, False)], MODELS)

    def upsert_datasets(self, records: Iterable[DatasetRecord]) -> int:
        """Insert or update dataset records, by the same rules as `upsert`."""
        return self._upsert(((record, False) for record in records), DATASETS)

    def upsert_dataset_infos(self, infos: Iterable[DatasetInfo]) -> int:
        """Write through `HfApi.list_datasets`/`dataset_info` results."""
        return self._upsert(((record_from_dataset_info(info), info.gated is False) for info in infos), DATASETS)

    def set_dataset_card(self, repo_id: str, card_text: str) -> None:
        """Remember a dataset card's text so it can be shown offline."""
        self._upsert([(DatasetRecord(repo_id, card_text=card_text), False)], DATASETS)

    def _upsert(self, records: Iterable[tuple[RepoRecord, bool]], kind: RepoKind) -> int:
        """Upsert (record, whether its gated=None means "not gated") pairs in batches."""
        written = 0
        batch: list[tuple[RepoRecord, bool]] = []
        for item in records:
            if item[0].cache_state not in CACHE_STATES:
                raise ValueError(f"unknown cache state {item[0].cache_state!r}")
            batch.append(item)
            if len(batch) >= _BATCH:
                chunk, batch = batch, []
                written += self._upsert_chunk(chunk, kind)
        if batch:
            written += self._upsert_chunk(batch, kind)
        return written

    def _upsert_chunk(self, chunk: list[tuple[RepoRecord, bool]], kind: RepoKind) -> int:
        """One batch of `_upsert`, in one transaction."""
        return self._write(lambda conn: _upsert_batch(conn, chunk, kind, self._journal[kind.repo_type]))

    def index_cache(self, scan: CacheScan) -> int:
        """Fold a cache scan in: card facts and cache state for each cached model and dataset; repos gone
        from the cache go back to "remote" (their rows stay). A card is reread only when its snapshot
        changed. Returns the number of model repos on disk."""
        found = {kind.repo_type: (scan.of_type(kind.repo_type), repos_with_incomplete_blobs(scan.cache_dir, kind))
                 for kind in KINDS}  # fmt: skip

        def work(conn: sqlite3.Connection) -> int:
            on_disk = {
                kind.repo_type: fold_cache(conn, kind, *found[kind.repo_type], self._journal[kind.repo_type])
                for kind in KINDS
            }
            return on_disk["model"]

        return self._write(work)

    # -- reading -------------------------------------------------------------------------------------------

    def get(self, repo_id: str) -> ModelRecord | None:
        """One model record by repo id (case-insensitive), with its card text."""
        record = self._run(lambda conn: record_by_repo_id(conn, repo_id, MODELS))
        assert record is None or isinstance(record, ModelRecord)
        return record

    def get_dataset(self, repo_id: str) -> DatasetRecord | None:
        """One dataset record by repo id (case-insensitive), with its card text."""
        record = self._run(lambda conn: record_by_repo_id(conn, repo_id, DATASETS))
        assert record is None or isinstance(record, DatasetRecord)
        return record

    def explain(self, query: ModelQuery | DatasetQuery) -> str:
        """Which plan `search` uses for `query`: "match" (FTS first) or "scan" (sort index first)."""
        kind = kind_of(query)

        def work(conn: sqlite3.Connection) -> str:
            columns = self._current_columns(conn, kind)
            return "scan" if plan_query(conn, query, kind, columns=columns).scan else "match"

        return self._run(work)

    @overload
    def search(self, query: ModelQuery, *, limit: int = 50, offset: int = 0) -> list[ModelRecord]: ...
    @overload
    def search(self, query: DatasetQuery, *, limit: int = 50, offset: int = 0) -> list[DatasetRecord]: ...
    def search(self, query: ModelQuery | DatasetQuery, *, limit: int = 50, offset: int = 0) -> list[Any]:
        """One page of models (for a `ModelQuery`) or datasets (`DatasetQuery`) matching `query`, best first by
        its sort (ties: the later-indexed first).

        Records in a page leave `card_text` None to keep pages light; `get`/`get_dataset` return it. Once the
        in-memory columns are loaded (`FacetColumns`, started on first use), a long typed prefix is spelled by
        their vocabulary and the FTS plan's matches are sorted on their sort columns; the answers are the same.
        """
        limit, offset = max(0, int(limit)), max(0, int(offset))
        if limit == 0:
            return []
        kind = kind_of(query)

        def work(conn: sqlite3.Connection) -> list[RepoRecord]:
            columns = self._current_columns(conn, kind)
            plan = plan_query(conn, query, kind, columns=columns)
            if columns is not None and plan.matched_ids is not None:
                sort_column = SORT_COLUMNS[query.sort]
                ids = columns.page(
                    plan.matched_ids, plan.column_tokens, sort_column, plan.max_parameters, limit, offset
                )
            else:
                statement = page_sql(plan, kind, query.sort, limit, offset)
                if statement is None:
                    return []
                ids = [row[0] for row in conn.execute(*statement)]
            return records_by_id(conn, ids, kind)

        return self._run(work)

    def count(self, query: ModelQuery | DatasetQuery) -> int:
        """How many models or datasets match `query` (sort does not matter)."""
        kind = kind_of(query)

        def work(conn: sqlite3.Connection) -> int:
            columns = self._current_columns(conn, kind)
            plan = plan_query(conn, query, kind, probe=False, columns=columns)
            if not plan.filtered:
                return total(conn, kind)
            key = ("count", query.replace(sort=DEFAULT_SORT))
            if columns is not None:
                return self._remembered(conn, key, lambda: int(_rows_of(conn, columns, plan, query).sum()))
            sql, params = count_sql(plan, kind)
            return self._remembered(conn, key, lambda: int(conn.execute(sql, params).fetchone()[0]))

        return self._run(work)

    def facet_counts(self, facet: str, query: ModelQuery | DatasetQuery, *, limit: int = 50) -> list[tuple[str, int]]:
        """How many models (or datasets, for a `DatasetQuery`) have each value of `facet` among those matching
        `query` without its own filter; most common first (what a picker shows next to each value).

        With a filter, counts are taken on the in-memory facet columns (`FacetColumns`), loaded in the background
        on first use (seconds at a million rows; until then counts are a GROUP BY in SQL, the same answers) and
        kept in step with writes through this store; a write by another process has them loaded again."""
        kind = kind_of(query)
        if facet not in kind.facets:
            raise ValueError(f"unknown facet {facet!r}; expected one of {', '.join(kind.facets)}")
        others = query.replace(**{facet: None}, sort=DEFAULT_SORT)
        limit = max(0, int(limit))

        def work(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            columns = self._current_columns(conn, kind)
            plan = plan_query(conn, others, kind, probe=False, columns=columns)
            if not plan.filtered:  # the kept totals: one lookup
                sql, params = facet_counts_sql(plan, kind, facet, limit)
                return [(str(value), int(n)) for value, n in conn.execute(sql, params)]

            def compute() -> tuple[tuple[str, int], ...]:
                if columns is None:  # still loading: the plain GROUP BY, same answer, slower
                    sql, params = facet_counts_sql(plan, kind, facet, limit)
                    return tuple((str(value), int(n)) for value, n in conn.execute(sql, params))
                return tuple(columns.counts(facet, _rows_of(conn, columns, plan, others), limit))

            return list(self._remembered(conn, ("facet", facet, others, limit), compute))

        return self._run(work)


def _rows_of(
    conn: sqlite3.Connection, columns: FacetColumns, plan: Plan, query: ModelQuery | DatasetQuery
) -> npt.NDArray[np.bool_]:
    """A mask by id of the rows matching `query` (planned as `plan`), on the in-memory columns. With text, FTS
    matches the text and the rare tokens (`Plan.column_match`, remembered for the next filter or facet); the
    common ones, which would make FTS step through most of the table, are masks on the columns."""
    if search_words(query.text) and plan.column_match is not None:
        ids = columns.matched_ids(conn, plan.column_match)
        return columns.ids_mask(ids, plan.column_tokens, plan.max_parameters)
    return columns.rows_matching(query)


def _upsert_batch(
    conn: sqlite3.Connection, batch: list[tuple[RepoRecord, bool]], kind: RepoKind, journal: list[dict[str, Any]]
) -> int:
    existing = existing_rows(conn, [record.repo_id for record, _ in batch], kind)
    pending: dict[str, dict[str, Any]] = {}
    cards: dict[str, str] = {}
    for record, ungated in batch:
        key = nocase_key(record.repo_id)
        pending[key] = merge(pending.get(key) or existing.get(key), record, kind, ungated=ungated)
        if record.card_text is not None:
            cards[key] = record.card_text
    write_rows(conn, pending.values(), kind, journal)
    if cards:
        conn.executemany(
            f"INSERT INTO {kind.cards_table}(id, card_text) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET card_text = excluded.card_text",
            [(pending[key]["id"], text) for key, text in cards.items()],
        )
    return len(batch)
