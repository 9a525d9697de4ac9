"""The process of one run: `python -m hftui.train.worker RUN_DIR [--resume]`.

It takes the run's lock, reads spec.json, loads the dataset (string labels mapped to ids, saved as
labels.json), the model (plus a LoRA adapter through PEFT when asked) and trains with the transformers
Trainer, recording everything in events.jsonl through the event callback. Every way it can end is an event:
`finished` (with the final metrics, the saved model and its card), `stopped` (a stop request; a checkpoint
was saved) or `failed` with a reason: nan_loss, oom, disk_full, bad_input, or error.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import io
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.train.callback import RunRecorder, event_callback
from hftui.train.data import LabelMap, TrainingInputError, label_names, load_split, require_columns, sources_of
from hftui.train.events import EVENTS_FILE, SCHEMA_VERSION, EventWriter
from hftui.train.process import LOCK_FILE
from hftui.train.runs import CHECKPOINTS_DIR, MERGED_DIR, METRICS_FILE, MODEL_DIR, checkpoints_of
from hftui.train.spec import RunSpec, SpecError, load_spec, spec_to_dict

LABELS_COLUMN = "labels"


class _NoWriter:
    """The events writer of a non-main process under accelerate: only process 0 records."""

    def write(self, kind: str, step: int | None = None, **fields: Any) -> None:
        return None

    def sync(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class WorkerContext:
    """Where the worker is: the phase (for failure messages) and the last step seen."""

    phase: str = "starting"
    step: int | None = None
    notes: list[str] = field(default_factory=list)


# --- failures in the user's words -----------------------------------------------------------------------


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


# --- data -------------------------------------------------------------------------------------------------


def _as_label_strings(dataset: Any, column: str) -> tuple[list[Any], Any]:
    feature = dataset.features[column]
    values = dataset[column]
    names = getattr(feature, "names", None)
    if names:
        return [names[v] if isinstance(v, int) and 0 <= v < len(names) else v for v in values], feature
    return list(values), feature


def prepare_labels(train: Any, evaluation: Any | None, column: str) -> tuple[Any, Any | None, LabelMap]:
    """Replace the label column by integer `labels` (rows without a label dropped) and say what each id means."""
    train_values, feature = _as_label_strings(train, column)
    eval_values = _as_label_strings(evaluation, column)[0] if evaluation is not None else []
    names = getattr(feature, "names", None)
    labels = [str(n) for n in names] if names else label_names(None, [*train_values, *eval_values])
    if len(labels) < 2:
        raise TrainingInputError(
            f"the label column `{column}` has {len(labels)} distinct value(s); classification needs at least 2"
        )
    mapping = LabelMap(tuple(labels))
    label2id = mapping.label2id

    def encode(dataset: Any, values: list[Any]) -> Any:
        keep = [i for i, value in enumerate(values) if value is not None]
        if len(keep) < len(values):
            dataset = dataset.select(keep)
            values = [values[i] for i in keep]
        ids = []
        for value in values:
            key = str(value)
            if key not in label2id:
                raise TrainingInputError(f"the label {key!r} is not among the training labels ({', '.join(labels)})")
            ids.append(label2id[key])
        dataset = dataset.remove_columns([column])
        return dataset.add_column(LABELS_COLUMN, ids)

    train = encode(train, train_values)
    evaluation = encode(evaluation, eval_values) if evaluation is not None else None
    return train, evaluation, mapping


def hold_out(train: Any, fraction: float, seed: int, mapping: LabelMap, notes: list[str]) -> tuple[Any, Any]:
    """Split `fraction` of the training rows off for evaluation, stratified by label when every class can be."""
    from datasets import ClassLabel

    n_eval = max(1, round(len(train) * fraction))
    if len(train) - n_eval < 1:
        raise TrainingInputError(f"{len(train)} rows are too few to hold {fraction:.0%} out for evaluation")
    casted = train.cast_column(LABELS_COLUMN, ClassLabel(names=list(mapping.labels)))
    try:
        parts = casted.train_test_split(test_size=n_eval, seed=seed, stratify_by_column=LABELS_COLUMN)
    except ValueError as error:
        notes.append(f"the evaluation rows are not stratified by label ({error})")
        parts = casted.train_test_split(test_size=n_eval, seed=seed)
    return parts["train"], parts["test"]


def load_rows(spec: RunSpec, context: WorkerContext) -> tuple[Any, Any | None, LabelMap]:
    """The training and evaluation datasets with integer labels, and the label map."""
    data = spec.dataset
    train_source, eval_source = sources_of(data)
    train = load_split(train_source)
    evaluation = load_split(eval_source) if eval_source is not None else None
    wanted = [("label", data.label_column)]
    if spec.task == "image-classification":
        wanted.append(("image", data.image_column))
    else:
        wanted.append(("text", data.text_column))
        if data.text_pair_column:
            wanted.append(("text pair", data.text_pair_column))
    require_columns(train.column_names, wanted, f"{data.location} ({train_source.split})")
    if evaluation is not None and eval_source is not None:
        require_columns(evaluation.column_names, wanted, f"{eval_source.location} ({eval_source.split})")
    if data.max_train_rows is not None and len(train) > data.max_train_rows:
        train = train.shuffle(seed=spec.hyperparameters.seed).select(range(data.max_train_rows))
    train, evaluation, mapping = prepare_labels(train, evaluation, data.label_column)
    if evaluation is None and data.eval_fraction > 0:
        train, evaluation = hold_out(train, data.eval_fraction, spec.hyperparameters.seed, mapping, context.notes)
    if len(train) == 0:
        raise TrainingInputError(f"{data.location} has no training rows with a label")
    return train, evaluation, mapping


def tokenize(spec: RunSpec, tokenizer: Any, dataset: Any) -> Any:
    """Token ids (truncated to max_length, padded per batch later) and labels only."""
    data = spec.dataset
    text, pair = data.text_column, data.text_pair_column

    def encode(batch: dict[str, list[Any]]) -> Any:
        first = ["" if value is None else str(value) for value in batch[text]]
        second = ["" if value is None else str(value) for value in batch[pair]] if pair else None
        return tokenizer(first, second, truncation=True, max_length=spec.hyperparameters.max_length)

    drop = [column for column in dataset.column_names if column != LABELS_COLUMN]
    return dataset.map(encode, batched=True, remove_columns=drop)


def image_inputs(spec: RunSpec, processor: Any, dataset: Any) -> Any:
    """Pixel values computed on the fly (`with_transform`), so images are decoded batch by batch."""
    column = spec.dataset.image_column

    def transform(batch: dict[str, list[Any]]) -> Any:
        images = [image.convert("RGB") for image in batch[column]]
        inputs = processor(images, return_tensors="pt")
        return {"pixel_values": inputs["pixel_values"], LABELS_COLUMN: batch[LABELS_COLUMN]}

    return dataset.with_transform(transform)


def _image_collator(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    return {
        "pixel_values": torch.stack([row["pixel_values"] for row in rows]),
        LABELS_COLUMN: torch.tensor([int(row[LABELS_COLUMN]) for row in rows]),
    }


# --- model ------------------------------------------------------------------------------------------------


def _model_path(spec: RunSpec) -> str:
    folder = Path(spec.base_model).expanduser()
    return str(folder) if folder.is_dir() else spec.base_model


def load_model(spec: RunSpec, mapping: LabelMap) -> tuple[Any, Any]:
    """The task model with a head for the run's labels, and its tokenizer or image processor."""
    from transformers import (
        AutoImageProcessor,
        AutoModelForImageClassification,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    from hftui.train.base_model import load_config, model_has_head, no_head_message

    path = _model_path(spec)
    config = load_config(path)
    if not model_has_head(config, spec.task):
        raise TrainingInputError(no_head_message(spec.base_model, config, spec.task))
    auto = (
        AutoModelForImageClassification if spec.task == "image-classification" else AutoModelForSequenceClassification
    )
    model = auto.from_pretrained(
        path,
        id2label=mapping.id2label,
        label2id=mapping.label2id,
        ignore_mismatched_sizes=True,  # a new head when the base's labels differ from the run's
    )
    if spec.task == "image-classification":
        return model, AutoImageProcessor.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # decoders (GPT-2, Llama) have no pad token
    if getattr(model.config, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def add_lora(spec: RunSpec, model: Any) -> tuple[Any, tuple[str, ...]]:
    """Wrap the model with a PEFT LoRA adapter; targets that match nothing raise TrainingInputError."""
    from peft import LoraConfig, TaskType, get_peft_model

    from hftui.train.lora import linear_module_names, suggest_target_modules, unmatched_targets

    assert spec.lora is not None
    names = linear_module_names(model)
    targets = tuple(spec.lora.target_modules or suggest_target_modules(names))
    missing = unmatched_targets(targets, names, (name for name, _ in model.named_modules()))
    if missing:
        raise TrainingInputError(
            f"LoRA target modules {', '.join(missing)} match no module of {spec.base_model}; "
            f"its linear layers are {', '.join(names) or '(none)'}"
        )
    image = spec.task == "image-classification"
    config = LoraConfig(
        task_type=None if image else TaskType.SEQ_CLS,
        r=spec.lora.r,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules=list(targets),
        modules_to_save=["classifier"] if image else None,
    )
    return get_peft_model(model, config), targets


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters."""
    trainable = total = 0
    for parameter in model.parameters():
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return trainable, total


def resolve_precision(requested: str, notes: list[str]) -> str:
    """fp32, fp16 or bf16 as this machine allows (auto: bf16 where the GPU has it, else fp16 on CUDA, else fp32)."""
    import torch

    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    if requested == "auto":
        return "bf16" if bf16 else ("fp16" if cuda else "fp32")
    if requested == "fp16" and not cuda:
        notes.append("fp16 needs a CUDA GPU; training in fp32")
        return "fp32"
    if requested == "bf16" and cuda and not bf16:
        notes.append("this GPU has no bf16; training in fp16")
        return "fp16"
    return requested


def _cuda_memory() -> Callable[[], dict[str, int]] | None:
    import torch

    if not torch.cuda.is_available():
        return None

    def read() -> dict[str, int]:
        return {
            "cuda_memory_allocated": torch.cuda.memory_allocated(),
            "cuda_memory_reserved": torch.cuda.memory_reserved(),
            "cuda_max_memory_allocated": torch.cuda.max_memory_allocated(),
        }

    return read


def _device_facts() -> dict[str, Any]:
    import torch

    if torch.cuda.is_available():
        return {
            "kind": "cuda",
            "name": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "memory_total": torch.cuda.get_device_properties(0).total_memory,
        }
    return {"kind": "cpu", "name": "cpu", "count": 1, "threads": torch.get_num_threads()}


def last_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint (one with its trainer_state.json)."""
    for path in reversed(checkpoints_of(run_dir)):
        if (path / "trainer_state.json").is_file():
            return path
    return None


def _checkpoint_step(path: Path) -> int | None:
    try:
        step = json.loads((path / "trainer_state.json").read_text(encoding="utf-8")).get("global_step")
    except (OSError, ValueError):
        return None
    return step if isinstance(step, int) else None


# --- the run ----------------------------------------------------------------------------------------------


def training_arguments(spec: RunSpec, run_dir: Path, precision: str, has_eval: bool) -> Any:
    """The TrainingArguments of a run (transformers 5 names: eval_strategy, warmup_steps as steps or ratio)."""
    import torch
    from transformers import TrainingArguments

    h = spec.hyperparameters
    cuda = torch.cuda.is_available()
    warmup: float = int(h.warmup) if h.warmup >= 1 else h.warmup
    return TrainingArguments(
        output_dir=str(run_dir / CHECKPOINTS_DIR),
        num_train_epochs=h.epochs,
        max_steps=h.max_steps if h.max_steps else -1,
        learning_rate=h.learning_rate,
        per_device_train_batch_size=h.batch_size,
        per_device_eval_batch_size=h.eval_batch_size or h.batch_size,
        gradient_accumulation_steps=h.gradient_accumulation_steps,
        warmup_steps=warmup,
        weight_decay=h.weight_decay,
        logging_strategy="steps",
        logging_steps=h.logging_steps,
        logging_first_step=True,
        # A NaN loss must reach the callback, not be replaced by the running average.
        logging_nan_inf_filter=False,
        eval_strategy=h.eval_strategy if has_eval else "no",
        eval_steps=h.eval_steps,
        save_strategy=h.save_strategy,
        save_steps=h.save_steps,
        save_total_limit=h.save_total_limit,
        seed=h.seed,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
        disable_tqdm=True,  # no carriage-return bars: train.log stays plain lines
        report_to="none",
        remove_unused_columns=spec.task != "image-classification",
    )


def train_run(
    run_dir: Path, spec: RunSpec, writer: Any, recorder: RunRecorder, context: WorkerContext, *, resume: bool
) -> int:
    """Train, evaluate, save and write the final event; returns the exit status (0 finished or stopped)."""
    import torch
    from transformers import DataCollatorWithPadding, Trainer
    from transformers.utils import logging as hf_logging

    from hftui.hub.cards.derivatives import base_model_card
    from hftui.train.card import build_model_card, write_model_card
    from hftui.train.gpu import GpuSampler
    from hftui.train.metrics import argmax_rows, classification_report, predictions_of, trainer_metrics

    hf_logging.disable_progress_bar()
    torch.manual_seed(spec.hyperparameters.seed)
    world_size = max(1, int(os.environ.get("WORLD_SIZE", "1")))

    context.phase = "loading the dataset"
    writer.write("note", None, level="info", message="loading the dataset")
    train, evaluation, mapping = load_rows(spec, context)
    mapping.save(run_dir)

    context.phase = "loading the model"
    writer.write("note", None, level="info", message="loading the model")
    model, processor = load_model(spec, mapping)
    targets: tuple[str, ...] = ()
    if spec.lora is not None:
        model, targets = add_lora(spec, model)
    trainable, total = count_parameters(model)

    context.phase = "preparing the inputs"
    if spec.task == "image-classification":
        train_inputs = image_inputs(spec, processor, train)
        eval_inputs = image_inputs(spec, processor, evaluation) if evaluation is not None else None
        collator: Any = _image_collator
    else:
        train_inputs = tokenize(spec, processor, train)
        eval_inputs = tokenize(spec, processor, evaluation) if evaluation is not None else None
        collator = DataCollatorWithPadding(processor)

    precision = resolve_precision(spec.hyperparameters.precision, context.notes)
    for note in context.notes:
        writer.write("note", None, level="warning", message=note)
    checkpoint = last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise TrainingInputError("there is no complete checkpoint to resume from", "bad_input")
    h = spec.hyperparameters
    recorder.samples_per_step = h.batch_size * h.gradient_accumulation_steps * world_size
    recorder.started_fields = {
        "schema": SCHEMA_VERSION,
        "spec": spec_to_dict(spec),
        "trainable_params": trainable,
        "total_params": total,
        "labels": list(mapping.labels),
        "train_rows": len(train),
        "eval_rows": len(evaluation) if evaluation is not None else 0,
        "precision": precision,
        "device": _device_facts(),
        "world_size": world_size,
        "target_modules": list(targets) or None,
        "resumed_from": str(checkpoint) if checkpoint else None,
        "resumed_from_step": _checkpoint_step(checkpoint) if checkpoint else None,
        "pid": os.getpid(),
    }
    trainer = Trainer(
        model=model,
        args=training_arguments(spec, run_dir, precision, eval_inputs is not None),
        train_dataset=train_inputs,
        eval_dataset=eval_inputs,
        processing_class=processor,
        data_collator=collator,
        compute_metrics=trainer_metrics(mapping.labels) if eval_inputs is not None else None,
        callbacks=[event_callback(recorder, world_size=world_size)],
    )
    sampler = None
    if torch.cuda.is_available() and GpuSampler.available():
        sampler = GpuSampler(writer, lambda: recorder.state.last_step).start()
    context.phase = "training"
    try:
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        if sampler is not None:
            sampler.stop()
    step = trainer.state.global_step
    context.step = step
    if recorder.state.failure is not None:
        reason, message = recorder.state.failure
        writer.write("failed", step, reason=reason, message=message)
        return 1
    if recorder.state.stop_reason is not None:
        saved = last_checkpoint(run_dir)
        writer.write(
            "stopped",
            step,
            reason=recorder.state.stop_reason,
            message=f"stopped at step {step} of {trainer.state.max_steps}; a checkpoint was saved, resume to continue",
            checkpoint=str(saved) if saved else None,
        )
        return 0

    final_metrics: dict[str, Any] | None = None
    if eval_inputs is not None:
        context.phase = "evaluating"
        output = trainer.predict(eval_inputs, metric_key_prefix="eval")
        true = [int(x) for x in output.label_ids.tolist()]
        report = classification_report(true, argmax_rows(predictions_of(output.predictions)), mapping.labels)
        loss = output.metrics.get("eval_loss")
        final_metrics = {**report.to_json(), "loss": loss}
        recorder.evaluated(
            step,
            trainer.state.epoch,
            {"eval_loss": loss, "eval_accuracy": report.accuracy, "eval_f1_macro": report.f1_macro},
            final=True,
        )
        (run_dir / METRICS_FILE).write_text(json.dumps(final_metrics, indent=2) + "\n", encoding="utf-8")

    context.phase = "saving the model"
    model_dir = run_dir / MODEL_DIR
    trainer.save_model(str(model_dir))
    mapping.save(model_dir)
    card_facts = {
        "run_id": run_dir.name,
        "labels": mapping.labels,
        "metrics": final_metrics,
        "base_metadata": base_model_card(spec.base_model).metadata,
        "train_rows": len(train),
        "eval_rows": len(evaluation) if evaluation is not None else 0,
        "trainable_params": trainable,
        "total_params": total,
        "extra": {"precision": precision, "target_modules": targets},
    }
    card = write_model_card(model_dir, build_model_card(spec, adapter=spec.lora is not None, **card_facts))
    merged_dir = None
    if spec.lora is not None and spec.lora.merge and trainer.is_world_process_zero():
        merged_dir = run_dir / MERGED_DIR
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(merged_dir))
        processor.save_pretrained(str(merged_dir))
        mapping.save(merged_dir)
        write_model_card(merged_dir, build_model_card(spec, adapter=False, **card_facts))
    runtime = result.metrics.get("train_runtime")
    writer.write(
        "finished",
        step,
        metrics=final_metrics,
        model_dir=str(model_dir),
        merged_dir=str(merged_dir) if merged_dir else None,
        card=str(card),
        runtime_s=runtime,
        train_loss=result.metrics.get("train_loss"),
        message=f"finished at step {step}",
    )
    return 0


def run_worker(
    run_dir: Path, *, resume: bool = False, recorder_hook: Callable[[RunRecorder], None] | None = None
) -> int:
    """Run one attempt of the run in this process; every outcome is written to events.jsonl. Returns 0 or 1."""
    run_dir = Path(run_dir).resolve()
    main_process = int(os.environ.get("RANK", "0")) == 0
    writer: Any = EventWriter(run_dir / EVENTS_FILE) if main_process else _NoWriter()
    context = WorkerContext()
    recorder = RunRecorder(writer, run_dir)
    recorder.started_fields = None
    if recorder_hook is not None:
        recorder_hook(recorder)
    spec: RunSpec | None = None
    try:
        spec = load_spec(run_dir)
        return train_run(run_dir, spec, writer, recorder, context, resume=resume)
    except KeyboardInterrupt:
        writer.write("stopped", context.step, reason="signal", message=f"interrupted while {context.phase}")
        return 1
    except BaseException as error:  # every failure must become the run's final event
        context.step = recorder.state.last_step or context.step
        reason, message = explain_failure(error, spec=spec, run_dir=run_dir, context=context)
        traceback.print_exc()
        try:
            writer.write("failed", context.step, reason=reason, message=message, error=type(error).__name__)
        except OSError:
            # The disk may be too full even for one line; say it where it can still be seen.
            print(f"hftui: run failed ({reason}): {message}", file=sys.stderr)
        return 1
    finally:
        writer.sync()
        writer.close()


def _take_lock(run_dir: Path, wait_s: float = 3.0) -> int | None:
    """The run's exclusive lock (held until this process ends), or None when another worker holds it."""
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # A reader's shared lock lasts microseconds; another worker's lasts until it ends.
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class PlainLog(io.TextIOBase):
    """A stdout/stderr for train.log: colour codes dropped, carriage returns made newlines, so grep finds lines."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        plain = _TERMINAL_CODES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        self.stream.write(plain)
        if "\n" in plain:
            # Watchers tail train.log: a finished line reaches the file now, whatever buffering the stream has
            # (PYTHONUNBUFFERED is set by hftui's launcher, not by accelerate launch or a user's own command).
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self.stream.fileno())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the run process."""
    # Before transformers is imported, so its log handler writes through the filter too.
    sys.stdout = PlainLog(sys.stdout)
    sys.stderr = PlainLog(sys.stderr)
    parser = argparse.ArgumentParser(prog="python -m hftui.train.worker", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    args = parser.parse_args(argv)
    run_dir = args.run_dir.resolve()
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process and _take_lock(run_dir) is None:
        print(f"hftui: another worker is running {run_dir.name}; not starting a second one", file=sys.stderr)
        return 3
    recorders: list[RunRecorder] = []

    def stop_gracefully(signum: int, frame: Any) -> None:
        # The Trainer checks at the next step end; a second signal interrupts at once.
        if any(r.signalled for r in recorders):
            raise KeyboardInterrupt
        for recorder in recorders:
            recorder.signalled = True

    signal.signal(signal.SIGTERM, stop_gracefully)
    signal.signal(signal.SIGINT, stop_gracefully)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return run_worker(run_dir, resume=args.resume, recorder_hook=recorders.append)


if __name__ == "__main__":
    sys.exit(main())
