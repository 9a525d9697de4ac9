"""Running a conversion plan with the datasets API: map and cast each source, combine, clean, encode the label,
split by it, and write the splits and the report."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.atomic_write import replaced_when_written, write_text_atomically
from hftui.data.convert.plan import (
    CAST_TYPES,
    SOURCE_COLUMN,
    SPLIT_NAMES,
    ColumnMapping,
    ConvertCancelled,
    ConvertError,
    ConvertPlan,
    SourceSchema,
    SplitFractions,
    check_plan,
)
from hftui.data.convert.read import quiet_datasets, read_table, type_name
from hftui.data.convert.report import (
    ConvertReport,
    NullCount,
    SourceReport,
    SplitBalance,
    report_json,
    report_markdown,
)
from hftui.libraries import import_serially


@dataclass(frozen=True)
class ConvertProgress:
    """How far the conversion is: the step in words and how many of `total` steps are done."""

    step: str
    done: int
    total: int


def convert(
    plan: ConvertPlan,
    *,
    progress: Callable[[ConvertProgress], object] = lambda step: None,
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

    with quiet_datasets():
        return _convert(plan, step)


def _convert(plan: ConvertPlan, step: Callable[[str], None]) -> ConvertReport:
    import_serially("datasets")
    import datasets

    assert plan.label is not None and plan.output is not None  # check_plan saw to it
    label = plan.label
    features = _target_features(plan)
    prepared = []
    skipped = []
    for schema, mapping in zip(plan.schemas, plan.mappings, strict=True):
        step(f"reading {schema.name}")
        _, dataset, bad_rows = read_table(schema.path, encoding=schema.encoding, skip_bad_rows=schema.skip_bad_rows)
        skipped.append(bad_rows)
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
            SourceReport(schema.path, schema.data_format, len(dataset), schema.encoding, bad_rows)
            for schema, dataset, bad_rows in zip(plan.schemas, prepared, skipped, strict=True)
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
        write_text_atomically(report.report_path, report_markdown(report))
        write_text_atomically(report.json_path, json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n")
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
            wanted_type = type_name(feature)
            detail = str(column_error).strip() or type(column_error).__name__
            return ConvertError(
                f"{schema.name}: column {source_column!r} (target {target!r}) cannot be cast to {wanted_type}: "
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
    """One stratified split into `kept` and `held`; a split datasets would refuse is explained first in hftui's
    words (which class is too small, how many rows each split needs, what to change)."""
    label = plan.label
    assert label is not None
    counts = {classes[index]: count for index, count in Counter(dataset[label]).items()}
    _check_stratifiable(counts, len(dataset), test_size, plan, what, kept, held)
    try:
        return dataset.train_test_split(
            test_size=test_size,
            stratify_by_column=label,
            seed=plan.seed,
            keep_in_memory=True,
            load_from_cache_file=False,
        )
    except ValueError as error:
        raise ConvertError(
            f"cannot stratify {what} ({len(dataset)} rows) by {label!r} into {kept} and {held}; "
            f"{_what_to_change(plan)}",
            "split_too_small",
        ) from error


def _check_stratifiable(
    counts: Mapping[str, int], rows: int, test_size: float, plan: ConvertPlan, what: str, kept: str, held: str
) -> None:
    """Raise ConvertError when a stratified split of `rows` rows (class name -> count) into `kept` and `held`
    (`test_size` of them, rounded up, as datasets does) cannot be made: the conditions datasets checks."""
    label = plan.label
    held_rows = math.ceil(test_size * rows)
    kept_rows = rows - held_rows
    smallest, smallest_count = min(counts.items(), key=lambda pair: (pair[1], pair[0]))
    splits = _split_names(plan.splits)
    every = f"with {_words(splits)} every class needs at least {len(splits)} rows"
    if kept_rows <= 0:
        raise ConvertError(
            f"cannot stratify {what} ({rows} rows) by {label!r}: {held} would take all of them "
            f"({test_size:.0%} rounded up) and leave {kept} empty. Give {kept} a larger share, or add rows.",
            "split_too_small",
        )
    if smallest_count < 2:
        small = sorted(name for name, count in counts.items() if count < 2)
        others = ""
        if len(small) > 1:
            others = " (as does 1 other class)" if len(small) == 2 else f" (as do {len(small) - 1} other classes)"
        there = "" if what == "the whole dataset" else f" in {what}"
        raise ConvertError(
            f"cannot stratify {what} by {label!r}: class {smallest!r} has only {smallest_count} row{there}"
            f"{others}, and splitting it into {kept} and {held} needs at least 2 rows of every class, one for "
            f"each ({every}). Drop the class {smallest!r} or merge it into another, add rows of it, "
            f"or use fewer splits (such as 0.8,0,0.2).",
            "class_too_small",
        )
    classes = len(counts)
    of = "" if what == "the whole dataset" else f" of {what}"
    for name, share, got in ((kept, 1 - test_size, kept_rows), (held, test_size, held_rows)):
        if got < classes:
            raise ConvertError(
                f"cannot stratify {what} ({rows} rows, {classes} classes) by {label!r}: {name} gets {got} "
                f"row{'s' if got != 1 else ''} ({share:.0%}{of}), but each split needs at least 1 row of every class, "
                f"so {classes} rows. Give {name} a share of at least {math.ceil(100 * classes / rows)}%, add rows, "
                f"or drop or merge small classes (the smallest is {smallest!r} with {smallest_count} rows).",
                "split_too_small",
            )


def _split_names(fractions: SplitFractions) -> list[str]:
    shares = (fractions.train, fractions.validation, fractions.test)
    return [name for name, share in zip(SPLIT_NAMES, shares, strict=True) if share > 0]


def _words(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _what_to_change(plan: ConvertPlan) -> str:
    return (
        f"each split needs at least 1 row of every class (with {_words(_split_names(plan.splits))}: "
        f"{len(_split_names(plan.splits))} rows per class). Use fewer splits or other shares, add rows, "
        f"or drop or merge small classes."
    )


def _balance(name: str, dataset: Any, label: str, n_classes: int) -> SplitBalance:
    counts = Counter(dataset[label])
    return SplitBalance(name, len(dataset), tuple(counts.get(index, 0) for index in range(n_classes)))


def _write_all(output: Path, files: Mapping[str, Any], step: Callable[[str], None]) -> tuple[Path, ...]:
    """Write every split to a temporary file, then rename them all, so a failure leaves no half-written set."""
    targets = [output / name for name in files]
    with replaced_when_written(*targets) as temporaries:
        for dataset, temporary in zip(files.values(), temporaries, strict=True):
            dataset.to_parquet(str(temporary))
        step("finishing")
    # A split the new plan leaves out (no validation share) must not linger from an older run.
    for split in SPLIT_NAMES:
        if f"{split}.parquet" not in files:
            (output / f"{split}.parquet").unlink(missing_ok=True)
    return tuple(targets)
