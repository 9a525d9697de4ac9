"""The index file: its tables, schema version, where it lives, and opening it, with a damaged or other-schema
file moved aside so a fresh one can be built.

Threads: the store opens one connection with `check_same_thread=False` and uses it under one lock. Queries take
a few milliseconds, so serialising them is simpler than a connection per worker thread, and it keeps closing and
corruption recovery in one place. WAL mode lets another hftui process read meanwhile.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hftui.hub.index.kinds import DATASETS, KINDS, MODELS, SORT_COLUMNS, RepoKind
from hftui.hub.index.vocabulary import INDEXED_PREFIX
from hftui.hub.index.words import CACHED, GATED
from hftui.paths import hftui_home

SCHEMA_VERSION = 3  # 2: datasets; 3: inference providers
# The FTS prefix indexes: "1 2 3 4 5" (longer typed prefixes are spelled by the vocabulary; see vocabulary.py).
_PREFIX_LENGTHS = " ".join(str(length) for length in range(1, INDEXED_PREFIX + 1))

_MODEL_TABLES = """
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    tags TEXT,
    gated TEXT,
    cache_state TEXT NOT NULL DEFAULT 'remote',
    cached_revisions TEXT,
    size_on_disk INTEGER,
    card_revision TEXT,
    words TEXT NOT NULL,
    inference_providers TEXT,
    providers_seen_at REAL
);
CREATE TABLE model_keys (
    id INTEGER PRIMARY KEY,
    trending_score REAL,
    likes INTEGER,
    downloads INTEGER,
    last_modified REAL,
    created_at REAL,
    parameters INTEGER,
    author TEXT,
    pipeline_tag TEXT,
    library_name TEXT,
    license TEXT,
    languages TEXT,
    providers TEXT
);
"""
_FACET_TOTALS = """
CREATE TABLE facet_totals (
    facet TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (facet, value)
) WITHOUT ROWID;
"""
_DATASET_TABLE = """
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    author TEXT,
    task_categories TEXT,
    modalities TEXT,
    size_categories TEXT,
    languages TEXT,
    licenses TEXT,
    tags TEXT,
    trending_score REAL,
    likes INTEGER,
    downloads INTEGER,
    last_modified REAL,
    created_at REAL,
    gated TEXT,
    cache_state TEXT NOT NULL DEFAULT 'remote',
    cached_revisions TEXT,
    size_on_disk INTEGER,
    card_revision TEXT,
    words TEXT NOT NULL
);
"""


def _kind_extras(kind: RepoKind) -> str:
    """The statements every kind has alike: sort indexes, the on-disk index, the cards and the FTS table."""
    first_table = kind.tables[0][0]
    sql = "".join(
        f"CREATE INDEX {kind.sort_index}{sort} ON {kind.keys_table}({column});\n"
        for sort, column in SORT_COLUMNS.items()
    )
    sql += f"CREATE INDEX {first_table}_on_disk ON {first_table}(cache_state) WHERE cache_state != 'remote';\n"
    sql += f"CREATE TABLE {kind.cards_table} (id INTEGER PRIMARY KEY, card_text TEXT NOT NULL);\n"
    return sql + (
        f"CREATE VIRTUAL TABLE {kind.terms_table} USING fts5(\n"
        "    terms, content='', detail=none, columnsize=0,\n"
        f"    tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\", prefix='{_PREFIX_LENGTHS}'\n"
        ");\n"
    )


# The statements' text is what sqlite_master keeps: changing it changes the file.
SCHEMA_SQL = (
    _MODEL_TABLES
    + _kind_extras(MODELS)
    + _FACET_TOTALS
    + _DATASET_TABLE
    + _kind_extras(DATASETS)
    + f"PRAGMA user_version = {SCHEMA_VERSION};\n"
)
_TABLES = frozenset(
    {"facet_totals"}
    | {table for kind in KINDS for table, _, _ in kind.tables}
    | {kind.cards_table for kind in KINDS}
    | {kind.terms_table for kind in KINDS}
)


def default_index_path() -> Path:
    """Where hftui keeps its model and dataset index."""
    return hftui_home() / "index" / "models.sqlite"


def is_corruption(error: sqlite3.Error) -> bool:
    """Whether `error` says the file's content is damaged (rather than, say, locked)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    message = str(error).lower()
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in message or "not a database" in message


def describe_failure(error: sqlite3.Error) -> str:
    """Why a damaged file cannot be used, in the user's words."""
    if "not a database" in str(error).lower():
        return "the index file is not an SQLite database"
    return f"the index file is damaged ({error})"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable but for power loss; it is a cache
    conn.execute("PRAGMA cache_size=-131072")  # 128 MiB: the narrow keys and their indexes stay hot
    conn.execute("PRAGMA mmap_size=1073741824")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA analysis_limit=400")  # PRAGMA optimize samples instead of reading 1M rows
    # Checkpoint every 64 MiB rather than 4: a large listing sync then pays for far fewer fsyncs.
    conn.execute("PRAGMA wal_autocheckpoint=16384")
    return conn


def _check(conn: sqlite3.Connection) -> str | None:
    """Create the tables in an empty file; return why an existing one's content cannot be used, or None."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version == 0 and not tables:
        conn.executescript(SCHEMA_SQL)
        return None
    if version != SCHEMA_VERSION:
        newer = "a newer" if version > SCHEMA_VERSION else "an older"
        return f"the index was written by {newer} hftui (schema {version}, not {SCHEMA_VERSION})"
    if not _TABLES <= tables:
        return "the index file is missing tables"
    # A cheap read of pages every query touches; a full integrity check would cost seconds.
    conn.execute("SELECT n FROM facet_totals WHERE facet = '*'").fetchall()
    for kind in KINDS:
        conn.execute(f"SELECT {kind.select_row} FROM {kind.from_rows} ORDER BY {kind.alias}.id DESC LIMIT 1").fetchall()
        terms, token = kind.terms_table, GATED if kind.gated_tokens else CACHED
        conn.execute(f"SELECT rowid FROM {terms} WHERE {terms} MATCH '{token}' LIMIT 1").fetchall()
    return None


def open_index_file(path: Path) -> tuple[sqlite3.Connection | None, str | None]:
    """Open and check the file: the connection, or None and why its content cannot be used (left closed).
    Other failures (a locked or unreadable file) raise: the file may be fine, so it is not replaced."""
    try:
        conn = _connect(path)
    except sqlite3.DatabaseError as error:
        if not is_corruption(error):
            raise
        return None, describe_failure(error)
    try:
        problem = _check(conn)
    except sqlite3.DatabaseError as error:
        if not is_corruption(error):
            conn.close()
            raise
        problem = describe_failure(error)
    if problem is not None:
        conn.close()
        return None, problem
    return conn, None


def move_aside(path: Path, problem: str) -> str:
    """Move an unusable file (and its WAL sidecars) aside, keeping it for a look; returns what was done."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for n in range(1, 1000):  # two rebuilds in one second keep both files
        if not target.exists():
            break
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    if path.exists():
        path.replace(target)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.replace(target.with_name(target.name + suffix))
    return f"{problem}; it was moved to {target.name} and rebuilt"
