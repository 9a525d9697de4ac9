"""Building and running a run's Trainer: the model with its head (and a LoRA adapter), the precision this
machine allows, the TrainingArguments, and `train_run`, which trains, evaluates, saves the model with its card
and writes the final event. Everything heavy (torch, transformers, peft) is imported inside the functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hftui.train.callback import RunRecorder, event_callback
from hftui.train.data import LabelMap, TrainingInputError, image_collator, image_inputs, load_rows, tokenize
from hftui.train.events import SCHEMA_VERSION
from hftui.train.failures import WorkerContext
from hftui.train.runs import CHECKPOINTS_DIR, MERGED_DIR, METRICS_FILE, MODEL_DIR, checkpoints_of
from hftui.train.spec import RunSpec, spec_to_dict


def model_path(spec: RunSpec) -> str:
    """Where the base model loads from: its local folder when there is one, else its Hub or cache id."""
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

    path = model_path(spec)
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
    train, evaluation, mapping = load_rows(spec, context.notes)
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
        collator: Any = image_collator
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
    # torch's own counters on CUDA: the watcher's GPU line falls back to them when nvidia-smi gives no samples.
    recorder.cuda_memory = _cuda_memory()
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
    card_facts: dict[str, Any] = {
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
