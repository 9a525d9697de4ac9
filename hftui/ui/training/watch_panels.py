"""What the run watcher's panels say about a snapshot: the state line, metrics, GPU, LoRA facts, alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

from hftui.hub.plain_text import printable
from hftui.humanize import human_count, human_metric, human_size
from hftui.train.health import HealthAlert
from hftui.train.watch import GIB, WatchSnapshot, progress_of

KIND_NAMES = {"run": "hftui run", "trainer": "Trainer output folder", "tensorboard": "TensorBoard log dir"}


def state_text(snapshot: WatchSnapshot) -> Text:
    """The state line: state, reason and message; read-only and replay notes."""
    style = {"failed": "bold red", "stopped": "bold yellow", "finished": "bold green", "running": "bold"}.get(
        snapshot.state, ""
    )
    text = Text(no_wrap=False)
    text.append(snapshot.state, style=style)
    if snapshot.reason:
        text.append(f" ({snapshot.reason})", style=style)
    if snapshot.message:
        text.append(": " + printable(snapshot.message, single_line=True))
    if snapshot.replaying:
        text.append(f" · replaying… {snapshot.events_seen:,} events read")
    elif snapshot.state == "finished":
        text.append(" · the run has finished")
    if snapshot.replayed and not snapshot.replaying:
        text.append(f" · replayed {snapshot.events_seen:,} events")
    if snapshot.kind != "run":
        text.append(f" · {KIND_NAMES[snapshot.kind]}: read-only, refreshes as it grows (no stop/resume)")
    elif snapshot.state == "stopped" or (snapshot.state == "failed" and snapshot.checkpoints):
        text.append(" · r resumes from the last checkpoint" if snapshot.checkpoints else "")
    if snapshot.warning_count:
        text.append(f" · {snapshot.warning_count} line(s) skipped", style="yellow")
    return text


def metrics_text(snapshot: WatchSnapshot) -> Text:
    """Latest log and eval values, throughput, GPU, checkpoints, final metrics and confusion matrix."""
    latest = snapshot.latest
    out = Text()
    log = latest.get("log")
    if log is not None:
        fields = [("loss", "loss"), ("grad_norm", "grad_norm"), ("lr", "learning_rate"), ("epoch", "epoch")]
        parts = [f"{label} {human_metric(log.get(name))}" for label, name in fields if log.get(name) is not None]
        if log.get("nonfinite"):
            parts.append("non-finite: " + ", ".join(f"{k}={v}" for k, v in dict(log.get("nonfinite")).items()))
        out.append("train  ", style="bold")
        out.append(f"@{log.step}  " + "  ".join(parts) + "\n")
    evaluation = latest.get("eval")
    if evaluation is not None and isinstance(evaluation.get("metrics"), dict):
        metrics = evaluation.get("metrics")
        parts = [
            f"{name.removeprefix('eval_')} {human_metric(metrics.get(name))}"
            for name in ("eval_loss", "eval_accuracy", "eval_f1_macro")
            if name in metrics
        ]
        out.append("eval   ", style="bold")
        out.append(f"@{evaluation.step}  " + "  ".join(parts) + "\n")
    progress = progress_of(snapshot)
    pace = []
    if progress.steps_per_s is not None:
        pace.append(f"{progress.steps_per_s:.3g} steps/s")
    if progress.samples_per_s is not None:
        pace.append(f"{progress.samples_per_s:.3g} samples/s")
    out.append("speed  ", style="bold")
    out.append((" · ".join(pace) or "-") + "\n")
    out.append("GPU    ", style="bold")
    out.append(gpu_text(snapshot) + "\n")
    if snapshot.kind == "run":
        out.append("saved  ", style="bold")
        out.append(f"{snapshot.checkpoints} checkpoint(s)\n")
    finished = latest.get("finished")
    final = finished.get("metrics") if finished is not None else None
    if isinstance(final, dict):
        out.append("final  ", style="bold")
        names = ("accuracy", "f1_macro", "loss")
        out.append("  ".join(f"{n} {human_metric(final.get(n))}" for n in names if n in final) + "\n")
        out.append(confusion_text(final))
    if snapshot.warnings:
        out.append("\nskipped lines:\n", style="bold")
        for warning in snapshot.warnings[-5:]:
            out.append(printable(warning, single_line=True) + "\n", style="yellow")
    return out


def gpu_text(snapshot: WatchSnapshot) -> str:
    """The latest GPU sample, or why there is none."""
    sample = snapshot.latest.get("gpu")
    devices = sample.get("devices") if sample is not None else None
    if isinstance(devices, list) and devices:
        parts = []
        for device in devices:
            if not isinstance(device, dict):
                continue
            used, total = device.get("memory_used"), device.get("memory_total")
            memory = (
                f"{used / GIB:.1f}/{total / GIB:.0f} GiB" if isinstance(used, int) and isinstance(total, int) else ""
            )
            parts.append(f"{device.get('index', '?')}: {human_metric(device.get('utilization'))}% {memory}".strip())
        return " · ".join(parts)
    started = snapshot.latest.get("started")
    device = started.get("device") if started is not None else None
    progress = snapshot.latest.get("progress")
    allocated = progress.number("cuda_memory_allocated") if progress is not None else None
    if isinstance(device, dict) and device.get("kind") == "cuda":
        note = f" · {allocated / GIB:.2f} GiB allocated" if allocated is not None else ""
        return f"{printable(device.get('name'), single_line=True)} (no nvidia-smi samples yet){note}"
    if isinstance(device, dict):
        return f"no GPU (training on {printable(device.get('kind'), single_line=True)})"
    return "no GPU samples"


def confusion_text(final: Mapping[str, Any]) -> Text:
    """The final confusion matrix (rows: true label, columns: predicted), or nothing."""
    matrix, labels = final.get("confusion_matrix"), final.get("labels")
    if not isinstance(matrix, list) or not isinstance(labels, list) or len(matrix) != len(labels):
        return Text()
    names = [printable(label, single_line=True)[:10] for label in labels]
    width = max([len(n) for n in names] + [max((len(str(c)) for row in matrix for c in row), default=1)]) + 1
    out = Text("confusion matrix (rows: true, columns: predicted)\n", style="bold")
    out.append(" " * width + "".join(n.rjust(width) for n in names) + "\n")
    for name, row in zip(names, matrix, strict=False):
        out.append(name.rjust(width) + "".join(str(c).rjust(width) for c in row) + "\n")
    return out


def lora_text(snapshot: WatchSnapshot) -> Text:
    """The LoRA panel: parameters trained, r, alpha, dropout, target modules, adapter size."""
    facts = snapshot.lora
    if facts is None:
        return Text("Not a LoRA run: every parameter of the model is trained.")
    out = Text()
    if facts.trainable is not None and facts.total:
        share = 100 * facts.trainable / facts.total
        out.append("trainable  ", style="bold")
        out.append(f"{human_count(facts.trainable)} of {human_count(facts.total)} parameters ({share:.2f}%)\n")
    out.append("r          ", style="bold")
    out.append(f"{facts.r}    alpha {facts.alpha}    dropout {facts.dropout}\n")
    out.append("targets    ", style="bold")
    out.append((", ".join(facts.target_modules) or "suggested from the architecture when it starts") + "\n")
    out.append("adapter    ", style="bold")
    if facts.adapter_bytes:
        out.append(f"{human_size(facts.adapter_bytes)} on disk ({printable(facts.adapter_path, single_line=True)})\n")
    else:
        out.append("not saved yet\n")
    if facts.merge:
        out.append("merge      ", style="bold")
        out.append("the merged model is saved too at the end\n")
    return out


def alerts_text(alerts: tuple[HealthAlert, ...]) -> Text:
    """The alerts strip: the latest two, and how many more."""
    out = Text()
    for alert in alerts[-2:]:
        out.append("⚠ ", style="bold red" if alert.severity == "error" else "bold yellow")
        out.append(printable(alert.message, single_line=True) + "  ")
    if len(alerts) > 2:
        out.append(f"(+{len(alerts) - 2} earlier)")
    return out
