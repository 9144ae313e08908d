"""Unit tests of helpers.data.windows: random and fixed windows of a token stream."""

import numpy as np
import pytest
import torch

from helpers.data.windows import RandomWindows, fixed_windows, random_window_loader

STREAM = np.arange(100, dtype=np.int64)  # token i is i, so a window shows where it starts


def test_a_window_is_its_input_and_the_same_shifted_by_one():
    windows = RandomWindows(STREAM, block_size=8)
    assert len(windows) == 92
    x, y = windows[5]
    assert x.tolist() == list(range(5, 13))
    assert y.tolist() == list(range(6, 14))
    x, y = windows[len(windows) - 1]  # the last window ends at the stream's last token
    assert y[-1].item() == 99


def test_random_windows_depend_on_the_seed_only():
    def starts(seed):
        loader = random_window_loader(STREAM, 8, batch_size=4, batches=5, seed=seed)
        return [x[:, 0].tolist() for x, _ in loader]

    first = starts(3)
    assert len(first) == 5 and all(len(batch) == 4 for batch in first)
    assert starts(3) == first != starts(4)
    torch.manual_seed(123)  # the global generator does not matter
    assert starts(3) == first


def test_fixed_windows_tile_the_stream_and_subsample_evenly():
    X, y = fixed_windows(STREAM, 10)
    assert X.shape == y.shape == (9, 10)  # starts 0, 10, ..., 80: each needs one more token
    assert X[:, 0].tolist() == list(range(0, 90, 10))
    assert np.array_equal(y, X + 1)
    X3, _ = fixed_windows(STREAM, 10, count=3)
    assert X3[:, 0].tolist() == [0, 40, 80]  # first, middle and last
    assert np.array_equal(fixed_windows(STREAM, 10, count=50)[0], X)


def test_a_stream_too_short_for_one_window_is_a_clear_error():
    with pytest.raises(ValueError, match="holds no window"):
        RandomWindows(STREAM[:8], block_size=8)
    with pytest.raises(ValueError, match="holds no window"):
        fixed_windows(STREAM[:8], 8)
    with pytest.raises(ValueError, match="at least 1"):
        fixed_windows(STREAM, 0)
