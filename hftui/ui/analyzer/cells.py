"""How the Analyzer's tables and lines write times, speeds and model names, and fit their columns to the terminal."""

from __future__ import annotations

from collections.abc import Sequence


def fit_columns(columns: Sequence[tuple[str, int]], width: int) -> list[tuple[str, int]]:
    """The columns with the one of width 0 given the room left in `width` cells (cell padding and scrollbar
    counted), at least 10."""
    used = sum(size for _, size in columns) + 2 * len(columns) + 2
    return [(label, size or max(width - used, 10)) for label, size in columns]


def duration(seconds: float | None) -> str:
    """Seconds as 0:07, 3:05 or 1:02:09; '' when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate(items_per_s: float) -> str:
    """Items per second, short."""
    if items_per_s <= 0:
        return ""
    return f"{items_per_s:.1f}" if items_per_s < 10 else f"{items_per_s:,.0f}"


def short_model(model: str) -> str:
    """A model's last path component: a long local path fits a table cell."""
    return model.rstrip("/").rsplit("/", 1)[-1] if model.startswith(("/", ".", "~")) else model
