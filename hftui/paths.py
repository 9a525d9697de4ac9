"""Where hftui keeps its own state (settings, indexes, run records, the demo Hub cache), and completing a path
typed by the user."""

from __future__ import annotations

import os
from pathlib import Path


def hftui_home() -> Path:
    """hftui's state directory: $HFTUI_HOME, else $XDG_CACHE_HOME/hftui, else ~/.cache/hftui."""
    explicit = os.environ.get("HFTUI_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg_cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg_cache).expanduser() if xdg_cache else Path.home() / ".cache"
    return base / "hftui"


def demo_hf_home() -> Path:
    """The separate HF_HOME that `hftui demo` seeds, so a user's real cache is never touched."""
    return hftui_home() / "demo" / "hf-home"


def demo_datasets_dir() -> Path:
    """Local dataset folders shipped with the demo (plain files, not a Hub cache)."""
    return hftui_home() / "demo" / "datasets"


def runs_dir() -> Path:
    """Training runs live here, one folder per run."""
    return hftui_home() / "runs"


def settings_file() -> Path:
    """User preferences such as the theme."""
    return hftui_home() / "settings.json"


COMPLETION_MAX_ENTRIES = 2000  # a huge folder is not listed whole just to complete a name


def complete_path(value: str) -> str | None:
    """`value` with its last component completed from what is on disk (folders end in "/"), or None.

    One match completes fully; several complete to their common prefix, or to the first match when they
    share nothing more than what was typed (nothing, when no name was typed yet). Hidden entries are offered
    only when the name starts with ".".
    Blocking (lists a folder): call it off the event loop.
    """
    if not value or "\n" in value:
        return None
    head, slash, name = value.rpartition("/")
    folder = Path(os.path.expanduser(head or "/")) if slash else Path(".")
    try:
        matches: list[tuple[str, bool]] = []
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= COMPLETION_MAX_ENTRIES:
                    break
                if not entry.name.startswith(name) or (entry.name.startswith(".") and not name.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                matches.append((entry.name, is_dir))
    except OSError:
        return None
    if not matches or (not name and len(matches) > 1):  # nothing typed yet: no guess among many
        return None
    matches.sort()
    prefix = value[: len(value) - len(name)]
    if len(matches) == 1:
        found, is_dir = matches[0]
        completed = prefix + found + ("/" if is_dir else "")
    else:
        common = os.path.commonprefix([found for found, _ in matches])  # noqa: RUF071 - names, not paths
        completed = prefix + (common if len(common) > len(name) else matches[0][0] + ("/" if matches[0][1] else ""))
    return completed if completed != value else None
