"""The course's LoRA comparison: full fine-tuning versus LoRA for one base model, measured by a short run of each.

For a base model and a small dataset (a generated one when none is given), each variant trains a few steps
with the same batch size, sequence length (every batch padded to `max_length`, so both see the same shapes),
optimizer (AdamW over the trainable parameters) and seed, and reports its trainable and total parameters, its
peak memory, its median step time and what it would save (the LoRA adapter's files, measured; the full
model's weights, computed).

Each variant runs in a fresh process (`python -m hftui.train.lora_compare --variant full ...`, one JSON object
per line on stdout), so one variant's memory never hides the other's peak. Peak memory is, on CUDA,
`torch.cuda.max_memory_allocated()` after `reset_peak_memory_stats()` (model, gradients, optimizer state and
activations); on a CPU, the process's resident-memory high-water mark (`getrusage` `ru_maxrss`, kept by the
kernel, so no short peak is missed between samples) minus its resident memory just before the model was loaded.
`compare_lora` runs the two, reports progress through a callback, and can be cancelled (the child is killed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

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


# --- one variant, in the measuring process ------------------------------------------------------------------


def _rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux says KiB, macOS bytes


def _warm_up(torch: Any, device: Any, model_path: str) -> None:
    """Import what loading needs and take one tiny step first, so one-time set-up is not counted as memory.

    Both variants import PEFT (only LoRA uses it) and the model's modelling code, and run the runtime's
    thread pools and kernels once, before the baseline is read.
    """
    import peft  # noqa: F401
    from transformers import AutoConfig, AutoModelForSequenceClassification

    with contextlib.suppress(Exception):
        config = AutoConfig.from_pretrained(model_path)
        AutoModelForSequenceClassification._model_mapping[type(config)]  # imports the modelling module
    layer = torch.nn.Linear(8, 2).to(device)
    optimizer = torch.optim.AdamW(layer.parameters())
    layer(torch.ones(4, 8, device=device)).sum().backward()
    optimizer.step()
    del layer, optimizer


def _spec(settings: CompareSettings, dataset: str, lora: bool) -> Any:
    from hftui.train.spec import DatasetRef, Hyperparameters, LoraSettings, RunSpec

    folder = Path(dataset).expanduser()
    kind: Literal["local", "hub"] = "local" if folder.exists() else "hub"
    return RunSpec(
        base_model=settings.base_model,
        dataset=DatasetRef(
            str(folder) if kind == "local" else dataset,
            kind=kind,
            text_column=settings.text_column,
            label_column=settings.label_column,
            eval_fraction=0.0,
        ),
        hyperparameters=Hyperparameters(
            max_steps=settings.steps,
            batch_size=settings.batch_size,
            max_length=settings.max_length,
            learning_rate=settings.learning_rate,
            seed=settings.seed,
            precision="fp32",
        ),
        lora=LoraSettings(
            r=settings.lora_r,
            alpha=settings.lora_alpha,
            dropout=settings.lora_dropout,
            target_modules=settings.target_modules,
        )
        if lora
        else None,
    )


def measure_variant(
    settings: CompareSettings,
    variant: str,
    dataset: str,
    progress: Callable[[CompareProgress], None] | None = None,
    context: Any = None,
) -> VariantResult:
    """Train `variant` (full or lora) for `settings.steps` steps in this process and measure it.

    Meant for a fresh process (compare_lora starts one per variant): the CPU peak is the process's own.
    """
    import torch

    from hftui.train.data import load_rows, tokenize
    from hftui.train.failures import WorkerContext
    from hftui.train.runs import folder_size
    from hftui.train.trainer import add_lora, count_parameters, load_model, model_path

    context = context if context is not None else WorkerContext()

    def say(stage: str, step: int = 0, message: str = "") -> None:
        context.phase = {"loading": "loading", "training": "training", "saving": "saving the adapter"}.get(stage, stage)
        if step:
            context.step = step
        if progress is not None:
            progress(CompareProgress(variant, stage, step, settings.steps, message))

    if variant not in VARIANTS:
        raise LoraCompareError(f"unknown variant {variant!r}: full or lora")
    cuda = settings.device == "cuda" or (settings.device == "auto" and torch.cuda.is_available())
    if cuda and not torch.cuda.is_available():
        raise LoraCompareError("device cuda was asked for, but torch sees no CUDA GPU")
    device = torch.device("cuda" if cuda else "cpu")
    spec = _spec(settings, dataset, variant == "lora")
    say("loading", message="reading the dataset")
    train, _, mapping = load_rows(spec, context.notes)
    say("loading", message=f"loading {settings.base_model}")
    _warm_up(torch, device, model_path(spec))
    torch.manual_seed(settings.seed)
    if cuda:
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats()
        baseline = torch.cuda.memory_allocated()
    else:
        baseline = _rss_bytes()
    model, tokenizer = load_model(spec, mapping)
    targets: tuple[str, ...] = ()
    if variant == "lora":
        model, targets = add_lora(spec, model)
    model.to(device)
    weights = (torch.cuda.memory_allocated() if cuda else _rss_bytes()) - baseline
    trainable, total = count_parameters(model)

    rows = tokenize(spec, tokenizer, train)
    n = len(rows)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.learning_rate)
    model.train()
    times: list[float] = []
    loss_value: float | None = None
    for step in range(settings.steps):
        start = (step * settings.batch_size) % n
        batch_rows = [rows[(start + i) % n] for i in range(settings.batch_size)]
        # Every batch padded to max_length: both variants see the very same shapes.
        batch = tokenizer.pad(
            [{k: v for k, v in row.items() if k != "labels"} for row in batch_rows],
            padding="max_length",
            max_length=settings.max_length,
            return_tensors="pt",
        )
        batch = {key: value.to(device) for key, value in batch.items()}
        labels = torch.tensor([int(row["labels"]) for row in batch_rows], device=device)
        began = time.perf_counter()
        output = model(**batch, labels=labels)
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
        loss_value = float(output.loss.detach().cpu())
        say("training", step + 1)
    peak = torch.cuda.max_memory_allocated() if cuda else _peak_rss_bytes() - baseline
    # The first step pays for lazy initialisation (optimizer state, kernels): the median leaves it out.
    step_time = statistics.median(times[1:] if len(times) > 1 else times) if times else 0.0

    say("saving", settings.steps)
    if variant == "lora":
        with tempfile.TemporaryDirectory(prefix="hftui-lora-size-") as folder:
            model.save_pretrained(folder)
            saved, measured = folder_size(Path(folder)), True
    else:
        saved, measured = sum(p.numel() * p.element_size() for p in model.parameters()), False
    say("done", settings.steps)
    return VariantResult(
        variant=variant,
        trainable_params=trainable,
        total_params=total,
        peak_memory_bytes=int(max(peak, 0)),
        weights_memory_bytes=int(max(weights, 0)),
        step_time_s=step_time,
        steps=settings.steps,
        saved_bytes=int(saved),
        saved_measured=measured,
        final_loss=loss_value,
        target_modules=tuple(targets),
        device=f"cuda ({torch.cuda.get_device_name(0)})" if cuda else "cpu",
        memory_method=CUDA_METHOD if cuda else CPU_METHOD,
    )


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
    progress: Callable[[CompareProgress], None] | None,
    cancelled: Callable[[], bool],
    python: str,
) -> VariantResult:
    argv = [python, "-m", "hftui.train.lora_compare", "--variant", variant, "--dataset-path", dataset]
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
    progress: Callable[[CompareProgress], None] | None = None,
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


def main(argv: Sequence[str] | None = None) -> int:
    """The measuring process: one variant, JSON lines on stdout (progress, then result or error)."""
    parser = argparse.ArgumentParser(prog="python -m hftui.train.lora_compare")
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--dataset-path", required=True)
    parser.add_argument("--settings", required=True, help="CompareSettings as JSON")
    args = parser.parse_args(argv)
    # Our lines own stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    from hftui.train.failures import WorkerContext, explain_failure

    context = WorkerContext(phase="starting")
    try:
        settings = CompareSettings.from_json(json.loads(args.settings))
        result = measure_variant(
            settings, args.variant, args.dataset_path, lambda p: send({"progress": asdict(p)}), context
        )
    except Exception as error:
        _, message = explain_failure(error, spec=None, run_dir=Path(tempfile.gettempdir()), context=context)
        send({"error": message})
        return 1
    send({"result": result.to_json()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
