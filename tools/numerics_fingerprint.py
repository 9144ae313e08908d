"""Print a fingerprint of each math library's results, to compare CPUs and numerics profiles.

    BOOK_NUMERICS=portable python tools/numerics_fingerprint.py    # or native
    qemu-x86_64 -cpu Haswell .venv/bin/python tools/numerics_fingerprint.py   # an Intel CPU

Each line is one library's typical work on fixed inputs and a hash of the result's bytes. Under
the portable profile (``helpers.runtime.PORTABLE_NUMERICS``) every x86-64 CPU should print the
same lines; under ``native`` they differ wherever a library dispatches by CPU. The profile is
applied here, before NumPy and PyTorch load, exactly as pytest applies it to notebook kernels.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from helpers.runtime import apply_numerics_profile  # noqa: E402

PROFILE = apply_numerics_profile()

import numpy as np  # noqa: E402
import scipy.linalg.blas  # noqa: E402
import torch  # noqa: E402


def digest(array) -> str:
    data = array.detach().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16]


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
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
    print(f"profile {PROFILE}")
    for name, value in results.items():
        print(f"{digest(value)}  {name}")


if __name__ == "__main__":
    main()
