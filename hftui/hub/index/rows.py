"""Rows of one kind as stored: read back into records, merged with what a new record says, and written with
their FTS terms and the `facet_totals` counts kept in step.

A row is a dict of its columns (JSON lists as tuples) plus what was stored for it before this write
(`stored_terms`, `stored_facets`), so a write replaces exactly the FTS terms and counts it changes.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from hftui.hub.index.kinds import RepoKind
from hftui.hub.index.records import RepoRecord

_CACHE_FIELDS = ("cache_state", "cached_revisions", "size_on_disk")
# SQLite's NOCASE folds ASCII only; fold the same way so Python and SQL agree on which ids are the same.
_NOCASE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def nocase_key(repo_id: str) -> str:
    """`repo_id` folded as the repo_id column's NOCASE collation folds it."""
    return repo_id.translate(_NOCASE)


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


def _objects_json(values: tuple[Any, ...]) -> str | None:
    return json.dumps([value.to_json() for value in values], ensure_ascii=False) if values else None


def _objects_from_json(text: str | None, item: Callable[[Any], Any]) -> tuple[Any, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(read for read in map(item, value) if read is not None)


def row_dict(raw: tuple[Any, ...], kind: RepoKind) -> dict[str, Any]:
    """A row read with `kind.select_row`, as a dict that remembers its stored terms and facets."""
    row = dict(zip(kind.row_columns, raw, strict=True))
    for column in kind.json_columns:
        row[column] = _tuple_from_json(row[column])
    for column, item in kind.object_columns:
        row[column] = _objects_from_json(row[column], item)
    row["stored_terms"] = kind.fts_terms(row)
    row["stored_facets"] = _facet_values(row, kind)
    return row


def _facet_values(row: dict[str, Any], kind: RepoKind) -> tuple[tuple[str, str], ...]:
    """The (facet, value) pairs a row counts towards in `facet_totals` (facet names as stored there)."""
    prefix = kind.facet_prefix
    pairs = [(prefix + facet, row[column]) for facet, column in kind.single_facets.items() if row[column] is not None]
    for facet, column in kind.multi_facets.items():
        pairs.extend((prefix + facet, value) for value in row[column])
    return tuple(pairs)


def _record(row: dict[str, Any], kind: RepoKind, card_text: str | None = None) -> RepoRecord:
    return kind.record_type(**{name: row[name] for name in kind.record_fields}, card_text=card_text)


def records_by_id(conn: sqlite3.Connection, ids: list[int], kind: RepoKind) -> list[RepoRecord]:
    """The records of these row ids, in this order (ids no longer stored are left out)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.id IN ({marks})"
    rows = {raw[0]: raw for raw in conn.execute(sql, ids)}
    return [_record(row_dict(rows[row_id], kind), kind) for row_id in ids if row_id in rows]


def record_by_repo_id(conn: sqlite3.Connection, repo_id: str, kind: RepoKind) -> RepoRecord | None:
    """The record of one repo id (case-insensitive) with its card text, or None."""
    raw = conn.execute(
        f"SELECT {kind.select_row}, c.card_text FROM {kind.from_rows} "
        f"LEFT JOIN {kind.cards_table} AS c ON c.id = {kind.alias}.id "
        f"WHERE {kind.alias}.repo_id = ?",
        (repo_id,),
    ).fetchone()
    return None if raw is None else _record(row_dict(raw[:-1], kind), kind, raw[-1])


def total(conn: sqlite3.Connection, kind: RepoKind) -> int:
    """How many rows of `kind` the file holds (one lookup in `facet_totals`)."""
    row = conn.execute("SELECT n FROM facet_totals WHERE facet = ?", (kind.total_facet,)).fetchone()
    return int(row[0]) if row else 0


def existing_rows(conn: sqlite3.Connection, repo_ids: list[str], kind: RepoKind) -> dict[str, dict[str, Any]]:
    """The stored rows of these repo ids, keyed by `nocase_key`."""
    rows: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(repo_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.repo_id IN ({marks})"
        for raw in conn.execute(sql, chunk):
            row = row_dict(raw, kind)
            rows[nocase_key(row["repo_id"])] = row
    return rows


def merge(old: dict[str, Any] | None, record: RepoRecord, kind: RepoKind, *, ungated: bool = False) -> dict[str, Any]:
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
    seen = {name for name, seen_at in kind.replaced_when_seen if row[seen_at] is not None}
    for name, value in row.items():
        if name in _CACHE_FIELDS:
            if not states_cache:
                row[name] = old[name]
        elif (value is None or value == ()) and not (name == "gated" and ungated) and name not in seen:
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


def write_rows(
    conn: sqlite3.Connection,
    rows: Iterable[dict[str, Any]],
    kind: RepoKind,
    journal: list[dict[str, Any]] | None = None,
) -> None:
    """Store merged rows: new ones get the next ids; changed terms are replaced in the FTS index. Each row
    stored is appended to `journal`, for the in-memory facet columns to follow once the write commits."""
    first_table = kind.tables[0][0]
    next_id = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {first_table}").fetchone()[0]) + 1
    inserts: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _, _ in kind.tables}
    updates: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _, _ in kind.tables}
    term_deletes, term_inserts = [], []
    totals: Counter[tuple[str, str]] = Counter()
    json_columns = kind.json_columns
    object_columns = {column for column, _ in kind.object_columns}
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
        for table, _, columns in kind.tables:
            values = [
                _json_list(row[c]) if c in json_columns else _objects_json(row[c]) if c in object_columns else row[c]
                for c in columns
            ]
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
        if journal is not None:
            journal.append(row)
    for table, _, columns in kind.tables:
        if updates[table]:
            conn.executemany(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", updates[table]
            )
    terms_table = kind.terms_table
    if term_deletes:
        conn.executemany(
            f"INSERT INTO {terms_table}({terms_table}, rowid, terms) VALUES ('delete', ?, ?)", term_deletes
        )
    for table, _, columns in kind.tables:
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
