"""Tests of helpers.efficiency: accumulation and checkpointing change memory, not the result."""

import copy

import pytest
import torch
from torch import nn

from helpers import seed_everything
from helpers.efficiency import Checkpointed, count_saved_bytes, measure_steps


def make_model() -> nn.Sequential:
    seed_everything(0)
    hidden = [layer for _ in range(3) for layer in (nn.Linear(32, 32), nn.Tanh())]
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), *hidden, nn.Linear(32, 3))


def make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(64, 8, generator=generator), torch.randint(3, (64,), generator=generator)


def test_saved_bytes_are_counted_for_backward_only():
    layer = nn.Linear(8, 4)
    x = torch.randn(16, 8)
    with count_saved_bytes() as sizes:
        layer(x)
    assert sum(sizes) >= x.numel() * 4  # the input is saved to compute the weight's gradient
    with torch.no_grad(), count_saved_bytes() as sizes:
        layer(x)
    assert sizes == []


def test_accumulation_gives_the_same_update_with_a_fraction_of_the_activations():
    X, y = make_batch()
    model = make_model()
    whole = measure_steps(copy.deepcopy(model), X, y, nn.functional.cross_entropy, steps=3)
    parts = measure_steps(model, X, y, nn.functional.cross_entropy, steps=3, accumulation=4)
    assert parts.loss == pytest.approx(whole.loss, rel=1e-5)
    assert parts.saved_bytes * 4 == pytest.approx(whole.saved_bytes, rel=0.01)


def test_checkpointing_keeps_the_result_and_saves_less():
    X, y = make_batch()
    model = make_model()
    plain = measure_steps(copy.deepcopy(model), X, y, nn.functional.cross_entropy, steps=3)
    # the three hidden layers' activations are recomputed: only their input and output are kept
    wrapped = nn.Sequential(*model[:2], Checkpointed(nn.Sequential(*model[2:8])), model[8])
    kept = measure_steps(wrapped, X, y, nn.functional.cross_entropy, steps=3)
    assert kept.loss == plain.loss
    assert kept.saved_bytes < 0.7 * plain.saved_bytes


def test_accumulation_must_divide_the_batch():
    X, y = make_batch()
    with pytest.raises(ValueError, match="accumulation must divide the batch of 64 rows"):
        measure_steps(make_model(), X, y, nn.functional.cross_entropy, steps=1, accumulation=5)
