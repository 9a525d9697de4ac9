"""Convert local CSV, JSON Lines and Parquet files into one schema and stratified Parquet splits, with a report.

The flow: `read_schemas` loads each file with `datasets.load_dataset` and describes its columns; `default_plan`
maps columns onto target columns by name; the user edits the `ConvertPlan` (rename, drop, cast, label, splits,
seed); `convert` runs it with the datasets API (`rename_columns`, `remove_columns`, `cast`,
`concatenate_datasets`, `class_encode_column`, two stratified `train_test_split`s) and writes
`train/validation/test.parquet`, `REPORT.md` and `report.json` through temporary files.

Decisions, written down once:
- Names match when they are equal after lowercasing and turning runs of spaces and punctuation into `_`
  (`Text`, `text` and ` TEXT ` match, as do `Review Text` and `review-text`); there are no synonyms, so
  `review` and `text` stay apart until the user renames one onto the other. Target names are that key.
- The target type is the type the sources agree on; ints and floats together become float64; anything
  else that disagrees becomes string.
- A value that does not fit the target type stops the conversion with an error naming the source, the
  column and the value (rows are never dropped silently); cast that column to string instead, or fix it.
- Rows with a missing label (null or blank text) are dropped and counted; exact duplicates (every target
  column equal, the `source` column aside) are counted, and dropped only when the plan says `dedupe`.
- Transformations run in memory (`keep_in_memory=True`): meant for files that fit in memory, and nothing is
  added to the datasets cache beyond what `load_dataset` itself stores. Input files are only read; an output
  path that is one of the inputs is refused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hftui.data.sampler import SampleError, SampleSource, detect_local_format
from hftui.libraries import import_serially

CONVERT_ERROR_KINDS = (
    "not_found",
    "bad_file",
    "empty",
    "unsupported",
    "bad_plan",
    "label_missing",
    "bad_cast",
    "class_too_small",
    "split_too_small",
    "would_overwrite",
    "write_failed",
    "cancelled",
)
# The types a target column can be cast to by name.
CAST_TYPES = ("string", "int64", "int32", "float64", "float32", "bool")
# Target names tried, in order, when no label column is given.
LABEL_CANDIDATES = ("label", "labels", "class", "category", "sentiment", "target")
SOURCE_COLUMN = "source"
SPLIT_NAMES = ("train", "validation", "test")
TABULAR_FORMATS = ("csv", "json", "parquet")
_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOATS = ("float16", "float32", "float64")
_NAME_RUNS = re.compile(r"[^0-9a-z]+")


class ConvertError(Exception):
    """The conversion cannot go on; `kind` says why (see CONVERT_ERROR_KINDS), `message` says it in words."""

    def __init__(self, message: str, kind: str = "bad_plan") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class ConvertCancelled(ConvertError):
    """The user stopped the conversion; nothing was written."""

    def __init__(self) -> None:
        super().__init__("Cancelled; nothing was written.", "cancelled")


@dataclass(frozen=True)
class SourceColumn:
    """One column of a source file: its name, its type in words, and the datasets feature when not a plain value."""

    name: str
    dtype: str
    feature: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SourceSchema:
    """What one input file holds: where it is, how it was read, its row count and its columns."""

    path: Path
    data_format: str
    rows: int
    columns: tuple[SourceColumn, ...]

    @property
    def name(self) -> str:
        return self.path.name

    def column(self, name: str) -> SourceColumn | None:
        """The column called `name`, or None."""
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class ColumnMapping:
    """Where each column of one source goes: a target column name, or None when it is dropped."""

    source: Path
    targets: tuple[tuple[str, str | None], ...]

    def target_of(self, column: str) -> str | None:
        """The target column `column` maps to, or None when it is dropped."""
        return dict(self.targets).get(column)

    def source_for(self, target: str) -> str | None:
        """The column of this source that maps onto `target`, or None."""
        return next((column for column, mapped in self.targets if mapped == target), None)


@dataclass(frozen=True)
class TargetColumn:
    """A column of the converted dataset: its name, the type cast to, whether it is kept, whether the user chose it."""

    name: str
    dtype: str
    keep: bool = True
    chosen_type: bool = False


@dataclass(frozen=True)
class SplitFractions:
    """The share of rows in train, validation and test; they add up to 1, and train is never empty."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        shares = (self.train, self.validation, self.test)
        if any(not math.isfinite(share) or share < 0 for share in shares) or self.train <= 0:
            raise ConvertError(f"split fractions must be positive numbers, got {self.text()}", "bad_plan")
        if abs(sum(shares) - 1) > 1e-6:
            raise ConvertError(f"split fractions must add up to 1, got {self.text()} = {sum(shares):g}", "bad_plan")

    @classmethod
    def parse(cls, text: str) -> SplitFractions:
        """Read "0.8,0.1,0.1" or "80,10,10" (train, validation, test), or two numbers for train and test."""
        try:
            numbers = [float(part) for part in text.replace(" ", "").replace("/", ",").split(",") if part]
        except ValueError:
            raise ConvertError(f"splits {text!r}: expected numbers such as 0.8,0.1,0.1", "bad_plan") from None
        if len(numbers) == 2:
            numbers = [numbers[0], 0.0, numbers[1]]
        if len(numbers) != 3:
            raise ConvertError(f"splits {text!r}: expected train,validation,test such as 0.8,0.1,0.1", "bad_plan")
        if abs(sum(numbers) - 100) < 1e-6:
            numbers = [number / 100 for number in numbers]
        return cls(*numbers)

    def text(self) -> str:
        """The fractions as the user would type them."""
        return ",".join(f"{share:g}" for share in (self.train, self.validation, self.test))


