"""Print a fingerprint of each math library's results, to compare CPUs and numerics profiles.

    BOOK_NUMERICS=portable python tools/numerics_fingerprint.py    # or native
    qemu-x86_64 -cpu Haswell .venv/bin/python tools/numerics_fingerprint.py   # an Intel CPU

Each line is one library's typical work on fixed inputs and a hash of the result's bytes. Under
the portable profile (``helpers.runtime.PORTABLE_NUMERICS``) every x86-64 CPU should print the
same lines; under ``native`` they differ wherever a library dispatches by CPU. As pytest does for
notebook kernels, the profile is applied here and the libraries are measured in a child process
that starts under it (NumPy and OpenBLAS read their variables when they load).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import scipy.linalg.blas
import torch

from helpers.runtime import apply_numerics_profile, seed_everything


def digest(array) -> str:
    data = array.detach().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16]


def print_fingerprints() -> None:
    """Hash each library's result; run in a process that loaded the libraries under the profile."""
    seed_everything(0)
    rng = np.random.default_rng(0)
    x = torch.randn(64, 256)
    lstm = torch.nn.LSTM(32, 64, batch_first=True)
    conv = torch.nn.Conv2d(3, 16, 3)
    image = torch.randn(8, 3, 28, 28)
    a, b = rng.standard_normal((200, 300)), rng.standard_normal((300, 100))
    results = {
        "torch matmul (MKL)": x @ torch.randn(256, 128),
        "torch softmax, exp, sum (ATen)": torch.softmax(x, dim=1).exp().sum(dim=0),
        "torch conv2d (oneDNN)": conv(image),
        "torch LSTM (oneDNN/MKL)": lstm(torch.randn(8, 50, 32))[0],
        "numpy exp, log, sum (NumPy SIMD)": np.log1p(np.exp(-np.abs(a))).sum(axis=1),
        "numpy matmul (OpenBLAS)": a @ b,
        "scipy sgemm (OpenBLAS)": scipy.linalg.blas.sgemm(1.0, a.astype(np.float32), b),
    }
    for name, value in results.items():
        print(f"{digest(value)}  {name}")


def main() -> None:
    if sys.argv[1:] == ["--measure"]:
        print_fingerprints()
        return
    print(f"profile {apply_numerics_profile()}", flush=True)
    subprocess.run([sys.executable, __file__, "--measure"], check=True)


if __name__ == "__main__":
    main()
