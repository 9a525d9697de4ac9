"""Training runs on disk: one folder per run under hftui's runs directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunRecord:
    """What a runs list shows of one run folder."""

    run_id: str
    path: Path
    state: str
    started: str


def list_runs(root: Path) -> tuple[RunRecord, ...]:
    """Each run folder under `root`, newest first; a folder without a readable run.json is 'unknown'."""
    if not root.is_dir():
        return ()
    records = []
    for folder in sorted(root.iterdir(), reverse=True):
        if not folder.is_dir():
            continue
        try:
            meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        records.append(RunRecord(folder.name, folder, str(meta.get("state", "unknown")), str(meta.get("started", "-"))))
    return tuple(records)
