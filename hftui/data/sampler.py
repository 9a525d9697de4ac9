"""Sample rows from a Hub dataset or local files by streaming, in batches, without downloading the whole set.

`stream_sample` builds a streaming `datasets.IterableDataset` (skip, shuffle buffer, lazy row filter, take)
and yields `SampleBatch`es as rows arrive, checking `is_cancelled` between rows. Every failure becomes a
`SampleError` with a `kind` the UI can branch on.

Audio: datasets 5.2 decodes *and encodes* `Audio` features with torchcodec; without it even
`Audio(decode=False)` fails while the folder builder encodes each file path. So when torchcodec is missing,
audiofolder is loaded with the audio column as a plain path string and decoded here with soundfile into
`{"path", "array", "sampling_rate"}`.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.data.row_filter import FilterError, parse_row_filter
from hftui.libraries import import_serially

SAMPLE_ERROR_KINDS = (
    "not_found",
    "gated",
    "auth",
    "bad_file",
    "empty",
    "no_files",
    "needs_config",
    "bad_config",
    "bad_split",
    "bad_filter",
    "network",
    "missing_dependency",
    "unknown",
)

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".txt": "text",
}
_IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
_AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"}
_LIST_IN_MESSAGE = re.compile(r"\[([^\[\]]*)\]")


class SampleError(Exception):
    """Sampling failed; `kind` says how (see SAMPLE_ERROR_KINDS), `choices` lists configs where relevant."""

    def __init__(self, message: str, kind: str = "unknown", choices: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.choices = choices


@dataclass(frozen=True)
class SampleSource:
    """Where rows come from: a Hub dataset id or a local file/folder, with config, split and format."""

    kind: str
    location: str
    config: str | None = None
    split: str = "train"
    data_format: str | None = None


@dataclass(frozen=True)
class SampleOptions:
    """How many rows, how many to skip first, the shuffle buffer and seed, a row filter and the batch size."""

    n: int = 100
    skip: int = 0
    shuffle_buffer: int | None = None
    seed: int = 0
    row_filter: str | None = None
    batch_size: int = 20


@dataclass(frozen=True)
class SampleBatch:
    """Rows that arrived since the last batch, with the columns, features and the pace so far."""

    rows: tuple[dict[str, Any], ...]
    columns: tuple[str, ...]
    features: dict[str, Any] | None
    rows_so_far: int
    seconds_to_first_row: float | None
    rows_per_second: float | None


def format_of_file(path: Path) -> str | None:
    """The packaged builder that reads one file (csv, json, parquet, text, imagefolder, audiofolder), or None."""
    suffix = path.suffix.lower()
    if suffix in _IMAGE_EXTENSIONS:
        return "imagefolder"
    if suffix in _AUDIO_EXTENSIONS:
        return "audiofolder"
    return _EXTENSIONS.get(suffix)


def data_files_in(folder: Path) -> list[Path]:
    """The files under `folder` some builder reads, in name order; hidden files and folders left out."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and format_of_file(path) is not None
    )


def detect_local_format(path: Path) -> str:
    """The packaged builder for a local file or folder, by extension or by the files the folder holds."""
    if not path.exists():
        raise SampleError(f"{path} does not exist", "not_found")
    if path.is_file():
        data_format = format_of_file(path)
        if data_format is None:
            raise SampleError(f"{path.name}: unknown file type {path.suffix or '(no extension)'!r}", "bad_file")
        return data_format
    counts: dict[str, int] = {}
    for file in data_files_in(path):
        data_format = format_of_file(file)
        if data_format is not None:
            counts[data_format] = counts.get(data_format, 0) + 1
    if not counts:
        raise SampleError(f"{path} holds no csv, json, parquet, text, image or audio files", "no_files")
    # Media folders often carry a metadata.csv/jsonl beside the files; the media decide the builder.
    for media in ("imagefolder", "audiofolder"):
        if media in counts:
            return media
    return max(counts, key=lambda name: counts[name])


def list_configs(source: SampleSource) -> list[str]:
    """The configs of a Hub dataset (asks the Hub); a local source has one, "default"."""
    if source.kind != "hub":
        return ["default"]
    import_serially("datasets")
    import datasets

    try:
        return list(datasets.get_dataset_config_names(source.location))
    except Exception as error:
        raise explain_sample_error(error, source) from error


