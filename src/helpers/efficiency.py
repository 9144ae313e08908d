"""What a training step costs: time, activation memory and the loss, for one model, side by side.

The chapter "Efficient and distributed training" and ``benchmarks/efficient_training.py`` train
the same model for a few steps under each technique (bf16 autocast, gradient accumulation,
activation checkpointing, ``torch.compile``) with :func:`measure_steps` and compare. Activation
memory is counted exactly, as the bytes autograd saves for the backward pass
(:func:`count_saved_bytes`): the same number on every machine, unlike a process's peak memory.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


class StepCost(NamedTuple):
    """What :func:`measure_steps` measured."""

    seconds: float  # wall-clock time of all the steps
    saved_bytes: int  # activations kept for backward by one forward pass (a micro-batch's)
    loss: float  # the loss of the last step


@contextlib.contextmanager
def count_saved_bytes() -> Iterator[list[int]]:
    """Within the block, collect the bytes of each activation autograd keeps for backward.

    A tensor kept by several operations is counted once; the parameters (leaf tensors that
    require a gradient) and views of them, such as a transposed weight, are not activations
    and are skipped.
    """
    sizes: list[int] = []
    seen: set[tuple[int, int]] = set()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key = (tensor.data_ptr(), tensor.numel() * tensor.element_size())
        base = tensor if tensor._base is None else tensor._base
        if not (base.is_leaf and base.requires_grad) and key not in seen:
            seen.add(key)
            sizes.append(key[1])
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield sizes


class Checkpointed(nn.Module):
    """Wrap a module so that its activations are recomputed in the backward pass, not kept."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: Any) -> Any:
        if not torch.is_grad_enabled():
            return self.inner(*args)
        return checkpoint(self.inner, *args, use_reentrant=False)


def measure_steps(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    steps: int,
    *,
    bf16: bool = False,
    accumulation: int = 1,
    lr: float = 3e-3,
) -> StepCost:
    """Train ``model`` with Adam for ``steps`` steps on one batch, split in ``accumulation`` parts.

    With ``accumulation = K`` each step runs K micro-batches of ``len(inputs) / K`` rows and
    adds their gradients, each loss divided by K, before one optimizer step: the same update
    as the whole batch at once, with a K-th of the activations alive at a time.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if accumulation < 1 or len(inputs) % accumulation:
        raise ValueError(
            f"accumulation must divide the batch of {len(inputs)} rows, got {accumulation}"
        )
    device = inputs.device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    autocast = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if bf16
        else contextlib.nullcontext()
    )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=device)
        micro_saved = []
        for x, y in zip(inputs.chunk(accumulation), targets.chunk(accumulation), strict=True):
            with count_saved_bytes() as sizes, autocast:
                loss = loss_fn(model(x).float(), y) / accumulation
            loss.backward()
            micro_saved.append(sum(sizes))
            total += loss.detach()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return StepCost(seconds, max(micro_saved), total.item())
