"""Classification metrics in plain Python: accuracy, macro-F1 and the confusion matrix.

Written here rather than taken from scikit-learn or `evaluate`, which hftui does not depend on; the
definitions are scikit-learn's (macro-F1 averages the per-class F1 over every class, a class never
predicted nor present scoring 0 only when it is listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix (rows: true)."""

    labels: tuple[str, ...]
    accuracy: float
    f1_macro: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]

    @property
    def count(self) -> int:
        """How many examples were scored."""
        return sum(self.support)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON values (for events.jsonl, metrics.json and the card)."""
        columns = zip(self.labels, self.precision, self.recall, self.f1, self.support, strict=True)
        return {
            "labels": list(self.labels),
            "accuracy": self.accuracy,
            "f1_macro": self.f1_macro,
            "per_class": {label: {"precision": p, "recall": r, "f1": f, "support": s} for label, p, r, f, s in columns},
            "confusion_matrix": [list(row) for row in self.confusion],
            "count": self.count,
        }


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], n_classes: int) -> list[list[int]]:
    """counts[t][p]: how many examples of class t were predicted as p (ids outside 0..n-1 are ignored)."""
    counts = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(true, predicted, strict=True):
        if 0 <= t < n_classes and 0 <= p < n_classes:
            counts[t][p] += 1
    return counts


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def classification_report(true: Sequence[int], predicted: Sequence[int], labels: Sequence[str]) -> ClassificationReport:
    """Every metric for predicted class ids against true ones; `labels` names the ids 0..n-1."""
    n = len(labels)
    counts = confusion_matrix(true, predicted, n)
    total = sum(sum(row) for row in counts)
    correct = sum(counts[i][i] for i in range(n))
    precision, recall, f1, support = [], [], [], []
    for i in range(n):
        tp = counts[i][i]
        predicted_i = sum(counts[t][i] for t in range(n))
        actual_i = sum(counts[i])
        p = _ratio(tp, predicted_i)
        r = _ratio(tp, actual_i)
        precision.append(p)
        recall.append(r)
        f1.append(_ratio(2 * p * r, p + r))
        support.append(actual_i)
    return ClassificationReport(
        labels=tuple(labels),
        accuracy=_ratio(correct, total),
        f1_macro=_ratio(sum(f1), n),
        precision=tuple(precision),
        recall=tuple(recall),
        f1=tuple(f1),
        support=tuple(support),
        confusion=tuple(tuple(row) for row in counts),
    )


def argmax_rows(logits: Any) -> list[int]:
    """The index of the largest value in each row of a 2-D array-like (numpy array or nested lists)."""
    if hasattr(logits, "argmax") and getattr(logits, "ndim", 0) == 2:
        return [int(i) for i in logits.argmax(axis=-1).tolist()]
    rows = logits.tolist() if hasattr(logits, "tolist") else logits
    return [max(range(len(row)), key=row.__getitem__) for row in rows]


def predictions_of(output: Any) -> Any:
    """The logits of an EvalPrediction/PredictionOutput's `predictions` (a tuple's first element)."""
    return output[0] if isinstance(output, tuple | list) else output


def trainer_metrics(labels: Sequence[str]) -> Any:
    """A `compute_metrics` for the Trainer: accuracy and macro-F1 of each evaluation."""

    def compute(prediction: Any) -> dict[str, float]:
        logits = predictions_of(prediction.predictions)
        true = [int(x) for x in (prediction.label_ids.tolist() if hasattr(prediction.label_ids, "tolist") else [])]
        report = classification_report(true, argmax_rows(logits), labels)
        return {"accuracy": report.accuracy, "f1_macro": report.f1_macro}

    return compute
