"""What hftui has seen of each model on the Hub, kept on disk so the model page works offline later.

One JSON file per repo under hftui's home: the card text, config.json, the file list and recent
commits as they were last fetched. Written atomically; unreadable files are treated as absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hftui.paths import hftui_home
from hftui.preferences import write_json_atomically


def default_seen_dir() -> Path:
    """Where seen-model snapshots live."""
    return hftui_home() / "seen" / "models"


class SeenStore:
    """A folder of per-repo JSON snapshots."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_seen_dir()

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
