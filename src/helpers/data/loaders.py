"""Turn arrays into PyTorch data loaders."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loader(
    X: np.ndarray, y: np.ndarray, batch_size: int = 64, shuffle: bool = False
) -> DataLoader:
    """A loader over ``(X[i], y[i])`` pairs; labels of an integer dtype become int64.

    Shuffling draws from PyTorch's global generator, so :func:`helpers.seed_everything` fixes
    the order and a :class:`helpers.Trainer` checkpoint restores it exactly.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    features = torch.as_tensor(np.asarray(X, dtype=np.float32))
    labels = torch.as_tensor(y)
    if not labels.is_floating_point():
        labels = labels.long()
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=shuffle)
