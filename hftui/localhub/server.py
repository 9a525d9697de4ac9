"""A local, Hugging Face Hub-compatible HTTP server that the real `huggingface_hub` client talks to.

It serves the subset of the Hub's REST API and file endpoints that `HfApi`, `hf_hub_download`,
`snapshot_download` and `HfFileSystem` use, with the same JSON shapes, headers and error codes, so that
tests exercise the genuine client over real HTTP and `hftui demo` can seed a genuine HF cache offline.

Large files and weights are served like Git LFS files on the Hub: `/resolve/` answers with a redirect to a
separate "CDN" origin (a second port), carrying `X-Linked-Etag` / `X-Linked-Size` / `X-Repo-Commit`.
No Xet headers are ever sent, so the client falls back to plain HTTP downloads.

The write side is the one `create_repo`, `upload_folder`, `create_commit`, `delete_file` and
`delete_folder` use: `/api/repos/create`, `/api/validate-yaml` (the card check before an upload),
`/api/{type}s/{id}/preupload/{rev}` (upload modes, and the current oids so unchanged files are skipped), the
LFS batch API answered with the "basic" transfer (a PUT per object), and the ndjson `/commit/{rev}`. Writes
need a write token of the namespace's user or org. Clients must upload with Xet off (`HF_HUB_DISABLE_XET`):
the LocalHub does not implement Xet's chunk store. What is pushed is kept like any hosted repo, so tests read
it back through `repo(...).files`.

Stdlib only (plus PyYAML for card metadata); importing it never pulls in textual, transformers, datasets
or torch.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import hmac
import io
import json
import mimetypes
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import yaml

from hftui.hub.cards.text import FRONT_MATTER_BLOCK

__all__ = [
    "HostedCommit",
    "HostedFile",
    "HostedRepo",
    "LocalHub",
    "RecordedRequest",
    "iso_date",
    "main",
    "make_hosted_file",
    "parse_front_matter",
]

RepoType = Literal["model", "dataset"]
GatedValue = Literal[False, "auto", "manual"]

# The Hub stores files above this size in LFS whatever their extension.
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
# Patterns of the .gitattributes the Hub writes into every new model and dataset repo.
LFS_PATTERNS: tuple[str, ...] = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.mlmodel",
    "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl",
    "*.pt", "*.pth", "*.rar", "*.safetensors", "*.tar", "*.tar.*", "*.tflite", "*.tgz", "*.wasm", "*.xz",
    "*.zip", "*.zst", "*tfevents*", "*.gguf", "*.lz4", "*.mds", "*.mp3", "*.ogg", "*.wav", "*.flac",
    "*.jpg", "*.jpeg", "*.png", "*.webp", "*.mp4",
)  # fmt: skip
_CHUNK = 1024 * 1024
_BASE_DATE = datetime(2024, 1, 1, tzinfo=UTC)
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")
_INVALID_TOKEN = "Invalid credentials in Authorization header"


# ----------------------------------------------------------------------------------------------------------
# Files, commits and repos
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostedFile:
    """One file of a hosted repo, with the hashes the Hub derives from it (git blob sha1, LFS sha256)."""

    path: str
    size: int
    blob_id: str
    lfs_sha256: str | None = None
    pointer_size: int | None = None
    data: bytes | None = field(default=None, repr=False)
    source: Path | None = None

    @property
    def is_lfs(self) -> bool:
        """Whether the Hub would store this file in LFS."""
        return self.lfs_sha256 is not None

    @property
    def etag(self) -> str:
        """The ETag the client keys its cache blobs on: sha256 for LFS files, git blob sha1 otherwise."""
        return self.lfs_sha256 if self.lfs_sha256 is not None else self.blob_id

    def open(self) -> BinaryIO:
        """A fresh binary reader over the content."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.source is not None
        return self.source.open("rb")

    def read(self) -> bytes:
        """The whole content."""
        with self.open() as handle:
            return handle.read()


def _is_lfs_path(path: str, size: int) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return size > LFS_SIZE_THRESHOLD or any(fnmatch.fnmatchcase(name, pattern) for pattern in LFS_PATTERNS)


def _iter_chunks(data: bytes | None, source: Path | None) -> Iterator[bytes]:
    if data is not None:
        yield data
        return
    assert source is not None
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def make_hosted_file(path: str, *, data: bytes | None = None, source: Path | None = None) -> HostedFile:
    """Hash a file as the Hub does: git blob sha1, or an LFS pointer plus sha256 for weights and big files."""
    size = len(data) if data is not None else (source.stat().st_size if source is not None else 0)
    if _is_lfs_path(path, size):
        digest = hashlib.sha256()
        for chunk in _iter_chunks(data, source):
            digest.update(chunk)
        oid = digest.hexdigest()
        pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()
        return HostedFile(path, size, _git_blob_sha(pointer), oid, len(pointer), data, source)
    blob = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    for chunk in _iter_chunks(data, source):
        blob.update(chunk)
    return HostedFile(path, size, blob.hexdigest(), None, None, data, source)


def _lfs_file(path: str, data: bytes, oid: str) -> HostedFile:
    """A file committed as an LFS pointer to an uploaded object, whatever its name or size."""
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()
    return HostedFile(path, len(data), _git_blob_sha(pointer), oid, len(pointer), data)


def _collect_files(folder: Path | None, files: dict[str, bytes] | None) -> dict[str, HostedFile]:
    collected: dict[str, HostedFile] = {}
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise NotADirectoryError(f"not a folder: {folder}")
        for root, dirs, names in os.walk(folder, followlinks=True):
            rel_root = Path(root).relative_to(folder)
            # git internals and huggingface_hub's local_dir bookkeeping are not repo content
            dirs[:] = sorted(d for d in dirs if d != ".git" and (rel_root / d).as_posix() != ".cache/huggingface")
            for name in sorted(names):
                full = Path(root) / name
                if full.is_file():
                    rel = (rel_root / name).as_posix()
                    collected[rel] = make_hosted_file(rel, source=full)
    for raw_path, content in (files or {}).items():
        rel = raw_path.strip("/")
        payload = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        collected[rel] = make_hosted_file(rel, data=payload)
    return dict(sorted(collected.items()))


def parse_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """Split a card into its YAML metadata (None when absent or broken) and its Markdown body."""
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_BLOCK.search(text)
    if match is None:
        return None, text
    body = text[match.end() :]
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError:
        return None, body
    return (data if isinstance(data, dict) else None), body


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


def _load_json_file(hosted: HostedFile | None) -> dict[str, Any] | None:
    if hosted is None or hosted.size > 10 * 1024 * 1024:
        return None
    try:
        value = json.loads(hosted.read())
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    return value if isinstance(value, dict) else None


def _card_description(body: str) -> str | None:
    """The first prose paragraph of a card body, as the Hub shows it in dataset listings."""
    paragraph: list[str] = []
    in_comment = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if in_comment:
            in_comment = "-->" not in stripped
            continue
        if not stripped or stripped.startswith(("#", "![", "[!", "<", "|", "```", "---")):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    text = " ".join(paragraph)
    return text[:500] if text else None


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
    data_summary: tuple[list[str], list[str], list[str]] | None = field(default=None, repr=False)
    _tree_ids: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        readme = self.files.get("README.md")
        if readme is not None and readme.size < 5 * 1024 * 1024:
            text = readme.read().decode("utf-8", errors="replace")
            self.card, self.card_body = parse_front_matter(text)
        self.config = _load_json_file(self.files.get("config.json"))
        self.tokenizer_config = _load_json_file(self.files.get("tokenizer_config.json"))
        totals: dict[str, int] = {}
        found = False
        for hosted in self.files.values():
            if not hosted.path.endswith(".safetensors"):
                continue
            with hosted.open() as handle:
                counts = _safetensors_parameters(handle)
            if counts is None:
                continue
            found = True
            for dtype, count in counts.items():
                totals[dtype] = totals.get(dtype, 0) + count
        if found:
            self.safetensors = {"parameters": totals, "total": sum(totals.values())}

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


