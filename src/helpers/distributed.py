"""Data-parallel training on several processes with ``torchrun``, and a run to try it on.

The :class:`~helpers.Trainer` trains data-parallel by itself when ``torchrun`` starts it (one
process per GPU with NCCL, or per CPU with gloo). This module launches such runs from Python
(:func:`torchrun`) and is itself a small training script (``python -m helpers.distributed``)
that trains a fixed MLP on the digits and writes its per-epoch losses as JSON, so that one
process and several can be compared. The chapter "Efficient and distributed training" and
``tests/test_training.py`` use it.

    python -m helpers.distributed out.json                      # one process, global batch 64
    torchrun --standalone --nproc_per_node=2 -m helpers.distributed out.json   # two, 32 each
    torchrun ... -m helpers.distributed out.json --nan-in-process 1  # process 1 meets a NaN
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .data import load_digits_split
from .models import MLP
from .runtime import seed_everything
from .training import Trainer

GLOBAL_BATCH = 64
"""Rows per optimizer step, over all processes together."""


def torchrun(
    args: Sequence[str], nproc: int = 2, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``torchrun --standalone --nproc_per_node=nproc ARGS`` on the CPU; its output as text.

    Each process gets one thread (``OMP_NUM_THREADS=1``) and ``BOOK_DEVICE=cpu``. The call
    does not raise when the run fails: look at ``returncode`` and ``stderr``. A run still going
    after ``timeout`` seconds is killed, workers included, and ``TimeoutExpired`` raised.
    """
    launcher = Path(sys.executable).parent / "torchrun"
    if not launcher.exists():
        raise FileNotFoundError(f"torchrun is not installed next to {sys.executable}")
    env = {**os.environ, "BOOK_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    command = [str(launcher), "--standalone", f"--nproc_per_node={nproc}", *args]
    # A session of its own, so that a run past its timeout is killed with all its workers
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def digits_data(nan_row: int | None = None) -> TensorDataset:
    """The digits' training split, scaled to [0, 1]; with ``nan_row``, that row holds a NaN."""
    split = load_digits_split(test_size=0.2, val_size=0.0, seed=0)
    X = torch.tensor(split.X_train / 16.0, dtype=torch.float32)
    if nan_row is not None:
        X[nan_row, 0] = float("nan")
    return TensorDataset(X, torch.tensor(split.y_train))


def train_digits(output: str | os.PathLike[str], epochs: int, nan_in_process: int | None) -> None:
    """Train the MLP on the digits and write ``{"world_size", "losses"}`` to ``output``.

    Batches are not shuffled and the last, partial one is dropped, so that under ``torchrun``
    the processes' shares of each global batch (rows ``rank``, ``rank + world_size``, ...) make
    up exactly the one process's batch. With
    ``nan_in_process=r``, row ``r`` (in process ``r``'s first batch) holds a NaN, and each
    process writes the error it raised to ``<output>.rank<r>.err`` before raising it.
    """
    seed_everything(0, threads=1)
    model = MLP(64, (32,), 10)
    trainer = Trainer(
        model,
        torch.optim.SGD(model.parameters(), lr=0.5),
        nn.CrossEntropyLoss(),
        device="cpu",
        progress=False,
    )
    loader = DataLoader(digits_data(nan_in_process), batch_size=GLOBAL_BATCH, drop_last=True)
    error = None
    try:
        losses = trainer.fit(loader, epochs=epochs)["loss"]
    except FloatingPointError as caught:
        error = str(caught)
    rank, world_size = trainer.rank, trainer.world_size
    trainer.close()
    if error is not None:
        Path(f"{output}.rank{rank}.err").write_text(error)
        raise FloatingPointError(error)
    if rank == 0:
        Path(output).write_text(json.dumps({"world_size": world_size, "losses": losses}))


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``OUTPUT [--epochs N] [--nan-in-process R]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="where process 0 writes the losses (JSON)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--nan-in-process", type=int, default=None, metavar="R")
    args = parser.parse_args(argv)
    train_digits(args.output, args.epochs, args.nan_in_process)


if __name__ == "__main__":
    main()
