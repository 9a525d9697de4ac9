"""Downloading a repo into the HF cache with one progress for all files, cancellation and a size plan.

Downloads go through huggingface_hub's own `hf_hub_download`, one file at a time, so the cache is the
genuine one (blobs, snapshots, refs) that transformers and `hf cache` read. Byte progress is observed
through the `tqdm_class` hook the client feeds every chunk to; raising from that hook is how a download
is cancelled between chunks.

Resuming: huggingface_hub 2.x writes each file to a process-unique `.incomplete` file and deletes it when
the download fails or is cancelled, so a later run does not continue a half-written file. What carries over
is every finished file: a second run finds them in the cache and fetches only the rest. Within one run the
client resumes a dropped connection with an HTTP Range request.

Everything here blocks: call it from a worker thread. Errors are the client's own; explain them with
`hftui.hub.errors.explain_hub_error`.
"""

from __future__ import annotations

import errno
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.repo_files import describe_files

if TYPE_CHECKING:
    from huggingface_hub import HfApi

# Weight formats other than safetensors, skipped by default when a repo also has safetensors weights.
NON_SAFETENSORS_WEIGHT_PATTERNS: tuple[str, ...] = (
    "*.bin",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "*.pkl",
    "*.pickle",
    "*.joblib",
    "*.h5",
    "*.keras",
    "*.msgpack",
    "*.onnx",
    "*.onnx_data",
    "*.gguf",
    "*.tflite",
    "*.ot",
)
PROGRESS_INTERVAL_S = 0.1  # at most ten progress reports a second, plus the final one
_SPEED_WINDOW_S = 5.0  # speed is measured over the last few seconds, so it follows the network


@dataclass(frozen=True)
class DownloadPlan:
    """What a download will fetch: the files with their sizes, the total, and how much is already cached."""

    repo_id: str
    repo_type: str
    revision: str | None
    files: tuple[tuple[str, int], ...]  # (path, size)
    total_bytes: int
    allow_patterns: tuple[str, ...] | None
    ignore_patterns: tuple[str, ...] | None
    already_cached_bytes: int
    commit_hash: str | None = None  # the commit the sizes were read at
    skipped: tuple[str, ...] = ()  # repo files the patterns leave out

    @property
    def bytes_to_download(self) -> int:
        """Bytes still to fetch: the total less what the cache already holds."""
        return max(self.total_bytes - self.already_cached_bytes, 0)


@dataclass(frozen=True)
class DownloadProgress:
    """Progress over all files of one download."""

    bytes_done: int
    total_bytes: int
    current_file: str | None
    files_done: int
    files_total: int
    bytes_per_second: float | None
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        """Share of the bytes done, 0.0 to 1.0 (1.0 for an empty download)."""
        return min(self.bytes_done / self.total_bytes, 1.0) if self.total_bytes else 1.0


class DownloadCancelled(Exception):
    """The user cancelled a download; finished files stay in the cache."""


def default_patterns(siblings: Iterable[Any]) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """`(allow_patterns, ignore_patterns)` for a safe default: with safetensors, skip other weight formats.

    Configs, tokenizers and the card are kept; without safetensors nothing is skipped (callers warn).
    """
    files = describe_files(list(siblings))
    if not any(f.weight_format == "safetensors" for f in files):
        return None, None
    present = tuple(
        pattern
        for pattern in NON_SAFETENSORS_WEIGHT_PATTERNS
        if any(f.weight_format not in (None, "safetensors") and _matches(f.path, pattern) for f in files)
    )
    return None, present or None


