"""Print a fingerprint of each math library's results, to compare CPUs and numerics profiles.

    BOOK_NUMERICS=portable python tools/numerics_fingerprint.py    # or native
    qemu-x86_64 -cpu Haswell .venv/bin/python tools/numerics_fingerprint.py   # an Intel CPU

Each line is one library's typical work on fixed inputs and a hash of the result's bytes. Under
the portable profile (``helpers.runtime.PORTABLE_NUMERICS``) every x86-64 CPU should print the
same lines; under ``native`` they differ wherever a library dispatches by CPU. As pytest does for
notebook kernels, the profile is applied here and the libraries are measured in a child process
that starts under it (NumPy and OpenBLAS read their variables when they load).

``tools/regenerate_outputs.py`` stores the fingerprint of the machine that wrote the outputs in
``data/numerics_fingerprint.txt``; ``pytest`` measures this machine's and compares the notebooks
strictly only where the two are equal (``conftest.py``). Lines of what the book does not use
(plain ``torch.sqrt``, unfused Adam; their bits depend on the CPU's vendor under every profile)
are printed for comparison and ignored there.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.linalg.blas
import torch

from helpers.runtime import apply_numerics_profile, book_threads, seed_everything

STORED_FILE = Path(__file__).resolve().parents[1] / "data" / "numerics_fingerprint.txt"
"""The fingerprint of the machine and profile that wrote the notebooks' stored outputs."""

NOT_USED_BY_THE_BOOK = (
    "torch sqrt (MKL VML or ATen)",
    "10 steps of Adam unfused (torch.sqrt)",
)
"""Lines whose bits differ between CPU vendors under every profile; the book avoids these."""


def digest(array) -> str:
    data = array.detach().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16]


def optimizer_steps(make_optimizer) -> torch.Tensor:
    """The weights of a small MLP after 10 steps of an optimizer on fixed data."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    inputs, labels = torch.randn(256, 64), torch.randint(0, 10, (256,))
    optimizer = make_optimizer(model.parameters())
    for _ in range(10):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def short_training(
    model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """The weights after 15 steps of fused Adam with gradient clipping, as the chapters train."""
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, fused=True)
    for _ in range(15):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


class LastStep(torch.nn.Module):
    """A recurrent layer over embedded tokens, classified from its last step."""

    def __init__(self, cell: type[torch.nn.Module]) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(20, 16)
        self.cell = cell(16, 32, batch_first=True)
        self.head = torch.nn.Linear(32, 20)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.cell(self.embed(tokens))[0][:, -1])


def print_fingerprints() -> None:
    """Hash each library's result; run in a process that loaded the libraries under the profile."""
    seed_everything(0)
    rng = np.random.default_rng(0)
    x = torch.randn(64, 256)
    lstm = torch.nn.LSTM(32, 64, batch_first=True)
    conv = torch.nn.Conv2d(3, 16, 3)
    image = torch.randn(8, 3, 28, 28)
    a, b = rng.standard_normal((200, 300)), rng.standard_normal((300, 100))
    positive = torch.rand(10_000) * 3
    results = {
        "torch matmul (MKL)": x @ torch.randn(256, 128),
        "torch softmax, exp, sum (ATen)": torch.softmax(x, dim=1).exp().sum(dim=0),
        "torch conv2d (oneDNN)": conv(image),
        "torch LSTM (oneDNN/MKL)": lstm(torch.randn(8, 50, 32))[0],
        "numpy exp, log, sum (NumPy SIMD)": np.log1p(np.exp(-np.abs(a))).sum(axis=1),
        "numpy matmul (OpenBLAS)": a @ b,
        "scipy sgemm (OpenBLAS)": scipy.linalg.blas.sgemm(1.0, a.astype(np.float32), b),
    }
    for name in ("exp", "log", "tanh", "sigmoid", "erf", "rsqrt", "sqrt"):
        results[f"torch {name} (MKL VML or ATen)"] = getattr(torch, name)(positive)
    results["torch sqrt in float64, rounded to float32"] = positive.double().sqrt().float()
    optimizers = {
        "SGD momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
        "Adam fused (the book's)": lambda p: torch.optim.Adam(p, lr=1e-2, fused=True),
        "AdamW fused": lambda p: torch.optim.AdamW(p, lr=1e-2, fused=True),
        "Adam unfused (torch.sqrt)": lambda p: torch.optim.Adam(p, lr=1e-2),
    }
    for name, make in optimizers.items():
        results[f"10 steps of {name}"] = optimizer_steps(make)
    tokens, targets = torch.randint(0, 20, (32, 30)), torch.randint(0, 20, (32,))
    for cell in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU):
        torch.manual_seed(0)
        results[f"{cell.__name__} training, fused Adam"] = short_training(
            LastStep(cell), tokens, targets
        )
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(128, 10),
    )
    results["CNN + BatchNorm training, fused Adam"] = short_training(
        cnn, torch.randn(64, 1, 8, 8), torch.randint(0, 10, (64,))
    )
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, dropout=0.0)
    transformer = torch.nn.Sequential(layer, torch.nn.Flatten(), torch.nn.Linear(320, 10))
    results["Transformer layer training, fused Adam"] = short_training(
        transformer, torch.randn(16, 10, 32), torch.randint(0, 10, (16,))
    )
    for name, value in results.items():
        print(f"{digest(value)}  {name}")


def measure() -> dict[str, str]:
    """This machine's fingerprint under the current profile: each line's label and its hash.

    ``profile`` and ``threads`` are lines too, since either changes the bits.
    """
    profile = apply_numerics_profile()
    threads = str(book_threads())
    lines = subprocess.run(
        [sys.executable, __file__, "--measure"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {"profile": profile, "threads": threads} | parse(lines)


def parse(lines: list[str]) -> dict[str, str]:
    """Read the ``hash  label`` lines that :func:`print_fingerprints` prints, by label."""
    fingerprint = {}
    for line in lines:
        value, _, label = line.partition("  ")
        fingerprint[label] = value
    return fingerprint


def write(fingerprint: dict[str, str], path: Path) -> None:
    """Store a fingerprint: ``profile`` and ``threads`` lines, then the ``hash  label`` lines."""
    text = [f"profile {fingerprint['profile']}", f"threads {fingerprint['threads']}"]
    text += [f"{v}  {k}" for k, v in fingerprint.items() if k not in ("profile", "threads")]
    path.write_text("\n".join(text) + "\n")


def read(path: Path) -> dict[str, str]:
    """Load a fingerprint stored by :func:`write`."""
    lines = path.read_text().splitlines()
    fingerprint = {key: value for key, _, value in (line.partition(" ") for line in lines[:2])}
    return fingerprint | parse(lines[2:])


def differences(stored: dict[str, str], here: dict[str, str]) -> list[str]:
    """The labels whose values differ (or are in one only), but :data:`NOT_USED_BY_THE_BOOK`."""
    labels = dict.fromkeys([*stored, *here])
    return [
        label
        for label in labels
        if label not in NOT_USED_BY_THE_BOOK and stored.get(label) != here.get(label)
    ]


def main() -> None:
    if sys.argv[1:] == ["--measure"]:
        print_fingerprints()
        return
    fingerprint = measure()
    print(f"profile {fingerprint.pop('profile')}\nthreads {fingerprint.pop('threads')}")
    for label, value in fingerprint.items():
        note = "  (not used by the book)" if label in NOT_USED_BY_THE_BOOK else ""
        print(f"{value}  {label}{note}")


if __name__ == "__main__":
    main()
