"""Classical baselines a neural network has to beat on the same split.

A network's test accuracy means little alone: on the book's digits a linear model is already
near the top. :func:`classical_baselines` fits logistic regression and an RBF-kernel support
vector machine, chooses each one's regularization ``C`` on the validation set, and scores the
chosen model once on the test set, the same protocol the chapters follow for their networks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
"""Inverse regularization strengths tried on validation (four decades around the default 1)."""

BASELINES: dict[str, Callable[[float], ClassifierMixin]] = {
    "logistic regression": lambda c: LogisticRegression(C=c, max_iter=5000),
    "RBF SVM": lambda c: SVC(C=c),
}
"""Name -> a model for a given ``C``."""


@dataclass(frozen=True)
class BaselineResult:
    """One baseline: the ``C`` chosen on validation, its validation and test accuracy."""

    name: str
    C: float
    val_accuracy: float
    test_accuracy: float


def classical_baselines(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    grid: Sequence[float] = C_GRID,
) -> list[BaselineResult]:
    """Fit every model of :data:`BASELINES`, choose ``C`` on validation, score it on test.

    Ties in validation accuracy go to the smaller ``C`` (the stronger regularization).
    """
    if not grid:
        raise ValueError("the grid of C values is empty")
    results = []
    for name, make in BASELINES.items():
        val = {c: make(c).fit(X_train, y_train).score(X_val, y_val) for c in grid}
        best = max(sorted(grid), key=lambda c: val[c])  # max keeps the first of equals
        test = make(best).fit(X_train, y_train).score(X_test, y_test)
        results.append(BaselineResult(name, best, float(val[best]), float(test)))
    return results
