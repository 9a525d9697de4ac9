"""The course's LoRA comparison: full fine-tuning versus LoRA for one base model, measured by a short run of each.

For a base model and a small dataset (a generated one when none is given), each variant trains a few steps
with the same batch size, sequence length (every batch padded to `max_length`, so both see the same shapes),
optimizer (AdamW over the trainable parameters) and seed, and reports its trainable and total parameters, its
peak memory, its median step time and what it would save (the LoRA adapter's files, measured; the full
model's weights, computed).

Each variant runs in a fresh process (`python -m hftui.train.lora_measure --variant full ...`, one JSON object
per line on stdout), so one variant's memory never hides the other's peak. Peak memory is, on CUDA,
`torch.cuda.max_memory_allocated()` after `reset_peak_memory_stats()` (model, gradients, optimizer state and
activations); on a CPU, the process's resident-memory high-water mark (`getrusage` `ru_maxrss`, kept by the
kernel, so no short peak is missed between samples) minus its resident memory just before the model was loaded.
`compare_lora` runs the two, reports progress through a callback, and can be cancelled (the child is killed).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import selectors
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

VARIANTS = ("full", "lora")
CPU_METHOD = "cpu: peak resident memory (getrusage ru_maxrss) minus resident memory before the model was loaded"
CUDA_METHOD = "cuda: torch.cuda.max_memory_allocated() after reset_peak_memory_stats(), weights included"
_WORDS = {
    "pos": "good great love amazing wonderful excellent happy fun fine nice".split(),
    "neg": "bad awful hate terrible boring poor sad ugly dull worse".split(),
}


class LoraCompareError(RuntimeError):
    """A variant could not be measured (bad model or dataset, out of memory, ...); the message says why."""


class LoraCompareCancelled(RuntimeError):
    """The comparison was cancelled before it ended."""


@dataclass(frozen=True)
class CompareSettings:
    """What to compare: base model, dataset (None: generated rows), and the short run both variants make."""

    base_model: str
    dataset: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    steps: int = 4
    batch_size: int = 8
    max_length: int = 128
    learning_rate: float = 1e-4
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] | None = None
    device: str = "auto"  # auto (CUDA when there is one), cpu or cuda
    seed: int = 42

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON object (what the measuring process is given)."""
        data = asdict(self)
        data["target_modules"] = list(self.target_modules) if self.target_modules else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompareSettings:
        """Settings from `to_json`'s object (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if values.get("target_modules"):
            values["target_modules"] = tuple(values["target_modules"])
        return cls(**values)


@dataclass(frozen=True)
class CompareProgress:
    """Where the comparison is: the variant, its stage (starting, loading, training, saving, done) and step."""

    variant: str
    stage: str
    step: int = 0
    steps: int = 0
    message: str = ""


@dataclass(frozen=True)
class VariantResult:
    """What one variant measured."""

    variant: str
    trainable_params: int
    total_params: int
    peak_memory_bytes: int
    weights_memory_bytes: int
    step_time_s: float
    steps: int
    saved_bytes: int
    saved_measured: bool  # True: files written and measured (the adapter); False: computed from the weights
    final_loss: float | None = None
    target_modules: tuple[str, ...] = ()
    device: str = "cpu"
    memory_method: str = CPU_METHOD

    @property
    def trainable_percent(self) -> float:
        """Trainable parameters as a percentage of all."""
        return 100.0 * self.trainable_params / self.total_params if self.total_params else 0.0

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        data["trainable_percent"] = round(self.trainable_percent, 4)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantResult:
        """A result from `to_json`'s object."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["target_modules"] = tuple(values.get("target_modules") or ())
        return cls(**values)


