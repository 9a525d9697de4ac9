"""Checks of a text file before datasets reads it: that it decodes in the chosen encoding, and which CSV rows
have more fields than the header (pandas would silently turn the extra field into an index and shift the
columns)."""

from __future__ import annotations

import codecs
import csv
import sys
from pathlib import Path

from hftui.data.convert.plan import SHOWN_LINES, BadRows, ConvertError

_CHUNK = 1 << 20


def checked_encoding(encoding: str) -> str:
    """The encoding's standard name (`Latin-1` -> `iso8859-1`), or ConvertError naming the unknown one."""
    text = encoding.strip() or "utf-8"
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise ConvertError(
            f"unknown encoding {text!r}; use a name such as utf-8, latin-1 or cp1252", "bad_plan"
        ) from None


def check_decodes(path: Path, encoding: str = "utf-8") -> None:
    """Raise ConvertError (kind `bad_encoding`) at the first byte `path` cannot be decoded with: its value,
    offset and line, so a Windows-exported file is not reported as bad CSV or JSON."""
    name = checked_encoding(encoding)
    decoder = codecs.getincrementaldecoder(name)(errors="strict")
    offset = 0
    newlines = 0
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if offset == 0:
                _check_not_binary(path, chunk)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                # The decoder may hold back a few bytes of an unfinished character from the chunk before.
                held = len(error.object) - len(chunk)
                at = offset - held + error.start
                bad = error.object[error.start]
                line = newlines + error.object[: error.start].count(b"\n") + 1
                what = "UTF-8" if name == "utf-8" else name
                utf16 = at == 0 and error.object[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                looks = " (it starts with a UTF-16 byte order mark: read it as utf-16)" if utf16 else ""
                raise ConvertError(
                    f"{path.name} is not {what} text: byte 0x{bad:02x} at offset {at} (line {line}){looks}",
                    "bad_encoding",
                    setting="encoding",
                ) from None
            if not chunk:
                return
            offset += len(chunk)
            newlines += chunk.count(b"\n")


# Signatures of binary files that are often given a text file's extension by mistake.
_SIGNATURES = (
    (b"PAR1", "a Parquet file", "give it the .parquet extension"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook is one)", "unpack it, or export the sheet as CSV"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word file", "export the sheet as CSV"),
)


def _check_not_binary(path: Path, head: bytes) -> None:
    """Refuse a binary file under a text extension by what it starts with, rather than as badly encoded text."""
    for signature, what, fix in _SIGNATURES:
        if head.startswith(signature):
            raise ConvertError(f"{path.name} is {what} by its first bytes, not text: {fix}", "bad_file")


def check_not_json(path: Path, encoding: str = "utf-8") -> None:
    """Refuse a CSV file whose first line is a JSON object or array: JSON Lines under a .csv name, which pandas
    would read as a header of odd column names."""
    import json

    with path.open(encoding=checked_encoding(encoding), errors="replace") as stream:
        first = next((line for line in stream if line.strip()), "")
    if not first.lstrip().startswith(("{", "[")):
        return
    try:
        value = json.loads(first)
    except ValueError:
        return
    if isinstance(value, dict | list):
        kind = "object" if isinstance(value, dict) else "array"
        raise ConvertError(
            f"{path.name} holds JSON, not CSV (its first line is a JSON {kind}): "
            "give it the .jsonl (or .json) extension",
            "bad_file",
        )


def ragged_rows(path: Path, *, sep: str = ",", encoding: str = "utf-8") -> BadRows | None:
    """The rows of a CSV file with more fields than its header, or None when there are none (or the file is
    not CSV the csv module can read: then pandas' own error is the one to show)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # one huge field must not stop the check
    lines: list[int] = []
    records: list[int] = []
    header = 0
    try:
        with path.open(encoding=checked_encoding(encoding), newline="", errors="replace") as stream:
            reader = csv.reader(stream, delimiter=sep)
            start = 1
            # pandas' skiprows counts records (a blank line is one, a quoted newline is not a new one).
            for record, row in enumerate(reader):
                if row and not header:
                    header = len(row)
                elif header and len(row) > header:
                    lines.append(start)
                    records.append(record)
                start = reader.line_num + 1
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    if not lines:
        return None
    return BadRows(header, len(lines), tuple(lines[:SHOWN_LINES]), tuple(records))
