"""The user's hftui preferences (theme, key overrides), kept in settings.json under hftui's home."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hftui.atomic_write import write_json_atomically
from hftui.paths import hftui_home, settings_file


@dataclass(frozen=True)
class Preferences:
    """What the user chose last time; unknown or broken files fall back to the defaults."""

    theme: str = "textual-dark"
    keymap: dict[str, str] = field(default_factory=dict)


def load_preferences(path: Path | None = None) -> Preferences:
    """Read preferences; a missing, unreadable or malformed file gives the defaults."""
    target = path or settings_file()
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Preferences()
    if not isinstance(raw, dict):
        return Preferences()
    theme = raw.get("theme")
    keymap = raw.get("keymap")
    theme = theme if isinstance(theme, str) else Preferences.theme
    keymap = keymap if isinstance(keymap, dict) else {}
    return Preferences(theme=theme, keymap={str(k): str(v) for k, v in keymap.items()})


def save_preferences(preferences: Preferences, path: Path | None = None) -> None:
    """Write preferences atomically."""
    write_json_atomically(path or settings_file(), asdict(preferences))


def read_screen_state(name: str) -> dict[str, object]:
    """A screen's remembered state (last filters, presets) from `<hftui home>/state/<name>.json`."""
    try:
        data = json.loads((hftui_home() / "state" / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_screen_state(name: str, data: dict[str, object]) -> None:
    """Remember a screen's state."""
    write_json_atomically(hftui_home() / "state" / f"{name}.json", data)