@dataclass(frozen=True)
class ConvertPlan:
    """Everything a conversion needs: sources and mappings, target columns, label, splits, seed and output."""

    schemas: tuple[SourceSchema, ...] = ()
    mappings: tuple[ColumnMapping, ...] = ()
    columns: tuple[TargetColumn, ...] = ()
    label: str | None = None
    splits: SplitFractions = field(default_factory=SplitFractions)
    seed: int = 42
    output: Path | None = None
    dedupe: bool = False
    add_source_column: bool = False

    def column(self, name: str) -> TargetColumn | None:
        """The target column called `name`, or None."""
        return next((column for column in self.columns if column.name == name), None)

    @property
    def kept(self) -> tuple[TargetColumn, ...]:
        """The target columns that will be written."""
        return tuple(column for column in self.columns if column.keep)

    def sources_for(self, target: str) -> tuple[SourceColumn | None, ...]:
        """For each source, the column that maps onto `target` (None where it has none: filled with nulls)."""
        found = []
        for schema, mapping in zip(self.schemas, self.mappings, strict=True):
            column = mapping.source_for(target)
            found.append(schema.column(column) if column is not None else None)
        return tuple(found)

    def add_source(self, schema: SourceSchema) -> ConvertPlan:
        """Add a source, mapping its columns by name onto the target columns (new names become new targets)."""
        if any(existing.path == schema.path for existing in self.schemas):
            raise ConvertError(f"{schema.name} is already one of the sources", "bad_plan")
        used: set[str] = set()
        targets: list[tuple[str, str | None]] = []
        for column in schema.columns:
            target = name_key(column.name)
            if target in used:  # two columns of one file share a key ("Text" and "text"): keep the second apart
                target = _free_name(column.name, used | {c.name for c in self.columns})
            used.add(target)
            targets.append((column.name, target))
        columns = list(self.columns)
        names = {column.name for column in columns}
        columns += [TargetColumn(target, "string") for _, target in targets if target not in names]
        plan = replace(
            self,
            schemas=(*self.schemas, schema),
            mappings=(*self.mappings, ColumnMapping(schema.path, tuple(targets))),
            columns=tuple(columns),
        )
        return plan._retyped()

    def remove_source(self, index: int) -> ConvertPlan:
        """Drop the source at `index`; target columns no other source fills go with it."""
        schemas = self.schemas[:index] + self.schemas[index + 1 :]
        mappings = self.mappings[:index] + self.mappings[index + 1 :]
        return replace(self, schemas=schemas, mappings=mappings)._pruned()._retyped()

    def map_column(self, source_index: int, column: str, target: str | None) -> ConvertPlan:
        """Send one source column to `target` (None drops it); the column that went there before is dropped."""
        mapping = self.mappings[source_index]
        if column not in dict(mapping.targets):
            raise ConvertError(f"{mapping.source.name} has no column {column!r}", "bad_plan")
        if target is not None:
            target = _checked_name(target)
        targets = tuple(
            (name, target if name == column else (None if mapped == target and target is not None else mapped))
            for name, mapped in mapping.targets
        )
        columns = self.columns
        if target is not None and self.column(target) is None:
            columns = (*columns, TargetColumn(target, "string"))
        mappings = tuple(
            replace(mapping, targets=targets) if index == source_index else existing
            for index, existing in enumerate(self.mappings)
        )
        return replace(self, mappings=mappings, columns=columns)._pruned()._retyped()

    def rename_target(self, old: str, new: str) -> ConvertPlan:
        """Rename a target column; renaming onto an existing target merges the two (one source column each)."""
        new = _checked_name(new)
        if self.column(old) is None:
            raise ConvertError(f"no target column {old!r}", "bad_plan")
        if new == old:
            return self
        merging = self.column(new) is not None
        if merging:
            for mapping in self.mappings:
                if mapping.source_for(old) is not None and mapping.source_for(new) is not None:
                    raise ConvertError(
                        f"cannot merge {old!r} into {new!r}: {mapping.source.name} has a column for each "
                        f"({mapping.source_for(old)!r} and {mapping.source_for(new)!r}); drop one first",
                        "bad_plan",
                    )
        mappings = tuple(
            replace(
                mapping, targets=tuple((name, new if mapped == old else mapped) for name, mapped in mapping.targets)
            )
            for mapping in self.mappings
        )
        if merging:
            columns = tuple(column for column in self.columns if column.name != old)
        else:
            columns = tuple(replace(column, name=new) if column.name == old else column for column in self.columns)
        label = new if self.label == old else self.label
        return replace(self, mappings=mappings, columns=columns, label=label)._retyped()

    def drop_target(self, name: str, *, keep: bool = False) -> ConvertPlan:
        """Leave a target column out of the output (or bring it back with `keep=True`)."""
        if self.column(name) is None:
            raise ConvertError(f"no target column {name!r}", "bad_plan")
        columns = tuple(replace(column, keep=keep) if column.name == name else column for column in self.columns)
        label = None if (not keep and self.label == name) else self.label
        return replace(self, columns=columns, label=label)

    def cast_target(self, name: str, dtype: str) -> ConvertPlan:
        """Cast a target column to one of CAST_TYPES."""
        if dtype not in CAST_TYPES:
            raise ConvertError(f"unknown type {dtype!r}; choose from {', '.join(CAST_TYPES)}", "bad_plan")
        if self.column(name) is None:
            raise ConvertError(f"no target column {name!r}", "bad_plan")
        columns = tuple(
            replace(column, dtype=dtype, chosen_type=True) if column.name == name else column for column in self.columns
        )
        return replace(self, columns=columns)

    def with_label(self, name: str) -> ConvertPlan:
        """Stratify by target column `name` (matched like source names: `Label` finds `label`)."""
        found = self.column(name) or self.column(name_key(name))
        if found is None:
            names = ", ".join(column.name for column in self.kept) or "none"
            raise ConvertError(f"no column {name!r} to use as the label; the columns are: {names}", "label_missing")
        columns = tuple(replace(column, keep=True) if column is found else column for column in self.columns)
        return replace(self, label=found.name, columns=columns)

    def _pruned(self) -> ConvertPlan:
        """Forget target columns no source maps onto any more (and the label if it was one of them)."""
        used = {mapped for mapping in self.mappings for _, mapped in mapping.targets if mapped is not None}
        columns = tuple(column for column in self.columns if column.name in used)
        label = self.label if self.label in used else None
        return replace(self, columns=columns, label=label)

    def _retyped(self) -> ConvertPlan:
        """Infer each target's type from its sources, except types the user chose."""
        columns = tuple(
            column if column.chosen_type else replace(column, dtype=common_type(self.sources_for(column.name)))
            for column in self.columns
        )
        return replace(self, columns=columns)


