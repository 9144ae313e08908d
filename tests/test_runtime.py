"""Unit tests of helpers.runtime: seeding and device choice."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import environment_summary, get_device, seed_everything
from helpers.runtime import (
    PORTABLE_NUMERICS,
    apply_numerics_profile,
    is_x86_64,
    numerics_profile,
)


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


@pytest.fixture
def clean_numerics_env(monkeypatch):
    """Let a test change the profile's variables; monkeypatch restores them afterwards."""
    for name in (*PORTABLE_NUMERICS, "BOOK_NUMERICS", "BOOK_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.skipif(not is_x86_64(), reason="the portable profile applies to x86-64 only")
def test_portable_profile_sets_every_variable_and_native_removes_them(clean_numerics_env):
    assert apply_numerics_profile() == "portable"  # the default
    assert all(os.environ[k] == v for k, v in PORTABLE_NUMERICS.items())
    assert numerics_profile() == "portable"
    assert "numerics portable" in environment_summary(torch.device("cpu"))
    clean_numerics_env.setenv("BOOK_NUMERICS", "native")
    assert apply_numerics_profile() == "native"
    assert not any(k in os.environ for k in PORTABLE_NUMERICS)
    assert numerics_profile() == "native"


def test_a_child_process_gets_the_book_thread_count_for_openblas(clean_numerics_env):
    """OpenBLAS takes every core unless told otherwise when it loads; the profile tells it."""
    probe = (
        "import threadpoolctl\n"
        "info = threadpoolctl.threadpool_info()\n"
        "print(sorted({i['num_threads'] for i in info if i['internal_api'] == 'openblas'}))\n"
    )
    for threads in ("1", "2"):
        clean_numerics_env.setenv("BOOK_THREADS", threads)
        apply_numerics_profile()
        assert os.environ["OPENBLAS_NUM_THREADS"] == threads
        result = subprocess.run(
            [sys.executable, "-c", "import numpy\n" + probe], capture_output=True, text=True
        )
        assert result.stdout.split() == [f"[{threads}]"], result.stderr


def test_unknown_profile_is_a_clear_error(clean_numerics_env):
    with pytest.raises(ValueError, match="BOOK_NUMERICS to one of portable, native"):
        apply_numerics_profile("fast")


@pytest.mark.skipif(not is_x86_64(), reason="the portable profile applies to x86-64 only")
def test_a_child_process_takes_the_portable_code_paths(clean_numerics_env):
    """What a notebook kernel started after apply_numerics_profile() finds."""
    apply_numerics_profile("portable")
    probe = (
        "import torch\n"
        "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
        "print(torch.backends.cpu.get_cpu_capability())\n"
        "print(any(__cpu_features__[f] for f in __cpu_dispatch__))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.split() == ["DEFAULT", "False"], result.stderr
