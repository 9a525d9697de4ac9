"""Why a run ended, in the user's words: out of memory, a full disk, bad input, or another error, with what to
change; and where the worker was (its phase and step) when it happened.
"""

from __future__ import annotations

import errno
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from hftui.train.data import TrainingInputError
from hftui.train.spec import RunSpec, SpecError


@dataclass
class WorkerContext:
    """Where the worker is: the phase (for failure messages) and the last step seen."""

    phase: str = "starting"
    step: int | None = None
    notes: list[str] = field(default_factory=list)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_oom(error: BaseException) -> bool:
    for cause in _chain(error):
        if isinstance(cause, MemoryError) or type(cause).__name__ in ("OutOfMemoryError", "OutOfMemory"):
            return True
        text = str(cause).lower()
        if "out of memory" in text or "cuda error: out of memory" in text or "mps backend out of memory" in text:
            return True
    return False


def _is_disk_full(error: BaseException) -> bool:
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(cause)
        if "No space left on device" in text or "os error 28" in text or "code: 28" in text:
            return True
    return False


def _free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "unknown"
    from hftui.humanize import human_size

    return human_size(free)


def _saving_checkpoint(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    saving = ("_save_checkpoint", "_save", "save_model", "_save_optimizer_and_scheduler")
    return any(frame.name in saving for frame in frames)


def explain_failure(
    error: BaseException, *, spec: RunSpec | None, run_dir: Path, context: WorkerContext
) -> tuple[str, str]:
    """(reason, message) for an exception that ended the run: oom, disk_full, bad_input or error."""
    at = f" at step {context.step}" if context.step is not None else ""
    if isinstance(error, TrainingInputError):
        return error.kind, error.message
    if isinstance(error, SpecError):
        return "bad_input", f"spec.json: {error}"
    if _is_disk_full(error):
        where = "saving a checkpoint" if _saving_checkpoint(error) else context.phase
        return (
            "disk_full",
            f"the disk is full (while {where}{at}; {_free_space(run_dir)} free under {run_dir}): free some space "
            "or lower save_total_limit, then resume the run",
        )
    if _is_oom(error):
        advice = "lower batch_size or max_length, raise gradient_accumulation_steps, or use LoRA"
        if spec is not None:
            h = spec.hyperparameters
            advice = (
                f"lower batch_size (now {h.batch_size}) or max_length (now {h.max_length}), raise "
                f"gradient_accumulation_steps, use LoRA or bf16/fp16"
            )
        return "oom", f"out of memory while {context.phase}{at}: {advice}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return "error", f"{type(error).__name__} while {context.phase}{at}" + (f": {first}" if first else "")