@dataclass(frozen=True)
class ConvertProgress:
    """How far the conversion is: the step in words and how many of `total` steps are done."""

    step: str
    done: int
    total: int


@dataclass(frozen=True)
class SourceReport:
    """How many rows one source gave."""

    path: Path
    data_format: str
    rows: int


@dataclass(frozen=True)
class NullCount:
    """Missing values of one target column, per source (in plan order) and in total."""

    column: str
    per_source: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class SplitBalance:
    """The rows of one split and how many of them carry each class (in `ConvertReport.classes` order)."""

    name: str
    rows: int
    counts: tuple[int, ...]

    def share(self, index: int) -> float:
        """The fraction of this split's rows in class `index`."""
        return self.counts[index] / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ConvertReport:
    """What a conversion read, dropped and wrote: the data quality report, also written as REPORT.md."""

    plan: ConvertPlan
    sources: tuple[SourceReport, ...]
    rows_in: int
    nulls: tuple[NullCount, ...]
    duplicates: int
    dropped: tuple[tuple[str, int], ...]
    label: str
    classes: tuple[str, ...]
    overall: SplitBalance
    splits: tuple[SplitBalance, ...]
    files: tuple[Path, ...]
    report_path: Path
    json_path: Path

    @property
    def rows_out(self) -> int:
        return sum(split.rows for split in self.splits)

    def split(self, name: str) -> SplitBalance | None:
        """The balance of split `name`, or None when the plan gives it no rows."""
        return next((split for split in self.splits if split.name == name), None)


def name_key(name: str) -> str:
    """The key names are matched by: lowercase, runs of spaces and punctuation as `_` ("Review Text" -> review_text)."""
    key = _NAME_RUNS.sub("_", name.strip().lower()).strip("_")
    return key or name.strip() or "column"


