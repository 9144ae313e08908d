"""Seeding, device choice and thread settings shared by every chapter.

A chapter's setup cell calls :func:`seed_everything` once and :func:`get_device` once; after
that, runs on the same machine print the same numbers.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

DEFAULT_THREADS = 2
"""CPU threads for PyTorch. Results change bits with the thread count, so the book fixes it."""

KNOWN_DEVICES = ("cpu", "cuda", "mps")


def seed_everything(seed: int = 0, threads: int | None = None) -> None:
    """Seed Python, NumPy and PyTorch, and fix PyTorch's CPU thread count.

    ``threads`` defaults to the ``BOOK_THREADS`` environment variable, else
    :data:`DEFAULT_THREADS`: an LSTM or CNN gives different bits on 1 and 2 threads, so a
    fixed count is what makes the stored outputs reproducible on any machine.
    """
    if threads is None:
        threads = int(os.environ.get("BOOK_THREADS", DEFAULT_THREADS))
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (libraries draw from the legacy global generator)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    # cuBLAS needs this workspace setting to be deterministic; harmless elsewhere.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def get_device(name: str | None = None) -> torch.device:
    """Return the device to compute on: ``name``, else ``BOOK_DEVICE``, else the best available.

    The best available is CUDA, then Apple's MPS, then the CPU. An unknown name, or a device
    this machine does not have, raises a ``ValueError`` that says what is available.
    """
    requested = name if name is not None else os.environ.get("BOOK_DEVICE")
    if requested is None or requested.strip() == "":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    kind = requested.strip().lower().split(":")[0]
    if kind not in KNOWN_DEVICES:
        raise ValueError(
            f"unknown device {requested!r}: use one of {', '.join(KNOWN_DEVICES)} "
            f"(optionally with an index, such as 'cuda:1'); available here: {available_devices()}"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} requested, but CUDA is not available here")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {requested!r} requested, but MPS is not available here")
    return torch.device(requested.strip().lower())


def available_devices() -> str:
    """Name the devices PyTorch can use on this machine, for messages."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append(f"cuda ({torch.cuda.device_count()} GPU)")
    if torch.backends.mps.is_available():
        found.append("mps")
    return ", ".join(found)


def environment_summary(device: torch.device | None = None) -> str:
    """One line naming Python, PyTorch, the device and the thread count."""
    device = device if device is not None else get_device()
    where = device.type
    if device.type == "cuda":
        where = f"cuda ({torch.cuda.get_device_name(device)})"
    return (
        f"Python {platform.python_version()} | torch {torch.__version__} | "
        f"device {where} | {torch.get_num_threads()} CPU threads"
    )