class HostedRepo:
    """A model or dataset served by a LocalHub: Hub-side metadata plus a linear history on `main`.

    Attributes are plain and mutable (e.g. `repo.downloads = 5`, `repo.gated = "manual"`); responses are
    computed from them on every request.
    """

    def __init__(self, repo_type: RepoType, repo_id: str, *, created_at: datetime) -> None:
        self.repo_type: RepoType = repo_type
        self.repo_id = repo_id
        # The Hub's Mongo ObjectId: 24 hex digits, stable for a given repo.
        digest = hashlib.sha1(f"{repo_type}:{repo_id}".encode(), usedforsecurity=False).hexdigest()
        self.object_id = digest[:24]
        self.pipeline_tag: str | None = None
        self.library_name: str | None = None
        self.extra_tags: list[str] = []
        self.downloads = 0
        self.likes = 0
        self.trending_score = 0
        self.gated: GatedValue = False
        self.private = False
        self.disabled = False
        self.created_at = created_at
        self.card_data_override: dict[str, Any] | None = None
        # None: any registered token may read gated/private content; a set: only these user names.
        self.authorized_users: set[str] | None = None
        self.commits: list[HostedCommit] = []

    def __repr__(self) -> str:
        return f"HostedRepo({self.repo_type!r}, {self.repo_id!r}, sha={self.sha[:8]!r})"

    # -- current state -------------------------------------------------------------------------------------

    @property
    def head(self) -> HostedCommit:
        """The latest commit on `main`."""
        return self.commits[-1]

    @property
    def sha(self) -> str:
        """The commit sha `main` points at."""
        return self.head.sha

    @property
    def files(self) -> dict[str, HostedFile]:
        """Files at `main`, by path."""
        return self.head.files

    @property
    def last_modified(self) -> datetime:
        """Date of the latest commit."""
        return self.head.date

    @property
    def author(self) -> str | None:
        """The namespace (user or org); None for legacy ids without one."""
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else None

    @property
    def card_data(self) -> dict[str, Any] | None:
        """Card metadata at `main`: the explicit value given to LocalHub, else README.md's front matter."""
        return self.card_data_at(self.head)

    @property
    def tags(self) -> list[str]:
        """Tags at `main`, derived the way the Hub derives them."""
        return self.tags_at(self.head)

    @property
    def used_storage(self) -> int:
        """Bytes of all distinct blobs across the whole history."""
        seen: dict[str, int] = {}
        for commit in self.commits:
            for hosted in commit.files.values():
                seen[hosted.etag] = hosted.size
        return sum(seen.values())

    # -- per-commit derivations ----------------------------------------------------------------------------

    def card_data_at(self, commit: HostedCommit) -> dict[str, Any] | None:
        """Card metadata as of `commit`."""
        if self.card_data_override is not None:
            return self.card_data_override
        return commit.card

    def pipeline_tag_at(self, commit: HostedCommit) -> str | None:
        """Explicit pipeline tag, else the card's `pipeline_tag`."""
        if self.pipeline_tag is not None:
            return self.pipeline_tag
        card = self.card_data_at(commit) or {}
        value = card.get("pipeline_tag")
        return value if isinstance(value, str) else None

    def library_name_at(self, commit: HostedCommit) -> str | None:
        """Explicit library, else the card's `library_name`, else what the files suggest (as the Hub does)."""
        if self.library_name is not None:
            return self.library_name
        card = self.card_data_at(commit) or {}
        if isinstance(card.get("library_name"), str):
            return card["library_name"]
        if self.repo_type != "model":
            return None
        names = set(commit.files)
        if "modules.json" in names or "config_sentence_transformers.json" in names:
            return "sentence-transformers"
        if "adapter_config.json" in names:
            return "peft"
        if "model_index.json" in names:
            return "diffusers"
        if commit.config is not None and ("model_type" in commit.config or "architectures" in commit.config):
            return "transformers"
        if any(p.endswith(".gguf") for p in names):
            return "gguf"
        return None

    def tags_at(self, commit: HostedCommit) -> list[str]:
        """The Hub's computed tag list as of `commit`."""
        card = self.card_data_at(commit) or {}
        tags: list[str] = []
        if self.repo_type == "model":
            tags.extend(self._model_tags(commit, card))
        else:
            tags.extend(self._dataset_tags(commit, card))
        unique: list[str] = []
        for tag in tags:
            if tag and tag not in unique:
                unique.append(tag)
        return unique

    def _model_tags(self, commit: HostedCommit, card: dict[str, Any]) -> list[str]:
        tags: list[str] = []
        library = self.library_name_at(commit)
        if library:
            tags.append(library)
        paths = list(commit.files)
        if any(p.endswith(".safetensors") for p in paths):
            tags.append("safetensors")
        if any(p.rsplit("/", 1)[-1].startswith("pytorch_model") and p.endswith(".bin") for p in paths):
            tags.append("pytorch")
        if any(p.endswith("tf_model.h5") for p in paths):
            tags.append("tf")
        if any(p.endswith("flax_model.msgpack") for p in paths):
            tags.append("jax")
        if any(p.endswith(".onnx") for p in paths):
            tags.append("onnx")
        if any(p.endswith(".gguf") for p in paths):
            tags.append("gguf")
        if commit.config is not None and isinstance(commit.config.get("model_type"), str):
            tags.append(commit.config["model_type"])
        pipeline = self.pipeline_tag_at(commit)
        if pipeline:
            tags.append(pipeline)
        tags.extend(_str_list(card.get("tags")))
        tags.extend(self.extra_tags)
        tags.extend(_str_list(card.get("language")))
        tags.extend(f"dataset:{d}" for d in _str_list(card.get("datasets")))
        tags.extend(f"base_model:{b}" for b in _str_list(card.get("base_model")))
        if card.get("model-index"):
            tags.append("model-index")
        tags.extend(f"license:{lic}" for lic in _str_list(card.get("license")))
        tags.append("region:us")
        return tags

    def _dataset_tags(self, commit: HostedCommit, card: dict[str, Any]) -> list[str]:
        tags: list[str] = []
        for key in (
            "task_categories",
            "task_ids",
            "annotations_creators",
            "language_creators",
            "multilinguality",
            "source_datasets",
            "language",
        ):
            tags.extend(f"{key}:{value}" for value in _str_list(card.get(key)))
        tags.extend(f"license:{lic}" for lic in _str_list(card.get("license")))
        if commit.data_summary is None:  # reading data files is the costly part: once per commit
            commit.data_summary = (_computed_size_category(commit), *_dataset_modalities_and_formats(commit))
        computed_sizes, modalities, formats = commit.data_summary
        sizes = _str_list(card.get("size_categories")) or computed_sizes
        tags.extend(f"size_categories:{s}" for s in sizes)
        tags.extend(f"modality:{m}" for m in modalities)
        tags.extend(f"format:{f}" for f in formats)
        if formats:
            tags.extend(("library:datasets", "library:pandas", "library:mlcroissant", "library:polars"))
        if card.get("benchmark"):
            tags.append(f"benchmark:{card['benchmark']}")
        tags.extend(_str_list(card.get("tags")))
        tags.extend(self.extra_tags)
        tags.append("region:us")
        return tags

    def commit_for(self, revision: str) -> HostedCommit | None:
        """Resolve a branch name, full sha or unambiguous short sha to a commit."""
        if revision in ("main", "refs/heads/main"):
            return self.head
        revision = revision.lower()
        if _HEX40.match(revision):
            return next((c for c in self.commits if c.sha == revision), None)
        if _SHORT_SHA.match(revision):
            matches = [c for c in self.commits if c.sha.startswith(revision)]
            return matches[0] if len(matches) == 1 else None
        return None

    def last_change(self, commit: HostedCommit, path: str, *, folder: bool) -> HostedCommit:
        """The newest commit, up to `commit`, that changed `path` (a file or a folder)."""
        index = self.commits.index(commit)

        def state(c: HostedCommit) -> str | None:
            if folder:
                return c.tree_id(path) if path in c.directories else None
            hosted = c.files.get(path)
            return hosted.blob_id if hosted is not None else None

        current = state(commit)
        while index > 0 and state(self.commits[index - 1]) == current:
            index -= 1
        return self.commits[index]


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
    if isinstance(value, dict):
        return []
    return [str(value)]


_TEXT_FORMATS = {
    ".jsonl": ("json", ("text",)),
    ".json": ("json", ("text",)),
    ".csv": ("csv", ("tabular", "text")),
    ".tsv": ("csv", ("tabular", "text")),
    ".parquet": ("parquet", ("tabular", "text")),
    ".arrow": ("arrow", ("tabular", "text")),
    ".txt": ("text", ("text",)),
}
_MEDIA_FORMATS = {
    ".png": ("imagefolder", "image"),
    ".jpg": ("imagefolder", "image"),
    ".jpeg": ("imagefolder", "image"),
    ".webp": ("imagefolder", "image"),
    ".wav": ("audiofolder", "audio"),
    ".mp3": ("audiofolder", "audio"),
    ".flac": ("audiofolder", "audio"),
    ".ogg": ("audiofolder", "audio"),
}


def _data_files(commit: HostedCommit) -> list[HostedFile]:
    return [f for p, f in commit.files.items() if p != "README.md" and not p.startswith(".")]


def _dataset_modalities_and_formats(commit: HostedCommit) -> tuple[list[str], list[str]]:
    modalities: list[str] = []
    formats: list[str] = []
    for hosted in _data_files(commit):
        suffix = Path(hosted.path).suffix.lower()
        if suffix in _TEXT_FORMATS:
            fmt, mods = _TEXT_FORMATS[suffix]
        elif suffix in _MEDIA_FORMATS:
            fmt, mod = _MEDIA_FORMATS[suffix]
            mods = (mod,)
        else:
            continue
        if fmt not in formats:
            formats.append(fmt)
        modalities.extend(m for m in mods if m not in modalities)
    return sorted(modalities), formats


def _computed_size_category(commit: HostedCommit) -> list[str]:
    """Count rows of line-based data files, as the dataset viewer would, to bucket the dataset's size."""
    rows = 0
    counted = False
    for hosted in _data_files(commit):
        suffix = Path(hosted.path).suffix.lower()
        if suffix not in (".jsonl", ".csv", ".tsv", ".txt") or hosted.size > 50 * 1024 * 1024:
            continue
        lines = sum(1 for line in hosted.read().splitlines() if line.strip())
        rows += max(lines - 1, 0) if suffix in (".csv", ".tsv") else lines
        counted = True
    if not counted:
        return []
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
    ]
    for bound, label in bounds:
        if rows < bound:
            return [label]
    return ["n>1B"]


