"""What reading the loss back every step costs: a host-device synchronization per step.

``loss.item()`` copies a number from the device to Python, so it waits for every kernel queued
before it; on a GPU that stalls the queue once per step, and a small model spends most of its
time waiting. The same small MLP is trained on batches that already live on the device three
ways, interleaved, ``--repeats`` times:

* ``item per step``: the running loss read with ``loss.item()`` every step (the Trainer's loop
  before it kept the loss on the device);
* ``on device``: the running loss summed on the device and checked for non-finite values every
  ``NONFINITE_CHECK_EVERY`` steps (what the Trainer does now);
* ``Trainer``: :class:`helpers.Trainer` itself, progress bar off.

It prints the median steps per second and the ratio to ``item per step``. On a CPU the three
should be equal (there is no queue to stall); on a GPU the difference is the point.

    python benchmarks/trainer_sync.py                  # the default device (CUDA if present)
    python benchmarks/trainer_sync.py --device cpu
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from helpers import MLP, Trainer, get_device, seed_everything
from helpers.training import NONFINITE_CHECK_EVERY

Batches = list[tuple[torch.Tensor, torch.Tensor]]


def make_batches(steps: int, batch_size: int, device: torch.device) -> Batches:
    """``steps`` random batches of 64 features and 10 classes, already on ``device``."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(steps, batch_size, 64, generator=generator)
    y = torch.randint(10, (steps, batch_size), generator=generator)
    return [(X[i].to(device), y[i].to(device)) for i in range(steps)]


def hand_loop(batches: Batches, device: torch.device, read_every_step: bool) -> Callable[[], None]:
    """One epoch of a hand-written loop that reads the loss every step, or keeps it on device."""
    model = MLP(64, (64, 64), 10).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> None:
        total = 0.0 if read_every_step else torch.zeros((), device=device)
        for step, (inputs, targets) in enumerate(batches, start=1):
            loss = loss_fn(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if read_every_step:
                total += loss.item()
            else:
                total += loss.detach()
                if step % NONFINITE_CHECK_EVERY == 0 and not torch.isfinite(total).item():
                    raise FloatingPointError(f"loss became non-finite by step {step}")
        float(total)

    return epoch


def trainer_loop(batches: Batches, device: torch.device) -> Callable[[], None]:
    """One more epoch of :class:`helpers.Trainer` over the same batches."""
    model = MLP(64, (64, 64), 10)
    trainer = Trainer(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-3, fused=True),
        nn.CrossEntropyLoss(),
        device=device,
        bf16=False,
        progress=False,
    )
    return lambda: trainer.fit(batches, epochs=trainer.epoch + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: auto)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    seed_everything(0, threads=args.threads)
    device = get_device(args.device)
    batches = make_batches(args.steps, args.batch_size, device)
    runners = {
        "item per step": hand_loop(batches, device, read_every_step=True),
        "on device": hand_loop(batches, device, read_every_step=False),
        "Trainer": trainer_loop(batches, device),
    }
    for run in runners.values():  # warm-up: allocator, CUDA kernels
        run()
    rates: dict[str, list[float]] = {name: [] for name in runners}
    order = list(runners)
    for _ in range(args.repeats):
        for name in order:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            runners[name]()
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[name].append(args.steps / (time.perf_counter() - start))
        order.reverse()

    print(
        f"MLP 64-64-64-10, batch {args.batch_size}, {args.steps} steps per run, "
        f"{args.repeats} runs, device {device}, torch {torch.__version__}"
    )
    print(f"{'loop':<15}{'steps/s (median)':>18}{'vs item per step':>18}")
    base = rates["item per step"]
    for name, values in rates.items():
        ratio = statistics.median(r / b for r, b in zip(values, base, strict=True))
        print(f"{name:<15}{statistics.median(values):>18,.0f}{ratio:>18.3f}")


if __name__ == "__main__":
    main()
