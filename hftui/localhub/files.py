"""The files of hosted repos: their content, the hashes the Hub derives from it, and which files go to LFS."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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
GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in LFS_PATTERNS).encode()
CHUNK_SIZE = 1024 * 1024  # how much of a file is read or sent at a time
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_sha256(value: str) -> bool:
    """Whether `value` is a lower-case sha256 hex digest, the form of every LFS object id."""
    return _SHA256.match(value) is not None


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


def is_lfs_path(path: str, size: int) -> bool:
    """Whether the Hub keeps a file of this name and size in LFS (by the default .gitattributes, or its size)."""
    name = path.rsplit("/", 1)[-1].lower()
    return size > LFS_SIZE_THRESHOLD or any(fnmatch.fnmatchcase(name, pattern) for pattern in LFS_PATTERNS)


def _iter_chunks(data: bytes | None, source: Path | None) -> Iterator[bytes]:
    if data is not None:
        yield data
        return
    assert source is not None
    with source.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def _lfs_pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def make_hosted_file(path: str, *, data: bytes | None = None, source: Path | None = None) -> HostedFile:
    """Hash a file as the Hub does: git blob sha1, or an LFS pointer plus sha256 for weights and big files."""
    size = len(data) if data is not None else (source.stat().st_size if source is not None else 0)
    if is_lfs_path(path, size):
        digest = hashlib.sha256()
        for chunk in _iter_chunks(data, source):
            digest.update(chunk)
        oid = digest.hexdigest()
        pointer = _lfs_pointer(oid, size)
        return HostedFile(path, size, _git_blob_sha(pointer), oid, len(pointer), data, source)
    blob = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    for chunk in _iter_chunks(data, source):
        blob.update(chunk)
    return HostedFile(path, size, blob.hexdigest(), None, None, data, source)


def lfs_file(path: str, data: bytes, oid: str) -> HostedFile:
    """A file committed as an LFS pointer to an uploaded object, whatever its name or size."""
    pointer = _lfs_pointer(oid, len(data))
    return HostedFile(path, len(data), _git_blob_sha(pointer), oid, len(pointer), data)


def collect_files(folder: Path | None, files: dict[str, bytes] | None) -> dict[str, HostedFile]:
    """The files of a folder on disk plus in-memory ones (which win), hashed and sorted by path."""
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