def cached_dataset_snapshot(repo_id: str) -> Path | None:
    """The newest cached snapshot of a Hub dataset (huggingface_hub's own lookup), or None when not cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def load_arguments(source: SampleSource) -> tuple[str, dict[str, Any]]:
    """The builder name and keyword arguments that load `source` with `datasets.load_dataset`."""
    if source.kind == "hub":
        from huggingface_hub import constants

        if not constants.HF_HUB_OFFLINE:
            return source.location, {"name": source.config}
        # Offline, datasets cannot resolve a Hub id, but it reads the cached snapshot as a local dataset
        # folder: the card's `configs` and the split names in file names mean the same there.
        snapshot = cached_dataset_snapshot(source.location)
        if snapshot is None:
            raise SampleError(
                f"{source.location} is not in the local cache and the session is offline: "
                "preview it online (ctrl+r retries the Hub), or download it first",
                "network",
            )
        return str(snapshot), {"name": source.config}
    if source.kind != "local":
        raise SampleError(f"unknown source kind {source.kind!r}; use 'hub' or 'local'", "unknown")
    path = Path(source.location).expanduser()
    if not path.exists():
        raise SampleError(f"{path} does not exist", "not_found")
    data_format = source.data_format or detect_local_format(path)
    if data_format in ("imagefolder", "audiofolder"):
        if path.is_file():
            return data_format, {"data_files": {source.split: [str(path)]}}
        return data_format, {"data_dir": str(path)}
    if path.is_file():
        files = [str(path)]
    else:
        files = [str(file) for file in data_files_in(path) if format_of_file(file) == data_format]
        if not files:
            raise SampleError(f"{path} holds no {data_format} files", "no_files")
    arguments: dict[str, Any] = {"data_files": {source.split: files}}
    if data_format == "csv" and all(file.endswith(".tsv") for file in files):
        arguments["sep"] = "\t"
    return data_format, arguments


def _torchcodec_missing() -> bool:
    return importlib.util.find_spec("torchcodec") is None


def _decode_audio_path(value: Any) -> Any:
    """Decode an audio file path with soundfile, the stand-in for torchcodec (see the module docstring)."""
    if not isinstance(value, str):
        return value
    import soundfile

    array, sampling_rate = soundfile.read(value, dtype="float32")
    return {"path": value, "array": array, "sampling_rate": sampling_rate}


def _open_stream(source: SampleSource) -> Any:
    """The streaming IterableDataset of the source's split."""
    import_serially("datasets")
    import datasets

    builder, arguments = load_arguments(source)
    audio_by_path = builder == "audiofolder" and _torchcodec_missing()
    if audio_by_path:
        arguments["features"] = datasets.Features({"audio": datasets.Value("string")})
        arguments["drop_labels"] = True
        arguments["drop_metadata"] = True
    stream = datasets.load_dataset(builder, split=source.split, streaming=True, **arguments)
    if audio_by_path:
        stream = stream.map(lambda row: {"audio": _decode_audio_path(row["audio"])})
    return stream


def _column_names(stream: Any) -> tuple[str, ...]:
    """The stream's columns: from its features when known, else from its first row (CSV knows none upfront)."""
    if stream.features is not None:
        return tuple(stream.features)
    iterator = iter(stream.take(1))
    try:
        first = next(iterator, None)
    finally:
        _close(iterator)
    return tuple(first) if first is not None else ()


