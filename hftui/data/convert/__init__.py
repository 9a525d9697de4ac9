"""Convert local CSV, JSON Lines and Parquet files into one schema and stratified Parquet splits, with a report.

The flow, a module each: `read_schemas` (`read.py`) checks each text file first (`checks.py`: it decodes in the
chosen encoding, no CSV row has more fields than its header), loads it with `datasets.load_dataset` and describes
its columns; `default_plan` (`plan.py`) maps columns onto target columns by name; the user edits the
`ConvertPlan` (rename, drop, cast, label, splits, seed); `convert` (`run.py`) runs it with the datasets API
(`rename_columns`, `remove_columns`, `cast`, `concatenate_datasets`, `class_encode_column`, two stratified
`train_test_split`s) and writes `train/validation/test.parquet`, `REPORT.md` and `report.json` (`report.py`)
through temporary files.

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
- Text files are read as UTF-8 unless the plan names another encoding (`--encoding`, the screen's encoding box);
  a file that does not decode is refused with the byte, its offset and line, never called bad CSV or JSON.
- A CSV row with more fields than the header is refused with its line numbers (pandas would make the first
  field an index and shift every column), or, when the plan says `skip_bad_rows`, skipped by record index
  (pandas' `skiprows`) and counted per source in the report. Rows with fewer fields keep their nulls.
- A split datasets would refuse is explained first, in hftui's words: the class too small and its count, how
  many rows each split needs of every class, and what to change (`run._check_stratifiable`).
- ConvertError's `setting` names the reading setting that would get past it ("encoding", "skip_bad_rows"); the
  command line and the screen each add how to change it in their own terms.
- Transformations run in memory (`keep_in_memory=True`): meant for files that fit in memory, and nothing is
  added to the datasets cache beyond what `load_dataset` itself stores. Input files are only read; an output
  path that is one of the inputs is refused.
"""

from __future__ import annotations

from hftui.data.convert.checks import check_decodes, checked_encoding, ragged_rows
from hftui.data.convert.plan import (
    CAST_TYPES,
    CONVERT_ERROR_KINDS,
    LABEL_CANDIDATES,
    SOURCE_COLUMN,
    SPLIT_NAMES,
    TABULAR_FORMATS,
    BadRows,
    ColumnMapping,
    ConvertCancelled,
    ConvertError,
    ConvertPlan,
    SourceColumn,
    SourceSchema,
    SplitFractions,
    TargetColumn,
    check_plan,
    common_type,
    default_plan,
    guess_label,
    name_key,
    with_typed_settings,
)
from hftui.data.convert.read import (
    convertible_files,
    load_table,
    quiet_datasets,
    read_schema,
    read_schemas,
    read_table,
    type_name,
)
from hftui.data.convert.report import (
    ConvertReport,
    NullCount,
    SourceReport,
    SplitBalance,
    report_json,
    report_markdown,
)
from hftui.data.convert.run import ConvertProgress, convert

__all__ = [
    "CAST_TYPES",
    "CONVERT_ERROR_KINDS",
    "LABEL_CANDIDATES",
    "SOURCE_COLUMN",
    "SPLIT_NAMES",
    "TABULAR_FORMATS",
    "BadRows",
    "ColumnMapping",
    "ConvertCancelled",
    "ConvertError",
    "ConvertPlan",
    "ConvertProgress",
    "ConvertReport",
    "NullCount",
    "SourceColumn",
    "SourceReport",
    "SourceSchema",
    "SplitBalance",
    "SplitFractions",
    "TargetColumn",
    "check_decodes",
    "check_plan",
    "checked_encoding",
    "common_type",
    "convert",
    "convertible_files",
    "default_plan",
    "guess_label",
    "load_table",
    "name_key",
    "quiet_datasets",
    "ragged_rows",
    "read_schema",
    "read_schemas",
    "read_table",
    "report_json",
    "report_markdown",
    "type_name",
    "with_typed_settings",
]