@dataclass(frozen=True)
class LoraComparison:
    """Full fine-tuning and LoRA side by side, with how they were measured."""

    settings: CompareSettings
    full: VariantResult
    lora: VariantResult
    dataset: str
    generated_dataset: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def memory_method(self) -> str:
        """How peak memory was measured (the same for both variants)."""
        return self.full.memory_method

    @property
    def memory_saved_percent(self) -> float:
        """How much less peak memory LoRA needed, in percent of full fine-tuning's."""
        full = self.full.peak_memory_bytes
        return 100.0 * (full - self.lora.peak_memory_bytes) / full if full > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The whole comparison as a JSON object (`hftui train compare-lora --json`)."""
        return {
            "settings": self.settings.to_json(),
            "dataset": self.dataset,
            "generated_dataset": self.generated_dataset,
            "memory_method": self.memory_method,
            "full": self.full.to_json(),
            "lora": self.lora.to_json(),
            "notes": list(self.notes),
        }

    def rows(self) -> list[tuple[str, str, str]]:
        """(measure, full, LoRA) rows of the table the screen and the command line show."""
        full, lora = self.full, self.lora
        return [
            ("trainable parameters", f"{full.trainable_params:,}", f"{lora.trainable_params:,}"),
            ("total parameters", f"{full.total_params:,}", f"{lora.total_params:,}"),
            ("% trainable", f"{full.trainable_percent:.2f}%", f"{lora.trainable_percent:.2f}%"),
            ("peak memory", format_bytes(full.peak_memory_bytes), format_bytes(lora.peak_memory_bytes)),
            ("step time", f"{full.step_time_s * 1000:.0f} ms", f"{lora.step_time_s * 1000:.0f} ms"),
            (
                "saved size",
                format_bytes(full.saved_bytes) + ("" if full.saved_measured else " (weights)"),
                format_bytes(lora.saved_bytes) + (" (adapter)" if lora.saved_measured else ""),
            ),
            ("final loss", _loss(full.final_loss), _loss(lora.final_loss)),
        ]

    def summary(self) -> str:
        """One line: how many parameters and how much memory LoRA saves."""
        ratio = self.full.trainable_params / self.lora.trainable_params if self.lora.trainable_params else 0
        saved = self.memory_saved_percent
        # A tiny model's peak is mostly the runtime's own working memory, so LoRA's wrappers can cost more.
        memory = f"{saved:.0f}% less" if saved >= 0 else f"{-saved:.0f}% more"
        return (
            f"LoRA trains {self.lora.trainable_percent:.2f}% of the parameters ({ratio:,.0f}x fewer) and needed "
            f"{memory} peak memory on {self.full.device}"
        )


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_bytes(count: int | float) -> str:
    """Bytes in the binary unit that reads best (512 B, 3.4 MiB, 1.2 GiB)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def generated_rows(n: int = 64, seed: int = 0) -> list[dict[str, str]]:
    """n rows of short text with a pos/neg label, for a comparison given no dataset."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        rows.append({"text": " ".join(rng.choice(_WORDS[label]) for _ in range(12)), "label": label})
    return rows


def write_generated_dataset(folder: Path) -> Path:
    """Write the generated rows as a CSV in `folder` and return its path."""
    import csv

    path = Path(folder) / "generated-reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["text", "label"])
        writer.writeheader()
        writer.writerows(generated_rows())
    return path


# --- the two variants, each in its own process ----------------------------------------------------------------


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(timeout=10)


def _run_child(
    settings: CompareSettings,
    variant: str,
    dataset: str,
    progress: Callable[[CompareProgress], object] | None,
    cancelled: Callable[[], bool],
    python: str,
) -> VariantResult:
    argv = [python, "-m", "hftui.train.lora_measure", "--variant", variant, "--dataset-path", dataset]
    argv += ["--settings", json.dumps(settings.to_json())]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
        assert process.stdout is not None
        result: VariantResult | None = None
        failure: str | None = None
        buffer = b""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                done = False
                while not done:
                    if cancelled():
                        raise LoraCompareCancelled(f"cancelled while measuring {variant}")
                    if not selector.select(timeout=0.1):
                        continue
                    chunk = os.read(process.stdout.fileno(), 65536)
                    if not chunk:
                        done = True
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        try:
                            message = json.loads(line)
                        except ValueError:
                            continue
                        if not isinstance(message, dict):
                            continue
                        if "progress" in message and progress is not None:
                            progress(CompareProgress(**message["progress"]))
                        elif "result" in message:
                            result = VariantResult.from_json(message["result"])
                        elif "error" in message:
                            failure = str(message["error"])
            process.wait()
        except BaseException:
            _kill(process)
            raise
        if result is not None:
            return result
        errors.seek(0)
        tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        if failure is None:
            failure = f"the measuring process ended with status {process.returncode}"
            if process.returncode in (-signal.SIGKILL, 137):
                failure += " (killed: out of memory?)"
            if tail:
                failure += ": " + " | ".join(tail)
        raise LoraCompareError(f"{variant}: {failure}")


def compare_lora(
    settings: CompareSettings,
    *,
    progress: Callable[[CompareProgress], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
    python: str | None = None,
) -> LoraComparison:
    """Measure full fine-tuning, then LoRA, each in a fresh process; raises LoraCompareError or Cancelled."""
    is_cancelled = cancelled or (lambda: False)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hftui-lora-compare-") as folder:
        if settings.dataset:
            dataset, generated = settings.dataset, False
            settings_used = settings
        else:
            dataset, generated = str(write_generated_dataset(Path(folder))), True
            settings_used = CompareSettings.from_json(
                {**settings.to_json(), "text_column": "text", "label_column": "label"}
            )
            notes.append("no dataset given: 64 generated short reviews (pos/neg), padded to max_length")
        results = {}
        for variant in VARIANTS:
            if is_cancelled():
                raise LoraCompareCancelled("cancelled")
            if progress is not None:
                progress(CompareProgress(variant, "starting", 0, settings.steps, "starting the measuring process"))
            results[variant] = _run_child(
                settings_used, variant, dataset, progress, is_cancelled, python or sys.executable
            )
    return LoraComparison(
        settings=settings,
        full=results["full"],
        lora=results["lora"],
        dataset="generated reviews" if generated else dataset,
        generated_dataset=generated,
        notes=tuple(notes),
    )
