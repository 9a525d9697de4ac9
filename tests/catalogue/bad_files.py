"""The bad files of the catalogue, written on demand: empty, truncated, non-UTF-8, wrong extension, huge line."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HUGE_LINE_BYTES = 20_000_000


def png_bytes() -> bytes:
    """A valid 1x1 PNG, to be named as something it is not."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def good_parquet(path: Path) -> bytes:
    pq.write_table(pa.table({"text": ["one", "two", "three"], "label": [0, 1, 0]}), path)
    return path.read_bytes()


GOOD = {
    "csv": b"text,label\none,0\ntwo,1\nthree,0\n",
    "jsonl": b'{"text": "one", "label": 0}\n{"text": "two", "label": 1}\n',
}


def write_bad(kind: str, fmt: str, folder: Path) -> Path:
    """Write the `kind` of bad input in format `fmt` (csv, jsonl, parquet, md, txt) and return its path."""
    path = folder / f"bad-{kind}.{fmt}"
    if fmt == "parquet":
        good = good_parquet(folder / "good.parquet")
    elif fmt in GOOD:
        good = GOOD[fmt]
    else:
        good = b"---\nlicense: mit\n---\n# A card\n\nSome text.\n"
    makers: dict[str, Callable[[], bytes]] = {
        "empty": lambda: b"",
        "truncated": lambda: good[: max(1, len(good) // 2 - 3)],
        "latin1": lambda: _latin1(good),
        "png-named": png_bytes,
        "huge-line": lambda: _huge_line(fmt),
    }
    path.write_bytes(makers[kind]())
    return path


def _latin1(good: bytes) -> bytes:
    """The good bytes with Latin-1 text in them (a Windows export), which is not valid UTF-8."""
    latin = "caf\u00e9 \u00fcber".encode("latin-1")
    return good.replace(b"one", latin) if b"one" in good else good + latin + b"\n"


def _huge_line(fmt: str) -> bytes:
    body = b"x" * HUGE_LINE_BYTES
    if fmt == "csv":
        return b"text,label\n" + body + b",0\n"
    if fmt == "jsonl":
        return b'{"text": "' + body + b'", "label": 0}\n'
    if fmt == "parquet":
        return b"PAR1" + body  # not a Parquet file at all, and one long line
    return body


BAD_KINDS = ("empty", "truncated", "latin1", "png-named", "huge-line")
