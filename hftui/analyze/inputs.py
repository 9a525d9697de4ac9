"""What the Analyzer analyses: one `AnalysisInput` per text, image or audio item, wherever it came from.

The Datasets screen sends a column or a row of its sample with `inputs_from_sample`; each cell becomes an
input of the modality its feature (or, without features, its value) says. Cells no analysis task takes
(numbers, labels, nested values) are skipped and counted, so the user is told what was left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MODALITIES = ("text", "image", "audio")


@dataclass(frozen=True)
class AnalysisInput:
    """One item to analyse: its modality, where it came from, and the value a pipeline takes.

    `value` is a str for text, a PIL image or `{"bytes"|"path": ...}` for images, and
    `{"array", "sampling_rate"}` or `{"bytes"|"path": ...}` for audio.
    """

    modality: str
    origin: str
    value: Any


@dataclass(frozen=True)
class SentInputs:
    """Inputs taken from a sample, and how many cells were skipped because no analysis takes them."""

    inputs: tuple[AnalysisInput, ...]
    skipped: int


def modality_of(value: object, feature: Mapping[str, Any] | None = None) -> str | None:
    """The modality of a cell: from its datasets feature when known, else from the value; None if none fits."""
    kind = feature.get("_type") if isinstance(feature, Mapping) else None
    if kind == "Image":
        return "image" if value is not None else None
    if kind == "Audio":
        return "audio" if value is not None else None
    if kind == "Value" and feature is not None and feature.get("dtype") not in ("string", "large_string"):
        return None
    if isinstance(value, str):
        return "text" if value.strip() else None
    if hasattr(value, "size") and hasattr(value, "mode") and hasattr(value, "getbands"):
        return "image"
    if isinstance(value, Mapping):
        if "array" in value and "sampling_rate" in value:
            return "audio"
        path = value.get("path")
        if isinstance(path, str):
            suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
            if suffix in ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"):
                return "image"
            if suffix in ("wav", "flac", "mp3", "ogg", "opus", "m4a"):
                return "audio"
    return None


def inputs_from_sample(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str],
    features: Mapping[str, Any] | None = None,
    source: str,
    row_numbers: Sequence[int] | None = None,
) -> SentInputs:
    """The analysable cells of `columns` in `rows`, in order; `source` names the dataset for each origin."""
    features = features or {}
    inputs: list[AnalysisInput] = []
    skipped = 0
    numbers = row_numbers if row_numbers is not None else range(len(rows))
    for number, row in zip(numbers, rows, strict=True):
        for column in columns:
            value = row.get(column)
            feature = features.get(column)
            modality = modality_of(value, feature if isinstance(feature, Mapping) else None)
            if modality is None:
                skipped += 1
                continue
            inputs.append(AnalysisInput(modality, f"{source} row {number} {column}", value))
    return SentInputs(tuple(inputs), skipped)


def count_by_modality(inputs: Sequence[AnalysisInput]) -> dict[str, int]:
    """How many inputs of each modality, in MODALITIES order, leaving out modalities with none."""
    counts = {modality: 0 for modality in MODALITIES}
    for item in inputs:
        counts[item.modality] = counts.get(item.modality, 0) + 1
    return {modality: count for modality, count in counts.items() if count}
