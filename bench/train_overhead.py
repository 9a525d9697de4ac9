"""The event callback's cost on training throughput: tiny BERT on the CPU, N steps with and without it.

Prints figures, asserts nothing (goal: overhead under 2%). Runs alternate with/without in interleaved pairs
(the order flipping each pair) so drift in machine load hits both alike; the figure is the median of the
per-pair ratios. A micro-benchmark of the recorder's per-step and per-log work follows.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/train_overhead.py [--steps 200] [--pairs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps per run (default 200)")
    parser.add_argument("--pairs", type=int, default=7, help="interleaved with/without pairs (default 7)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()

    import contextlib
    import io

    import torch
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )
    from transformers.utils import logging as hf_logging

    from hftui.demo.tiny_models import build_tiny_model
    from hftui.train.callback import RunRecorder, event_callback
    from hftui.train.events import EventWriter

    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    work = Path(tempfile.mkdtemp(prefix="hftui-bench-train-"))
    model_dir = build_tiny_model("text-classification", work / "tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    words = "good great love bad awful hate movie film story service food".split()
    texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(8)) for i in range(512)]
    data = Dataset.from_dict({"text": texts, "labels": [i % 2 for i in range(512)]})
    data = data.map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=16), batched=True, remove_columns=["text"]
    )

    def one_run(with_callback: bool, index: int) -> tuple[float, float]:
        run_dir = work / f"run-{index}-{int(with_callback)}"
        run_dir.mkdir()
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir)
        training = TrainingArguments(
            output_dir=str(run_dir / "checkpoints"),
            max_steps=args.steps,
            per_device_train_batch_size=8,
            learning_rate=1e-3,
            logging_steps=10,
            logging_nan_inf_filter=False,
            save_strategy="no",
            eval_strategy="no",
            disable_tqdm=True,
            report_to="none",
            use_cpu=True,
            seed=0,
        )
        callbacks = []
        writer = None
        if with_callback:
            writer = EventWriter(run_dir / "events.jsonl")
            recorder = RunRecorder(writer, run_dir, samples_per_step=8)
            recorder.started_fields = {"schema": 1, "trainable_params": 1, "total_params": 1}
            callbacks.append(event_callback(recorder))
        trainer = Trainer(
            model=model,
            args=training,
            train_dataset=data,
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            callbacks=callbacks,
        )
        # The Trainer's own printer writes each log to stdout in both variants; keep it off the screen.
        with contextlib.redirect_stdout(io.StringIO()):
            start, cpu_start = time.perf_counter(), time.process_time()
            trainer.train()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if writer is not None:
            writer.close()
        return seconds, cpu

    print(f"tiny BERT, CPU ({args.threads} thread), {args.steps} steps of batch 8, max_length 16, logging every 10")
    one_run(False, -1)  # warm-up: first-call costs (kernels, allocator) hit neither variant
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    wall_ratios: list[float] = []
    cpu_ratios: list[float] = []
    for pair in range(args.pairs):
        order = (False, True) if pair % 2 == 0 else (True, False)
        times = {variant: one_run(variant, pair) for variant in order}
        for variant, (seconds, cpu_seconds) in times.items():
            wall[variant].append(seconds)
            cpu[variant].append(cpu_seconds)
        wall_ratios.append(times[True][0] / times[False][0])
        cpu_ratios.append(times[True][1] / times[False][1])
        print(
            f"  pair {pair + 1}: without {times[False][0]:.3f} s (cpu {times[False][1]:.3f}), "
            f"with {times[True][0]:.3f} s (cpu {times[True][1]:.3f}); cpu ratio {cpu_ratios[-1]:.4f}"
        )
    median_without = statistics.median(wall[False])
    median_with = statistics.median(wall[True])
    print(f"median run: without {median_without:.3f} s ({args.steps / median_without:.1f} steps/s)")
    print(f"            with    {median_with:.3f} s ({args.steps / median_with:.1f} steps/s)")
    cpu_overhead = (statistics.median(cpu_ratios) - 1) * 100
    wall_overhead = (statistics.median(wall_ratios) - 1) * 100
    print(f"callback overhead, median of pair ratios: CPU time {cpu_overhead:+.2f}%, wall {wall_overhead:+.2f}%")
    spread = (max(cpu_ratios) - min(cpu_ratios)) * 100
    print(f"CPU ratio spread across pairs: {spread:.2f} points (noise: other processes share this machine)")

    # The recorder alone: what each step and each log costs, without a model around it.
    micro = work / "micro"
    micro.mkdir()
    writer = EventWriter(micro / "events.jsonl")
    recorder = RunRecorder(writer, micro, samples_per_step=8)
    recorder.train_began(0, 10**9)
    n = 100_000
    start = time.perf_counter()
    for step in range(1, n + 1):
        recorder.step_ended(step, step / 1000)
    per_step = (time.perf_counter() - start) / n * 1e6
    logs = {"loss": 0.5, "grad_norm": 1.25, "learning_rate": 1e-4, "epoch": 0.5}
    start = time.perf_counter()
    for step in range(1, 20_001):
        recorder.logged(step, logs)
    per_log = (time.perf_counter() - start) / 20_000 * 1e6
    writer.close()
    step_ms = median_without / args.steps * 1e3
    print(f"recorder per step (stop-file check, throttled progress): {per_step:.2f} us")
    print(f"recorder per log event (JSON line written): {per_log:.2f} us")
    print(f"for scale: one tiny-BERT training step here takes {step_ms:.2f} ms")
    bound = (per_step + per_log / 10) / (step_ms * 1e3) * 100
    print(f"callback overhead from these costs (per step + a log every 10 steps): {bound:.3f}%  (goal < 2%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
