"""Load one kind's in-memory columns (`FacetColumns`) in a process of its own, for a large index.

Reading a million rows into numpy takes seconds of Python work; in a thread of the app's process it holds the
GIL, and every search meanwhile waits for it at each SQLite step (1M rows: search p95 227 ms while loading,
bench/index_scale.py). A child process reads the file on its own snapshot and sends the columns back pickled on
its stdout; the parent only waits on the pipe. `RepoIndex` keeps them only if the file did not change in between,
as it does for a load in a thread, and loads in a thread when the child cannot run or fails.

    python -m hftui.hub.index.column_loader INDEX_FILE REPO_TYPE   # writes the pickled columns to stdout
"""

from __future__ import annotations

import gc
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

from hftui.hub.index.facet_columns import FacetColumns
from hftui.hub.index.kinds import KINDS, RepoKind
from hftui.hub.index.vocabulary import Vocabulary

# Below this many rows a load in a thread takes well under a second (100k rows: ~0.6 s), less than starting
# a Python process costs; the child is for indexes where the load is felt.
ROWS_FOR_A_PROCESS = 200_000
# A child that has not answered in this long is stopped (1M rows load in ~7 s on 2 cores).
CHILD_TIMEOUT_S = 300.0


def snapshot_reader(path: Path | str, kind: RepoKind) -> sqlite3.Connection:
    """A read-only connection of its own, prepared for `FacetColumns.load`, holding a snapshot of the file as it
    is now: its first read is taken here, so a caller holding the store's lock knows no write slips in before.
    A missing file is an error, not a new empty index."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    reader = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=10.0)
    try:
        Vocabulary.prepare(reader, kind)  # in the temp schema, which a read-only file still allows
        reader.execute("BEGIN")  # one snapshot for every table read, starting with the first
        reader.execute(f"SELECT 1 FROM {kind.keys_table} LIMIT 1").fetchall()
    except BaseException:
        reader.close()
        raise
    return reader


def read_columns(path: Path | str, kind: RepoKind) -> FacetColumns:
    """`kind`'s columns, read on a snapshot of their own (`snapshot_reader`)."""
    reader = snapshot_reader(path, kind)
    try:
        return FacetColumns.load(reader, kind)
    finally:
        reader.close()


def load_in_child(path: Path, kind: RepoKind) -> FacetColumns:
    """`kind`'s columns read by a child Python process; raises `ChildFailed` when it cannot run or fails."""
    package_root = str(Path(__file__).resolve().parents[3])  # the folder holding `hftui`, wherever it was imported
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(path), kind.repo_type],
            capture_output=True,
            env=env,
            timeout=CHILD_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise ChildFailed(f"{type(error).__name__}: {error}") from error
    if done.returncode != 0:
        last_lines = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise ChildFailed(last_lines[0] if last_lines else f"exit status {done.returncode}")
    # Unpickling holds the GIL; tens of thousands of small lists and dicts (a million rows' authors) set off
    # collection after collection of the whole heap on the way, twice the time (1M rows: 0.25 s against 0.11).
    collecting = gc.isenabled()
    gc.disable()
    try:
        columns = pickle.loads(done.stdout)  # our own child's output, never a file from elsewhere
    except Exception as error:  # any unpickling failure means the same: load in a thread instead
        raise ChildFailed(f"unreadable answer: {error}") from error
    finally:
        if collecting:
            gc.enable()
    if not isinstance(columns, FacetColumns):
        raise ChildFailed(f"unexpected answer: {type(columns).__name__}")
    return columns


class ChildFailed(Exception):
    """The loading process could not run or did not answer with columns."""


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, repo_type = argv
    kind = next((kind for kind in KINDS if kind.repo_type == repo_type), None)
    if kind is None:
        print(f"unknown repo type {repo_type!r}", file=sys.stderr)
        return 2
    try:
        columns = read_columns(path, kind)
    except sqlite3.Error as error:
        print(f"sqlite3.Error: {error}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pickle.dumps(columns, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
