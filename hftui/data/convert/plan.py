"""The conversion plan: source schemas, where each column goes, the target columns, label, splits and seed.

`ConvertPlan` is an immutable value; every edit (`add_source`, `map_column`, `rename_target`, `drop_target`,
`cast_target`, `with_label`) returns a new plan or raises `ConvertError` saying why it cannot be made.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CONVERT_ERROR_KINDS = (
    "not_found",
    "bad_file",
    "empty",
    "unsupported",
    "bad_plan",
    "label_missing",
    "bad_cast",
    "bad_encoding",
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
# How many line numbers of bad rows a message and the report name before "and N more".
SHOWN_LINES = 5


class ConvertError(Exception):
    """The conversion cannot go on; `kind` says why (see CONVERT_ERROR_KINDS), `message` says it in words, and
    `setting` names the plan setting that would get past it ("encoding", "skip_bad_rows"), so the command line
    and the screen can each say how to change it in their own terms."""

    def __init__(self, message: str, kind: str = "bad_plan", *, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.setting = setting


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
class BadRows:
    """Rows of a CSV file with more fields than its header: how many, the first few line numbers, and the
    record indexes pandas' `skiprows` takes to leave them out."""

    header_fields: int
    count: int
    lines: tuple[int, ...]
    records: tuple[int, ...]

    def where(self) -> str:
        """The first line numbers in words: "line 3", "lines 3, 5 and 9", "lines 3, 5, 9, 11, 12 and 7 more"."""
        shown = [str(line) for line in self.lines[:SHOWN_LINES]]
        more = self.count - len(shown)
        if more > 0:
            return f"lines {', '.join(shown)} and {more} more"
        if len(shown) == 1:
            return f"line {shown[0]}"
        return f"lines {', '.join(shown[:-1])} and {shown[-1]}"


@dataclass(frozen=True)
class SourceSchema:
    """What one input file holds: where it is, how it was read (format, encoding, whether rows with more fields
    than the header were skipped, and which), its row count and its columns. The conversion reads it the same
    way again."""

    path: Path
    data_format: str
    rows: int
    columns: tuple[SourceColumn, ...]
    encoding: str = "utf-8"
    skip_bad_rows: bool = False
    skipped: BadRows | None = None

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
    # How files are read when added: their text encoding (CSV, JSON Lines), and whether CSV rows with more
    # fields than the header are skipped (and counted) rather than refused. Each SourceSchema keeps its own.
    encoding: str = "utf-8"
    skip_bad_rows: bool = False

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
        targets: list[tuple[str, str]] = []
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
    source = plan.column(SOURCE_COLUMN)
    if plan.add_source_column and source is not None and source.keep:
        raise ConvertError(
            f"a target column is already named {SOURCE_COLUMN!r}; rename it or leave out the source column",
            "bad_plan",
        )
    if plan.output.exists() and not plan.output.is_dir():
        raise ConvertError(f"the output {plan.output} is a file; choose a folder", "would_overwrite")
    inputs = {schema.path.resolve() for schema in plan.schemas}
    for name in (*(f"{split}.parquet" for split in SPLIT_NAMES), "REPORT.md", "report.json"):
        if (plan.output / name).resolve() in inputs:
            raise ConvertError(
                f"{plan.output / name} is one of the input files; choose another output folder", "would_overwrite"
            )


def with_typed_settings(plan: ConvertPlan, *, seed: str, splits: str, output: str) -> ConvertPlan:
    """The plan with the seed, splits and output folder as typed in a form (blank seed: 0, blank output: none),
    checked with `check_plan`; ConvertError says what is wrong."""
    seed_text = seed.strip() or "0"
    if not seed_text.isdigit():
        raise ConvertError(f"seed {seed_text!r}: expected a whole number of 0 or more", "bad_plan")
    fractions = SplitFractions.parse(splits)
    out_text = output.strip()
    folder = Path(out_text).expanduser().resolve() if out_text else None
    checked = replace(plan, seed=int(seed_text), splits=fractions, output=folder)
    check_plan(checked)
    return checked