def _free_name(name: str, used: set[str]) -> str:
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ConvertError("a column name cannot be empty", "bad_plan")
    return name


def guess_label(plan: ConvertPlan) -> str | None:
    """The first kept target column named like a label (see LABEL_CANDIDATES), or None."""
    names = {column.name for column in plan.kept}
    return next((candidate for candidate in LABEL_CANDIDATES if candidate in names), None)


def _type_name(feature: Any) -> str:
    """A datasets feature as a type in words: the Value dtype, `class_label`, `list`, `struct`, `image`..."""
    from datasets import ClassLabel, Value

    if isinstance(feature, Value):
        return {"large_string": "string", "large_binary": "binary"}.get(feature.dtype, feature.dtype)
    if isinstance(feature, ClassLabel):
        return "class_label"
    if isinstance(feature, dict):
        return "struct"
    name = type(feature).__name__
    return {"List": "list", "LargeList": "list", "Sequence": "list"}.get(name, name.lower())


def common_type(columns: Sequence[SourceColumn | None]) -> str:
    """The type the columns agree on (nulls agree with anything); ints with floats give float64, else string."""
    present = [column for column in columns if column is not None and column.dtype != "null"]
    if not present:
        return "string"
    dtypes = {column.dtype for column in present}
    if len(dtypes) == 1:
        dtype = dtypes.pop()
        if dtype in CAST_TYPES or dtype in _INTS or dtype in _FLOATS or dtype == "bool":
            return dtype
        features = [json.dumps(column.feature, sort_keys=True, default=str) for column in present]
        # Class labels, lists and structs are kept as they are only when every source has the very same feature.
        return dtype if len(set(features)) == 1 else "string"
    if dtypes <= set(_INTS):
        return "int64"
    if dtypes <= set(_INTS) | set(_FLOATS):
        return "float64"
    return "string"


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No tqdm bars or error logs from datasets while converting: the caller shows progress and errors itself."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from datasets.utils import logging as datasets_logging

    bars_were_off = are_progress_bars_disabled()
    logger = datasets_logging.get_logger()
    level = logger.level
    disable_progress_bars()
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
        if not bars_were_off:
            enable_progress_bars()


def _load(path: Path) -> Any:
    """Load one local file or folder as a `datasets.Dataset` (its train split), or raise ConvertError."""
    import_serially("datasets")
    import datasets

    # The sampler's format detection and error wording, so both read files the same way.
    from hftui.data.sampler import explain_sample_error, load_arguments

    source = SampleSource("local", str(path))
    try:
        data_format = detect_local_format(path)
        if data_format not in TABULAR_FORMATS:
            raise ConvertError(
                f"{path.name}: {data_format} data cannot be converted; use CSV, TSV, JSON Lines or Parquet files",
                "unsupported",
            )
        builder, arguments = load_arguments(source)
        with _quiet_datasets():
            dataset = datasets.load_dataset(builder, split="train", **arguments)
    except ConvertError:
        raise
    except SampleError as error:
        raise ConvertError(error.message, _error_kind(error.kind)) from error
    except Exception as error:
        cause: BaseException = error
        # load_dataset wraps the reader's own error (pandas, pyarrow) in DatasetGenerationError.
        while type(cause).__name__ == "DatasetGenerationError" and cause.__cause__ is not None:
            cause = cause.__cause__
        problem = explain_sample_error(cause, source)
        raise ConvertError(problem.message, _error_kind(problem.kind)) from error
    if dataset.num_rows == 0 or not dataset.column_names:
        raise ConvertError(f"{path.name} has no rows", "empty")
    return data_format, dataset


def _error_kind(sample_kind: str) -> str:
    return sample_kind if sample_kind in ("not_found", "bad_file", "empty") else "bad_file"


def convertible_files(folder: Path) -> tuple[Path, ...]:
    """The CSV, JSON Lines and Parquet files under a folder (a file stands for itself), for the converter."""
    from hftui.data.sampler import data_files_in, format_of_file

    if folder.is_file():
        return (folder,) if format_of_file(folder) in TABULAR_FORMATS else ()
    if not folder.is_dir():
        return ()
    return tuple(path for path in data_files_in(folder) if format_of_file(path) in TABULAR_FORMATS)


def read_schema(path: Path | str) -> SourceSchema:
    """Read one file's columns and row count (blocking: loads it with datasets)."""
    path = Path(path).expanduser().resolve()
    from datasets import Value

    data_format, dataset = _load(path)
    described = dataset.features.to_dict()
    columns = tuple(
        # Plain values are described by their dtype alone; class labels, lists and structs keep their feature.
        SourceColumn(name, _type_name(feature), None if isinstance(feature, Value) else dict(described[name]))
        for name, feature in dataset.features.items()
    )
    return SourceSchema(path, data_format, dataset.num_rows, columns)


