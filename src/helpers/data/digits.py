"""scikit-learn's handwritten digits (bundled, offline), split for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Split:
    """Features ``X_*`` (float32, one row of 64 pixels per image, values 0-16) and int64 labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(test_size: float = 0.2, val_size: float = 0.2, seed: int = 0) -> Split:
    """The 1,797 8x8 digit images, split train/validation/test, stratified by class.

    ``test_size`` is a fraction of all images; ``val_size`` a fraction of what is left.
    Pixels are left raw (0-16): scaling is a preprocessing step the chapters show.
    """
    for name, value in (("test_size", test_size), ("val_size", val_size)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    digits = load_digits()
    X = digits.data.astype(np.float32)
    y = digits.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    if val_size == 0.0:
        empty_X, empty_y = X[:0], y[:0]
        return Split(X_rest, y_rest, empty_X, empty_y, X_test, y_test)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size, random_state=seed, stratify=y_rest
    )
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)
