"""Publishing a local folder (a training run's model, a converted dataset) to the Hub as one commit, with one
aggregate progress figure, cancellation, and every refusal explained before anything is sent.

`plan_publish` decides what goes (huggingface_hub's own include/exclude pattern rules, checkpoints and
optimizer states left out by default) and what is wrong with it; `publish` checks the token can write to the
namespace, creates the repo (`HfApi.create_repo`, `exist_ok`), and sends one `create_commit`. Each file goes as
a `CommitOperationAdd` over a `_MeteredFile`, which is how progress and cancellation reach into the upload:
huggingface_hub reads every byte it sends through it. The Hub's pre-upload answer lets the client skip files
that have not changed, so a re-upload sends only what differs; the commit is the last request, so a failure
or cancellation before it changes nothing on the Hub (LFS objects already sent are kept there and are not
sent again next time).
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from hftui.hub.account import fetch_whoami
from hftui.hub.cards.check import CardProblem, check_card
from hftui.hub.cards.draft import CARD_FILE

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo, HfApi

# Left out unless the user asks: resumable training state is large and useless to someone using the model.
# Patterns are fnmatch's, as upload_folder applies them: "*" also matches "/", so "*/name" is "name" at any depth.
_STATE_FILES = ("optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt", "rng_state*.pth")
CHECKPOINT_PATTERNS = ("checkpoint-*", "*/checkpoint-*", *_STATE_FILES, *(f"*/{name}" for name in _STATE_FILES))
ALWAYS_EXCLUDED = (".git/*", "*/.git/*", ".cache/*", "*/__pycache__/*", "*.tmp", "*.DS_Store")
HUB_MAX_FILE_BYTES = 50 * 1000**3  # the Hub refuses larger files
HUB_RECOMMENDED_FILE_BYTES = 20 * 1000**3
PROGRESS_INTERVAL_S = 0.1
PHASES = ("checking", "creating", "hashing", "uploading", "committing", "done")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PublishRefused(Exception):
    """The publish cannot go ahead; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PublishCancelled(Exception):
    """The user cancelled; nothing was committed."""


@dataclass(frozen=True)
class PlannedFile:
    """One file that will be sent: its path in the repo and its size."""

    path: str
    size: int


@dataclass(frozen=True)
class PublishPlan:
    """What a publish will send and what stands in its way (`problems` stop it, `warnings` do not)."""

    folder: Path
    repo_id: str
    repo_type: str
    private: bool
    files: tuple[PlannedFile, ...]
    excluded: tuple[str, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the plan can be published."""
        return not self.problems

    @property
    def total_bytes(self) -> int:
        """The bytes of every planned file."""
        return sum(planned.size for planned in self.files)

    @property
    def namespace(self) -> str | None:
        """The user or organisation the repo id names, if it names one."""
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else None


@dataclass(frozen=True)
class PublishProgress:
    """Where a publish stands: its phase, the bytes done of the total, speed, time left and the file read last."""

    phase: str
    done_bytes: int = 0
    total_bytes: int = 0
    bytes_per_s: float = 0.0
    eta_s: float | None = None
    current_file: str | None = None


@dataclass(frozen=True)
class PublishResult:
    """The repo's URL and the commit that was made (or the current one, when nothing had changed)."""

    repo_url: str
    commit_oid: str
    commit_url: str
    # False when every file already matched the Hub's copy: the client then makes no commit at all.
    changed: bool


@dataclass
class _Meter:
    """Bytes read through every `_MeteredFile` of one publish, reported at most every PROGRESS_INTERVAL_S."""

    total: int
    on_progress: Callable[[PublishProgress], object]
    cancelled: Callable[[], bool]
    phase: str = "hashing"
    started: float = field(default_factory=time.monotonic)
    last_report: float = 0.0
    current: str | None = None
    read_by_file: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, phase: str) -> None:
        with self.lock:
            self.phase, self.started, self.last_report = phase, time.monotonic(), 0.0
            self.read_by_file.clear()
        self.report(force=True)

    def advance(self, path: str, position: int) -> None:
        if self.cancelled():
            raise PublishCancelled()
        with self.lock:
            # A file may be read more than once (its hash, then the upload): count how far it got, not the sum.
            self.read_by_file[path] = max(self.read_by_file.get(path, 0), position)
            self.current = path
        self.report()

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            if not force and now - self.last_report < PROGRESS_INTERVAL_S:
                return
            self.last_report = now
            done = min(self.total, sum(self.read_by_file.values()))
            elapsed = max(now - self.started, 1e-6)
            speed = done / elapsed if done else 0.0
            eta = (self.total - done) / speed if speed > 0 else None
            progress = PublishProgress(self.phase, done, self.total, speed, eta, self.current)
        self.on_progress(progress)