_AUTO_MODEL_SUFFIXES = (
    ("ForCausalLM", "AutoModelForCausalLM"),
    ("LMHeadModel", "AutoModelForCausalLM"),
    ("ForMaskedLM", "AutoModelForMaskedLM"),
    ("ForSequenceClassification", "AutoModelForSequenceClassification"),
    ("ForTokenClassification", "AutoModelForTokenClassification"),
    ("ForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("ForConditionalGeneration", "AutoModelForSeq2SeqLM"),
    ("ForImageClassification", "AutoModelForImageClassification"),
    ("ForSpeechSeq2Seq", "AutoModelForSpeechSeq2Seq"),
)


def _transformers_info(commit: HostedCommit, pipeline_tag: str | None) -> dict[str, Any] | None:
    if commit.config is None:
        return None
    auto_model = "AutoModel"
    for arch in _str_list(commit.config.get("architectures")):
        for suffix, name in _AUTO_MODEL_SUFFIXES:
            if arch.endswith(suffix):
                auto_model = name
    has_tokenizer = any(
        p.rsplit("/", 1)[-1] in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json")
        for p in commit.files
    )
    has_processor = "preprocessor_config.json" in commit.files
    info: dict[str, Any] = {"auto_model": auto_model}
    if pipeline_tag:
        info["pipeline_tag"] = pipeline_tag
    if has_tokenizer and has_processor:
        info["processor"] = "AutoProcessor"
    elif has_tokenizer:
        info["processor"] = "AutoTokenizer"
    elif has_processor:
        info["processor"] = "AutoImageProcessor"
    return info


def _config_summary(commit: HostedCommit) -> dict[str, Any] | None:
    """The trimmed `config` object the Hub returns: architectures, model_type and tokenizer special tokens."""
    if commit.config is None and commit.tokenizer_config is None:
        return None
    summary: dict[str, Any] = {}
    if commit.config is not None:
        for key in ("architectures", "model_type"):
            if key in commit.config:
                summary[key] = commit.config[key]
    if commit.tokenizer_config is not None:
        keys = (
            "bos_token",
            "eos_token",
            "pad_token",
            "unk_token",
            "sep_token",
            "cls_token",
            "mask_token",
            "chat_template",
        )
        summary["tokenizer_config"] = {k: commit.tokenizer_config[k] for k in keys if k in commit.tokenizer_config}
    return summary


# ----------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ----------------------------------------------------------------------------------------------------------


def iso_date(value: datetime) -> str:
    """ISO-8601 with milliseconds and a `Z`, exactly as the Hub writes dates."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _json_default(value: Any) -> Any:
    # YAML front matter may hold dates; the Hub returns them as strings.
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _truthy(values: Sequence[str] | None) -> bool:
    return bool(values) and values[-1].lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the hub received it (path decoded, without the query string)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    server: Literal["hub", "cdn"]


@dataclass
class _Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file: HostedFile | None = None


@dataclass
class _Request:
    method: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def segments(self) -> list[str]:
        # Split before decoding: the client percent-encodes slashes inside revisions and tree paths.
        parts = [unquote(part) for part in self.raw_path.split("/")[1:]]
        while parts and parts[-1] == "":
            parts.pop()
        return parts

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def params(self, *names: str) -> list[str]:
        out: list[str] = []
        for name in names:
            out.extend(self.query.get(name, []))
        return out


@dataclass
class _Token:
    token: str
    user: str
    orgs: tuple[str, ...]
    role: str
    fullname: str
    email: str
    name: str = ""
    write_scopes: tuple[str, ...] = ()  # fine-grained tokens: namespaces with repo.write


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    status: int
    remaining: int | None
    retry_after: int | None
    error_code: str | None
    message: str | None
    method: str | None


@dataclass
class _Delay:
    pattern: re.Pattern[str]
    seconds: float
    remaining: int | None
    method: str | None


@dataclass
class _Cut:
    pattern: re.Pattern[str]
    after_bytes: int
    remaining: int | None


def _take(rules: list[Any], method: str, path: str) -> Any | None:
    """First rule matching the request; consumes one of its `remaining` uses."""
    for rule in rules:
        rule_method = getattr(rule, "method", None)
        if rule_method is not None and rule_method != method:
            continue
        if not rule.pattern.search(path):
            continue
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                rules.remove(rule)
        return rule
    return None


def _json_reply(payload: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> _Reply:
    body = json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")
    return _Reply(status, [("Content-Type", "application/json; charset=utf-8"), *headers], body)


def _error_reply(status: int, message: str, code: str | None = None, headers: Iterable[tuple[str, str]] = ()) -> _Reply:
    extra = [("X-Error-Message", message)]
    if code is not None:
        extra.insert(0, ("X-Error-Code", code))
    return _json_reply({"error": message}, status, [*extra, *headers])


def _content_disposition(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ascii_name = name.encode("ascii", errors="replace").decode().replace('"', "_").replace("?", "_")
    return f"inline; filename*=UTF-8''{quote(name)}; filename=\"{ascii_name}\";"


def _content_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if path.endswith((".md", ".txt", ".jsonl", ".csv", ".tsv", ".py", ".yaml", ".yml")):
        return "text/plain; charset=utf-8"
    return guessed or "application/octet-stream"


class _Server(ThreadingHTTPServer):
    """A ThreadingHTTPServer that remembers live connections so stop() can cut keep-alive sockets too."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], hub: LocalHub, *, role: Literal["hub", "cdn"]) -> None:
        self.hub = hub
        self.role: Literal["hub", "cdn"] = role
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection: pooled keep-alive sockets must not outlive stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect mid-response are expected in fault tests.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.hub.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK adds ~40 ms each.
    disable_nagle_algorithm = True
    server_version = "LocalHub/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the hub keeps its own request log

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        hub = self.server.hub
        split = urlsplit(self.path)
        path = unquote(split.path)
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        hub._record(RecordedRequest(method, path, split.query, headers, self.server.role))
        if not hub._wait_delay(method, path):
            self.close_connection = True
            return
        fault = hub._take_fault(method, path)
        if fault is not None:
            reply = hub._fault_reply(fault, path)
        else:
            request = _Request(method, split.path, parse_qs(split.query, keep_blank_values=True), headers, body)
            try:
                reply = hub._route_cdn(request) if self.server.role == "cdn" else hub._route(request)
            except Exception:
                hub.errors.append(traceback.format_exc())
                reply = _error_reply(500, "Internal Error - We're working hard to fix this as soon as possible!")
        cut = hub._take_cut(method, path) if reply.file is not None else None
        self._send(reply, method, cut)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: _Reply, method: str, cut: _Cut | None) -> None:
        headers = list(reply.headers)
        headers.append(("X-Request-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"))
        headers.append(("X-Powered-By", "huggingface-moon"))
        if reply.file is None:
            self._start(reply.status, [*headers, ("Content-Length", str(len(reply.body)))])
            if method != "HEAD" and reply.body:
                self.wfile.write(reply.body)
            return
        self._send_file(reply, headers, method, cut)

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _send_file(self, reply: _Reply, headers: list[tuple[str, str]], method: str, cut: _Cut | None) -> None:
        hosted = reply.file
        assert hosted is not None
        size = hosted.size
        start, end = 0, size - 1
        status = reply.status
        range_header = self.headers.get("Range")
        parsed = _parse_range(range_header, size) if range_header else None
        if parsed == "unsatisfiable":
            self._start(416, [*headers, ("Content-Range", f"bytes */{size}"), ("Content-Length", "0")])
            return
        if isinstance(parsed, tuple):
            start, end = parsed
            status = 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        length = max(end - start + 1, 0)
        self._start(status, [*headers, ("Content-Length", str(length))])
        if method == "HEAD" or length == 0:
            return
        budget = cut.after_bytes if cut is not None else None
        with hosted.open() as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                if budget is not None and len(chunk) >= budget:
                    self.wfile.write(chunk[:budget])
                    self._abort()
                    return
                if budget is not None:
                    budget -= len(chunk)
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _abort(self) -> None:
        """Drop the connection mid-body, as a flaky network would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _parse_range(value: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """A single `bytes=` range as (start, end) inclusive; None means "ignore it and send everything"."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value, flags=re.IGNORECASE)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end


