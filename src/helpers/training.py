"""One training loop for every PyTorch model in the book, on CPU or GPU.

:class:`Trainer` is the bare PyTorch training loop, packaged: for each epoch, for each
mini-batch, forward pass, loss, ``optimizer.zero_grad()``, ``loss.backward()``,
``optimizer.step()``; then a validation pass under ``torch.no_grad()`` in ``model.eval()``
mode. The chapter "The training process" (``chapters/04_training/01_training_process.ipynb``)
writes that loop out by hand, shows that :class:`Trainer` gives the same numbers, and explains
what it adds. It does what each chapter would otherwise write again: it moves batches to the
device, runs the forward pass under bf16 autocast on CUDA, clips gradients, shows a progress
bar, keeps a history of metrics, stops early, writes checkpoints atomically and resumes them
exactly, stops with a clear error on a non-finite loss, and trains data-parallel when launched
under ``torchrun``.

The running loss stays on the device: reading a number back from a GPU (``loss.item()``) waits
for all queued work, and once per step that stalls a GPU on small models. The loop reads it
back every :data:`NONFINITE_CHECK_EVERY` steps and at the end of each epoch, when it also checks
whether any loss since the last check was not finite; under ``torchrun`` every process takes
part in that check, so that all of them stop with the same error.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import os
import random
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from tqdm.std import tqdm

from .runtime import get_device

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]
History = dict[str, list[float]]
EpochCallback = Callable[[int, History], None]
ModelMetric = Callable[[nn.Module], float]

CHECKPOINT_NAME = "last.pt"

SCHEDULER_INTERVALS = ("epoch", "step")
"""When :class:`Trainer` steps its learning-rate scheduler: after every epoch, or every step."""

NONFINITE_CHECK_EVERY = 64
"""Optimizer steps between two checks for a non-finite loss (each check reads the device)."""

_NO_STEP = 2**40  # "no non-finite loss yet": beyond any step (times world size, fits int64)


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed: unreadable, or written for another model."""


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose arg-max class equals the target class."""
    return (outputs.argmax(dim=-1) == targets).float().mean()


class Trainer:
    """Fit a model with an optimizer and a loss, and evaluate it with named metrics.

    Args:
        model: the network; it is moved to ``device``.
        optimizer: built over ``model.parameters()``.
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar mean over the batch.
        device: where to compute; default :func:`helpers.runtime.get_device`.
        scheduler: a learning-rate scheduler, stepped as ``scheduler_interval`` says.
        scheduler_interval: ``"epoch"`` steps the scheduler after every epoch; ``"step"`` after
            every optimizer step (the warm-up and cosine decay of language-model pretraining,
            whose schedules are written in steps).
        metrics: name -> ``metric(outputs, targets)``, a batch mean; reported on validation.
        model_metrics: name -> ``metric(model)``, one number computed from the whole model after
            every epoch (a ranking metric over all validation users, say); logged as
            ``val_<name>``, so early stopping can monitor it.
        max_grad_norm: clip the global gradient norm to this value.
        bf16: autocast to bfloat16; ``None`` means "on CUDA only".
        patience: stop after this many epochs without improving ``monitor``; ``fit`` then ends
            with the best weights seen.
        monitor: the history key early stopping watches (lower is better for losses, higher
            for every other metric).
        checkpoint_dir: write ``last.pt`` there after every epoch; ``fit`` resumes from it.
        progress: show a progress bar over epochs.
        callbacks: called as ``callback(epoch, history)`` after every epoch (live plots).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        *,
        device: torch.device | str | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        metrics: Mapping[str, Metric] | None = None,
        model_metrics: Mapping[str, ModelMetric] | None = None,
        max_grad_norm: float | None = None,
        bf16: bool | None = None,
        patience: int | None = None,
        monitor: str = "val_loss",
        checkpoint_dir: str | os.PathLike[str] | None = None,
        progress: bool = True,
        callbacks: Iterable[EpochCallback] = (),
    ) -> None:
        self.device = device if isinstance(device, torch.device) else get_device(device)
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1  # launched by torchrun
        if self.distributed:
            self.device = _init_distributed(self.device)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world_size = dist.get_world_size() if self.distributed else 1
        self.model = model.to(self.device)
        # What the loop calls: the model itself, or its DistributedDataParallel wrapper under
        # torchrun (which averages gradients across processes); its weights are self.model's.
        self.net: nn.Module = (
            nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
            )
            if self.distributed
            else self.model
        )
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        if scheduler_interval not in SCHEDULER_INTERVALS:
            raise ValueError(
                f"scheduler_interval must be one of {', '.join(SCHEDULER_INTERVALS)}, got "
                f"{scheduler_interval!r}"
            )
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.metrics = dict(metrics or {})
        self.model_metrics = dict(model_metrics or {})
        self.max_grad_norm = max_grad_norm
        self.bf16 = self.device.type == "cuda" if bf16 is None else bf16
        self.patience = patience
        self.monitor = monitor
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.progress = progress and self.rank == 0
        self.callbacks = list(callbacks)
        self.history: History = {}
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self._best: float | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self._stale_epochs = 0

    # ----------------------------------------------------------------------------- training
    def fit(
        self, train_loader: DataLoader, val_loader: DataLoader | None = None, epochs: int = 10
    ) -> History:
        """Train until ``epochs`` epochs are complete (resuming a checkpoint if there is one).

        Returns the history: one value per epoch for ``loss`` and, with a validation loader,
        ``val_loss`` and ``val_<metric>`` for every metric.
        """
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        checkpoint = self.checkpoint_dir / CHECKPOINT_NAME if self.checkpoint_dir else None
        if checkpoint is not None and self.epoch == 0 and checkpoint.exists():
            self.load_checkpoint(checkpoint)
        train_loader = self._shard(train_loader)
        bar = tqdm(
            total=epochs,
            initial=self.epoch,
            desc="epochs",
            unit="epoch",
            disable=not self.progress,
            file=sys.stdout,
            mininterval=0,
            dynamic_ncols=False,
        )
        with bar:
            while self.epoch < epochs and not self._should_stop():
                if isinstance(getattr(train_loader, "sampler", None), DistributedSampler):
                    train_loader.sampler.set_epoch(self.epoch)
                logs = {"loss": self._train_epoch(train_loader)}
                if val_loader is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
                logs.update(
                    {f"val_{k}": self._model_metric(f) for k, f in self.model_metrics.items()}
                )
                if self.scheduler is not None and self.scheduler_interval == "epoch":
                    self.scheduler.step()
                self.epoch += 1
                for key, value in logs.items():
                    self.history.setdefault(key, []).append(value)
                self._track_best(logs)
                if checkpoint is not None and self.rank == 0:
                    self.save_checkpoint(checkpoint)
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                bar.update(1)
                for callback in self.callbacks:
                    callback(self.epoch, self.history)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        return self.history

    def _train_epoch(self, loader: DataLoader) -> float:
        self.net.train()
        # The last steps' losses stay on the device until the next check reads them at once.
        window: list[torch.Tensor] = []
        sizes: list[int] = []  # the batch size of each loss in the window
        total, count = 0.0, 0
        for inputs, targets in loader:
            inputs, targets = self._to_device(inputs), self._to_device(targets)
            with self._autocast():
                outputs = self._forward(inputs)
                loss = self._loss(outputs, targets)
            window.append(loss.detach())
            sizes.append(len(targets))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(self.net.parameters(), self.max_grad_norm)
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            self.step += 1
            count += len(targets)
            if len(sizes) == NONFINITE_CHECK_EVERY:
                total = self._check_window(window, sizes, total)
                window, sizes = [], []
        if count == 0:
            raise ValueError("the training loader yielded no batches: is the dataset empty?")
        if sizes:
            total = self._check_window(window, sizes, total)
        return self._global_mean(total, count)

    def _check_window(self, window: list[torch.Tensor], sizes: list[int], total: float) -> float:
        """Read the window's losses, raise if one is not finite, and add them to ``total``.

        Under torchrun every process checks at the same step; the earliest non-finite loss of
        any process is reported, by every process alike.
        """
        values = torch.stack(window).tolist()  # the one read-back of the window
        first = next((i for i, value in enumerate(values) if not math.isfinite(value)), None)
        step = _NO_STEP if first is None else self.step - len(sizes) + 1 + first
        rank, value = self.rank, None if first is None else values[first]
        if self.distributed:
            key = torch.tensor(step * self.world_size + self.rank, device=self.device)
            dist.all_reduce(key, op=dist.ReduceOp.MIN)
            step, rank = divmod(int(key.item()), self.world_size)
            if step != _NO_STEP:
                mine = value if rank == self.rank else 0.0
                shared = torch.tensor(mine, dtype=torch.float64, device=self.device)
                dist.all_reduce(shared)
                value = shared.item()
        if step != _NO_STEP:
            where = f" in process {rank} of {self.world_size}" if self.distributed else ""
            raise FloatingPointError(
                f"loss became {value} at epoch {self.epoch + 1}, step {step}{where}: lower the "
                "learning rate, clip gradients (max_grad_norm) or check the inputs for NaN"
            )
        for value, size in zip(values, sizes, strict=True):
            total += value * size  # in order, as the loss of each step was read before
        return total

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        """Mean loss and metrics over ``loader``, weighted by batch size."""
        self.net.eval()
        # Per-batch values stay on the device and are read back once, at the end.
        values: dict[str, list[torch.Tensor]] = {name: [] for name in ("loss", *self.metrics)}
        sizes: list[int] = []
        for inputs, targets in loader:
            inputs, targets = self._to_device(inputs), self._to_device(targets)
            with self._autocast():
                outputs = self._forward(inputs)
                values["loss"].append(self._loss(outputs, targets).detach())
            for name, metric in self.metrics.items():
                values[name].append(torch.as_tensor(metric(outputs.float(), targets)))
            sizes.append(len(targets))
        if not sizes:
            raise ValueError("the evaluation loader yielded no batches: is the dataset empty?")
        means = {}
        for name, batch_values in values.items():
            total = 0.0
            read = torch.stack([v.to(self.device, torch.float64) for v in batch_values]).tolist()
            for value, size in zip(read, sizes, strict=True):
                total += value * size
            means[name] = total / sum(sizes)
        return means

    @torch.no_grad()
    def predict(self, loader: DataLoader) -> torch.Tensor:
        """Model outputs for every batch of ``loader`` (inputs only, or (inputs, targets))."""
        self.net.eval()
        outputs = []
        for batch in loader:
            inputs = batch[0] if isinstance(batch, list | tuple) else batch
            with self._autocast():
                outputs.append(self._forward(self._to_device(inputs)).float().cpu())
        if not outputs:
            raise ValueError("the loader yielded no batches: is the dataset empty?")
        return torch.cat(outputs)

    # ----------------------------------------------------------------------------- helpers
    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device, non_blocking=True)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        try:
            return self.net(inputs)
        except RuntimeError as error:
            raise ValueError(
                f"the model could not take a batch of shape {tuple(inputs.shape)} and dtype "
                f"{inputs.dtype}: {error}"
            ) from error

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if outputs.shape[0] != targets.shape[0]:
            raise ValueError(
                f"the model returned {outputs.shape[0]} rows for a batch of {targets.shape[0]} "
                f"targets (output shape {tuple(outputs.shape)}, target shape "
                f"{tuple(targets.shape)})"
            )
        if targets.is_floating_point() and outputs.shape != targets.shape:
            raise ValueError(
                f"output shape {tuple(outputs.shape)} does not match target shape "
                f"{tuple(targets.shape)}; the loss would silently broadcast them"
            )
        try:
            return self.loss_fn(outputs.float(), targets)
        except (RuntimeError, ValueError, IndexError) as error:
            raise ValueError(
                f"the loss could not compare outputs of shape {tuple(outputs.shape)} with "
                f"targets of shape {tuple(targets.shape)} ({targets.dtype}): {error}"
            ) from error

    def _global_mean(self, total: float, count: int) -> float:
        if not self.distributed:
            return total / count
        both = torch.tensor([total, count], dtype=torch.float64, device=self.device)
        dist.all_reduce(both)
        return (both[0] / both[1]).item()

    def _shard(self, loader: DataLoader) -> DataLoader:
        """Under torchrun, give each process its share of every global batch."""
        if not self.distributed:
            return loader
        if loader.batch_size is None or loader.batch_size % self.world_size:
            raise ValueError(
                f"batch size {loader.batch_size} must divide evenly among {self.world_size} "
                "processes"
            )
        sampler = DistributedSampler(
            loader.dataset,
            num_replicas=self.world_size,
            rank=self.rank,
            shuffle=isinstance(loader.sampler, RandomSampler),
            seed=torch.initial_seed() % 2**31,
            drop_last=loader.drop_last,
        )
        return DataLoader(
            loader.dataset,
            batch_size=loader.batch_size // self.world_size,
            sampler=sampler,
            num_workers=loader.num_workers,
            collate_fn=loader.collate_fn,
            drop_last=loader.drop_last,
        )

    @torch.no_grad()
    def _model_metric(self, metric: ModelMetric) -> float:
        was_training = self.model.training
        self.model.eval()
        value = float(metric(self.model))
        self.model.train(was_training)
        return value

    def _track_best(self, logs: Mapping[str, float]) -> None:
        if self.patience is None:
            return
        if self.monitor not in logs:
            raise KeyError(f"early stopping watches {self.monitor!r}, not in {sorted(logs)}")
        value = logs[self.monitor]
        lower_is_better = self.monitor.endswith("loss")
        improved = self._best is None or (
            value < self._best if lower_is_better else value > self._best
        )
        if improved:
            self._best, self._stale_epochs = value, 0
            self._best_state = copy.deepcopy(self.model.state_dict())
        else:
            self._stale_epochs += 1

    def _should_stop(self) -> bool:
        return self.patience is not None and self._stale_epochs >= self.patience

    @property
    def best_epoch(self) -> int | None:
        """The 1-based epoch whose weights early stopping keeps (``None`` without it)."""
        if self.patience is None or self._best is None:
            return None
        return self.epoch - self._stale_epochs

    def close(self) -> None:
        """End a torchrun run: drop the DistributedDataParallel wrapper, then leave the group.

        The wrapper must be gone before its process group: a process that destroys the group
        first can hang in the wrapper's destructor at exit. Call once, at the end of the script;
        without torchrun it does nothing.
        """
        if self.net is not self.model:
            self.net = self.model
            gc.collect()  # the wrapper's hooks make reference cycles
        cleanup_distributed()

    # ----------------------------------------------------------------------------- checkpoints
    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Write everything needed to resume exactly, atomically (a crash leaves the old file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "early_stopping": {
                "best": self._best,
                "stale_epochs": self._stale_epochs,
                "best_state": self._best_state,
            },
            "rng": _rng_state(),
        }
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (loaded with weights_only).

        Raises:
            FileNotFoundError: there is no file at ``path``.
            CheckpointError: the file is truncated, corrupt or not a checkpoint, or it was
                written for another model or optimizer; the message names the file.
        """
        path = Path(path)
        advice = f"delete {path} to start afresh, or give the Trainer another checkpoint_dir"
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint at {path}")
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:  # noqa: BLE001 (truncated, corrupt, or a foreign pickle)
            raise CheckpointError(
                f"cannot read the checkpoint {path}: it is truncated, corrupt or not a "
                f"checkpoint of helpers.Trainer ({type(error).__name__}); {advice}"
            ) from error
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state["scheduler"] is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, TypeError, ValueError) as error:
            # PyTorch's first line is a heading ("Error(s) in loading state_dict for MLP:");
            # the first specific line (a size mismatch, a missing key) says more
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            detail = lines[1] if len(lines) > 1 else (lines[0] if lines else "")
            raise CheckpointError(
                f"the checkpoint {path} does not fit this model and optimizer, so it was "
                f"written for another one ({type(error).__name__}: {detail}); {advice}"
            ) from error
        self.epoch, self.step = state["epoch"], state["step"]
        self.history = {key: list(values) for key, values in state["history"].items()}
        stopping = state["early_stopping"]
        self._best, self._stale_epochs = stopping["best"], stopping["stale_epochs"]
        self._best_state = stopping["best_state"]
        _set_rng_state(state["rng"])


def _init_distributed(device: torch.device) -> torch.device:
    """Join torchrun's process group (NCCL on GPUs, gloo on CPUs); return this process's device."""
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)  # one GPU per process
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def _rng_state() -> dict[str, Any]:
    """Every random generator the loop touches, in types that ``weights_only`` loading accepts."""
    numpy_state = np.random.get_state(legacy=False)  # noqa: NPY002
    return {
        "python": random.getstate(),
        "numpy": {
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": numpy_state["state"]["pos"],
            "has_gauss": numpy_state["has_gauss"],
            "gauss": numpy_state["gauss"],
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    numpy_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        {
            "bit_generator": "MT19937",
            "state": {
                "key": numpy_state["key"].cpu().numpy().astype(np.uint32),
                "pos": numpy_state["pos"],
            },
            "has_gauss": numpy_state["has_gauss"],
            "gauss": numpy_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"]:
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def cleanup_distributed() -> None:
    """Leave the process group (call once at the end of a torchrun script).

    Every process waits for the others first, so that none tears the group down while another
    still uses it.
    """
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
