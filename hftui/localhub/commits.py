"""One commit of a hosted repo: a full snapshot of its files, and what the Hub reads from them once.

Cards are read with hftui's one front-matter reader (`hftui.hub.cards.text`), so the server and the app agree
on where a card's metadata is and how its YAML loads.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

import yaml

from hftui.hub.cards.text import load_front_matter, split_front_matter
from hftui.localhub.files import HostedFile

_MAX_CARD_BYTES = 5 * 1024 * 1024  # a bigger README is served but not read for metadata
_MAX_JSON_BYTES = 10 * 1024 * 1024


@dataclass
class HostedCommit:
    """One commit on a hosted repo's `main` branch: a full snapshot of its files plus derived metadata."""

    sha: str
    title: str
    message: str
    author: str
    date: datetime
    files: dict[str, HostedFile]
    parent: str | None = None
    card: dict[str, Any] | None = None
    card_body: str = ""
    config: dict[str, Any] | None = None
    tokenizer_config: dict[str, Any] | None = None
    safetensors: dict[str, Any] | None = None
    # (size categories, modalities, formats) of a dataset, filled in when its tags are first asked for.
    data_summary: tuple[list[str], list[str], list[str]] | None = field(default=None, repr=False)
    _tree_ids: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        readme = self.files.get("README.md")
        if readme is not None and readme.size < _MAX_CARD_BYTES:
            text = readme.read().decode("utf-8", errors="replace")
            self.card, self.card_body, _ = read_card_metadata(text)
        self.config = _load_json_file(self.files.get("config.json"))
        self.tokenizer_config = _load_json_file(self.files.get("tokenizer_config.json"))
        self.safetensors = _safetensors_summary(self.files.values())

    @property
    def directories(self) -> set[str]:
        """Every folder that holds at least one file (root excluded)."""
        dirs: set[str] = set()
        for path in self.files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        return dirs

    def tree_id(self, folder: str) -> str:
        """A git-like tree id for a folder, stable for identical content."""
        if self._tree_ids is None:
            ids: dict[str, str] = {}
            for folder_path in sorted(self.directories, key=lambda p: -p.count("/")):
                prefix = folder_path + "/"
                lines = [f"{f.blob_id} {p}" for p, f in self.files.items() if p.startswith(prefix)]
                ids[folder_path] = hashlib.sha1("\n".join(lines).encode(), usedforsecurity=False).hexdigest()
            self._tree_ids = ids
        return self._tree_ids[folder]


def read_card_metadata(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """A card's metadata, its body, and what the Hub would say is wrong with the metadata.

    The metadata is None when the card has none, or when it is broken YAML or not a mapping; the complaint is
    None when the metadata is fine or absent."""
    front_matter, body = split_front_matter(text.removeprefix("\ufeff"))
    if front_matter is None or not front_matter.strip():
        return None, body, None
    try:
        data = load_front_matter(front_matter)
    except yaml.YAMLError as error:
        return None, body, f"Invalid YAML in metadata: {str(error).splitlines()[0]}"
    if not isinstance(data, dict):
        return None, body, "metadata must be a YAML mapping"
    return data, body, None


def _load_json_file(hosted: HostedFile | None) -> dict[str, Any] | None:
    if hosted is None or hosted.size > _MAX_JSON_BYTES:
        return None
    try:
        value = json.loads(hosted.read())
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    return value if isinstance(value, dict) else None


def _safetensors_summary(files: Iterable[HostedFile]) -> dict[str, Any] | None:
    """The Hub's `safetensors` field: parameters per dtype over every readable .safetensors file, and the total."""
    totals: dict[str, int] = {}
    found = False
    for hosted in files:
        if not hosted.path.endswith(".safetensors"):
            continue
        with hosted.open() as handle:
            counts = _safetensors_parameters(handle)
        if counts is None:
            continue
        found = True
        for dtype, count in counts.items():
            totals[dtype] = totals.get(dtype, 0) + count
    return {"parameters": totals, "total": sum(totals.values())} if found else None


def _safetensors_parameters(handle: BinaryIO) -> dict[str, int] | None:
    header_len_raw = handle.read(8)
    if len(header_len_raw) != 8:
        return None
    (header_len,) = struct.unpack("<Q", header_len_raw)
    if header_len > 100 * 1024 * 1024:  # a corrupt length would otherwise make us read the whole file
        return None
    try:
        header = json.loads(handle.read(header_len))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    counts: dict[str, int] = {}
    for name, spec in header.items():
        if name == "__metadata__" or not isinstance(spec, dict):
            continue
        count = 1
        for dim in spec.get("shape", []):
            count *= int(dim)
        dtype = str(spec.get("dtype", "UNKNOWN"))
        counts[dtype] = counts.get(dtype, 0) + count
    return counts