# ----------------------------------------------------------------------------------------------------------
# The hub
# ----------------------------------------------------------------------------------------------------------

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_NOT_FOUND_PAGE = "Sorry, we can't find the page you are looking for."
_LFS_UPLOAD = "lfs-upload"  # where the LFS batch answer tells clients to PUT objects
_GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in LFS_PATTERNS).encode()
_REPO_NOT_FOUND = "Repository not found"
_PATH_KEYWORDS = frozenset(
    {
        "auth-check",
        "resolve",
        "tree",
        "blob",
        "raw",
        "revision",
        "commits",
        "commit",
        "paths-info",
        "preupload",
        "refs",
        "discussions",
        "settings",
    }
)
_MODEL_INFO_KEYS = (
    "_id",
    "id",
    "private",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "modelId",
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
    "widgetData",
    "model-index",
    "config",
    "cardData",
    "transformersInfo",
    "siblings",
    "spaces",
    "createdAt",
    "safetensors",
    "usedStorage",
    "trendingScore",
)
_DATASET_INFO_KEYS = (
    "_id",
    "id",
    "author",
    "sha",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "tags",
    "description",
    "downloads",
    "likes",
    "paperswithcode_id",
    "cardData",
    "siblings",
    "createdAt",
    "usedStorage",
    "trendingScore",
)
_MODEL_LIST_KEYS = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
)
_DATASET_LIST_KEYS = (
    "_id",
    "id",
    "author",
    "sha",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "likes",
    "trendingScore",
    "downloads",
    "tags",
    "createdAt",
    "description",
)
# Keys the Hub sends as an explicit null rather than leaving out.
_KEEP_NULL = frozenset({"model-index"})
_SORT_KEYS = {
    "downloads": "downloads",
    "likes": "likes",
    "likes30d": "likes",
    "trendingScore": "trendingScore",
    "trending_score": "trendingScore",
    "lastModified": "lastModified",
    "last_modified": "lastModified",
    "createdAt": "createdAt",
    "created_at": "createdAt",
    "id": "id",
    "modelId": "id",
    "usedStorage": "usedStorage",
    "mainSize": "usedStorage",
}
_DEFAULT_FAULT_MESSAGES = {
    400: "Bad request",
    401: _INVALID_TOKEN,
    403: "Forbidden",
    404: _REPO_NOT_FOUND,
    408: "Request Timeout",
    429: "You have exceeded our hourly quotas for action 'api'. We invite you to retry later.",
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _normalize_gated(gated: bool | str | None) -> GatedValue:
    if gated is None or gated is False:
        return False
    if gated is True:
        return "auto"
    if gated in ("auto", "manual"):
        return gated  # type: ignore[return-value]
    raise ValueError(f"gated must be False, True, 'auto' or 'manual', not {gated!r}")


class LocalHub:
    """A Hub-compatible HTTP server on 127.0.0.1 that serves repos to the real huggingface_hub client.

    `page_size` caps every paginated listing (models, datasets, tree, commits); tests set it small to
    exercise `Link: rel="next"` paging. With `lfs_redirect` (the default), LFS files are served the way the
    Hub does it: a 302 to a second "CDN" origin, with the file's metadata on the redirect response.

    Every request is logged: `requests` holds `(method, decoded path)` pairs (CDN paths start with
    `/cdn-lfs/`), `request_log` the same with query, headers and which server answered. Handler crashes
    are answered with a 500 and their tracebacks kept in `errors`.
    """

    def __init__(
        self, *, page_size: int = 1000, lfs_redirect: bool = True, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.lfs_redirect = lfs_redirect
        self.host = host
        self.port = port
        self.requests: list[tuple[str, str]] = []
        self.request_log: list[RecordedRequest] = []
        self.errors: list[str] = []  # tracebacks of handler crashes, answered as HTTP 500
        self._lock = threading.RLock()
        self._repos: dict[tuple[RepoType, str], HostedRepo] = {}
        self._blobs: dict[str, HostedFile] = {}
        self._uploaded: dict[str, bytes] = {}  # LFS objects PUT by clients, waiting for the commit naming them
        self._tokens: dict[str, _Token] = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._cuts: list[_Cut] = []
        self._secret = secrets.token_bytes(16)
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._url: str | None = None
        self._cdn_url: str | None = None
        self._stopping = threading.Event()

    # -- repos and tokens ----------------------------------------------------------------------------------

    def add_model(
        self,
        repo_id: str,
        folder: Path | None = None,
        *,
        files: dict[str, bytes] | None = None,
        pipeline_tag: str | None = None,
        library_name: str | None = None,
        tags: list[str] | None = None,
        downloads: int = 0,
        likes: int = 0,
        trending_score: int = 0,
        gated: bool | str = False,
        private: bool = False,
        created_at: datetime | None = None,
        last_modified: datetime | None = None,
        card_data: dict[str, Any] | None = None,
        commit_message: str | None = None,
    ) -> HostedRepo:
        """Host a model; adding an existing id commits the new files on top and replaces its metadata."""
        return self._add(
            "model",
            repo_id,
            folder,
            files,
            pipeline_tag=pipeline_tag,
            library_name=library_name,
            tags=tags,
            downloads=downloads,
            likes=likes,
            trending_score=trending_score,
            gated=gated,
            private=private,
            created_at=created_at,
            last_modified=last_modified,
            card_data=card_data,
            commit_message=commit_message,
        )

    def add_dataset(
        self,
        repo_id: str,
        folder: Path | None = None,
        *,
        files: dict[str, bytes] | None = None,
        tags: list[str] | None = None,
        downloads: int = 0,
        likes: int = 0,
        trending_score: int = 0,
        gated: bool | str = False,
        private: bool = False,
        created_at: datetime | None = None,
        last_modified: datetime | None = None,
        card_data: dict[str, Any] | None = None,
        commit_message: str | None = None,
    ) -> HostedRepo:
        """Host a dataset (files are served under /datasets/{id}/resolve/...); same semantics as add_model."""
        return self._add(
            "dataset",
            repo_id,
            folder,
            files,
            pipeline_tag=None,
            library_name=None,
            tags=tags,
            downloads=downloads,
            likes=likes,
            trending_score=trending_score,
            gated=gated,
            private=private,
            created_at=created_at,
            last_modified=last_modified,
            card_data=card_data,
            commit_message=commit_message,
        )

    def _add(
        self,
        repo_type: RepoType,
        repo_id: str,
        folder: Path | None,
        files: dict[str, bytes] | None,
        *,
        pipeline_tag: str | None,
        library_name: str | None,
        tags: list[str] | None,
        downloads: int,
        likes: int,
        trending_score: int,
        gated: bool | str,
        private: bool,
        created_at: datetime | None,
        last_modified: datetime | None,
        card_data: dict[str, Any] | None,
        commit_message: str | None,
    ) -> HostedRepo:
        if not _REPO_ID.match(repo_id):
            raise ValueError(f"invalid repo id {repo_id!r}: expected 'name' or 'namespace/name'")
        hosted_files = _collect_files(folder, files)
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                # Distinct, deterministic default dates keep date sorting meaningful in tests.
                created = _as_utc(created_at) if created_at else _BASE_DATE + timedelta(days=len(self._repos))
                repo = HostedRepo(repo_type, repo_id, created_at=created)
                repo.commits.append(self._new_commit(repo, {}, "initial commit", "", "system", created))
                default_date = created + timedelta(hours=1)
            else:
                if created_at is not None:
                    repo.created_at = _as_utc(created_at)
                default_date = repo.last_modified + timedelta(days=1)
            when = _as_utc(last_modified) if last_modified else default_date
            title = commit_message or "Upload folder using huggingface_hub"
            repo.commits.append(self._new_commit(repo, hosted_files, title, "", self._default_user(), when))
            repo.pipeline_tag = pipeline_tag
            repo.library_name = library_name
            repo.extra_tags = list(tags or [])
            repo.downloads = downloads
            repo.likes = likes
            repo.trending_score = trending_score
            repo.gated = _normalize_gated(gated)
            repo.private = private
            repo.card_data_override = card_data
            for hosted in hosted_files.values():
                if hosted.lfs_sha256 is not None:
                    self._blobs[hosted.lfs_sha256] = hosted
            self._repos[(repo_type, repo_id)] = repo
        return repo

    def _default_user(self) -> str:
        return next(iter(self._tokens.values())).user if self._tokens else "tester"

    @staticmethod
    def _new_commit(
        repo: HostedRepo, files: dict[str, HostedFile], title: str, message: str, author: str, when: datetime
    ) -> HostedCommit:
        parent = repo.commits[-1].sha if repo.commits else None
        lines = [f"repo {repo.repo_type}/{repo.repo_id}", f"parent {parent}", f"date {iso_date(when)}", title]
        lines.extend(f"{hosted.blob_id} {path}" for path, hosted in sorted(files.items()))
        sha = hashlib.sha1("\n".join(lines).encode(), usedforsecurity=False).hexdigest()
        return HostedCommit(sha, title, message, author, when, files, parent)

    def add_token(
        self,
        token: str,
        *,
        user: str = "tester",
        orgs: Sequence[str] = (),
        role: str = "write",
        fullname: str | None = None,
        email: str | None = None,
        name: str | None = None,
        write_scopes: Sequence[str] = (),
    ) -> None:
        """Register a token: requests carrying it are authenticated as `user` (member of `orgs`).

        `role` is "read", "write" or "fineGrained"; a fine-grained token may write only under the namespaces in
        `write_scopes`. `name` is the token's display name (what `hf auth login` stores it under)."""
        with self._lock:
            self._tokens[token] = _Token(
                token,
                user,
                tuple(orgs),
                role,
                fullname or user.title(),
                email or f"{user}@example.com",
                name or f"{user}-token",
                tuple(write_scopes),
            )

    def repo(self, repo_id: str, repo_type: RepoType = "model") -> HostedRepo | None:
        """The hosted repo with this id, if any."""
        with self._lock:
            return self._repos.get((repo_type, repo_id))

    @property
    def repos(self) -> list[HostedRepo]:
        """All hosted repos, in the order they were first added."""
        with self._lock:
            return list(self._repos.values())

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in background threads; returns the endpoint URL ("http://127.0.0.1:PORT")."""
        if self._servers:
            raise RuntimeError("LocalHub is already running")
        self._stopping.clear()
        hub_server = _Server((self.host, self.port), self, role="hub")
        cdn_server = _Server((self.host, 0), self, role="cdn")
        self._servers = [hub_server, cdn_server]
        for server in self._servers:
            # A short poll interval keeps stop() fast; serve_forever only polls for shutdown requests.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"local-hub-{server.role}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        self._url = f"http://{self.host}:{hub_server.server_address[1]}"
        self._cdn_url = f"http://{self.host}:{cdn_server.server_address[1]}"
        return self._url

    def stop(self) -> None:
        """Stop serving and close every socket: afterwards connections to the URL are refused."""
        self._stopping.set()  # wakes delayed handlers
        servers, self._servers = self._servers, []
        # shutdown() blocks until the serve loop polls again; both servers are waited for at once.
        waiters = [threading.Thread(target=server.shutdown) for server in servers]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        for server in servers:
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    @property
    def url(self) -> str:
        """The endpoint URL to pass as `endpoint=` / HF_ENDPOINT."""
        if self._url is None:
            raise RuntimeError("LocalHub is not started")
        return self._url

    @property
    def cdn_url(self) -> str:
        """Origin of the fake CDN that LFS files redirect to."""
        if self._cdn_url is None:
            raise RuntimeError("LocalHub is not started")
        return self._cdn_url

    @property
    def running(self) -> bool:
        """Whether the servers are up."""
        return bool(self._servers)

    def __enter__(self) -> LocalHub:
        if not self._servers:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------------------------------------

    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        times: int | None = None,
        retry_after: int | None = None,
        error_code: str | None = None,
        message: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path matches the regex (None: until cleared) with `status`.

        The reply carries a JSON `{"error": ...}` body plus `X-Error-Message` (and `X-Error-Code`: by default
        `EntryNotFound` for a 404 on /resolve/, `RepoNotFound` for other 404s), and for `retry_after` the
        `Retry-After` header (with the Hub's `RateLimit` headers on a 429).
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    re.compile(path_pattern),
                    status,
                    times,
                    retry_after,
                    error_code,
                    message,
                    method.upper() if method else None,
                )
            )

    def delay(self, path_pattern: str, seconds: float, *, times: int | None = None, method: str | None = None) -> None:
        """Hold matching requests for `seconds` before answering (to trigger client timeouts)."""
        with self._lock:
            self._delays.append(_Delay(re.compile(path_pattern), seconds, times, method.upper() if method else None))

    def cut(self, path_pattern: str, after_bytes: int, *, times: int | None = 1) -> None:
        """Drop the connection after `after_bytes` of a matching file body, as a flaky network would."""
        with self._lock:
            self._cuts.append(_Cut(re.compile(path_pattern), after_bytes, times))

    def clear_faults(self) -> None:
        """Remove every fail/delay/cut rule."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._cuts.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            return _take(self._faults, method, path)

    def _take_cut(self, method: str, path: str) -> _Cut | None:
        with self._lock:
            return _take(self._cuts, method, path)

    def _wait_delay(self, method: str, path: str) -> bool:
        """Apply a matching delay; False when the hub stopped meanwhile."""
        with self._lock:
            rule: _Delay | None = _take(self._delays, method, path)
        if rule is None:
            return True
        return not self._stopping.wait(rule.seconds)

    def _fault_reply(self, fault: _Fault, path: str) -> _Reply:
        status = fault.status
        code = fault.error_code
        if code is None and status == 404:
            code = "EntryNotFound" if "/resolve/" in path else "RepoNotFound"
        message = fault.message
        if message is None:
            if code == "EntryNotFound":
                message = "Entry not found"
            else:
                message = _DEFAULT_FAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(fault.retry_after)))
            if status == 429:
                headers.append(("RateLimit", f'"api";r=0;t={fault.retry_after}'))
                headers.append(("RateLimit-Policy", '"fixed window";"api";q=1000;w=300'))
        return _error_reply(status, message, code, headers)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.request_log.append(request)
            self.requests.append((request.method, request.path))

    # -- routing -------------------------------------------------------------------------------------------

    def _authenticate(self, request: _Request) -> tuple[_Token | None, _Reply | None]:
        value = request.headers.get("authorization")
        if not value:
            return None, None
        scheme, _, token = value.partition(" ")
        with self._lock:
            entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            return None, _error_reply(401, _INVALID_TOKEN)
        return entry, None

    def _route(self, request: _Request) -> _Reply:
        user, error = self._authenticate(request)
        if error is not None:
            return error
        segments = request.segments
        if not segments:
            return _Reply(200, [("Content-Type", "text/plain; charset=utf-8")], b"LocalHub\n")
        if segments[0] == "api":
            return self._route_api(request, segments[1:], user)
        if segments[0] == _LFS_UPLOAD and len(segments) == 2:
            return self._receive_lfs_object(request, segments[1])
        if segments[-4:] == ["info", "lfs", "objects", "batch"] and len(segments) >= 5:
            return self._lfs_batch(request, segments[:-4], user)
        if segments[0] == "datasets":
            return self._route_resolve(request, "dataset", segments[1:], user)
        if segments[0] == "spaces":
            return _error_reply(404, _REPO_NOT_FOUND, "RepoNotFound")
        return self._route_resolve(request, "model", segments, user)

    def _split_repo_id(self, repo_type: RepoType, segments: list[str]) -> tuple[str, list[str]]:
        """Split `segments` into a repo id (one or two segments) and what follows it."""
        with self._lock:
            if len(segments) >= 2 and (repo_type, f"{segments[0]}/{segments[1]}") in self._repos:
                return f"{segments[0]}/{segments[1]}", segments[2:]
            if segments and (repo_type, segments[0]) in self._repos:
                return segments[0], segments[1:]
        # Unknown repo: guess its shape so the error names the right id.
        if len(segments) >= 2 and segments[1] not in _PATH_KEYWORDS:
            return f"{segments[0]}/{segments[1]}", segments[2:]
        return (segments[0] if segments else ""), segments[1:]

    def _allowed(self, repo: HostedRepo, user: _Token | None) -> bool:
        return user is not None and (repo.authorized_users is None or user.user in repo.authorized_users)

    def _check_access(
        self, repo: HostedRepo | None, repo_id: str, user: _Token | None, *, files: bool
    ) -> _Reply | None:
        if repo is None:
            return _error_reply(404, _REPO_NOT_FOUND, "RepoNotFound")
        if repo.private and not self._allowed(repo, user):
            # The Hub hides private repos: anonymous callers get 401, authenticated outsiders 404.
            return _error_reply(401 if user is None else 404, _REPO_NOT_FOUND, "RepoNotFound")
        if repo.disabled:
            return _error_reply(403, "Access to this resource is disabled.")
        if files and repo.gated and not self._allowed(repo, user):
            kind = "model" if repo.repo_type == "model" else "dataset"
            if user is None:
                message = (
                    f"Access to {kind} {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in."
                )
                return _error_reply(401, message, "GatedRepo")
            prefix = "" if repo.repo_type == "model" else "datasets/"
            message = (
                f"Access to {kind} {repo_id} is restricted and you are not in the authorized list. "
                f"Visit {self._url}/{prefix}{repo_id} to ask for access."
            )
            return _error_reply(403, message, "GatedRepo")
        return None

    def _route_api(self, request: _Request, segments: list[str], user: _Token | None) -> _Reply:
        if segments == ["whoami-v2"]:
            return self._whoami(user)
        if segments == ["validate-yaml"]:
            return self._validate_yaml(request) if request.method == "POST" else _error_reply(405, "Method Not Allowed")
        if segments == ["repos", "create"]:
            return (
                self._create_repo(request, user)
                if request.method == "POST"
                else _error_reply(405, "Method Not Allowed")
            )
        if not segments:
            return _error_reply(404, _NOT_FOUND_PAGE)
        kind = segments[0]
        if kind == "spaces":
            return _json_reply([]) if len(segments) == 1 else _error_reply(404, _REPO_NOT_FOUND, "RepoNotFound")
        repo_type: RepoType
        if kind == "models":
            repo_type = "model"
        elif kind == "datasets":
            repo_type = "dataset"
        else:
            return _error_reply(404, _NOT_FOUND_PAGE)
        if len(segments) == 1:
            return self._list(request, repo_type, user)
        repo_id, rest = self._split_repo_id(repo_type, segments[1:])
        repo = self.repo(repo_id, repo_type)
        denied = self._check_access(repo, repo_id, user, files=False)
        if denied is not None:
            return denied
        assert repo is not None
        action = rest[0] if rest else None
        if action is None:
            return self._info(request, repo, repo.head)
        if action == "refs":
            return self._refs(request, repo)
        if action == "auth-check":
            denied = self._check_access(repo, repo_id, user, files=True)
            if denied is None and rest[1:] == ["write"] and (user is None or user.role == "read"):
                denied = _error_reply(403, "You don't have write access to this repository.")
            return denied or _json_reply({})
        if action in ("preupload", "commit") and len(rest) >= 2:
            if request.method != "POST":
                return _error_reply(405, "Method Not Allowed")
            denied = self._check_write(repo, user)
            if denied is not None:
                return denied
            revision = "/".join(rest[1:])
            if action == "preupload":
                return self._preupload(request, repo, revision)
            assert user is not None
            return self._commit(request, repo, revision, user)
        if action not in ("revision", "tree", "commits", "paths-info") or len(rest) < 2:
            return _error_reply(404, _NOT_FOUND_PAGE)
        revision = "/".join(rest[1:]) if action == "revision" else rest[1]
        commit = repo.commit_for(revision)
        if commit is None:
            return _error_reply(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        if action == "revision":
            return self._info(request, repo, commit)
        if action == "tree":
            return self._tree(request, repo, commit, "/".join(rest[2:]))
        if action == "commits":
            return self._commits(request, repo, commit)
        if request.method != "POST":
            return _error_reply(405, "Method Not Allowed")
        return self._paths_info(request, repo, commit)

    # -- JSON documents ------------------------------------------------------------------------------------

    def _fields(self, repo: HostedRepo, commit: HostedCommit, *, blobs: bool) -> dict[str, Any]:
        """Every property the hub can report for `repo` at `commit`; callers pick and order them."""
        card = repo.card_data_at(commit)
        fields: dict[str, Any] = {
            "_id": repo.object_id,
            "id": repo.repo_id,
            "author": repo.author,
            "sha": commit.sha,
            "lastModified": iso_date(commit.date),
            "createdAt": iso_date(repo.created_at),
            "private": repo.private,
            "gated": repo.gated,
            "disabled": repo.disabled,
            "downloads": repo.downloads,
            "downloadsAllTime": repo.downloads,
            "likes": repo.likes,
            "trendingScore": repo.trending_score,
            "tags": repo.tags_at(commit),
            "siblings": [_sibling(hosted, blobs) for hosted in commit.files.values()],
            "usedStorage": repo.used_storage,
            "cardData": card,
            "xetEnabled": False,
        }
        if repo.repo_type == "model":
            pipeline = repo.pipeline_tag_at(commit)
            library = repo.library_name_at(commit)
            fields.update(
                {
                    "modelId": repo.repo_id,
                    "pipeline_tag": pipeline,
                    "library_name": library,
                    "model-index": card.get("model-index") if card else None,
                    "widgetData": card.get("widget") if card else None,
                    "config": _config_summary(commit),
                    "transformersInfo": _transformers_info(commit, pipeline) if library == "transformers" else None,
                    "spaces": [],
                    "safetensors": commit.safetensors,
                }
            )
        else:
            fields.update(
                {
                    "description": _card_description(commit.card_body),
                    "paperswithcode_id": card.get("paperswithcode_id") if card else None,
                    "mainSize": sum(hosted.size for hosted in commit.files.values()),
                }
            )
        return fields

    @staticmethod
    def _select(fields: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
        return {k: fields[k] for k in keys if k in fields and (fields[k] is not None or k in _KEEP_NULL)}

    def _info(self, request: _Request, repo: HostedRepo, commit: HostedCommit) -> _Reply:
        fields = self._fields(repo, commit, blobs=_truthy(request.query.get("blobs")))
        expand = request.params("expand", "expand[]")
        if expand:
            return _json_reply(self._select(fields, ["_id", "id", *expand]))
        keys = _MODEL_INFO_KEYS if repo.repo_type == "model" else _DATASET_INFO_KEYS
        return _json_reply(self._select(fields, keys))

    def _list(self, request: _Request, repo_type: RepoType, user: _Token | None) -> _Reply:
        with self._lock:
            candidates = [r for (t, _), r in self._repos.items() if t == repo_type]
        repos = [r for r in candidates if not r.private or self._allowed(r, user)]
        for term in request.params("search"):
            repos = [r for r in repos if term.lower() in r.repo_id.lower()]
        author = request.param("author")
        if author:
            repos = [r for r in repos if (r.author or "").lower() == author.lower()]
        for value in request.params("filter"):
            for part in (p.strip() for p in value.split(",")):
                if part:
                    repos = [r for r in repos if _matches_filter(r, part)]
        pipeline = request.param("pipeline_tag")
        if pipeline:
            repos = [r for r in repos if r.pipeline_tag_at(r.head) == pipeline]
        gated = request.param("gated")
        if gated is not None:
            wanted = gated.lower() in ("1", "true")
            repos = [r for r in repos if bool(r.gated) == wanted]
        sort = request.param("sort")
        if sort:
            key = _SORT_KEYS.get(sort)
            if key is None:
                return _error_reply(400, f"Invalid sort parameter: {sort}")
            direction = request.param("direction")
            descending = direction != "1" if direction else key != "id"
            repos.sort(key=lambda r: _sort_value(r, key), reverse=descending)
        try:
            limit = int(request.param("limit") or 0)
            offset = _decode_cursor(request.param("cursor"))
        except ValueError:
            return _error_reply(400, "Invalid limit or cursor")
        page = min(limit, self.page_size) if limit > 0 else self.page_size
        chunk = repos[offset : offset + page]
        expand = request.params("expand", "expand[]")
        items = [self._list_item(request, repo, expand) for repo in chunk]
        headers = []
        if offset + page < len(repos):
            headers.append(
                ("Link", f'<{self._next_url(request, "cursor", _encode_cursor(offset + page))}>; rel="next"')
            )
        return _json_reply(items, headers=headers)

    def _list_item(self, request: _Request, repo: HostedRepo, expand: list[str]) -> dict[str, Any]:
        fields = self._fields(repo, repo.head, blobs=False)
        if expand:
            return self._select(fields, ["_id", "id", *expand])
        full = _truthy(request.query.get("full"))
        if repo.repo_type == "model":
            keys = list(_MODEL_LIST_KEYS)
            if full:
                keys.append("siblings")
            if _truthy(request.query.get("cardData")):
                keys.append("cardData")
            if _truthy(request.query.get("config")):
                keys.append("config")
        else:
            keys = list(_DATASET_LIST_KEYS)
            if full or _truthy(request.query.get("cardData")):
                keys.append("cardData")
            if full:
                keys.append("siblings")
        return self._select(fields, keys)

    def _next_url(self, request: _Request, param: str, value: str) -> str:
        pairs = [(k, v) for k, values in request.query.items() if k != param for v in values]
        pairs.append((param, value))
        return f"{self._url}{request.raw_path}?{urlencode(pairs)}"

    def _tree(self, request: _Request, repo: HostedRepo, commit: HostedCommit, path: str) -> _Reply:
        path = path.strip("/")
        directories = commit.directories
        if path and path not in directories:
            return _error_reply(404, f"Entry not found: {path}", "EntryNotFound", [("X-Repo-Commit", commit.sha)])
        recursive = _truthy(request.query.get("recursive"))
        expand = _truthy(request.query.get("expand"))
        prefix = f"{path}/" if path else ""
        entries: list[tuple[str, bool]] = []
        for candidate, is_dir in [*((d, True) for d in directories), *((f, False) for f in commit.files)]:
            if not candidate.startswith(prefix):
                continue
            if not recursive and "/" in candidate[len(prefix) :]:
                continue
            entries.append((candidate, is_dir))
        entries.sort()
        try:
            offset = _decode_cursor(request.param("cursor"))
        except ValueError:
            return _error_reply(400, "Invalid cursor")
        # The Hub pages expanded listings by 50 since each entry costs a history walk.
        page = min(self.page_size, 50) if expand else self.page_size
        chunk = entries[offset : offset + page]
        items = [self._tree_entry(repo, commit, entry_path, is_dir, expand) for entry_path, is_dir in chunk]
        headers = []
        if offset + page < len(entries):
            headers.append(
                ("Link", f'<{self._next_url(request, "cursor", _encode_cursor(offset + page))}>; rel="next"')
            )
        return _json_reply(items, headers=headers)

    def _tree_entry(
        self, repo: HostedRepo, commit: HostedCommit, path: str, is_dir: bool, expand: bool
    ) -> dict[str, Any]:
        entry: dict[str, Any]
        if is_dir:
            entry = {"type": "directory", "oid": commit.tree_id(path), "size": 0, "path": path}
        else:
            hosted = commit.files[path]
            entry = {"type": "file", "oid": hosted.blob_id, "size": hosted.size}
            if hosted.lfs_sha256 is not None:
                entry["lfs"] = {
                    "oid": hosted.lfs_sha256,
                    "size": hosted.size,
                    "pointerSize": hosted.pointer_size,
                }
            entry["path"] = path
        if expand:
            last = repo.last_change(commit, path, folder=is_dir)
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": iso_date(last.date)}
            if not is_dir:
                entry["securityFileStatus"] = {
                    "status": "safe",
                    "avScan": {"virusFound": False, "virusNames": None},
                    "pickleImportScan": None,
                }
        return entry

    def _commits(self, request: _Request, repo: HostedRepo, commit: HostedCommit) -> _Reply:
        history = list(reversed(repo.commits[: repo.commits.index(commit) + 1]))
        try:
            page_number = int(request.param("p") or 0)
        except ValueError:
            return _error_reply(400, "Invalid page")
        chunk = history[page_number * self.page_size : (page_number + 1) * self.page_size]
        formatted = "formatted" in request.params("expand", "expand[]")
        items = []
        for item in chunk:
            doc: dict[str, Any] = {
                "id": item.sha,
                "title": item.title,
                "message": item.message,
                "authors": [{"user": item.author, "avatar": f"/avatars/{item.author}.svg"}],
                "date": iso_date(item.date),
            }
            if formatted:
                doc["formatted"] = {"title": _html_escape(item.title), "message": _html_escape(item.message)}
            items.append(doc)
        headers = []
        if (page_number + 1) * self.page_size < len(history):
            headers.append(("Link", f'<{self._next_url(request, "p", str(page_number + 1))}>; rel="next"'))
        return _json_reply(items, headers=headers)

    def _paths_info(self, request: _Request, repo: HostedRepo, commit: HostedCommit) -> _Reply:
        paths: list[str]
        if "json" in request.headers.get("content-type", ""):
            try:
                payload = json.loads(request.body or b"{}")
            except ValueError:
                return _error_reply(400, "Invalid JSON body")
            raw_paths = payload.get("paths", [])
            paths = [raw_paths] if isinstance(raw_paths, str) else [str(p) for p in raw_paths]
            expand = bool(payload.get("expand"))
        else:
            form = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = _truthy(form.get("expand"))
        directories = commit.directories
        items = []
        for raw in paths:
            path = raw.strip("/")
            if path in commit.files:
                items.append(self._tree_entry(repo, commit, path, False, expand))
            elif path in directories:
                items.append(self._tree_entry(repo, commit, path, True, expand))
        return _json_reply(items)

    def _refs(self, request: _Request, repo: HostedRepo) -> _Reply:
        payload: dict[str, Any] = {
            "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": repo.sha}],
            "converts": [],
            "tags": [],
        }
        if _truthy(request.query.get("include_prs")):
            payload["pullRequests"] = []
        return _json_reply(payload)

    def _whoami(self, user: _Token | None) -> _Reply:
        if user is None:
            return _error_reply(401, "Invalid username or password.")

        def object_id(name: str) -> str:
            return hashlib.sha1(f"user:{name}".encode(), usedforsecurity=False).hexdigest()[:24]

        orgs = [
            {
                "type": "org",
                "id": object_id(org),
                "name": org,
                "fullname": org,
                "email": None,
                "canPay": False,
                "periodEnd": None,
                "avatarUrl": f"/avatars/{org}.svg",
                "roleInOrg": "admin",
                "isEnterprise": False,
            }
            for org in user.orgs
        ]
        return _json_reply(
            {
                "type": "user",
                "id": object_id(user.user),
                "name": user.user,
                "fullname": user.fullname,
                "email": user.email,
                "emailVerified": True,
                "canPay": False,
                "periodEnd": None,
                "isPro": False,
                "avatarUrl": f"/avatars/{user.user}.svg",
                "orgs": orgs,
                "auth": {
                    "type": "access_token",
                    "accessToken": {
                        "displayName": user.name,
                        "role": user.role,
                        "createdAt": iso_date(_BASE_DATE),
                        **(
                            {
                                "fineGrained": {
                                    "scoped": [
                                        {
                                            "entity": {"type": "org" if name in user.orgs else "user", "name": name},
                                            "permissions": ["repo.content.read", "repo.write"],
                                        }
                                        for name in user.write_scopes
                                    ]
                                }
                            }
                            if user.role == "fineGrained"
                            else {}
                        ),
                    },
                },
            }
        )

    # -- files ---------------------------------------------------------------------------------------------

    def _route_resolve(
        self, request: _Request, repo_type: RepoType, segments: list[str], user: _Token | None
    ) -> _Reply:
        repo_id, rest = self._split_repo_id(repo_type, segments)
        if len(rest) < 3 or rest[0] != "resolve":
            return _error_reply(404, _NOT_FOUND_PAGE)  # web pages are not served
        if request.method not in ("GET", "HEAD"):
            return _error_reply(405, "Method Not Allowed")
        repo = self.repo(repo_id, repo_type)
        denied = self._check_access(repo, repo_id, user, files=True)
        if denied is not None:
            return denied
        assert repo is not None
        revision, path = rest[1], "/".join(rest[2:])
        commit = repo.commit_for(revision)
        if commit is None:
            return _error_reply(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        hosted = commit.files.get(path)
        # The client caches a file's absence per commit, keyed on X-Repo-Commit.
        common = [("X-Repo-Commit", commit.sha), ("Accept-Ranges", "bytes")]
        if hosted is None:
            return _error_reply(404, "Entry not found", "EntryNotFound", common)
        if hosted.lfs_sha256 is None:
            headers = [
                ("Content-Type", _content_type(path)),
                ("ETag", f'"{hosted.blob_id}"'),
                ("Content-Disposition", _content_disposition(path)),
                *common,
            ]
            return _Reply(200, headers, file=hosted)
        linked = [("X-Linked-Etag", f'"{hosted.lfs_sha256}"'), ("X-Linked-Size", str(hosted.size))]
        if self.lfs_redirect:
            location = self._cdn_location(repo, hosted)
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Location", location),
                ("ETag", f'"{hosted.blob_id}"'),
                *common,
                *linked,
            ]
            return _Reply(302, headers, f"Found. Redirecting to {location}".encode())
        headers = [
            ("Content-Type", _content_type(path)),
            ("ETag", f'"{hosted.lfs_sha256}"'),
            ("Content-Disposition", _content_disposition(path)),
            *common,
            *linked,
        ]
        return _Reply(200, headers, file=hosted)

    def _sign(self, oid: str) -> str:
        return hmac.new(self._secret, oid.encode(), hashlib.sha256).hexdigest()[:32]

    def _cdn_location(self, repo: HostedRepo, hosted: HostedFile) -> str:
        """A "signed" URL on the CDN origin; it names the repo and file so path faults can target it."""
        assert hosted.lfs_sha256 is not None
        oid = hosted.lfs_sha256
        prefix = "models" if repo.repo_type == "model" else "datasets"
        query = urlencode({"Expires": int(time.time()) + 3600, "Signature": self._sign(oid)})
        return f"{self.cdn_url}/cdn-lfs/{prefix}/{quote(repo.repo_id)}/{oid}/{quote(hosted.path)}?{query}"

    # -- the write side: create a repo, pre-upload, LFS transfer, commit ----------------------------------

    def _check_write(self, repo: HostedRepo | None, user: _Token | None, namespace: str | None = None) -> _Reply | None:
        """Whether `user` may write to `repo` (or create one in `namespace`): a write token of its owner or org."""
        if user is None:
            return _error_reply(401, "Invalid username or password.")
        if namespace is None:
            assert repo is not None
            namespace = repo.repo_id.split("/", 1)[0] if "/" in repo.repo_id else user.user
        kind = repo.repo_type if repo is not None else "model"
        allowed = user.write_scopes if user.role == "fineGrained" else (user.user, *user.orgs)
        if user.role == "read" or namespace not in allowed:
            return _error_reply(403, f'You don\'t have the rights to create a {kind} under the namespace "{namespace}"')
        return None

    def _repo_url(self, repo_type: RepoType, repo_id: str) -> str:
        return f"{self._url}/{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"

    def _create_repo(self, request: _Request, user: _Token | None) -> _Reply:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return _error_reply(400, "Invalid JSON body")
        if not isinstance(payload, dict):
            return _error_reply(400, "Invalid JSON body")
        repo_type = payload.get("type") or "model"
        if repo_type not in ("model", "dataset"):
            return _error_reply(400, f"LocalHub does not host {repo_type} repos")
        name, organization = payload.get("name"), payload.get("organization")
        if user is None:
            return _error_reply(401, "Invalid username or password.")
        namespace = organization or user.user
        repo_id = f"{namespace}/{name}"
        if not isinstance(name, str) or "/" in name or not _REPO_ID.match(repo_id):
            return _error_reply(400, f"Invalid repo name: {name!r}")
        denied = self._check_write(None, user, namespace)
        if denied is not None:
            return denied
        url = self._repo_url(repo_type, repo_id)
        with self._lock:
            if (repo_type, repo_id) in self._repos or any(
                kind == repo_type and existing.lower() == repo_id.lower() for kind, existing in self._repos
            ):
                return _json_reply({"error": f"You already created this {repo_type} repo", "url": url}, 409)
            created = _as_utc(datetime.now(UTC))
            repo = HostedRepo(repo_type, repo_id, created_at=created)
            gitattributes = make_hosted_file(".gitattributes", data=_GITATTRIBUTES)
            repo.commits.append(
                self._new_commit(repo, {".gitattributes": gitattributes}, "initial commit", "", user.user, created)
            )
            repo.private = bool(payload.get("private")) or payload.get("visibility") == "private"
            self._repos[(repo_type, repo_id)] = repo
        return _json_reply({"url": url, "name": repo_id, "id": repo.object_id})

    def _validate_yaml(self, request: _Request) -> _Reply:
        """What the Hub says of a card's metadata before an upload: broken YAML, a non-mapping, or an unknown
        licence id is an error (400); no metadata at all is a warning."""
        from hftui.hub.cards.licenses import LICENSES

        try:
            content = str(json.loads(request.body or b"{}").get("content") or "")
        except (ValueError, AttributeError):
            return _error_reply(400, "Invalid JSON body")
        match = FRONT_MATTER_BLOCK.search(content.removeprefix("\ufeff"))
        if match is None or not match.group(2).strip():
            return _json_reply({"warnings": [{"message": "empty or missing yaml metadata in repo card"}]})
        try:
            data = yaml.safe_load(match.group(2))
        except yaml.YAMLError as error:
            problem = str(error).splitlines()[0]
            return _json_reply({"errors": [{"message": f"Invalid YAML in metadata: {problem}"}]}, 400)
        if not isinstance(data, dict):
            return _json_reply({"errors": [{"message": "metadata must be a YAML mapping"}]}, 400)
        licences = data.get("license")
        for licence in licences if isinstance(licences, list) else [licences] if licences is not None else []:
            if not isinstance(licence, str) or licence.lower() not in LICENSES:
                message = f'"license" must be one of the Hub\'s licence ids, not {licence!r}'
                return _json_reply({"errors": [{"message": message}]}, 400)
        return _json_reply({"warnings": []})

    def _preupload(self, request: _Request, repo: HostedRepo, revision: str) -> _Reply:
        commit = repo.commit_for(revision)
        if commit is None:
            return _error_reply(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        try:
            files = json.loads(request.body or b"{}")["files"]
            entries = [(str(entry["path"]), int(entry["size"])) for entry in files]
        except (ValueError, KeyError, TypeError):
            return _error_reply(400, "Invalid preupload payload")
        answers = []
        for path, size in entries:
            existing = commit.files.get(path)
            answers.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if _is_lfs_path(path, size) else "regular",
                    "shouldIgnore": False,
                    # What the client compares with its own hash to skip unchanged files.
                    "oid": existing.etag if existing is not None else None,
                }
            )
        return _json_reply({"files": answers, "commitOid": commit.sha})

    def _lfs_batch(self, request: _Request, segments: list[str], user: _Token | None) -> _Reply:
        repo_type: RepoType = "dataset" if segments[0] == "datasets" else "model"
        parts = segments[1:] if repo_type == "dataset" else segments
        repo_id = "/".join(parts).removesuffix(".git")
        repo = self.repo(repo_id, repo_type)
        if repo is None:
            return _error_reply(404, _REPO_NOT_FOUND, "RepoNotFound")
        denied = self._check_write(repo, user)
        if denied is not None:
            return denied
        try:
            payload = json.loads(request.body)
            wanted = [(str(item["oid"]), int(item["size"])) for item in payload["objects"]]
        except (ValueError, KeyError, TypeError):
            return _error_reply(400, "Invalid LFS batch payload")
        if payload.get("operation") != "upload":
            return _error_reply(400, "LocalHub's LFS batch endpoint only takes uploads")
        objects = []
        for oid, size in wanted:
            entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            with self._lock:
                present = oid in self._blobs or oid in self._uploaded
            if not _HEX64.match(oid):
                entry["error"] = {"code": 422, "message": f"Invalid oid {oid!r}"}
            elif not present:  # objects the Hub already holds get no actions: the client skips them
                entry["actions"] = {"upload": {"href": f"{self._url}/{_LFS_UPLOAD}/{oid}", "header": {}}}
            objects.append(entry)
        return _json_reply({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _receive_lfs_object(self, request: _Request, oid: str) -> _Reply:
        if request.method != "PUT":
            return _error_reply(405, "Method Not Allowed")
        if not _HEX64.match(oid) or hashlib.sha256(request.body).hexdigest() != oid:
            return _error_reply(400, "The uploaded content does not match its oid")
        with self._lock:
            self._uploaded[oid] = request.body
        return _Reply(200, [("ETag", f'"{oid}"')])

    def _commit(self, request: _Request, repo: HostedRepo, revision: str, user: _Token) -> _Reply:
        if request.param("create_pr") in ("1", "true"):
            return _error_reply(400, "LocalHub does not support pull requests")
        if revision != "main" and repo.commit_for(revision) is not repo.head:
            return _error_reply(400, f"LocalHub only commits to main, not {revision!r}")
        try:
            lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
        except ValueError:
            return _error_reply(400, "Invalid ndjson commit payload")
        header = next((line["value"] for line in lines if line.get("key") == "header"), None)
        if not isinstance(header, dict) or not str(header.get("summary") or "").strip():
            return _error_reply(400, "A commit needs a header with a summary")
        with self._lock:
            head = repo.head
            parent = header.get("parentCommit")
            if parent and parent != head.sha:
                return _error_reply(412, "A commit has happened since. Please refresh and try again.")
            files = dict(head.files)
            for line in lines:
                key, value = line.get("key"), line.get("value") or {}
                path = str(value.get("path", "")).strip("/")
                if key == "file":
                    try:
                        content = (
                            base64.b64decode(value["content"])
                            if value.get("encoding") == "base64"
                            else (str(value["content"]).encode("utf-8"))
                        )
                    except (KeyError, ValueError):
                        return _error_reply(400, f"Invalid content for {path}")
                    files[path] = make_hosted_file(path, data=content)
                elif key == "lfsFile":
                    oid = str(value.get("oid", ""))
                    data = self._uploaded.get(oid)
                    if data is None and oid in self._blobs:
                        data = self._blobs[oid].read()
                    if data is None:
                        return _error_reply(
                            422,
                            f"Your push was rejected because an LFS pointer ({path}) "
                            f"points to a file that does not exist ({oid}).",
                        )
                    files[path] = _lfs_file(path, data, oid)
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        return _error_reply(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    prefix = path + "/"
                    for name in [name for name in files if name.startswith(prefix)]:
                        del files[name]
            when = max(_as_utc(datetime.now(UTC)), repo.last_modified + timedelta(seconds=1))
            commit = self._new_commit(
                repo,
                dict(sorted(files.items())),
                str(header["summary"]),
                str(header.get("description") or ""),
                user.user,
                when,
            )
            repo.commits.append(commit)
            for hosted in files.values():
                if hosted.lfs_sha256 is not None:
                    self._blobs[hosted.lfs_sha256] = hosted
                    self._uploaded.pop(hosted.lfs_sha256, None)
        url = self._repo_url(repo.repo_type, repo.repo_id)
        return _json_reply(
            {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{url}/commit/{commit.sha}",
                "pullRequestUrl": None,
            }
        )

    def _route_cdn(self, request: _Request) -> _Reply:
        if request.method not in ("GET", "HEAD"):
            return _Reply(405, [("Content-Type", "text/plain")], b"Method Not Allowed")
        oid = next((s for s in request.segments if _HEX64.match(s)), None)
        with self._lock:
            hosted = self._blobs.get(oid) if oid else None
        signature = request.param("Signature")
        if hosted is None or oid is None or signature is None or not hmac.compare_digest(signature, self._sign(oid)):
            body = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>'
            return _Reply(403, [("Content-Type", "application/xml")], body)
        headers = [
            ("Content-Type", "binary/octet-stream"),
            ("ETag", f'"{oid}"'),
            ("Accept-Ranges", "bytes"),
            ("Content-Disposition", _content_disposition(hosted.path)),
            ("Cache-Control", "public, max-age=604800, immutable"),
        ]
        return _Reply(200, headers, file=hosted)


def _sibling(hosted: HostedFile, blobs: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rfilename": hosted.path}
    if blobs:
        entry["blobId"] = hosted.blob_id
        entry["size"] = hosted.size
        if hosted.lfs_sha256 is not None:
            entry["lfs"] = {
                "sha256": hosted.lfs_sha256,
                "size": hosted.size,
                "pointerSize": hosted.pointer_size,
            }
    return entry


def _matches_filter(repo: HostedRepo, value: str) -> bool:
    wanted = value.lower()
    if wanted in (tag.lower() for tag in repo.tags):
        return True
    for attribute in (repo.pipeline_tag_at(repo.head), repo.library_name_at(repo.head)):
        if attribute is not None and attribute.lower() == wanted:
            return True
    return False


def _sort_value(repo: HostedRepo, key: str) -> Any:
    if key == "id":
        return repo.repo_id.lower()
    if key == "lastModified":
        return repo.last_modified
    if key == "createdAt":
        return repo.created_at
    if key == "usedStorage":
        return repo.used_storage
    if key == "trendingScore":
        return repo.trending_score
    return getattr(repo, key)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = int(json.loads(raw)["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"invalid cursor {cursor!r}") from error
    if offset < 0:
        raise ValueError(f"invalid cursor {cursor!r}")
    return offset


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ----------------------------------------------------------------------------------------------------------
# Command line: python -m hftui.localhub.server --model ID=FOLDER --dataset ID=FOLDER
# ----------------------------------------------------------------------------------------------------------


def _split_spec(parser: argparse.ArgumentParser, spec: str) -> tuple[str, Path]:
    repo_id, sep, folder = spec.partition("=")
    if not sep or not repo_id or not folder:
        parser.error(f"expected ID=FOLDER, got {spec!r}")
    return repo_id, Path(folder).expanduser()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve folders as Hub repos until interrupted; prints the endpoint URL as the first stdout line."""
    parser = argparse.ArgumentParser(
        prog="python -m hftui.localhub.server",
        description="Serve local folders as Hugging Face Hub repos (point HF_ENDPOINT at the printed URL).",
    )
    parser.add_argument("--model", action="append", default=[], metavar="ID=FOLDER", help="host a model repo")
    parser.add_argument("--dataset", action="append", default=[], metavar="ID=FOLDER", help="host a dataset repo")
    parser.add_argument("--gated", action="append", default=[], metavar="ID", help="mark a hosted repo as gated")
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN[=USER]", help="accept a token")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--no-lfs-redirect", action="store_true", help="serve LFS files without the CDN redirect")
    args = parser.parse_args(argv)

    hub = LocalHub(page_size=args.page_size, lfs_redirect=not args.no_lfs_redirect, host=args.host, port=args.port)
    for spec in args.token:
        token, _, user = spec.partition("=")
        hub.add_token(token, user=user or "tester")
    for spec in args.model:
        repo_id, folder = _split_spec(parser, spec)
        hub.add_model(repo_id, folder, gated=repo_id in args.gated)
    for spec in args.dataset:
        repo_id, folder = _split_spec(parser, spec)
        hub.add_dataset(repo_id, folder, gated=repo_id in args.gated)
    url = hub.start()
    print(url, flush=True)
    print(
        f"LocalHub: {len(hub.repos)} repo(s); export HF_ENDPOINT={url}; Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
