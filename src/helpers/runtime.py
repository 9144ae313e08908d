"""Seeding, device choice, thread settings and the numerics profile shared by every chapter.

A chapter's setup cell calls :func:`seed_everything` once and :func:`get_device` once; after
that, runs on the same machine print the same numbers. Runs on *different* x86-64 CPUs print the
same numbers too when the portable numerics profile (:data:`PORTABLE_NUMERICS`) was applied to
the environment before the kernel started, as ``pytest`` and the output-regeneration script do.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

DEFAULT_THREADS = 1
"""CPU threads for PyTorch. Results change bits with the thread count, so the book fixes it.

One, because the book's models are small: on a shared 2-core machine a second thread made them
several times slower (DESIGN's traps), and ``pytest`` runs one notebook kernel per core.
"""

KNOWN_DEVICES = ("cpu", "cuda", "mps")

NUMERICS_PROFILES = ("portable", "native")
"""Values of ``BOOK_NUMERICS``: one code path on every x86-64 CPU, or each library's fastest."""

PORTABLE_NUMERICS = {
    # PyTorch's BLAS is MKL. Its AVX2 and AVX-512 branches are reproducible only on Intel CPUs
    # (elsewhere MKL falls back to automatic dispatch); COMPATIBLE, SSE2 without the approximate
    # rcpps/rsqrtps instructions, is the one branch that is the same on Intel and AMD. It does
    # not govern MKL's vector math: torch.sqrt stays vendor-dependent (DESIGN's traps), which is
    # why the book's Adam is the fused one.
    "MKL_CBWR": "COMPATIBLE",
    # PyTorch's own vectorized kernels (elementwise ops, reductions, softmax) exist in DEFAULT,
    # AVX2 and AVX-512 builds and are picked by CPU; DEFAULT runs everywhere.
    "ATEN_CPU_CAPABILITY": "default",
    # oneDNN (PyTorch's convolutions and RNNs, TensorFlow's kernels) generates code at run time
    # for the widest vector ISA it finds; every x86-64 CPU of the last fifteen years has SSE4.1.
    # Capped at AVX2 instead, an LSTM still gave other bits on an (emulated) Intel Haswell and
    # AMD Rome than on an AMD EPYC host (tools/numerics_fingerprint.py); at SSE4.1 all agreed.
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    # NumPy dispatches loops (exp, log, sums, sorting) to AVX2 or AVX-512 versions; disabling the
    # dispatch targets leaves its X86_V2 baseline. Unknown targets are ignored on older CPUs.
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    # OpenBLAS (NumPy's and SciPy's BLAS, used by gensim and scikit-learn) picks kernels and
    # block sizes per core type; fixing the type fixes both (every x86-64 CPU since 2013 runs it).
    "OPENBLAS_CORETYPE": "Haswell",
}
"""Environment variables that make the math libraries take one code path on any x86-64 CPU.

Each library reads its variable once, when it loads, so they must be in the environment of the
process *before* it imports NumPy or PyTorch: set them with :func:`apply_numerics_profile` in the
parent process (pytest, the regeneration script, a shell) that starts the notebook kernels.
"""


def seed_everything(seed: int = 0, threads: int | None = None) -> None:
    """Seed Python, NumPy and PyTorch, and fix PyTorch's CPU thread count.

    ``threads`` defaults to the ``BOOK_THREADS`` environment variable, else
    :data:`DEFAULT_THREADS`: an LSTM or CNN gives different bits on 1 and 2 threads, so a
    fixed count is, with the portable numerics profile, what makes the stored outputs
    reproducible on any x86-64 machine.
    """
    if threads is None:
        threads = book_threads()
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


def is_x86_64() -> bool:
    """Whether this machine is x86-64, the only kind the portable profile applies to."""
    return platform.machine().lower() in ("x86_64", "amd64")


def apply_numerics_profile(profile: str | None = None) -> str:
    """Set ``os.environ`` for the numerics ``profile`` and return the profile that is in effect.

    ``profile`` defaults to ``BOOK_NUMERICS``, else ``"portable"``. ``"portable"`` sets
    :data:`PORTABLE_NUMERICS`; ``"native"`` removes them so each library takes its fastest path.
    On a machine that is not x86-64 (Apple silicon, say) the variables have no meaning and the
    profile in effect is ``"native"``. Call it before NumPy or PyTorch loads in the processes it
    should govern: child processes started afterwards (notebook kernels) inherit it.

    Under either profile it also sets ``OPENBLAS_NUM_THREADS`` to :func:`book_threads`:
    OpenBLAS (the BLAS of NumPy, SciPy and scikit-learn) reads its thread count once, when it
    loads, and left to itself takes every core, which changes its results' bits with the
    machine's core count and, on shared cores, made a logistic regression 60 times slower.
    """
    if profile is None:
        profile = os.environ.get("BOOK_NUMERICS") or "portable"
    profile = profile.strip().lower()
    if profile not in NUMERICS_PROFILES:
        raise ValueError(
            f"unknown numerics profile {profile!r}: set BOOK_NUMERICS to one of "
            f"{', '.join(NUMERICS_PROFILES)}"
        )
    if profile == "portable" and not is_x86_64():
        profile = "native"
    for name, value in PORTABLE_NUMERICS.items():
        if profile == "portable":
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    os.environ["BOOK_NUMERICS"] = profile
    os.environ["OPENBLAS_NUM_THREADS"] = str(book_threads())
    return profile


def book_threads() -> int:
    """The thread count the book computes with: ``BOOK_THREADS``, else :data:`DEFAULT_THREADS`."""
    threads = int(os.environ.get("BOOK_THREADS", DEFAULT_THREADS))
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    return threads


def numerics_profile() -> str:
    """The profile this process runs under: ``"portable"`` only if every variable is set."""
    if is_x86_64() and all(os.environ.get(k) == v for k, v in PORTABLE_NUMERICS.items()):
        return "portable"
    return "native"


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
    """One line naming Python, PyTorch, the device, the thread count and the numerics profile."""
    device = device if device is not None else get_device()
    where = device.type
    if device.type == "cuda":
        where = f"cuda ({torch.cuda.get_device_name(device)})"
    return (
        f"Python {platform.python_version()} | torch {torch.__version__} | "
        f"device {where} | {torch.get_num_threads()} CPU threads | numerics {numerics_profile()}"
    )
