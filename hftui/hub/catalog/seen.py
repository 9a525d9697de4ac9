"""What hftui has seen of each model or dataset on the Hub, kept on disk so its page works offline later.

One JSON file per repo under hftui's home, one folder per repo type (`seen/models/`, `seen/datasets/`):
for a model the card text, config.json, the file list and recent commits as they were last fetched; for a
dataset its card, infos and files. Written atomically; unreadable files are treated as absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hftui.atomic_write import write_json_atomically
from hftui.paths import hftui_home

SEEN_REPO_TYPES = ("model", "dataset")


def default_seen_dir(repo_type: str = "model") -> Path:
    """Where snapshots of seen repos of `repo_type` ("model" or "dataset") live."""
    if repo_type not in SEEN_REPO_TYPES:
        raise ValueError(f"unknown repo type {repo_type!r}; expected one of {SEEN_REPO_TYPES}")
    return hftui_home() / "seen" / f"{repo_type}s"


class SeenStore:
    """A folder of per-repo JSON snapshots, one store per repo type (a model and a dataset may share an id)."""

    def __init__(self, root: Path | None = None, *, repo_type: str = "model") -> None:
        self.repo_type = repo_type
        self.root = root or default_seen_dir(repo_type)

    def _path(self, repo_id: str) -> Path:
        # Repo ids have one slash and no other path separators, but stay defensive: they are untrusted.
        safe = repo_id.replace("/", "--").replace("\\", "_").replace("\x00", "_")
        return self.root / f"{safe.lstrip('.')}.json"

    def save(self, repo_id: str, payload: dict[str, Any]) -> None:
        """Write the snapshot for `repo_id` atomically."""
        write_json_atomically(self._path(repo_id), payload)

    def load(self, repo_id: str) -> dict[str, Any] | None:
        """The last snapshot of `repo_id`, or None."""
        try:
            payload = json.loads(self._path(repo_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return payload if isinstance(payload, dict) else None
