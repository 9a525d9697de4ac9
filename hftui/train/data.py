"""A run's rows: its dataset loaded through the sampler's loading code, labels mapped to ids.

Local CSV/JSON Lines/Parquet files and Hub datasets load exactly as the preview and the converter load
them (`hftui.data.sampler.load_arguments`), and fail with the same wording.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.data.sampler import SampleError, SampleOptions, SampleSource
from hftui.libraries import import_serially
from hftui.train.spec import DatasetRef

LABELS_FILE = "labels.json"


class TrainingInputError(Exception):
    """The run cannot start with these inputs (missing column, no classification head, ...)."""

    def __init__(self, message: str, kind: str = "bad_input") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def sources_of(ref: DatasetRef) -> tuple[SampleSource, SampleSource | None]:
    """The training split's source, and the evaluation split's when one is named (else None)."""
    train = SampleSource(ref.kind, ref.location, ref.config, ref.split)
    if ref.eval_location:
        return train, SampleSource("local", ref.eval_location, None, "train")
    if ref.eval_split:
        return train, SampleSource(ref.kind, ref.location, ref.config, ref.eval_split)
    return train, None


def peek(source: SampleSource) -> tuple[tuple[str, ...], dict[str, Any] | None]:
    """The columns and first row of a source, streamed (nothing is downloaded in full); raises SampleError."""
    from hftui.data.sampler import stream_sample

    for batch in stream_sample(source, SampleOptions(n=1, batch_size=1)):
        return batch.columns, (batch.rows[0] if batch.rows else None)
    return (), None


def load_split(source: SampleSource) -> Any:
    """One split as a `datasets.Dataset`; failures become TrainingInputError with the sampler's wording."""
    import_serially("datasets")
    import datasets

    from hftui.data.sampler import explain_sample_error, load_arguments

    try:
        builder, arguments = load_arguments(source)
        return datasets.load_dataset(builder, split=source.split, **arguments)
    except SampleError as error:
        raise TrainingInputError(error.message) from error
    except Exception as error:
        cause: BaseException = error
        while type(cause).__name__ == "DatasetGenerationError" and cause.__cause__ is not None:
            cause = cause.__cause__
        raise TrainingInputError(explain_sample_error(cause, source).message) from error


def require_columns(columns: Sequence[str], wanted: Sequence[tuple[str, str]], where: str) -> None:
    """Raise TrainingInputError naming each (role, column) missing from `columns`, with the columns there are."""
    missing = [f"{role} column `{name}`" for role, name in wanted if name not in columns]
    if missing:
        raise TrainingInputError(f"{where} has no {' and no '.join(missing)}; its columns are {', '.join(columns)}")


def label_names(feature: Any, values: Sequence[Any]) -> list[str]:
    """The label names: a ClassLabel's own, else the distinct values as text (numbers in numeric order)."""
    names = getattr(feature, "names", None)
    if names:
        return [str(name) for name in names]
    distinct = {value for value in values if value is not None}
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in distinct):
        return [str(value) for value in sorted(distinct)]
    return sorted(str(value) for value in distinct)


def label_ids(feature: Any, values: Sequence[Any], label2id: dict[str, int]) -> list[int]:
    """Each row's label id (a ClassLabel's ints are its ids already); unknown labels raise TrainingInputError."""
    if getattr(feature, "names", None):
        return [int(value) for value in values]
    out = []
    for value in values:
        key = str(value)
        if key not in label2id:
            known = ", ".join(label2id)
            raise TrainingInputError(f"the label {key!r} is not among the training labels ({known})")
        out.append(label2id[key])
    return out


@dataclass(frozen=True)
class LabelMap:
    """The labels of a run and their ids, saved as labels.json so predictions can be read back."""

    labels: tuple[str, ...]

    @property
    def label2id(self) -> dict[str, int]:
        """Label name to id."""
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def id2label(self) -> dict[int, str]:
        """Id to label name."""
        return dict(enumerate(self.labels))

    def save(self, run_dir: Path) -> Path:
        """Write labels.json."""
        path = Path(run_dir) / LABELS_FILE
        path.write_text(
            json.dumps({"labels": list(self.labels), "label2id": self.label2id}, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        return path

    @classmethod
    def load(cls, run_dir: Path) -> LabelMap | None:
        """labels.json of a run, or None."""
        try:
            data = json.loads((Path(run_dir) / LABELS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        labels = data.get("labels") if isinstance(data, dict) else None
        return cls(tuple(str(label) for label in labels)) if isinstance(labels, list) else None
