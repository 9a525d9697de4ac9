"""A local, Hugging Face Hub-compatible HTTP server that the real `huggingface_hub` client talks to.

It serves the subset of the Hub's REST API and file endpoints that `HfApi`, `hf_hub_download`,
`snapshot_download` and `HfFileSystem` use, with the same JSON shapes, headers and error codes, so that
tests exercise the genuine client over real HTTP and `hftui demo` can seed a genuine HF cache offline.

Large files and weights are served like Git LFS files on the Hub: `/resolve/` answers with a redirect to a
separate "CDN" origin (a second port), carrying `X-Linked-Etag` / `X-Linked-Size` / `X-Repo-Commit`.
No Xet headers are ever sent, so the client falls back to plain HTTP downloads.

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

__all__ = ["HostedCommit", "HostedFile", "HostedRepo", "LocalHub", "RecordedRequest", "parse_front_matter"]

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
# Same shape as huggingface_hub.repocard.REGEX_YAML_BLOCK, so both sides agree on what a card header is.
_FRONT_MATTER = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")
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
    """Hash one file the way the Hub does: git blob sha1, or an LFS pointer plus sha256 for weights/large files."""
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


def _collect_files(folder: Path | None, files: dict[str, bytes] | None) -> dict[str, HostedFile]:
    collected: dict[str, HostedFile] = {}
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise NotADirectoryError(f"not a folder: {folder}")
        for root, dirs, names in os.walk(folder):
            # git internals and huggingface_hub's local_dir bookkeeping are not repo content
            dirs[:] = sorted(d for d in dirs if d != ".git")
            rel_root = Path(root).relative_to(folder).as_posix()
            if rel_root == ".cache" or rel_root.startswith(".cache/huggingface"):
                dirs[:] = [d for d in dirs if not (rel_root == ".cache" and d == "huggingface")]
            for name in sorted(names):
                full = Path(root) / name
                if not full.is_file():
                    continue
                rel = full.relative_to(folder).as_posix()
                if rel.startswith(".cache/huggingface/"):
                    continue
                collected[rel] = make_hosted_file(rel, source=full)
    for raw_path, content in (files or {}).items():
        rel = raw_path.strip("/")
        payload = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        collected[rel] = make_hosted_file(rel, data=payload)
    return dict(sorted(collected.items()))


def parse_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """Split a card into its YAML metadata (None when absent or broken) and its Markdown body."""
    match = _FRONT_MATTER.search(text)
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
        self.object_id = hashlib.sha1(f"{repo_type}:{repo_id}".encode(), usedforsecurity=False).hexdigest()[:24]
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
        for key in ("task_categories", "task_ids", "annotations_creators", "language_creators",
                    "multilinguality", "source_datasets", "language"):  # fmt: skip
            tags.extend(f"{key}:{value}" for value in _str_list(card.get(key)))
        tags.extend(f"license:{lic}" for lic in _str_list(card.get("license")))
        sizes = _str_list(card.get("size_categories")) or _computed_size_category(commit)
        tags.extend(f"size_categories:{s}" for s in sizes)
        modalities, formats = _dataset_modalities_and_formats(commit)
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
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]  # fmt: skip
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
        keys = ("bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token",
                "chat_template")  # fmt: skip
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


def _error_reply(status: int, message: str, code: str | None = None,
                 headers: Iterable[tuple[str, str]] = ()) -> _Reply:  # fmt: skip
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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
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
