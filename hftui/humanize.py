"""Numbers, sizes and times in the words a person reads at a glance (1.2M, 3.4 GB, 2 days ago)."""

from __future__ import annotations

import math
import time


def human_count(value: int | float | None) -> str:
    """1234 -> '1.2k', 1234567 -> '1.2M'; None -> '-'."""
    if value is None:
        return "-"
    number = float(value)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.1f}".rstrip("0").rstrip(".") + unit
    return f"{int(number)}"


def human_size(num_bytes: int | float | None) -> str:
    """Bytes in decimal units as `hf cache scan` prints them: '512 B', '4.2 MB', '1.3 GB'."""
    if num_bytes is None:
        return "-"
    size = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"  # pragma: no cover - the loop returns at TB


def relative_time(timestamp: float | None, *, now: float | None = None) -> str:
    """A past POSIX time as '5 minutes ago', '3 days ago'; None -> 'never'."""
    if timestamp is None:
        return "never"
    seconds = (now if now is not None else time.time()) - timestamp
    if seconds < 0:
        return "just now"
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    if seconds >= 60:
        count = int(seconds // 60)
        return f"{count} minute{'s' if count != 1 else ''} ago"
    return "just now"


def human_duration(seconds: object) -> str:
    """A run's length or time left: `<1s`, `45s`, `3m05s`, `2h07m`; `-` when unknown or not a finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return "-"
    if seconds < 1:
        return "<1s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else (f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


def human_metric(value: object) -> str:
    """A metric in a few significant digits; `-` when missing or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:.4g}"