def _matches(path: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(path, pattern)


def plan_download(
    api: HfApi,
    repo_id: str,
    *,
    repo_type: str = "model",
    revision: str | None = None,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    cache_dir: Path,
    prefer_safetensors: bool = False,
) -> DownloadPlan:
    """Which files a download will fetch, their total size, and how many of those bytes are cached.

    With `prefer_safetensors` and no patterns given, `default_patterns` picks them. Writes nothing.
    """
    # One request: repo_info(files_metadata=True) lists every file with its size and ETag, which names the
    # blob the client would write; snapshot_download(dry_run=True) would cost a HEAD request per file.
    from huggingface_hub.file_download import repo_folder_name
    from huggingface_hub.utils import filter_repo_objects

    info = api.repo_info(repo_id, repo_type=repo_type, revision=revision, files_metadata=True)
    # repo_info is typed to return kernels' info too, which has no file list; models and datasets have one.
    siblings = {sibling.rfilename: sibling for sibling in getattr(info, "siblings", None) or []}
    if prefer_safetensors and allow_patterns is None and ignore_patterns is None:
        allow_patterns, ignore_patterns = default_patterns(siblings.values())
    allow = tuple(allow_patterns) if allow_patterns is not None else None
    ignore = tuple(ignore_patterns) if ignore_patterns is not None else None
    selected = list(
        filter_repo_objects(
            sorted(siblings),
            allow_patterns=list(allow) if allow is not None else None,
            ignore_patterns=list(ignore) if ignore is not None else None,
        )
    )
    storage = Path(cache_dir) / repo_folder_name(repo_id=repo_id, repo_type=repo_type)
    files: list[tuple[str, int]] = []
    cached_bytes = 0
    for path in selected:
        sibling = siblings[path]
        lfs = sibling.lfs
        size = sibling.size if sibling.size is not None else (lfs.size if lfs is not None else 0)
        files.append((path, size))
        # The client names blobs by ETag: the LFS sha256 for LFS files, the git blob id otherwise.
        etag = lfs.sha256 if lfs is not None else sibling.blob_id
        in_snapshot = info.sha is not None and (storage / "snapshots" / info.sha / path).exists()
        if in_snapshot or (etag and (storage / "blobs" / etag).is_file()):
            cached_bytes += size
    selected_set = set(selected)
    return DownloadPlan(
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
        files=tuple(files),
        total_bytes=sum(size for _, size in files),
        allow_patterns=allow,
        ignore_patterns=ignore,
        already_cached_bytes=cached_bytes,
        commit_hash=info.sha,
        skipped=tuple(path for path in sorted(siblings) if path not in selected_set),
    )


def run_download(
    plan: DownloadPlan,
    *,
    endpoint: str,
    cache_dir: Path,
    on_progress: Callable[[DownloadProgress], object],
    is_cancelled: Callable[[], bool],
    token: str | bool | None = None,
    min_interval: float = PROGRESS_INTERVAL_S,
) -> Path:
    """Download the plan's files into the cache and return the snapshot folder.

    Reports at most every `min_interval` s plus once at the end; `is_cancelled` is polled between chunks.
    """
    # Resolving once records refs/<revision> as snapshot_download would, and pins every file to one commit
    # even if the branch moves meanwhile. Files go one by one so progress can name the current file.
    from huggingface_hub import hf_hub_download
    from huggingface_hub.file_download import repo_folder_name

    from hftui.hub.client import hub_api

    tracker = _ProgressTracker(plan, on_progress, is_cancelled, min_interval)
    tracker.check_cancelled()
    _check_free_space(Path(cache_dir), plan.bytes_to_download)
    api = hub_api(endpoint, token)
    revision = api.resolve_revision(
        plan.repo_id, repo_type=plan.repo_type, revision=plan.revision, cache_dir=cache_dir, token=token
    )
    progress_bar = tracker.progress_bar_class()
    for path, size in plan.files:
        tracker.start_file(path, size)
        hf_hub_download(
            plan.repo_id,
            path,
            repo_type=plan.repo_type,
            revision=revision,
            cache_dir=cache_dir,
            endpoint=endpoint,
            token=token,
            tqdm_class=progress_bar,
        )
        tracker.finish_file()
    tracker.finish()
    storage = Path(cache_dir) / repo_folder_name(repo_id=plan.repo_id, repo_type=plan.repo_type)
    return storage / "snapshots" / revision.resolved


def _check_free_space(cache_dir: Path, needed: int) -> None:
    """Refuse to start a download the disk cannot hold, rather than fail gigabytes in."""
    probe = cache_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:  # unknown free space: let the download find out
        return
    if needed > free:
        raise OSError(
            errno.ENOSPC,
            f"Not enough free disk space: the download needs {needed} bytes and {probe} has {free} free",
        )


class _ProgressTracker:
    """Adds the client's per-file byte counts into one progress, throttles reports and polls for cancel."""

    def __init__(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[DownloadProgress], object],
        is_cancelled: Callable[[], bool],
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = plan.total_bytes
        self.files_total = len(plan.files)
        self.on_progress = on_progress
        self.is_cancelled = is_cancelled
        self.min_interval = min_interval
        self.clock = clock
        self.completed_bytes = 0
        self.files_done = 0
        self.current: str | None = None
        self.current_size = 0
        self.file_bytes = 0
        self.transferred = 0
        self.reported = 0
        self.last_report: float | None = None
        self.samples: deque[tuple[float, int]] = deque()

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise DownloadCancelled("download cancelled")

    def start_file(self, path: str, size: int) -> None:
        self.check_cancelled()
        self.current, self.current_size, self.file_bytes = path, size, 0
        self.report()

    def file_total(self, total: int | None) -> None:
        # The plan's size can be missing or stale; the client's is what will arrive.
        if total is not None and total > self.current_size:
            self.total += total - self.current_size
            self.current_size = total

    def advance(self, n: float) -> None:
        amount = int(n)
        self.file_bytes += amount
        if amount > 0:
            self.transferred += amount
            self.samples.append((self.clock(), self.transferred))
        self.check_cancelled()
        self.report()

    def finish_file(self) -> None:
        self.completed_bytes += self.current_size
        self.files_done += 1
        self.current, self.current_size, self.file_bytes = None, 0, 0
        self.report()

    def finish(self) -> None:
        self.report(final=True)

    def report(self, *, final: bool = False) -> None:
        now = self.clock()
        if not final and self.last_report is not None and now - self.last_report < self.min_interval:
            return
        self.last_report = now
        done = self.completed_bytes + min(max(self.file_bytes, 0), self.current_size)
        # Never step back: a server that ignores a Range request makes the client count a file again.
        self.reported = self.total if final else min(max(self.reported, done), self.total)
        speed = self._speed(now)
        remaining = self.total - self.reported
        eta = 0.0 if final or remaining == 0 else (remaining / speed if speed else None)
        self.on_progress(
            DownloadProgress(
                bytes_done=self.reported,
                total_bytes=self.total,
                current_file=None if final else self.current,
                files_done=self.files_total if final else self.files_done,
                files_total=self.files_total,
                bytes_per_second=speed,
                eta_seconds=eta,
            )
        )

    def _speed(self, now: float) -> float | None:
        while len(self.samples) > 1 and now - self.samples[0][0] > _SPEED_WINDOW_S:
            self.samples.popleft()
        if len(self.samples) < 2:
            return None
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else None

    def progress_bar_class(self) -> type:
        """A tqdm stand-in for `hf_hub_download(tqdm_class=...)` that feeds this tracker."""
        tracker = self

        class _FileProgress:
            # The client creates one per file (HTTP: total and initial; Xet: a reconstruction bar that also
            # receives transfer counts through update_transfer) and calls update(n) per chunk written.
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self.total = kwargs.get("total")
                self.n = 0
                tracker.file_total(self.total)
                initial = kwargs.get("initial") or 0
                if initial:
                    self.update(initial)

            def update(self, n: float | None = 1) -> None:
                self.n += int(n or 0)
                tracker.advance(n or 0)

            def update_transfer(self, n: float | None = 1) -> None:
                pass  # network bytes; progress counts bytes written, which update() reports

            def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
                pass

            def set_transfer_postfix_str(self, *args: Any, **kwargs: Any) -> None:
                pass

            def set_description(self, *args: Any, **kwargs: Any) -> None:
                pass

            def set_description_str(self, *args: Any, **kwargs: Any) -> None:
                pass

            def refresh(self, *args: Any, **kwargs: Any) -> None:
                pass

            def close(self) -> None:
                pass

            def __enter__(self) -> _FileProgress:
                return self

            def __exit__(self, *exc_info: object) -> None:
                pass

        return _FileProgress