def read_schemas(paths: Sequence[Path | str]) -> tuple[SourceSchema, ...]:
    """Read every file's schema, in order; the first unreadable one raises ConvertError."""
    return tuple(read_schema(path) for path in paths)


def default_plan(
    schemas: Sequence[SourceSchema], *, label: str | None = None, output: Path | None = None
) -> ConvertPlan:
    """Map every column by name onto one target schema; the label is `label` or the first of LABEL_CANDIDATES."""
    plan = ConvertPlan(
        output=output if output is not None else (schemas[0].path.parent / "converted" if schemas else None)
    )
    for schema in schemas:
        plan = plan.add_source(schema)
    return plan.with_label(label) if label is not None else replace(plan, label=guess_label(plan))


def check_plan(plan: ConvertPlan) -> None:
    """Raise ConvertError when the plan cannot run: no sources, no label, a name clash, outputs over inputs."""
    if not plan.schemas:
        raise ConvertError("add at least one file to convert", "bad_plan")
    if plan.output is None:
        raise ConvertError("choose an output folder", "bad_plan")
    if not plan.kept:
        raise ConvertError("every column is dropped; keep at least the label and one more", "bad_plan")
    if plan.label is None:
        raise ConvertError("choose the label column to stratify the splits by", "label_missing")
    label = plan.column(plan.label)
    if label is None or not label.keep:
        raise ConvertError(f"the label column {plan.label!r} is not among the kept columns", "label_missing")
    if plan.add_source_column and plan.column(SOURCE_COLUMN) is not None and plan.column(SOURCE_COLUMN).keep:
        raise ConvertError(
            f"a target column is already named {SOURCE_COLUMN!r}; rename it or leave out the source column",
            "bad_plan",
        )
    inputs = {schema.path.resolve() for schema in plan.schemas}
    for name in (*(f"{split}.parquet" for split in SPLIT_NAMES), "REPORT.md", "report.json"):
        if (plan.output / name).resolve() in inputs:
            raise ConvertError(
                f"{plan.output / name} is one of the input files; choose another output folder", "would_overwrite"
            )


