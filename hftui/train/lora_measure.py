"""One variant of the LoRA comparison, measured in its own process: `python -m hftui.train.lora_measure`.

`lora_compare.compare_lora` starts one such process per variant, so each peak memory is the process's own. It
trains the variant a few steps on the comparison's dataset, then prints JSON lines on stdout: progress, then
the result (`VariantResult`) or the error in the user's words.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from hftui.train.lora_compare import (
    CPU_METHOD,
    CUDA_METHOD,
    VARIANTS,
    CompareProgress,
    CompareSettings,
    LoraCompareError,
    VariantResult,
)


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
    progress: Callable[[CompareProgress], object] | None = None,
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


def main(argv: Sequence[str] | None = None) -> int:
    """The measuring process: one variant, JSON lines on stdout (progress, then result or error)."""
    parser = argparse.ArgumentParser(prog="python -m hftui.train.lora_measure")
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
