"""Small reference models that several chapters reuse."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class MLP(nn.Sequential):
    """A multilayer perceptron: ``Linear -> ReLU (-> Dropout)`` per hidden layer, then ``Linear``.

    Args:
        in_features: size of each input vector (64 for the 8x8 digits).
        hidden: width of each hidden layer, e.g. ``(64, 64)``.
        out_features: number of outputs (class logits).
        dropout: dropout probability after each hidden activation; 0 disables it.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        dropout: float = 0.0,
    ) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
