"""Training-step cost of one small Transformer under each technique, including torch.compile.

The chapter "Efficient and distributed training" measures fp32, bf16 autocast, gradient
accumulation and activation checkpointing on the book's folk-tune Transformer; compiling with
``torch.compile`` takes tens of seconds on a CPU (Inductor generates and compiles C++), beyond a
chapter's budget, so it is measured here. Random token ids of the chapter's shape stand in for
the tunes (the cost does not depend on which ids they are). For each technique it prints the
median time per step over ``--repeats`` runs of ``--steps`` steps (after one warm-up run, which
for ``compile`` includes the compilation, printed separately), the activation memory, and the
loss after ``--steps`` steps from the same initial weights.

    python benchmarks/efficient_training.py                 # CUDA if present, else CPU
    python benchmarks/efficient_training.py --no-compile    # skip torch.compile
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from helpers import get_device, seed_everything
from helpers.efficiency import Checkpointed, measure_steps
from helpers.models import DecoderTransformer, next_token_loss

VOCAB, BLOCK, BATCH = 89, 64, 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: auto)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()

    seed_everything(0, threads=args.threads)
    device = get_device(args.device)
    ids = torch.randint(VOCAB, (BATCH, BLOCK + 1), generator=torch.Generator().manual_seed(0))
    inputs, targets = ids[:, :-1].to(device), ids[:, 1:].to(device)
    base = DecoderTransformer(VOCAB, BLOCK, d_model=64, n_heads=4, n_layers=2).to(device)
    checkpointed = copy.deepcopy(base)
    checkpointed.blocks = torch.nn.Sequential(*(Checkpointed(b) for b in checkpointed.blocks))
    # Each technique trains its own copy of the same initial weights
    variants = {
        "fp32": (copy.deepcopy(base), {}),
        "bf16 autocast": (copy.deepcopy(base), {"bf16": True}),
        "accumulation x4": (copy.deepcopy(base), {"accumulation": 4}),
        "checkpointing": (checkpointed, {}),
    }
    if not args.no_compile:
        variants["torch.compile"] = (torch.compile(copy.deepcopy(base)), {})

    print(f"DecoderTransformer d64 x2 layers, batch {BATCH}x{BLOCK}, device {device}")
    print(f"{'technique':<18}{'ms/step (median)':>18}{'activations MB':>16}{'loss':>10}")
    for name, (model, options) in variants.items():
        # Warm-up, from the initial weights: its last loss is the one compared
        start = time.perf_counter()
        first = measure_steps(
            copy.deepcopy(model), inputs, targets, next_token_loss, args.steps, **options
        )
        if name == "torch.compile":
            print(f"  (first run, compiling included: {time.perf_counter() - start:.1f} s)")
        runs = [
            measure_steps(model, inputs, targets, next_token_loss, args.steps, **options)
            for _ in range(args.repeats)
        ]
        per_step = statistics.median(run.seconds for run in runs) / args.steps * 1e3
        megabytes = first.saved_bytes / 1e6
        print(f"{name:<18}{per_step:>18.2f}{megabytes:>16.2f}{first.loss:>10.4f}")


if __name__ == "__main__":
    main()
