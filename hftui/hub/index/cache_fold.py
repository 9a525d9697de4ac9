"""Folding a scan of the local HF cache into the index: each cached repo's cache state and card facts, and
repos gone from the cache back to "remote" (their rows stay)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hftui.hub.cache import CachedRepo
from hftui.hub.cards.text import read_card
from hftui.hub.index.kinds import RepoKind
from hftui.hub.index.rows import existing_rows, merge, nocase_key, row_dict, write_rows


def _cached_row(old: dict[str, Any] | None, repo: CachedRepo, partial: bool, kind: RepoKind) -> dict[str, Any]:
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
    from_card = merge(None, kind.card_record(repo, metadata or {}), kind)
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


def repos_with_incomplete_blobs(cache_dir: Path, kind: RepoKind) -> dict[str, str]:
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
            found[nocase_key(repo_id)] = repo_id
    return found


def fold_cache(
    conn: sqlite3.Connection,
    kind: RepoKind,
    repos: tuple[CachedRepo, ...],
    incomplete: dict[str, str],
    journal: list[dict[str, Any]] | None = None,
) -> int:
    """Write the cache state of one kind's repos (see `RepoIndex.index_cache`); returns how many are on disk."""
    existing = existing_rows(conn, [repo.repo_id for repo in repos] + list(incomplete.values()), kind)
    rows: dict[str, dict[str, Any]] = {}
    for repo in repos:
        key = nocase_key(repo.repo_id)
        rows[key] = _cached_row(existing.get(key), repo, key in incomplete, kind)
    for key, repo_id in incomplete.items():
        if key not in rows:  # a first download still running or interrupted: no snapshot yet
            rows[key] = merge(existing.get(key), kind.record_type(repo_id, cache_state="partial"), kind)
    on_disk = len(rows)
    sql = f"SELECT {kind.select_row} FROM {kind.from_rows} WHERE {kind.alias}.cache_state != 'remote'"
    for raw in conn.execute(sql):
        row = row_dict(raw, kind)
        if nocase_key(row["repo_id"]) not in rows:
            row.update(cache_state="remote", cached_revisions=(), size_on_disk=None, card_revision=None)
            rows[nocase_key(row["repo_id"])] = row
    write_rows(conn, rows.values(), kind, journal)
    return on_disk
