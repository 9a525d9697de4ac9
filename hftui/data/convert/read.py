"""Reading the files to convert: which files a folder offers, each file's columns and types, and the table itself."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hftui.data.convert.checks import check_decodes, check_not_json, checked_encoding, ragged_rows
from hftui.data.convert.plan import TABULAR_FORMATS, BadRows, ConvertError, SourceColumn, SourceSchema

# The sampler's format detection and error wording, so the converter and the preview read files the same way.
from hftui.data.sampler import (
    SampleError,
    SampleSource,
    data_files_in,
    detect_local_format,
    explain_sample_error,
    format_of_file,
    load_arguments,
)
from hftui.libraries import import_serially


def type_name(feature: Any) -> str:
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


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
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


def load_table(path: Path, *, encoding: str = "utf-8", skip_bad_rows: bool = False) -> tuple[str, Any]:
    """Load one local file or folder as its format and a `datasets.Dataset` (its train split), or raise
    ConvertError; blocking."""
    data_format, dataset, _ = read_table(path, encoding=encoding, skip_bad_rows=skip_bad_rows)
    return data_format, dataset


def read_table(path: Path, *, encoding: str = "utf-8", skip_bad_rows: bool = False) -> tuple[str, Any, BadRows | None]:
    """Load one local file or folder as its format, a `datasets.Dataset` (its train split) and the CSV rows with
    more fields than the header that were skipped (None when none were), or raise ConvertError; blocking.

    CSV and JSON Lines files are first checked to decode in `encoding`; CSV rows with more fields than the
    header are refused with their line numbers unless `skip_bad_rows` (pandas would otherwise make the first
    field an index and shift every column left, without a word)."""
    import_serially("datasets")
    import datasets

    source = SampleSource("local", str(path))
    skipped: BadRows | None = None
    try:
        data_format = detect_local_format(path)
        if data_format not in TABULAR_FORMATS:
            raise ConvertError(
                f"{path.name}: {data_format} data cannot be converted; use CSV, TSV, JSON Lines or Parquet files",
                "unsupported",
            )
        builder, arguments = load_arguments(source)
        files = [Path(file) for file in arguments["data_files"]["train"]]
        if data_format in ("csv", "json"):
            encoding = checked_encoding(encoding)
            for file in files:
                check_decodes(file, encoding)
            if encoding != "utf-8":
                if data_format == "json":
                    _check_json_lines(files)
                arguments["encoding"] = encoding
        if data_format == "csv":
            for file in files:
                check_not_json(file, encoding)
            skipped = _bad_rows(files, arguments.get("sep", ","), encoding, skip_bad_rows)
            if skipped is not None:
                arguments["skiprows"] = list(skipped.records)
            # Never guess an index column from a row longer than the header: that shifts the columns.
            arguments["index_col"] = False
        with quiet_datasets():
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
        if "corresponds to no data" in str(cause):  # a CSV with a header and no rows
            raise _no_rows(path, skipped) from error
        problem = explain_sample_error(cause, source)
        # pyarrow's "in row N" counts from the start of its block, not the file: the line named before is right.
        message = re.sub(r" in row \d+$", "", problem.message)
        if data_format == "csv" and message.startswith("invalid JSON"):
            # The sampler's JSON line finder also looks at CSV files; a CSV is never JSON.
            message = f"cannot read {path.name} as CSV: {str(cause).strip() or type(cause).__name__}"
        raise ConvertError(message, _error_kind(problem.kind)) from error
    if dataset.num_rows == 0 or not dataset.column_names:
        raise _no_rows(path, skipped)
    return data_format, dataset, skipped


def _no_rows(path: Path, skipped: BadRows | None) -> ConvertError:
    if skipped is None:
        return ConvertError(f"{path.name} has no rows", "empty")
    return ConvertError(
        f"{path.name} has no rows once the {skipped.count} with more fields than the header are skipped", "empty"
    )


def _check_json_lines(files: Sequence[Path]) -> None:
    """Refuse a JSON document (an array) in an encoding other than UTF-8: datasets decodes only JSON Lines."""
    for file in files:
        with file.open("rb") as stream:
            head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"["):
            raise ConvertError(
                f"{file.name} is one JSON array, which can only be read as UTF-8: save it as UTF-8, "
                "or as JSON Lines (one object a line)",
                "bad_file",
            )


def _bad_rows(files: Sequence[Path], sep: str, encoding: str, skip: bool) -> BadRows | None:
    """The ragged rows of the one CSV file to skip, or ConvertError (kind bad_file) refusing them."""
    for file in files:
        found = ragged_rows(file, sep=sep, encoding=encoding)
        if found is None:
            continue
        if skip and len(files) == 1:
            return found
        rows = "1 row has" if found.count == 1 else f"{found.count} rows have"
        problem = f"cannot read {file.name} as CSV: {rows} more fields than its header's {found.header_fields} "
        if skip:  # the skipped rows are counted per file: one folder of several CSV files cannot say which
            raise ConvertError(
                problem + f"({found.where()}); to skip them, give {file.name} as a file of its own", "bad_file"
            )
        raise ConvertError(
            problem + f"({found.where()}); fix those rows, or skip them", "bad_file", setting="skip_bad_rows"
        )
    return None


def _error_kind(sample_kind: str) -> str:
    return sample_kind if sample_kind in ("not_found", "bad_file", "empty") else "bad_file"


def convertible_files(folder: Path) -> tuple[Path, ...]:
    """The CSV, JSON Lines and Parquet files under a folder (a file stands for itself), for the converter."""
    if folder.is_file():
        return (folder,) if format_of_file(folder) in TABULAR_FORMATS else ()
    if not folder.is_dir():
        return ()
    return tuple(path for path in data_files_in(folder) if format_of_file(path) in TABULAR_FORMATS)


def read_schema(path: Path | str, *, encoding: str = "utf-8", skip_bad_rows: bool = False) -> SourceSchema:
    """Read one file's columns and row count (blocking: loads it with datasets), with the reading settings of
    `read_table`; the schema keeps them so the conversion reads the file the same way."""
    path = Path(path).expanduser().resolve()
    from datasets import Value

    data_format, dataset, skipped = read_table(path, encoding=encoding, skip_bad_rows=skip_bad_rows)
    described = dataset.features.to_dict()
    columns = tuple(
        # Plain values are described by their dtype alone; class labels, lists and structs keep their feature.
        SourceColumn(name, type_name(feature), None if isinstance(feature, Value) else dict(described[name]))
        for name, feature in dataset.features.items()
    )
    return SourceSchema(
        path,
        data_format,
        dataset.num_rows,
        columns,
        encoding=checked_encoding(encoding),
        skip_bad_rows=skip_bad_rows,
        skipped=skipped,
    )


def read_schemas(
    paths: Sequence[Path | str], *, encoding: str = "utf-8", skip_bad_rows: bool = False
) -> tuple[SourceSchema, ...]:
    """Read every file's schema, in order; the first unreadable one raises ConvertError."""
    return tuple(read_schema(path, encoding=encoding, skip_bad_rows=skip_bad_rows) for path in paths)