def convert(
    plan: ConvertPlan,
    *,
    progress: Callable[[ConvertProgress], None] = lambda step: None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> ConvertReport:
    """Run the plan: load, map, cast, concatenate, clean, encode the label, split, write; return the report.

    Blocking; call it from a thread. `is_cancelled` is checked between steps, and nothing is written until
    every split is ready, so a cancelled or failed run leaves the output folder as it was.
    """
    check_plan(plan)
    total = len(plan.schemas) + 5
    done = 0

    def step(text: str) -> None:
        nonlocal done
        if is_cancelled():
            raise ConvertCancelled()
        progress(ConvertProgress(text, done, total))
        done += 1

    with _quiet_datasets():
        return _convert(plan, step)


def _convert(plan: ConvertPlan, step: Callable[[str], None]) -> ConvertReport:
    import_serially("datasets")
    import datasets

    assert plan.label is not None and plan.output is not None  # check_plan saw to it
    label = plan.label
    features = _target_features(plan)
    prepared = []
    for schema, mapping in zip(plan.schemas, plan.mappings, strict=True):
        step(f"reading {schema.name}")
        _, dataset = _load(schema.path)
        prepared.append(_map_source(dataset, schema, mapping, plan, features))
    step("combining the sources")
    nulls = _null_counts(prepared, plan)
    rows_in = sum(len(dataset) for dataset in prepared)
    if plan.add_source_column:
        prepared = [
            dataset.add_column(SOURCE_COLUMN, [schema.name] * len(dataset))
            for dataset, schema in zip(prepared, plan.schemas, strict=True)
        ]
    combined = datasets.concatenate_datasets(prepared)

    step("dropping rows without a label and duplicates")
    dropped: list[tuple[str, int]] = []
    labelled = combined.filter(
        _label_present(isinstance(combined.features[label], datasets.ClassLabel)),
        input_columns=label,
        batched=True,
        keep_in_memory=True,
        load_from_cache_file=False,
    )
    if len(labelled) < len(combined):
        dropped.append(("missing label", len(combined) - len(labelled)))
    unique = labelled.filter(
        _first_time([column.name for column in plan.kept]),
        batched=True,
        keep_in_memory=True,
        load_from_cache_file=False,
    )
    duplicates = len(labelled) - len(unique)
    if plan.dedupe and duplicates:
        dropped.append(("exact duplicate", duplicates))
    cleaned = unique if plan.dedupe else labelled
    if len(cleaned) == 0:
        raise ConvertError(f"no rows are left once rows without a {label!r} value are dropped", "empty")

    step("encoding the label and splitting")
    if not isinstance(cleaned.features[label], datasets.ClassLabel):
        cleaned = cleaned.class_encode_column(label)
    classes = tuple(cleaned.features[label].names)
    splits = _split(cleaned, plan, classes)
    balances = tuple(_balance(name, split, label, len(classes)) for name, split in splits.items())
    overall = _balance("all", cleaned, label, len(classes))

    step("writing the Parquet files")
    output = plan.output
    try:
        output.mkdir(parents=True, exist_ok=True)
        written = _write_all(output, {f"{name}.parquet": split for name, split in splits.items()}, step)
    except OSError as error:
        raise ConvertError(f"cannot write to {output}: {error.strerror or error}", "write_failed") from error
    report = ConvertReport(
        plan=plan,
        sources=tuple(
            SourceReport(schema.path, schema.data_format, len(dataset))
            for schema, dataset in zip(plan.schemas, prepared, strict=True)
        ),
        rows_in=rows_in,
        nulls=nulls,
        duplicates=duplicates,
        dropped=tuple(dropped),
        label=label,
        classes=classes,
        overall=overall,
        splits=balances,
        files=written,
        report_path=output / "REPORT.md",
        json_path=output / "report.json",
    )
    try:
        _write_text(report.report_path, report_markdown(report))
        _write_text(report.json_path, json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n")
    except OSError as error:
        raise ConvertError(f"cannot write the report to {output}: {error.strerror or error}", "write_failed") from error
    return report


def _target_features(plan: ConvertPlan) -> Any:
    """The datasets Features every source is cast to, in target order."""
    from datasets import Features, Value

    features = {}
    for column in plan.kept:
        source = next((found for found in plan.sources_for(column.name) if found is not None and found.feature), None)
        if column.dtype in CAST_TYPES or source is None:
            features[column.name] = Value(column.dtype)
        else:
            # A type every source agrees on that is not a plain value (class label, list): keep the source feature.
            features[column.name] = Features.from_dict({column.name: dict(source.feature or {})})[column.name]
    return Features(features)


def _map_source(dataset: Any, schema: SourceSchema, mapping: ColumnMapping, plan: ConvertPlan, features: Any) -> Any:
    """One source renamed, trimmed, filled and cast to the target features."""
    from datasets import ClassLabel, Value

    kept = {column.name for column in plan.kept}
    wanted = {column: target for column, target in mapping.targets if target in kept}
    missing = [column for column in wanted if column not in dataset.column_names]
    if missing:
        raise ConvertError(
            f"{schema.name} no longer has the column {missing[0]!r}; was it changed since it was added?", "bad_file"
        )
    for column, target in wanted.items():
        feature = dataset.features[column]
        if isinstance(feature, ClassLabel) and not isinstance(features[target], ClassLabel):
            # A class label cast to a plain type would keep its index; the class name is what the user saw.
            # map() keeps a column's old feature unless told otherwise, and would encode the names back.
            names = dataset.features.copy()
            names[column] = Value("string")
            dataset = dataset.map(
                _class_names(column, feature),
                batched=True,
                features=names,
                keep_in_memory=True,
                load_from_cache_file=False,
            )
    dataset = dataset.remove_columns([column for column in dataset.column_names if column not in wanted])
    dataset = dataset.rename_columns({column: target for column, target in wanted.items() if column != target})
    for target in features:
        if target not in dataset.column_names:
            dataset = dataset.add_column(target, [None] * len(dataset))
    dataset = dataset.select_columns(list(features))
    try:
        return dataset.cast(features, keep_in_memory=True, load_from_cache_file=False)
    except Exception as error:
        raise _cast_error(dataset, schema, mapping, features, error) from error


def _class_names(column: str, feature: Any) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
    def names(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {
            column: [feature.int2str(value) if value is not None and value >= 0 else None for value in batch[column]]
        }

    return names


def _cast_error(
    dataset: Any, schema: SourceSchema, mapping: ColumnMapping, features: Any, error: Exception
) -> ConvertError:
    """Find the column whose values do not fit and say so in words (the source, the column, the type, the value)."""
    reason = str(error).strip() or type(error).__name__
    for target, feature in features.items():
        if dataset.features[target] == feature:
            continue
        try:
            dataset.select_columns([target]).cast(
                type(features)({target: feature}), keep_in_memory=True, load_from_cache_file=False
            )
        except Exception as column_error:
            source_column = mapping.source_for(target) or target
            type_name = _type_name(feature)
            detail = str(column_error).strip() or type(column_error).__name__
            return ConvertError(
                f"{schema.name}: column {source_column!r} (target {target!r}) cannot be cast to {type_name}: "
                f"{detail}. Cast it to string instead, or fix the values.",
                "bad_cast",
            )
    return ConvertError(f"{schema.name}: cannot cast to the target schema: {reason}", "bad_cast")


def _null_counts(prepared: Sequence[Any], plan: ConvertPlan) -> tuple[NullCount, ...]:
    counts = []
    for column in plan.kept:
        per_source = tuple(int(dataset.data.column(column.name).null_count) for dataset in prepared)
        counts.append(NullCount(column.name, per_source, sum(per_source)))
    return tuple(counts)


def _label_present(class_label: bool) -> Callable[[list[Any]], list[bool]]:
    """A batched filter over the label: null, NaN and blank text are missing, and so is a class label's -1."""

    def present(values: list[Any]) -> list[bool]:
        return [not _missing(value, class_label) for value in values]

    return present


def _missing(value: Any, class_label: bool = False) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return class_label and isinstance(value, int) and value < 0


def _hashable(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _first_time(columns: list[str]) -> Callable[[dict[str, list[Any]]], list[bool]]:
    """A batched filter keeping the first row of each group of exact duplicates over `columns`."""
    seen: set[tuple[Any, ...]] = set()

    def keep(batch: dict[str, list[Any]]) -> list[bool]:
        flags = []
        for values in zip(*(batch[column] for column in columns), strict=True):
            key = tuple(_hashable(value) for value in values)
            flags.append(key not in seen)
            seen.add(key)
        return flags

    return keep


def _split(dataset: Any, plan: ConvertPlan, classes: tuple[str, ...]) -> dict[str, Any]:
    """Train, validation and test by two stratified `train_test_split` calls (splits with no share are left out)."""
    fractions = plan.splits
    held_out = fractions.validation + fractions.test
    if held_out <= 0:
        return {"train": dataset}
    first = _stratified(dataset, held_out, plan, classes, "the whole dataset", "train", _held_out_name(fractions))
    train, rest = first["train"], first["test"]
    if fractions.validation <= 0:
        return {"train": train, "test": rest}
    if fractions.test <= 0:
        return {"train": train, "validation": rest}
    second = _stratified(rest, fractions.test / held_out, plan, classes, "validation + test", "validation", "test")
    return {"train": train, "validation": second["train"], "test": second["test"]}


def _held_out_name(fractions: SplitFractions) -> str:
    if fractions.validation and fractions.test:
        return "validation + test"
    return "validation" if fractions.validation else "test"


def _stratified(
    dataset: Any, test_size: float, plan: ConvertPlan, classes: tuple[str, ...], what: str, kept: str, held: str
) -> Any:
    """One stratified split, with datasets' complaints about small classes turned into plain words."""
    label = plan.label
    try:
        return dataset.train_test_split(
            test_size=test_size,
            stratify_by_column=label,
            seed=plan.seed,
            keep_in_memory=True,
            load_from_cache_file=False,
        )
    except ValueError as error:
        counts = Counter(dataset[label])
        smallest, smallest_count = min(
            ((classes[index], counts.get(index, 0)) for index in counts), key=lambda pair: pair[1]
        )
        message = str(error)
        if "least populated class" in message:
            raise ConvertError(
                f"cannot stratify {what} by {label!r}: class {smallest!r} has only {smallest_count} row there, and "
                f"a stratified split needs at least 2 rows of every class (3 or more for train, validation and "
                f"test). Add rows of that class, drop them, or use fewer splits.",
                "class_too_small",
            ) from error
        if "greater or equal to the number of classes" in message or "should be" in message:
            raise ConvertError(
                f"cannot stratify {what} ({len(dataset)} rows) into {kept} and {held}: each needs at least one row "
                f"of each of the {len(counts)} classes. Give {held} a larger share, or add rows.",
                "split_too_small",
            ) from error
        raise ConvertError(f"cannot split {what}: {message}", "split_too_small") from error


def _balance(name: str, dataset: Any, label: str, n_classes: int) -> SplitBalance:
    counts = Counter(dataset[label])
    return SplitBalance(name, len(dataset), tuple(counts.get(index, 0) for index in range(n_classes)))


def _write_all(output: Path, files: Mapping[str, Any], step: Callable[[str], None]) -> tuple[Path, ...]:
    """Write every split to a temporary file, then rename them all, so a failure leaves no half-written set."""
    temporary: dict[str, str] = {}
    try:
        for name, dataset in files.items():
            handle, path = tempfile.mkstemp(dir=output, prefix=f".{Path(name).stem}-", suffix=".parquet")
            os.close(handle)
            temporary[name] = path
            dataset.to_parquet(path)
        step("finishing")
        for name, path in temporary.items():
            os.replace(path, output / name)
    finally:
        for path in temporary.values():
            Path(path).unlink(missing_ok=True)
    # A split the new plan leaves out (no validation share) must not linger from an older run.
    for split in SPLIT_NAMES:
        if f"{split}.parquet" not in files:
            (output / f"{split}.parquet").unlink(missing_ok=True)
    return tuple(output / name for name in files)


def _write_text(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _code(text: object) -> str:
    """A Markdown code span that survives any name: backticks become quotes, pipes are escaped for tables."""
    value = str(text).replace("`", "'").replace("\n", " ").replace("|", "\\|")
    return f"`{value}`"


def _percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def report_markdown(report: ConvertReport) -> str:
    """The data quality report as Markdown: sources, mapping, nulls, duplicates, drops, label balance, files."""
    plan = report.plan
    lines = ["# Conversion report", ""]
    lines += [
        f"{report.rows_in} rows read from {len(report.sources)} files; {report.rows_out} rows written. "
        f"Label {_code(report.label)}, seed {plan.seed}, splits {plan.splits.text()} (train, validation, test).",
        "",
        "## Rows per source",
        "",
        "| source | format | rows | folder |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [
        f"| {_code(source.path.name)} | {source.data_format} | {source.rows} | {_code(source.path.parent)} |"
        for source in report.sources
    ]
    lines += ["", "## Mapping", ""]
    names = [_code(schema.name) for schema in plan.schemas]
    lines += ["| target | type | " + " | ".join(names) + " |", "| --- | --- |" + " --- |" * len(names)]
    for column in plan.columns:
        cells = [
            _code(found.name) + f" ({found.dtype})" if found is not None else "(null)"
            for found in plan.sources_for(column.name)
        ]
        name = _code(column.name) + (" (dropped)" if not column.keep else "")
        lines.append(f"| {name} | {column.dtype if column.keep else '-'} | " + " | ".join(cells) + " |")
    dropped_sources = [
        f"{_code(mapping.source.name)}: "
        + ", ".join(_code(column) for column, target in mapping.targets if target is None)
        for mapping in plan.mappings
        if any(target is None for _, target in mapping.targets)
    ]
    if dropped_sources:
        lines += ["", "Source columns left out: " + "; ".join(dropped_sources) + "."]
    if plan.add_source_column:
        lines += ["", f"A {_code(SOURCE_COLUMN)} column holds each row's file name."]
    lines += ["", "## Missing values", "", "| column | " + " | ".join(names) + " | total |"]
    lines.append("| --- |" + " ---: |" * (len(names) + 1))
    for nulls in report.nulls:
        lines.append(
            f"| {_code(nulls.column)} | " + " | ".join(str(n) for n in (*nulls.per_source, nulls.total)) + " |"
        )
    lines += ["", "## Rows dropped", ""]
    if report.dropped:
        lines += [f"- {reason}: {count}" for reason, count in report.dropped]
    else:
        lines.append("- none")
    kept = "dropped" if plan.dedupe else "kept (deduplication was off)"
    lines += ["", f"Exact duplicates among labelled rows: {report.duplicates}, {kept}."]
    lines += [
        "",
        "## Label balance",
        "",
        "| split | rows | " + " | ".join(_code(name) for name in report.classes) + " |",
    ]
    lines.append("| --- | ---: |" + " ---: |" * len(report.classes))
    for balance in (report.overall, *report.splits):
        cells = [f"{count} ({_percent(count, balance.rows)})" for count in balance.counts]
        lines.append(f"| {balance.name} | {balance.rows} | " + " | ".join(cells) + " |")
    lines += ["", "## Files", ""]
    lines += [f"- {_code(path)}" for path in (*report.files, report.report_path, report.json_path)]
    return "\n".join(lines) + "\n"


def report_json(report: ConvertReport) -> dict[str, Any]:
    """The report as plain JSON values (paths as strings), for scripts."""
    plan = report.plan
    return {
        "label": report.label,
        "seed": plan.seed,
        "splits": asdict(plan.splits),
        "dedupe": plan.dedupe,
        "source_column": plan.add_source_column,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "sources": [{"path": str(s.path), "format": s.data_format, "rows": s.rows} for s in report.sources],
        "mapping": [
            {"source": str(mapping.source), "columns": {column: target for column, target in mapping.targets}}
            for mapping in plan.mappings
        ],
        "columns": [{"name": c.name, "type": c.dtype, "kept": c.keep} for c in plan.columns],
        "nulls": {n.column: {"per_source": list(n.per_source), "total": n.total} for n in report.nulls},
        "duplicates": report.duplicates,
        "dropped": dict(report.dropped),
        "classes": list(report.classes),
        "balance": {
            b.name: {"rows": b.rows, "counts": dict(zip(report.classes, b.counts, strict=True))}
            for b in (report.overall, *report.splits)
        },
        "files": [str(path) for path in report.files],
    }
