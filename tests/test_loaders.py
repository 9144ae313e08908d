import numpy as np
import pytest
import torch

from helpers.data import make_loader


def test_features_become_float32_and_class_labels_int64():
    X, y = make_loader(np.ones((4, 3)), np.array([0, 1, 1, 0]), batch_size=4).dataset[:]
    assert X.dtype == torch.float32
    assert y.dtype == torch.int64


def test_token_ids_stay_integers_for_embedding_layers():
    ids = np.arange(12).reshape(4, 3)
    X, y = make_loader(ids, ids + 1, batch_size=4).dataset[:]
    assert X.dtype == torch.int64
    assert torch.equal(X, torch.as_tensor(ids))
    assert y.dtype == torch.int64


def test_regression_targets_stay_float():
    _, y = make_loader(np.ones((2, 3)), np.array([0.5, 1.5]), batch_size=2).dataset[:]
    assert y.is_floating_point()


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        make_loader(np.ones((3, 1)), np.ones(2))
