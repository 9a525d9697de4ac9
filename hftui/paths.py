"""Where hftui keeps its own state: settings, indexes, run records and the demo Hub cache."""

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