def _close(iterator: Any) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def stream_sample(
    source: SampleSource,
    options: SampleOptions,
    *,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[SampleBatch]:
    """Yield batches of up to `options.batch_size` rows as they stream in, until `n` rows or cancellation."""
    started = time.monotonic()
    try:
        stream = _open_stream(source)
        columns = _column_names(stream)
        features = stream.features.to_dict() if stream.features is not None else None
        if not columns:
            raise SampleError(f"{source.location} has no rows", "empty")
        if options.skip:
            stream = stream.skip(options.skip)
        if options.shuffle_buffer:
            stream = stream.shuffle(seed=options.seed, buffer_size=options.shuffle_buffer)
        if options.row_filter and options.row_filter.strip():
            try:
                row_filter = parse_row_filter(options.row_filter, columns)
            except FilterError as error:
                raise SampleError(str(error), "bad_filter") from error
            stream = stream.filter(row_filter)
        stream = stream.take(options.n)
    except SampleError:
        raise
    except Exception as error:
        raise explain_sample_error(error, source) from error
    yield from _batches(stream, source, options, columns, features, started, is_cancelled)


def _batches(
    stream: Any,
    source: SampleSource,
    options: SampleOptions,
    columns: tuple[str, ...],
    features: dict[str, Any] | None,
    started: float,
    is_cancelled: Callable[[], bool],
) -> Iterator[SampleBatch]:
    """Iterate the prepared stream into SampleBatches, closing it when done, failed or cancelled."""
    batch: list[dict[str, Any]] = []
    rows_so_far = 0
    first_row_at: float | None = None
    batch_size = max(1, options.batch_size)

    def pack() -> SampleBatch:
        elapsed = time.monotonic() - started
        return SampleBatch(
            rows=tuple(batch),
            columns=columns,
            features=features,
            rows_so_far=rows_so_far,
            seconds_to_first_row=None if first_row_at is None else first_row_at - started,
            rows_per_second=rows_so_far / elapsed if rows_so_far and elapsed > 0 else None,
        )

    if is_cancelled():
        return
    iterator = iter(stream)
    try:
        while True:
            try:
                row = next(iterator, None)
            except Exception as error:
                raise explain_sample_error(error, source) from error
            if row is None:
                break
            if first_row_at is None:
                first_row_at = time.monotonic()
            batch.append(row)
            rows_so_far += 1
            # The first row goes out alone, so the table shows something as soon as the stream does.
            if len(batch) >= batch_size or rows_so_far == 1:
                yield pack()
                batch = []
            if is_cancelled():
                return
        if rows_so_far == 0 and not options.skip and not options.row_filter:
            raise SampleError(f"{source.location} has no rows", "empty")
        if batch or rows_so_far == 0:
            # The last, short batch; with no rows at all it still tells the caller the stream has ended.
            yield pack()
    finally:
        _close(iterator)


def _listed_choices(message: str) -> tuple[str, ...]:
    """The config names datasets lists in a message like "... available configs: ['a', 'b']"."""
    match = _LIST_IN_MESSAGE.search(message)
    if match is None:
        return ()
    try:
        values = ast.literal_eval("[" + match.group(1) + "]")
    except (ValueError, SyntaxError):
        return ()
    return tuple(str(value) for value in values)


def _local_files(source: SampleSource, data_format: str) -> list[Path]:
    """The local files of `source` that the `data_format` builder reads (a single file only if it is one)."""
    if source.kind != "local":
        return []
    path = Path(source.location).expanduser()
    if path.is_file():
        return [path] if (source.data_format or format_of_file(path)) == data_format else []
    return [f for f in data_files_in(path) if format_of_file(f) == data_format] if path.is_dir() else []


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether `error` or an exception it was raised from (or while handling) is a `kind`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _non_utf8_at(source: SampleSource) -> tuple[str, int] | None:
    """The first local text file (CSV or JSON) of `source` holding bytes that are not UTF-8, and their offset.

    The decoder's own position counts from the chunk it was given, so the file is read again here to name
    the byte offset from the start of the file, which is what a hex editor or `iconv` error shows.
    """
    import codecs

    for file in _local_files(source, "csv") + _local_files(source, "json"):
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        with file.open("rb") as handle:
            while True:
                chunk = handle.read(1 << 20)
                # The decoder puts the bytes of a character split across chunks before the next chunk.
                held = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as error:
                    return file.name, offset - held + error.start
                if not chunk:
                    break
                offset += len(chunk)
    return None


def _bad_json_line(source: SampleSource) -> str | None:
    """Where the first line of the local JSON Lines files that is not valid JSON sits, as 'file line N'."""
    files = _local_files(source, "json")
    for file in files:
        with file.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except ValueError:
                    return f"{file.name} line {number}"
                if number == 1 and file.suffix.lower() == ".json" and line.strip() in ("[", "{"):
                    break  # a single JSON document, not JSON Lines: line numbers would mislead
    return None


def explain_sample_error(error: BaseException, source: SampleSource) -> SampleError:
    """Turn whatever datasets, pandas, pyarrow or the Hub client raised into a SampleError."""
    import datasets.exceptions
    import pyarrow

    where = source.location
    message = str(error).strip()
    if isinstance(error, SampleError):
        return error
    if isinstance(error, datasets.exceptions.DatasetNotFoundError):
        cause = error.__cause__ or error.__context__
        if source.kind == "hub" and cause is not None:
            problem = _hub_problem(cause, source)
            if problem is not None and problem.kind not in ("unknown", "not_found"):
                return SampleError(problem.message, problem.kind)
        return SampleError(f"dataset {where!r} doesn't exist on the Hub or cannot be accessed", "not_found")
    if source.kind == "hub" and _is_hub_error(error):
        problem = _hub_problem(error, source)
        if problem is not None:
            return SampleError(problem.message, problem.kind)
    if isinstance(error, FileNotFoundError):
        return SampleError(f"file not found: {message or where}", "not_found")
    if isinstance(error, ImportError):
        return SampleError(f"a library this data needs is missing: {message}", "missing_dependency")
    if isinstance(error, StopIteration):
        # datasets' JSON reader peeks at the first record with next() and an empty file ends there.
        return SampleError(f"{where} is empty", "empty")
    if "Config name is missing" in message:
        choices = _listed_choices(message)
        return SampleError(f"{where} has several configs; choose one of: {', '.join(choices)}", "needs_config", choices)
    if "BuilderConfig" in message and "not found" in message:
        choices = _listed_choices(message)
        return SampleError(
            f"no config {source.config!r} in {where}; choose one of: {', '.join(choices)}", "bad_config", choices
        )
    if message.startswith("Bad split") or "Unknown split" in message:
        return SampleError(f"no split {source.split!r} in {where}: {message}", "bad_split")
    type_name = type(error).__name__
    if type_name == "EmptyDataError":
        return SampleError(f"{where} is empty: {message}", "empty")
    if type_name == "ParserError":
        return SampleError(f"cannot read {where} as CSV: {message}", "bad_file")
    if isinstance(error, pyarrow.ArrowInvalid) and "Parquet" in message:
        return SampleError(f"{where} is not a valid Parquet file: {message}", "bad_file")
    undecodable = _non_utf8_at(source) if _caused_by(error, UnicodeDecodeError) else None
    if undecodable is not None:
        file, offset = undecodable
        how = (
            "(a spreadsheet's 'CSV UTF-8' export)"
            if format_of_file(Path(file)) == "csv"
            else "(or convert it with iconv)"
        )
        return SampleError(
            f"{file} is not UTF-8 text: the byte at offset {offset} cannot be decoded. Save it as UTF-8 {how} "
            "and open it again.",
            "bad_file",
        )
    if isinstance(error, pyarrow.ArrowException | ValueError | UnicodeDecodeError | json.JSONDecodeError):
        line = _bad_json_line(source)
        if line is not None:
            return SampleError(f"invalid JSON at {line}: {message}", "bad_file")
        return SampleError(f"cannot read {where}: {message}", "bad_file")
    if isinstance(error, OSError | ConnectionError | TimeoutError):
        problem = _hub_problem(error, source) if source.kind == "hub" else None
        if problem is not None:
            return SampleError(problem.message, problem.kind)
        return SampleError(f"cannot read {where}: {message}", "bad_file" if source.kind == "local" else "network")
    return SampleError(f"{type_name}: {message}", "unknown")


def _is_hub_error(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("huggingface_hub", "httpx", "requests", "urllib3"))


def _hub_problem(error: BaseException, source: SampleSource) -> Any:
    """The Hub explanation of a failed request, or None when it says nothing more than 'unknown'."""
    from huggingface_hub import constants

    from hftui.hub.errors import explain_hub_error

    problem = explain_hub_error(error, repo_id=source.location, endpoint=constants.ENDPOINT)
    return None if problem.kind == "unknown" else problem
