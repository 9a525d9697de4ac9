"""Health alerts from run events, the metrics export, and the size of a saved adapter."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hftui.train.events import RunEvent
from hftui.train.health import HealthMonitor, health_alerts
from hftui.train.runs import folder_size
from hftui.train.series import metrics_csv, metrics_rows


def _log(step: int, loss: float | None, grad: float = 1.0, **extra: object) -> RunEvent:
    return RunEvent("log", 0.0, step, {"loss": loss, "grad_norm": grad, "learning_rate": 1e-3, **extra})


def _eval(step: int, loss: float) -> RunEvent:
    return RunEvent("eval", 0.0, step, {"metrics": {"eval_loss": loss, "eval_accuracy": 1 - loss, "epoch": step / 10}})


def test_a_calm_run_raises_nothing() -> None:
    events = [_log(step, 1.0 - step / 100) for step in range(1, 50)] + [_eval(10 * i, 1.0 - i / 10) for i in range(5)]
    assert health_alerts(events) == []


def test_nan_loss_spike_and_grad_explosion() -> None:
    events = [_log(step, 0.5) for step in range(1, 11)]
    events += [_log(11, 5.0), _log(12, 0.5, grad=50.0), _log(13, None, nonfinite={"loss": "nan"}), _log(14, None)]
    kinds = [(a.kind, a.step) for a in health_alerts(events)]
    assert kinds == [("loss_spike", 11), ("grad_explosion", 12), ("nan_loss", 13)]


def test_eval_getting_worse_three_times_in_a_row_alerts_once() -> None:
    monitor = HealthMonitor()
    assert monitor.feed([_eval(1, 0.5), _eval(2, 0.6), _eval(3, 0.7)]) == []
    (alert,) = monitor.feed([_eval(4, 0.8), _eval(5, 0.9)])
    assert alert.kind == "eval_worse" and alert.step == 4 and "overfitting" in alert.message
    assert HealthMonitor(eval_metric="eval_accuracy").feed([_eval(s, 0.1 * s) for s in range(1, 6)])


def test_metrics_export_one_row_per_step_and_csv() -> None:
    events = [_log(1, 0.9, epoch=0.1), _log(2, 0.8, epoch=0.2), _eval(2, 0.7)]
    rows = metrics_rows(events)
    assert [row["step"] for row in rows] == [1, 2]
    assert rows[1]["loss"] == 0.8 and rows[1]["eval_loss"] == 0.7 and rows[0]["eval_loss"] is None
    parsed = list(csv.DictReader(io.StringIO(metrics_csv(events))))
    assert parsed[1]["eval_accuracy"] == str(1 - 0.7) and parsed[0]["eval_loss"] == ""


def test_folder_size(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "adapter_model.safetensors").write_bytes(b"x" * 1000)
    (tmp_path / "adapter_config.json").write_text("{}")
    assert folder_size(tmp_path) == 1002 and folder_size(tmp_path / "missing") == 0
