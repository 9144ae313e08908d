import numpy as np
import pytest

from helpers.baselines import C_GRID, classical_baselines
from helpers.data import load_digits_split


def test_baselines_choose_C_on_validation_and_score_the_digits_well():
    split = load_digits_split(test_size=0.2, val_size=0.2, seed=0)
    X = [x / 16.0 for x in (split.X_train, split.X_val, split.X_test)]
    results = classical_baselines(X[0], split.y_train, X[1], split.y_val, X[2], split.y_test)
    assert [r.name for r in results] == ["logistic regression", "RBF SVM"]
    for r in results:
        assert r.C in C_GRID
        assert 0.9 < r.val_accuracy <= 1 and 0.9 < r.test_accuracy <= 1


def test_ties_go_to_the_stronger_regularization():
    # Two separable clusters: every C classifies validation perfectly, so the smallest wins
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-5, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    y = np.repeat([0, 1], 20)
    results = classical_baselines(X, y, X, y, X, y, grid=(10.0, 1.0))
    assert all(r.C == 1.0 and r.val_accuracy == 1.0 for r in results)


def test_an_empty_grid_is_refused():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="empty"):
        classical_baselines(X, y, X, y, X, y, grid=())
