"""Column statistics over a sample of dataset rows, sorting, text bars, and saving the sample to a file.

A sample is a list of row mappings as `datasets` yields them; `features` is `Features.to_dict()` when known,
which tells a ClassLabel from a plain int and names its classes.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hftui.atomic_write import replaced_when_written
from hftui.data.cells import describe_cell
from hftui.libraries import import_serially

# A column with at most this many distinct values is shown as value counts, like a class column.
_FEW_VALUES = 20
_HISTOGRAM_BUCKETS = 10
_BLOCKS = " ▏▎▍▌▋▊▉█"
_NUMBER_DTYPES = ("int", "uint", "float", "double", "decimal")


@dataclass(frozen=True)
class ColumnStats:
    """What a sample says about one column: its kind, missing values, and the summary that suits the kind.

    `kind` is one of "number", "text", "bool", "class_label", "image", "audio", "nested", "binary", "null",
    "mixed".
    """

    name: str
    kind: str
    count: int
    nulls: int
    distinct: int | None
    minimum: float | None = None
    mean: float | None = None
    maximum: float | None = None
    length_histogram: tuple[tuple[str, int], ...] = ()
    length_min: int | None = None
    length_mean: float | None = None
    length_max: int | None = None
    classes: tuple[tuple[str, int], ...] = ()


def column_stats(
    rows: Sequence[Mapping[str, Any]], features: Mapping[str, Any] | None = None
) -> tuple[ColumnStats, ...]:
    """Statistics for every column (the features' order first, then columns seen only in rows)."""
    names = list(features or {})
    for row in rows:
        names.extend(name for name in row if name not in names)
    return tuple(
        _column(name, [row.get(name) for row in rows], (features or {}).get(name)) for name in dict.fromkeys(names)
    )


def value_counts(rows: Sequence[Mapping[str, Any]], column: str, *, top: int = 20) -> tuple[tuple[str, int], ...]:
    """The most frequent values of a column as short text keys, with their counts, most frequent first."""
    counts = Counter(_key(row.get(column)) for row in rows)
    return tuple(counts.most_common(top))


def sort_rows(rows: Sequence[Mapping[str, Any]], column: str, *, descending: bool = False) -> list[Mapping[str, Any]]:
    """Rows sorted by a column; missing values (None, NaN) stay last, and mixed types sort by type group."""
    present = [row for row in rows if not _missing(row.get(column))]
    missing = [row for row in rows if _missing(row.get(column))]
    return sorted(present, key=lambda row: _sort_key(row.get(column)), reverse=descending) + missing


def bar(count: int, largest: int, width: int = 20) -> str:
    """A bar of block characters `width` long at `largest`; any non-zero count shows at least a sliver."""
    if largest <= 0 or count <= 0 or width <= 0:
        return ""
    eighths = max(1, round(min(count / largest, 1.0) * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[rest] if rest else "")


def save_sample(rows: Sequence[Mapping[str, Any]], path: Path, *, features: Mapping[str, Any] | None = None) -> Path:
    """Write rows to `.parquet` or `.jsonl` as datasets would, via a temporary file so no partial file is left."""
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".jsonl"):
        raise ValueError(f"A sample can be saved as .parquet or .jsonl, not {path.suffix or 'a file without suffix'}.")
    import_serially("datasets")
    from datasets import Dataset, Features

    dataset = Dataset.from_list(
        [dict(row) for row in rows], features=Features.from_dict(dict(features)) if features else None
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_when_written(path) as (temporary,):
        if suffix == ".parquet":
            dataset.to_parquet(str(temporary))
        else:
            dataset.to_json(str(temporary), lines=True, force_ascii=False)
    return path


def _column(name: str, values: list[Any], feature: object) -> ColumnStats:
    feature = feature if isinstance(feature, Mapping) else None
    present = [value for value in values if value is not None]
    kind = _feature_kind(feature) or _value_kind(present)
    base = ColumnStats(name=name, kind=kind, count=len(values), nulls=len(values) - len(present), distinct=None)
    if kind in ("image", "audio", "binary"):
        return base
    keys = [_key(value) for value in present]
    distinct = len(set(keys))
    if kind == "class_label":
        return replace(base, distinct=distinct, classes=_classes(present, feature))
    few = _few_values(keys, distinct)
    if kind == "number":
        numbers = [float(value) for value in present if not (isinstance(value, float) and math.isnan(value))]
        if not numbers:
            return replace(base, distinct=distinct, classes=few)
        return replace(
            base,
            distinct=distinct,
            minimum=min(numbers),
            mean=sum(numbers) / len(numbers),
            maximum=max(numbers),
            classes=few,
        )
    if kind == "text":
        lengths = [len(value) for value in present]
        return replace(
            base,
            distinct=distinct,
            length_histogram=_histogram(lengths),
            length_min=min(lengths, default=None),
            length_mean=sum(lengths) / len(lengths) if lengths else None,
            length_max=max(lengths, default=None),
            classes=few,
        )
    if kind == "bool":
        return replace(base, distinct=distinct, classes=tuple(Counter(keys).most_common()))
    return replace(base, distinct=distinct if kind != "null" else 0)


def _feature_kind(feature: Mapping[str, Any] | None) -> str | None:
    """The kind a datasets feature declares; None when it says nothing certain."""
    if feature is None:
        return None
    kind = feature.get("_type")
    if kind == "ClassLabel":
        return "class_label"
    if kind == "Image":
        return "image"
    if kind == "Audio":
        return "audio"
    if kind in ("Sequence", "List", "LargeList", "Array2D", "Array3D", "Array4D", "Array5D", "Translation"):
        return "nested"
    if kind == "Value":
        dtype = str(feature.get("dtype", ""))
        if dtype == "bool":
            return "bool"
        if dtype in ("string", "large_string"):
            return "text"
        if dtype.startswith(_NUMBER_DTYPES):
            return "number"
        if dtype in ("binary", "large_binary"):
            return "binary"
        return None
    if "_type" not in feature and feature:
        return "nested"  # a dict of features is a struct
    return None


def _value_kind(values: list[Any]) -> str:
    """The kind the values themselves show, "mixed" when they disagree."""
    kinds = {_kind_of(value) for value in values}
    if not kinds:
        return "null"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes | bytearray):
        return "binary"
    if hasattr(value, "getbands") and hasattr(value, "size"):
        return "image"
    if isinstance(value, Mapping) and ("sampling_rate" in value or "array" in value):
        return "audio"
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return _kind_of(value.item())  # numpy scalars
    return "nested"


def _key(value: object) -> str:
    """A short text key for counting a value; unhashable values count by their compact rendering."""
    return describe_cell(value, max_chars=40)


def _classes(values: list[Any], feature: Mapping[str, Any] | None) -> tuple[tuple[str, int], ...]:
    """Counts per class in the feature's order (every named class, even unseen), then unnamed values."""
    names = (feature or {}).get("names")
    names = list(names) if isinstance(names, list | tuple) else []
    counts = Counter(values)
    classes = [(str(label), counts.pop(index, 0)) for index, label in enumerate(names)]
    classes.extend((str(value), count) for value, count in counts.most_common())
    return tuple(classes)


def _few_values(keys: list[str], distinct: int) -> tuple[tuple[str, int], ...]:
    """Value counts when a column holds few repeated values (a label column without ClassLabel)."""
    if distinct > _FEW_VALUES or distinct * 2 > len(keys):
        return ()
    return tuple(Counter(keys).most_common())


def _histogram(lengths: list[int]) -> tuple[tuple[str, int], ...]:
    """Text lengths in equal buckets of a round width, from the shortest bucket seen to the longest."""
    if not lengths:
        return ()
    width = _bucket_width(max(lengths) - min(lengths) + 1)
    first, last = min(lengths) // width, max(lengths) // width
    counts = Counter(length // width for length in lengths)
    return tuple(
        (f"{bucket * width}-{(bucket + 1) * width - 1}", counts.get(bucket, 0)) for bucket in range(first, last + 1)
    )


def _bucket_width(span: int) -> int:
    """The smallest round width (1, 2, 5, 10, 20, 50, ...) that covers `span` in at most ten buckets."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale * _HISTOGRAM_BUCKETS >= span:
                return step * scale
        scale *= 10


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sort_key(value: object) -> tuple[int, Any]:
    """Numbers (and bools) first, then text, then anything else by its JSON text, so types never compare."""
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return _sort_key(value.item())
    try:
        return (2, json.dumps(value, sort_keys=True, default=str))
    except (TypeError, ValueError):
        return (2, str(value))