class _MeteredFile(io.BufferedIOBase):
    """A file huggingface_hub reads as a binary stream, opened only while it is being read (a folder of
    thousands of files must not hold thousands of descriptors), telling the meter how far it got."""

    def __init__(self, source: Path, path_in_repo: str, meter: _Meter) -> None:
        super().__init__()
        self._source = source
        self._path = path_in_repo
        self._meter = meter
        self._handle: io.BufferedReader | None = None
        self._position = 0

    def _open(self) -> io.BufferedReader:
        if self._handle is None:
            self._handle = self._source.open("rb")
            self._handle.seek(self._position)
        return self._handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._open().read(-1 if size is None else size)
        self._position += len(data)
        self._meter.advance(self._path, self._position)
        if not data and self._handle is not None:  # at the end: let the descriptor go until the next read
            self._handle.close()
            self._handle = None
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._position = offset
        elif whence == io.SEEK_CUR:
            self._position += offset
        else:
            self._position = self._source.stat().st_size + offset
        if self._handle is not None:
            self._handle.seek(self._position)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        super().close()


def _validate_repo_id(repo_id: str) -> str | None:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if repo_id.count("/") != 1:
        return f'"{repo_id}" is not a repo id: write it as namespace/name, e.g. "your-name/my-model".'
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        return f'"{repo_id}" is not a valid repo id: {str(error).splitlines()[0]}'
    return None


def plan_publish(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    repo_type: str = "model",
    private: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_checkpoints: bool = False,
) -> PublishPlan:
    """What publishing `folder` as `repo_id` would send, with the problems that stop it and warnings that don't.

    `include`/`exclude` are glob patterns as `upload_folder` takes them (huggingface_hub's `filter_repo_objects`).
    """
    from huggingface_hub.utils import filter_repo_objects

    root = Path(folder).expanduser()
    repo_id = repo_id.strip()
    problems: list[str] = []
    warnings: list[str] = []
    if (message := _validate_repo_id(repo_id)) is not None:
        problems.append(message)
    if repo_type not in ("model", "dataset"):
        problems.append(f"hftui publishes models and datasets, not {repo_type!r}.")
    if not root.is_dir():
        problems.append(f"{root} is not a folder.")
        return PublishPlan(
            root, repo_id, repo_type, private, (), (), tuple(include), tuple(exclude), (), tuple(problems)
        )
    found = sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())
    ignored = [*ALWAYS_EXCLUDED, *(() if include_checkpoints else CHECKPOINT_PATTERNS), *exclude]
    chosen = list(filter_repo_objects(found, allow_patterns=list(include) or None, ignore_patterns=ignored))
    excluded = tuple(path for path in found if path not in set(chosen))
    files = tuple(PlannedFile(path, (root / path).stat().st_size) for path in chosen)
    if not files:
        problems.append(f"Nothing to publish in {root}: no files{' after the exclusions' if found else ''}.")
    for planned in files:
        if planned.size > HUB_MAX_FILE_BYTES:
            problems.append(
                f"{planned.path} is {planned.size / 1000**3:.1f} GB; the Hub refuses files over 50 GB. "
                "Save the weights in shards (save_pretrained(max_shard_size=...))."
            )
        elif planned.size > HUB_RECOMMENDED_FILE_BYTES:
            warnings.append(
                f"{planned.path} is {planned.size / 1000**3:.1f} GB; the Hub recommends files under 20 GB "
                "(sharded weights download and resume better)."
            )
    if files and "README.md" not in {planned.path for planned in files}:
        warnings.append("There is no README.md: the repo will have no card (write one with the card editor).")
    if any(planned.path.endswith((".bin", ".pt", ".pth", ".ckpt", ".pkl")) for planned in files):
        warnings.append("Some files are pickle weights, which can run code when loaded; safetensors is safer.")
    return PublishPlan(
        root,
        repo_id,
        repo_type,
        private,
        files,
        excluded,
        tuple(include),
        tuple(exclude),
        tuple(warnings),
        tuple(problems),
    )


@dataclass(frozen=True)
class PublishRequest:
    """What a publish is asked for: everything `plan_publish` takes besides the folder, and the commit message."""

    repo_id: str
    repo_type: str
    private: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    include_checkpoints: bool
    message: str

    def plan(self, folder: str | os.PathLike[str]) -> PublishPlan:
        """What this request would send from `folder`."""
        return plan_publish(
            folder,
            self.repo_id,
            repo_type=self.repo_type,
            private=self.private,
            include=self.include,
            exclude=self.exclude,
            include_checkpoints=self.include_checkpoints,
        )


