"""Health alerts for a run, from its events: NaN/inf loss, a loss spike, an exploding gradient norm, and an
evaluation metric getting worse several times in a row.

`HealthMonitor` is fed the events a tail returns and gives back only the alerts they raised, so a watcher can
show each once (as a notification) and keep the list for its panel. Thresholds are arguments, not magic.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from hftui.train.events import RunEvent


@dataclass(frozen=True)
class HealthAlert:
    """One alert: its kind (nan_loss, loss_spike, grad_explosion, eval_worse), the step and a sentence."""

    kind: str
    step: int | None
    message: str
    severity: str = "warning"  # "error" for a NaN loss


@dataclass
class HealthMonitor:
    """Watches log and eval events for trouble; `feed` returns the new alerts."""

    window: int = 20  # recent logged values the spike tests compare against
    spike_factor: float = 3.0  # loss above this many times the recent median
    grad_factor: float = 10.0  # grad norm above this many times the recent median
    worse_evals: int = 3  # consecutive evaluations worse than the one before
    eval_metric: str = "eval_loss"
    alerts: list[HealthAlert] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._losses: deque[float] = deque(maxlen=self.window)
        self._grads: deque[float] = deque(maxlen=self.window)
        self._evals: list[float] = []
        self._worse_run = 0
        self._nan_seen = False

    def feed(self, events: Iterable[RunEvent]) -> list[HealthAlert]:
        """Fold in new events; returns the alerts they raised (also appended to `alerts`)."""
        new: list[HealthAlert] = []
        for event in events:
            if event.kind == "log":
                new += self._log(event)
            elif event.kind == "eval" and not event.get("final"):
                new += self._eval(event)
        self.alerts += new
        return new

    def _log(self, event: RunEvent) -> list[HealthAlert]:
        out = []
        nonfinite = event.get("nonfinite") or {}
        raw = event.get("loss")
        if "loss" in nonfinite or (isinstance(raw, float) and not math.isfinite(raw)):
            if not self._nan_seen:
                self._nan_seen = True
                what = nonfinite.get("loss", "nan")
                out.append(HealthAlert("nan_loss", event.step, f"loss is {what} at step {event.step}", "error"))
            return out
        loss = event.number("loss")
        median = _jump_over(self._losses, loss, self.spike_factor)
        if loss is not None and median is not None:
            message = f"loss jumped to {loss:.4g} at step {event.step} ({loss / median:.1f}x the recent median)"
            out.append(HealthAlert("loss_spike", event.step, message))
        grad = event.number("grad_norm")
        median = _jump_over(self._grads, grad, self.grad_factor)
        if grad is not None and median is not None:
            message = f"gradient norm {grad:.4g} at step {event.step} is {grad / median:.0f}x the recent median"
            out.append(HealthAlert("grad_explosion", event.step, message))
        return out

    def _eval(self, event: RunEvent) -> list[HealthAlert]:
        metrics = event.get("metrics")
        value = metrics.get(self.eval_metric) if isinstance(metrics, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            return []
        lower_is_better = self.eval_metric.endswith("loss")
        out = []
        if self._evals:
            previous = self._evals[-1]
            worse = value > previous if lower_is_better else value < previous
            self._worse_run = self._worse_run + 1 if worse else 0
            if self._worse_run == self.worse_evals:
                name = self.eval_metric.removeprefix("eval_")
                out.append(
                    HealthAlert(
                        "eval_worse",
                        event.step,
                        f"{name} got worse {self.worse_evals} evaluations in a row (now {value:.4g} at step "
                        f"{event.step}): the model may be overfitting",
                    )
                )
        self._evals.append(float(value))
        return out


def health_alerts(events: Iterable[RunEvent], **thresholds: float) -> list[HealthAlert]:
    """Every alert a whole run raises (for a finished run's replay)."""
    monitor = HealthMonitor(**thresholds)  # type: ignore[arg-type]
    return monitor.feed(events)


def _jump_over(recent: deque[float], value: float | None, factor: float) -> float | None:
    """The recent median when `value` is above `factor` times it (once five values are known), else None; `value`
    then joins the recent ones."""
    if value is None:
        return None
    median = statistics.median(recent) if len(recent) >= 5 else 0.0
    recent.append(value)
    return median if median > 0 and value > factor * median else None
