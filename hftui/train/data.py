"""A run's rows: its dataset loaded through the sampler's loading code, labels mapped to ids, and made into the
Trainer's inputs (token ids, or pixel values computed batch by batch).

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
from hftui.train.spec import DatasetRef, RunSpec

LABELS_FILE = "labels.json"
# The column of integer label ids the Trainer reads.
LABELS_COLUMN = "labels"


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


def wanted_columns(spec: RunSpec) -> list[tuple[str, str]]:
    """The (role, column) pairs the run's task reads: the label, and the image or the text (and text pair)."""
    data = spec.dataset
    wanted = [("label", data.label_column)]
    if spec.task == "image-classification":
        wanted.append(("image", data.image_column))
    else:
        wanted.append(("text", data.text_column))
        if data.text_pair_column:
            wanted.append(("text pair", data.text_pair_column))
    return wanted


def _as_label_strings(dataset: Any, column: str) -> tuple[list[Any], Any]:
    feature = dataset.features[column]
    values = dataset[column]
    names = getattr(feature, "names", None)
    if names:
        return [names[v] if isinstance(v, int) and 0 <= v < len(names) else v for v in values], feature
    return list(values), feature


def prepare_labels(train: Any, evaluation: Any | None, column: str) -> tuple[Any, Any | None, LabelMap]:
    """Replace the label column by integer `labels` (rows without a label dropped) and say what each id means."""
    train_values, feature = _as_label_strings(train, column)
    eval_values = _as_label_strings(evaluation, column)[0] if evaluation is not None else []
    names = getattr(feature, "names", None)
    labels = [str(n) for n in names] if names else label_names(None, [*train_values, *eval_values])
    if len(labels) < 2:
        raise TrainingInputError(
            f"the label column `{column}` has {len(labels)} distinct value(s); classification needs at least 2"
        )
    mapping = LabelMap(tuple(labels))
    label2id = mapping.label2id

    def encode(dataset: Any, values: list[Any]) -> Any:
        keep = [i for i, value in enumerate(values) if value is not None]
        if len(keep) < len(values):
            dataset = dataset.select(keep)
            values = [values[i] for i in keep]
        ids = label_ids(None, values, label2id)
        dataset = dataset.remove_columns([column])
        return dataset.add_column(LABELS_COLUMN, ids)

    train = encode(train, train_values)
    evaluation = encode(evaluation, eval_values) if evaluation is not None else None
    return train, evaluation, mapping


def hold_out(train: Any, fraction: float, seed: int, mapping: LabelMap, notes: list[str]) -> tuple[Any, Any]:
    """Split `fraction` of the training rows off for evaluation, stratified by label when every class can be."""
    from datasets import ClassLabel

    n_eval = max(1, round(len(train) * fraction))
    if len(train) - n_eval < 1:
        raise TrainingInputError(f"{len(train)} rows are too few to hold {fraction:.0%} out for evaluation")
    casted = train.cast_column(LABELS_COLUMN, ClassLabel(names=list(mapping.labels)))
    try:
        parts = casted.train_test_split(test_size=n_eval, seed=seed, stratify_by_column=LABELS_COLUMN)
    except ValueError as error:
        notes.append(f"the evaluation rows are not stratified by label ({error})")
        parts = casted.train_test_split(test_size=n_eval, seed=seed)
    return parts["train"], parts["test"]


def load_rows(spec: RunSpec, notes: list[str]) -> tuple[Any, Any | None, LabelMap]:
    """The training and evaluation datasets with integer labels, and the label map (`notes` gets what to tell)."""
    data = spec.dataset
    train_source, eval_source = sources_of(data)
    train = load_split(train_source)
    evaluation = load_split(eval_source) if eval_source is not None else None
    wanted = wanted_columns(spec)
    require_columns(train.column_names, wanted, f"{data.location} ({train_source.split})")
    if evaluation is not None and eval_source is not None:
        require_columns(evaluation.column_names, wanted, f"{eval_source.location} ({eval_source.split})")
    if data.max_train_rows is not None and len(train) > data.max_train_rows:
        train = train.shuffle(seed=spec.hyperparameters.seed).select(range(data.max_train_rows))
    train, evaluation, mapping = prepare_labels(train, evaluation, data.label_column)
    if evaluation is None and data.eval_fraction > 0:
        train, evaluation = hold_out(train, data.eval_fraction, spec.hyperparameters.seed, mapping, notes)
    if len(train) == 0:
        raise TrainingInputError(f"{data.location} has no training rows with a label")
    return train, evaluation, mapping


def tokenize(spec: RunSpec, tokenizer: Any, dataset: Any) -> Any:
    """Token ids (truncated to max_length, padded per batch later) and labels only."""
    data = spec.dataset
    text, pair = data.text_column, data.text_pair_column

    def encode(batch: dict[str, list[Any]]) -> Any:
        first = ["" if value is None else str(value) for value in batch[text]]
        second = ["" if value is None else str(value) for value in batch[pair]] if pair else None
        return tokenizer(first, second, truncation=True, max_length=spec.hyperparameters.max_length)

    drop = [column for column in dataset.column_names if column != LABELS_COLUMN]
    return dataset.map(encode, batched=True, remove_columns=drop)


def image_inputs(spec: RunSpec, processor: Any, dataset: Any) -> Any:
    """Pixel values computed on the fly (`with_transform`), so images are decoded batch by batch."""
    column = spec.dataset.image_column

    def transform(batch: dict[str, list[Any]]) -> Any:
        images = [image.convert("RGB") for image in batch[column]]
        inputs = processor(images, return_tensors="pt")
        return {"pixel_values": inputs["pixel_values"], LABELS_COLUMN: batch[LABELS_COLUMN]}

    return dataset.with_transform(transform)


def image_collator(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch of image rows as the model takes it: stacked pixel values and a tensor of label ids."""
    import torch

    return {
        "pixel_values": torch.stack([row["pixel_values"] for row in rows]),
        LABELS_COLUMN: torch.tensor([int(row[LABELS_COLUMN]) for row in rows]),
    }
