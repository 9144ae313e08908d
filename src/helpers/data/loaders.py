"""Turn arrays into PyTorch data loaders."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loader(
    X: np.ndarray, y: np.ndarray, batch_size: int = 64, shuffle: bool = False
) -> DataLoader:
    """A loader over ``(X[i], y[i])`` pairs.

    Features become float32, except integer features (token ids, for embedding layers), which
    become int64 like integer labels; float labels stay float (regression targets).

    Shuffling draws from PyTorch's global generator, so :func:`helpers.seed_everything` fixes
    the order and a :class:`helpers.Trainer` checkpoint restores it exactly.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    features = torch.as_tensor(np.asarray(X))
    features = features.long() if _is_integer(features) else features.float()
    labels = torch.as_tensor(y)
    if _is_integer(labels):
        labels = labels.long()
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=shuffle)


def _is_integer(values: torch.Tensor) -> bool:
    return not values.is_floating_point() and not values.is_complex()
