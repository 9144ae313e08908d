"""Unit tests of helpers.runtime: seeding and device choice."""

import random

import numpy as np
import pytest
import torch

from helpers import environment_summary, get_device, seed_everything


def draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), torch.rand(1).item()  # noqa: NPY002


def test_seed_everything_repeats_every_generator():
    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first


def test_seed_everything_fixes_the_thread_count(monkeypatch):
    seed_everything(0, threads=1)
    assert torch.get_num_threads() == 1
    monkeypatch.setenv("BOOK_THREADS", "2")
    seed_everything(0)
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match="at least 1"):
        seed_everything(0, threads=0)


def test_book_device_overrides_the_default(monkeypatch):
    monkeypatch.setenv("BOOK_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv("BOOK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_device("cuda")


def test_environment_summary_names_the_device():
    assert "device cpu" in environment_summary(torch.device("cpu"))