def planned_card_problems(plan: PublishPlan) -> tuple[CardProblem, ...] | None:
    """The problems of the card the plan sends, checked as its repo type's card; None when it sends no card."""
    readme = plan.folder / CARD_FILE
    if not any(planned.path == CARD_FILE for planned in plan.files) or not readme.is_file():
        return None
    return check_card(readme.read_text(encoding="utf-8", errors="replace"), dataset=plan.repo_type == "dataset")


def split_patterns(text: str) -> tuple[str, ...]:
    """Glob patterns typed comma- or space-separated."""
    return tuple(part for part in re.split(r"[,\s]+", text) if part)


def default_repo_name(folder: Path) -> str:
    """A repo name from a folder name (characters the Hub refuses become dashes)."""
    return _NAME_UNSAFE.sub("-", folder.name).strip("-.") or "my-model"


def check_write_access(api: HfApi, plan: PublishPlan) -> None:
    """Refuse early, with the reason, when the api's token cannot write to the plan's namespace."""
    if not api.token and not _ambient_token():
        raise PublishRefused("No Hub token: log in on the Account screen (or run `hf auth login`) first.")
    who = fetch_whoami(api)
    namespace = plan.namespace or who.user
    if who.read_only:
        raise PublishRefused(
            f'The token "{who.token_name or "in use"}" is read-only: create a write token in your Hub settings '
            "and log in with it."
        )
    if not who.can_write(namespace):
        choices = (
            ", ".join([who.user, *who.orgs]) if who.writable_namespaces is None else ", ".join(who.writable_namespaces)
        )
        raise PublishRefused(
            f'{who.user} cannot write under "{namespace}" with this token; it can write under: {choices or "nothing"}.'
        )


def _ambient_token() -> str | None:
    from huggingface_hub import get_token

    return get_token()


def publish(
    plan: PublishPlan,
    *,
    api: HfApi,
    commit_message: str = "Upload with hftui",
    commit_description: str = "",
    on_progress: Callable[[PublishProgress], object] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> PublishResult:
    """Publish `plan` as one commit; raises PublishRefused (with the reason), PublishCancelled, or the Hub's
    error (callers explain it with `explain_hub_error`)."""
    from huggingface_hub import CommitOperationAdd

    if not plan.ok:
        raise PublishRefused(" ".join(plan.problems))
    report = on_progress or (lambda progress: None)
    report(PublishProgress("checking", 0, plan.total_bytes))
    check_write_access(api, plan)
    if cancelled():
        raise PublishCancelled()
    report(PublishProgress("creating", 0, plan.total_bytes))
    repo_url = api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private, exist_ok=True)
    meter = _Meter(plan.total_bytes, report, cancelled)
    meter.start("hashing")
    # typing.BinaryIO, which huggingface_hub asks for, is a class of its own in the stubs that io's streams are
    # not declared to be; a BufferedIOBase is the binary stream it reads.
    operations = [
        CommitOperationAdd(planned.path, cast(BinaryIO, _MeteredFile(plan.folder / planned.path, planned.path, meter)))
        for planned in plan.files
    ]
    meter.start("uploading")
    before = _head(api, plan)
    try:
        with _quiet_xet_fallback():
            info: CommitInfo = api.create_commit(
                plan.repo_id,
                operations,
                commit_message=commit_message,
                commit_description=commit_description,
                repo_type=plan.repo_type,
            )
    except Exception as error:
        if cancelled() or isinstance(error, PublishCancelled) or _caused_by_cancel(error):
            raise PublishCancelled() from error
        raise
    finally:
        for operation in operations:
            operation.path_or_fileobj.close()  # type: ignore[union-attr]
    report(PublishProgress("done", plan.total_bytes, plan.total_bytes))
    changed = info.oid != before
    return PublishResult(str(repo_url), info.oid, info.commit_url, changed)


def _head(api: HfApi, plan: PublishPlan) -> str | None:
    try:
        return api.repo_info(plan.repo_id, repo_type=plan.repo_type).sha
    except Exception:  # a repo just created may not answer yet; "changed" then stays True
        return None


def _caused_by_cancel(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, PublishCancelled):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _quiet_xet_fallback:
    """huggingface_hub warns that streams go over HTTP instead of Xet; here that is the intended path (it is
    what gives progress and cancellation), so the warning is not the user's business."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("huggingface_hub._commit_api")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)
