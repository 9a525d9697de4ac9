"""Describe one cell of a dataset row as plain text: a short form for a table, the full form for a detail view.

Values come as `datasets` yields them (text, numbers, ClassLabel ints, PIL images, audio dicts, nested
structures, bytes). The UI escapes the text; these functions only decide what to say.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

EMPTY = "∅"
_ELLIPSIS = "…"


def describe_cell(value: object, feature: Mapping[str, Any] | None = None, *, max_chars: int = 80) -> str:
    """A one-line description of a cell value, at most about `max_chars` characters of its content."""
    max_chars = max(max_chars, 1)
    if value is None:
        return EMPTY
    feature_type = _feature_type(feature)
    label = _class_label(value, feature)
    if label is not None:
        return label
    if isinstance(value, str):
        # A table row is one line: newlines and tabs would break the row apart.
        flat = " ".join(value.split("\n")).replace("\t", " ").replace("\r", " ")
        if len(flat) <= max_chars:
            return flat
        return f"{flat[:max_chars]}{_ELLIPSIS} ({len(value):,} chars)"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value):,} bytes>"
    if _is_image(value):
        return _describe_image(value)
    if isinstance(value, Mapping):
        if feature_type == "Audio" or _looks_like_audio(value):
            return _describe_audio(value)
        if feature_type == "Image" or _looks_like_encoded_file(value):
            return _describe_encoded_image(value)
    if _is_nested(value):
        return _shorten(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default), max_chars)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return describe_cell(value.item(), feature, max_chars=max_chars)
        except (TypeError, ValueError):
            pass
    return _shorten(str(value), max_chars)


def full_value(value: object, feature: Mapping[str, Any] | None = None) -> str:
    """The whole value for a detail view: the full text, pretty JSON for nested values."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and (_looks_like_audio(value) or _looks_like_encoded_file(value)):
        return _describe_media_fully(value, feature)
    if _is_nested(value):
        return json.dumps(value, ensure_ascii=False, indent=2, default=_json_default)
    return describe_cell(value, feature, max_chars=1_000_000)


def _describe_media_fully(value: Mapping[Any, Any], feature: Mapping[str, Any] | None) -> str:
    """An audio or image cell with what the one-line form leaves out: channels and the file name."""
    text = describe_cell(value, feature, max_chars=1_000_000)
    shape = getattr(value.get("array"), "shape", None)
    if shape is not None and len(shape) > 1:
        text += f", {shape[0]} channels"
    path = value.get("path")
    if isinstance(path, str) and path and path not in text:
        text += f" ({path})"
    return text


def _feature_type(feature: Mapping[str, Any] | None) -> str | None:
    if not isinstance(feature, Mapping):
        return None
    kind = feature.get("_type")
    return kind if isinstance(kind, str) else None


def _class_label(value: object, feature: Mapping[str, Any] | None) -> str | None:
    """`1 (pos)` for a ClassLabel int whose feature names its classes; None when it does not apply."""
    if _feature_type(feature) != "ClassLabel" or isinstance(value, bool) or not isinstance(value, int):
        return None
    assert feature is not None
    names = feature.get("names")
    if isinstance(names, list | tuple) and 0 <= value < len(names):
        return f"{value} ({names[value]})"
    return str(value)  # -1 is the datasets convention for "no label"


def _is_image(value: object) -> bool:
    """A PIL image, recognised without importing PIL."""
    return hasattr(value, "size") and hasattr(value, "mode") and hasattr(value, "getbands")


def _describe_image(image: Any) -> str:
    width, height = image.size
    return f"image {width}x{height} {image.mode}"


def _is_file(value: Mapping[Any, Any]) -> bool:
    return bool(value) and set(value) <= {"bytes", "path"}


def _looks_like_encoded_file(value: Mapping[Any, Any]) -> bool:
    return _is_file(value) and (value.get("bytes") is not None or value.get("path") is not None)


def _looks_like_audio(value: Mapping[Any, Any]) -> bool:
    return "sampling_rate" in value or "array" in value


def _describe_encoded_image(value: Mapping[Any, Any]) -> str:
    """An image stored as datasets stores it ({"bytes", "path"}); only the header is read for its size."""
    data = value.get("bytes")
    path = value.get("path")
    if isinstance(data, bytes | bytearray):
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:  # opening reads the header, not the pixels
                return _describe_image(image)
        except Exception:  # any undecodable image is still described by its size
            return f"image <{len(data):,} bytes>"
    return f"image {path}" if path else "image"


def _describe_audio(value: Mapping[Any, Any]) -> str:
    """`audio 1.50 s @ 16000 Hz` for decoded audio; the file name or size for encoded audio."""
    array = value.get("array")
    rate = value.get("sampling_rate")
    if array is not None and isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
        shape = getattr(array, "shape", None)
        # Multi-channel arrays are (channels, samples) in datasets; the last axis is time.
        samples = shape[-1] if shape else len(array)
        return f"audio {samples / rate:.2f} s @ {rate:g} Hz"
    data = value.get("bytes")
    if isinstance(data, bytes | bytearray):
        return f"audio <{len(data):,} bytes>"
    path = value.get("path")
    return f"audio {path}" if path else "audio"


def _is_nested(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple) or (hasattr(value, "tolist") and hasattr(value, "shape"))


def _json_default(value: object) -> object:
    """What JSON cannot write itself: bytes, numpy values, images, anything else as text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value):,} bytes>"
    if _is_image(value):
        return _describe_image(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _shorten(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + _ELLIPSIS
