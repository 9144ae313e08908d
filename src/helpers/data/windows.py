"""Windows of a token stream for training and scoring next-token language models.

A language model learns from windows of ``block_size + 1`` consecutive tokens: the first
``block_size`` are its input, the last ``block_size`` (the same shifted by one) its targets.
Training draws windows at random start positions (:func:`random_window_loader`); validation
and test use fixed, non-overlapping windows (:func:`fixed_windows`), so that every model is
scored on the same characters.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler


class RandomWindows(Dataset):
    """Item ``i``: the input ``ids[i : i + block_size]`` and its target, shifted by one."""

    def __init__(self, ids: np.ndarray, block_size: int) -> None:
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1, got {block_size}")
        if len(ids) <= block_size:
            raise ValueError(
                f"a stream of {len(ids)} tokens holds no window of {block_size + 1} tokens"
            )
        self.ids = torch.as_tensor(ids)
        self.block_size = block_size

    def __len__(self) -> int:
        return len(self.ids) - self.block_size

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        window = self.ids[i : i + self.block_size + 1]
        return window[:-1], window[1:]


def random_window_loader(
    ids: np.ndarray, block_size: int, batch_size: int, batches: int, seed: int
) -> DataLoader:
    """``batches`` batches of windows at random start positions, drawn with replacement.

    The start positions depend on ``seed`` only, so models trained with the same seed see the
    same windows in the same order; each pass over the loader (one ``Trainer`` epoch) draws
    ``batches`` new batches from the seeded generator.
    """
    windows = RandomWindows(ids, block_size)
    sampler = RandomSampler(
        windows,
        replacement=True,
        num_samples=batches * batch_size,
        generator=torch.Generator().manual_seed(seed),
    )
    return DataLoader(windows, batch_size=batch_size, sampler=sampler)


def fixed_windows(
    ids: np.ndarray, block_size: int, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of consecutive non-overlapping windows, or ``count`` evenly spaced.

    Returns two ``(windows, block_size)`` arrays; ``count=None`` keeps every window.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    starts = np.arange(0, len(ids) - block_size, block_size)
    if len(starts) == 0:
        raise ValueError(f"a stream of {len(ids)} tokens holds no window of {block_size + 1}")
    if count is not None and count < len(starts):
        starts = starts[np.linspace(0, len(starts) - 1, count).round().astype(int)]
    X = np.stack([ids[s : s + block_size] for s in starts])
    y = np.stack([ids[s + 1 : s + block_size + 1] for s in starts])
    return X, y
