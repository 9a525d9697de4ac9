"""Writing files so that a reader never sees half of one: temporary files beside the targets, then `os.replace`.

Every file hftui writes for the user (settings, saved visits, reports, cards, samples, converted splits) goes
through `replaced_when_written`, so each keeps the same guarantees: flushed to disk before the rename, the mode
of the file it replaces (0644 when new), and on any failure the old files as they were and no temporary left.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# mkstemp makes files 0600; a new file is as readable as any other the user makes.
NEW_FILE_MODE = 0o644


@contextmanager
def replaced_when_written(*targets: str | os.PathLike[str]) -> Iterator[tuple[Path, ...]]:
    """Temporary paths, one beside each target, for the block to write (a writer that wants a path: Parquet,
    JSON Lines); when the block ends without error each is synced, given its target's mode and renamed over it,
    all only once all are written. On error every temporary is removed and every target stays as it was."""
    paths = [Path(target) for target in targets]
    temporaries: list[Path] = []
    try:
        for path in paths:
            # The target's suffix stays last, for writers that choose a format or compression by it.
            descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
            os.close(descriptor)
            temporaries.append(Path(name))
        yield tuple(temporaries)
        for path, temporary in zip(paths, temporaries, strict=True):
            _sync(temporary)
            os.chmod(temporary, _mode_of(path))
        for path, temporary in zip(paths, temporaries, strict=True):
            os.replace(temporary, path)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8, newlines as given) to `path` atomically (see `replaced_when_written`)."""
    target = Path(path)
    with replaced_when_written(target) as (temporary,):
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return target


def write_json_atomically(path: str | os.PathLike[str], data: object) -> Path:
    """Write `data` as indented JSON to `path` atomically, creating its folder first (settings, state, visits)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(target, json.dumps(data, indent=2))


def _sync(path: Path) -> None:
    """Flush a finished file to disk, so a crash after the rename cannot leave an empty or partial target."""
    descriptor = os.open(path, os.O_RDWR)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return NEW_FILE_MODE
