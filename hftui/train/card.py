"""The model card a finished run writes beside its model: Hub metadata plus the course's checklist sections.

Metadata goes through huggingface_hub's `ModelCardData` (so `model-index` has the shape the Hub expects);
the licence is the base model's when the catalogue says a fine-tune may carry it on, and left out with a
sentence saying why when it may not (no licence, an unknown or custom one, or no derivatives allowed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hftui.hub.cards.derivatives import inherited_license
from hftui.train.spec import RunSpec

CARD_FILE = "README.md"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def hub_id_of(base_model: str, explicit: str | None = None) -> str | None:
    """The Hub id to name as `base_model`: the explicit one, an id itself, or a cached snapshot's repo."""
    if explicit:
        return explicit
    path = Path(base_model).expanduser()
    if path.exists():
        # A folder inside the HF cache (…/models--owner--name/snapshots/<rev>) still names its repo.
        for part in path.resolve().parts:
            if part.startswith("models--"):
                return part[len("models--") :].replace("--", "/")
        return None
    return base_model if _HUB_ID.match(base_model) else None


def _hyperparameter_rows(spec: RunSpec, extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    h = spec.hyperparameters
    rows = [
        ("learning rate", f"{h.learning_rate:g}"),
        ("batch size (per device)", str(h.batch_size)),
        ("gradient accumulation steps", str(h.gradient_accumulation_steps)),
        ("processes", str(spec.num_processes)),
        ("training length", f"{h.max_steps} steps" if h.max_steps else f"{h.epochs:g} epochs"),
        ("max sequence length", str(h.max_length)),
        ("warmup", f"{h.warmup:g} of the steps" if 0 < h.warmup < 1 else f"{h.warmup:g} steps"),
        ("weight decay", f"{h.weight_decay:g}"),
        ("precision", str(extra.get("precision", h.precision))),
        ("seed", str(h.seed)),
        ("optimizer", "AdamW (transformers Trainer default), linear schedule"),
    ]
    if spec.lora is not None:
        lora = spec.lora
        targets = extra.get("target_modules") or lora.target_modules or ()
        rows += [
            ("LoRA rank r", str(lora.r)),
            ("LoRA alpha", str(lora.alpha)),
            ("LoRA dropout", f"{lora.dropout:g}"),
            ("LoRA target modules", ", ".join(f"`{t}`" for t in targets) or "-"),
        ]
    return rows


def _metrics_table(metrics: Mapping[str, Any]) -> str:
    lines = ["| metric | value |", "| --- | --- |"]
    for name in ("accuracy", "f1_macro", "loss"):
        value = metrics.get(name)
        if isinstance(value, int | float):
            label = {"f1_macro": "macro F1", "loss": "loss"}.get(name, name)
            lines.append(f"| {label} | {value:.4f} |")
    return "\n".join(lines)


def _confusion_table(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    cells = [_cell(label) for label in labels]
    head = "| true \\ predicted | " + " | ".join(cells) + " |"
    rule = "| --- |" + " --- |" * len(labels)
    rows = [f"| {cell} | " + " | ".join(str(n) for n in row) + " |" for cell, row in zip(cells, matrix, strict=False)]
    return "\n".join([head, rule, *rows])


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def build_model_card(
    spec: RunSpec,
    *,
    run_id: str,
    labels: Sequence[str],
    metrics: Mapping[str, Any] | None,
    base_metadata: Mapping[str, Any],
    train_rows: int,
    eval_rows: int,
    trainable_params: int,
    total_params: int,
    extra: Mapping[str, Any] | None = None,
    adapter: bool = False,
) -> str:
    """The README.md text: YAML metadata, then intended use, data, procedure and evaluation results."""
    from huggingface_hub import EvalResult, ModelCardData

    extra = extra or {}
    metrics = metrics or {}
    choice = inherited_license(base_metadata)
    base_id = hub_id_of(spec.base_model, spec.base_model_id)
    dataset_id = spec.dataset.location if spec.dataset.kind == "hub" else None
    name = spec.name or run_id
    pipeline_tag = "text-classification" if spec.task == "sequence-classification" else "image-classification"
    eval_results = []
    dataset_name = spec.dataset.name
    for metric, metric_name, value in (
        ("accuracy", "Accuracy", metrics.get("accuracy")),
        ("f1", "Macro F1", metrics.get("f1_macro")),
    ):
        if isinstance(value, int | float):
            eval_results.append(
                EvalResult(
                    task_type=pipeline_tag,
                    dataset_type=dataset_id or dataset_name,
                    dataset_name=dataset_name,
                    dataset_config=spec.dataset.config,
                    dataset_split=metrics.get("split") or spec.dataset.eval_split or "held-out",
                    metric_type=metric,
                    metric_name=metric_name,
                    metric_value=round(float(value), 4),
                    metric_args={"average": "macro"} if metric == "f1" else None,
                )
            )
    tags = ["hftui", pipeline_tag, "generated_from_trainer"]
    if adapter or spec.lora is not None:
        tags += ["peft", "lora"]
    data = ModelCardData(
        base_model=base_id,
        datasets=[dataset_id] if dataset_id else None,
        license=choice.license_id,
        library_name="peft" if adapter else "transformers",
        pipeline_tag=pipeline_tag,
        tags=tags,
        model_name=name,
        eval_results=eval_results or None,
    )
    metadata = data.to_yaml()

    base_text = f"[{base_id}](https://huggingface.co/{base_id})" if base_id else f"the local model `{spec.base_model}`"
    data_text = (
        f"[{dataset_id}](https://huggingface.co/datasets/{dataset_id})"
        if dataset_id
        else f"the local files `{spec.dataset.location}`"
    )
    kind = "A LoRA adapter for" if adapter else "A fine-tuned version of"
    label_list = ", ".join(f"`{_cell(label)}`" for label in labels)
    columns = f"text column `{spec.dataset.text_column}`" + (
        f" paired with `{spec.dataset.text_pair_column}`" if spec.dataset.text_pair_column else ""
    )
    if spec.task == "image-classification":
        columns = f"image column `{spec.dataset.image_column}`"
    eval_source = (
        f"the `{spec.dataset.eval_split}` split"
        if spec.dataset.eval_split
        else (
            f"`{spec.dataset.eval_location}`"
            if spec.dataset.eval_location
            else f"{spec.dataset.eval_fraction:.0%} of the training rows, held out (stratified by label)"
        )
    )
    procedure = "\n".join(f"- {key}: {value}" for key, value in _hyperparameter_rows(spec, extra))
    params = f"{trainable_params:,} of {total_params:,} parameters were trained" + (
        f" ({trainable_params / total_params:.2%})" if total_params else ""
    )
    if metrics:
        results = _metrics_table(metrics)
        matrix = metrics.get("confusion_matrix")
        if isinstance(matrix, list) and matrix:
            results += "\n\nConfusion matrix (rows: true label, columns: predicted label):\n\n"
            results += _confusion_table(labels, matrix)
        results += f"\n\nScored on {metrics.get('count', eval_rows):,} examples from {eval_source}."
    else:
        results = "No evaluation was run (no evaluation split was given and none was held out)."
    usage = (
        "```python\nfrom peft import AutoPeftModelForSequenceClassification\nfrom transformers import AutoTokenizer\n\n"
        'model = AutoPeftModelForSequenceClassification.from_pretrained("PATH_TO_THIS_FOLDER")\n'
        'tokenizer = AutoTokenizer.from_pretrained("PATH_TO_THIS_FOLDER")\n```'
        if adapter
        else '```python\nfrom transformers import pipeline\n\npipe = pipeline("text-classification", '
        'model="PATH_TO_THIS_FOLDER")\n```'
    )
    if spec.task == "image-classification" and not adapter:
        usage = usage.replace("text-classification", "image-classification")
    body = f"""
# {name}

{kind} {base_text}, trained by hftui (run `{run_id}`) to classify into {len(labels)} labels: {label_list}.

## Intended use

Classifying inputs like those of the training data into the labels above. It was trained on
{train_rows:,} examples only: check it on your own data before relying on it, and do not use it for decisions
about people without a review of its errors.

{choice.note}

## Training data

{data_text}, {columns}, label column `{spec.dataset.label_column}`: {train_rows:,} training rows and
{eval_rows:,} evaluation rows ({eval_source}).

## Training procedure

{params}.

{procedure}

## Evaluation results

{results}

## How to use

{usage}
"""
    return f"---\n{metadata}\n---\n{body}"


def write_model_card(folder: Path, text: str) -> Path:
    """Write README.md into the model folder (atomically: a run killed meanwhile leaves no half card)."""
    from hftui.hub.cards.draft import save_card

    return save_card(folder, text)
