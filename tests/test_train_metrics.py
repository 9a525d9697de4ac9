"""Accuracy, macro-F1 and the confusion matrix, checked by hand and against scikit-learn where it is installed."""

from __future__ import annotations

import random

import pytest

from hftui.train.metrics import argmax_rows, classification_report, confusion_matrix


def test_confusion_matrix_rows_are_true_labels() -> None:
    assert confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3) == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_report_by_hand() -> None:
    report = classification_report([0, 0, 1, 1], [0, 1, 1, 1], ["neg", "pos"])
    assert report.accuracy == 0.75
    # neg: p=1, r=0.5, f1=2/3; pos: p=2/3, r=1, f1=0.8
    assert report.f1 == pytest.approx((2 / 3, 0.8))
    assert report.f1_macro == pytest.approx((2 / 3 + 0.8) / 2)
    assert report.support == (2, 2)
    as_json = report.to_json()
    assert as_json["confusion_matrix"] == [[1, 1], [0, 2]] and as_json["count"] == 4
    assert as_json["per_class"]["pos"]["recall"] == 1.0


def test_a_class_never_predicted_scores_zero_not_an_error() -> None:
    report = classification_report([0, 1, 2], [0, 0, 0], ["a", "b", "c"])
    assert report.f1[1] == 0.0 and report.f1[2] == 0.0
    assert report.f1_macro == pytest.approx(0.5 / 3)


def test_argmax_of_lists_and_arrays() -> None:
    np = pytest.importorskip("numpy")
    assert argmax_rows([[0.1, 0.9], [2.0, -1.0]]) == [1, 0]
    assert argmax_rows(np.array([[0.1, 0.9, 0.0], [0.0, 0.0, 3.0]])) == [1, 2]


def test_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(3)
    true = [rng.randrange(4) for _ in range(300)]
    predicted = [t if rng.random() < 0.6 else rng.randrange(4) for t in true]
    report = classification_report(true, predicted, ["a", "b", "c", "d"])
    assert report.accuracy == pytest.approx(metrics.accuracy_score(true, predicted))
    assert report.f1_macro == pytest.approx(metrics.f1_score(true, predicted, average="macro"))
    assert [list(r) for r in report.confusion] == metrics.confusion_matrix(true, predicted).tolist()
