import pytest
import torch

from helpers import MLP


def test_mlp_shapes_and_parameter_count():
    model = MLP(64, (64, 64), 10)
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    expected = (64 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_mlp_rejects_bad_dropout():
    with pytest.raises(ValueError, match="dropout"):
        MLP(4, (8,), 2, dropout=1.0)
