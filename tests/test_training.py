"""Unit tests of helpers.training.Trainer: exact resume, clear errors, checkpoints, DDP."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import Trainer, accuracy, seed_everything, training
from helpers.distributed import torchrun
from helpers.training import CHECKPOINT_NAME, NONFINITE_CHECK_EVERY, CheckpointError


def make_data(n: int = 96, features: int = 8, classes: int = 3) -> TensorDataset:
    generator = torch.Generator().manual_seed(1)
    X = torch.randn(n, features, generator=generator)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    return TensorDataset(X, y.clamp(max=classes - 1))


def make_trainer(checkpoint_dir: Path | None = None, **kwargs) -> Trainer:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    kwargs.setdefault("device", "cpu")
    return Trainer(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        scheduler=scheduler,
        metrics={"acc": accuracy},
        checkpoint_dir=checkpoint_dir,
        progress=False,
        **kwargs,
    )


def test_fit_learns_and_keeps_history():
    seed_everything(0)
    data = make_data()
    trainer = make_trainer()
    history = trainer.fit(
        DataLoader(data, batch_size=16, shuffle=True), DataLoader(data, batch_size=32), epochs=6
    )
    assert set(history) == {"loss", "val_loss", "val_acc"}
    assert all(len(values) == 6 for values in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert trainer.epoch == 6 and trainer.step == 6 * 6


def test_scheduler_steps_per_epoch_by_default_and_per_step_on_request():
    data = make_data()
    loader = DataLoader(data, batch_size=16)  # 6 steps per epoch
    for interval, steps in (("epoch", 3), ("step", 3 * 6)):
        seed_everything(0)
        trainer = make_trainer(scheduler_interval=interval)
        trainer.scheduler = torch.optim.lr_scheduler.LambdaLR(
            trainer.optimizer, lambda taken: 1 / (1 + taken)
        )
        trainer.fit(loader, epochs=3)
        assert trainer.scheduler.last_epoch == steps
        assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2 / (1 + steps))


def test_unknown_scheduler_interval_is_a_clear_error():
    with pytest.raises(ValueError, match="scheduler_interval must be one of epoch, step"):
        make_trainer(scheduler_interval="batch")


def test_a_per_step_schedule_resumes_exactly(tmp_path):
    data = make_data()

    def warm_then_decay(trainer: Trainer) -> Trainer:
        trainer.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            trainer.optimizer, max_lr=2e-2, total_steps=4 * 6
        )
        return trainer

    seed_everything(0)
    straight = warm_then_decay(make_trainer(scheduler_interval="step"))
    straight.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=4)
    seed_everything(0)
    warm_then_decay(make_trainer(tmp_path, scheduler_interval="step")).fit(
        DataLoader(data, batch_size=16, shuffle=True), epochs=2
    )
    seed_everything(7)
    resumed = warm_then_decay(make_trainer(tmp_path, scheduler_interval="step"))
    resumed.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=4)
    assert resumed.history == straight.history
    assert resumed.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]


def test_interrupted_then_resumed_run_is_bit_identical(tmp_path):
    data = make_data()

    seed_everything(0)
    straight = make_trainer()
    straight.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=5)

    seed_everything(0)
    first = make_trainer(checkpoint_dir=tmp_path)
    first.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=2)  # "interrupted" here
    torch.manual_seed(12345)  # whatever happened in between must not matter
    torch.rand(7)

    seed_everything(99)  # a new process would start from a different state, too
    resumed = make_trainer(checkpoint_dir=tmp_path)
    resumed.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=5)

    assert resumed.epoch == 5 and resumed.step == straight.step
    assert resumed.history == straight.history
    for a, b in zip(
        straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert resumed.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]


def test_checkpoint_loads_with_weights_only_and_is_written_atomically(tmp_path):
    seed_everything(0)
    trainer = make_trainer(checkpoint_dir=tmp_path, patience=3)
    data = make_data()
    trainer.fit(
        DataLoader(data, batch_size=16, shuffle=True), DataLoader(data, batch_size=32), epochs=2
    )
    state = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert state["epoch"] == 2 and set(state["model"]) == set(trainer.model.state_dict())
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_NAME]  # no temp files left


def test_early_stopping_restores_the_best_weights():
    seed_everything(0)
    data = make_data()
    trainer = make_trainer(patience=2)
    trainer.optimizer.param_groups[0]["lr"] = 0.5  # too high: validation loss soon stops improving
    trainer.scheduler = None
    history = trainer.fit(
        DataLoader(data, batch_size=16, shuffle=True), DataLoader(data, batch_size=96), epochs=50
    )
    assert trainer.epoch < 50
    best = trainer.best_epoch
    assert best is not None and trainer.epoch - best == 2
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    assert trainer.evaluate(DataLoader(data, batch_size=96))["loss"] == pytest.approx(
        history["val_loss"][best - 1], rel=1e-5
    )


def test_model_metrics_are_logged_in_eval_mode_and_can_be_monitored():
    seed_everything(0)
    data = make_data()
    X, y = data.tensors
    modes = []

    def full_accuracy(model: nn.Module) -> float:
        modes.append(model.training)
        return float((model(X).argmax(1) == y).float().mean())

    trainer = make_trainer(
        patience=3, monitor="val_full_acc", model_metrics={"full_acc": full_accuracy}
    )
    history = trainer.fit(DataLoader(data, batch_size=16, shuffle=True), epochs=40)
    assert len(history["val_full_acc"]) == trainer.epoch and modes == [False] * trainer.epoch
    best = trainer.best_epoch
    assert history["val_full_acc"][best - 1] == max(history["val_full_acc"])
    assert full_accuracy(trainer.model.eval()) == history["val_full_acc"][best - 1]


def test_nan_loss_names_the_step():
    seed_everything(0)
    data = make_data()
    data.tensors[0][20, 3] = float("nan")  # the second batch of 16 holds row 20
    trainer = make_trainer()
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1, step 2"):
        trainer.fit(DataLoader(data, batch_size=16), epochs=1)


def count_trainer_reads(monkeypatch) -> list[str]:
    """A list that grows each time helpers.training reads tensor values back to Python."""
    reads = []
    for name in ("item", "tolist"):
        original = getattr(torch.Tensor, name)

        def counted(tensor: torch.Tensor, original=original, name=name):
            if sys._getframe(1).f_code.co_filename == training.__file__:
                reads.append(name)
            return original(tensor)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return reads


def test_nan_loss_is_caught_within_a_check_interval_without_reading_every_step(monkeypatch):
    """The loss is read back every NONFINITE_CHECK_EVERY steps, not once per step."""
    seed_everything(0)
    X = torch.randn(4 * NONFINITE_CHECK_EVERY, 8)
    X[2, 0] = float("nan")  # step 3 of an epoch of 4 * NONFINITE_CHECK_EVERY steps
    data = TensorDataset(X, torch.zeros(len(X), dtype=torch.long))
    trainer = make_trainer()
    reads = count_trainer_reads(monkeypatch)
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1, step 3:"):
        trainer.fit(DataLoader(data, batch_size=1), epochs=1)
    assert trainer.step == NONFINITE_CHECK_EVERY  # stopped at the first check
    assert len(reads) == 1  # the check's one read of the window


def test_a_finite_epoch_reads_the_device_a_few_times_not_every_step(monkeypatch):
    seed_everything(0)
    data = TensorDataset(torch.randn(256, 8), torch.zeros(256, dtype=torch.long))
    reads = count_trainer_reads(monkeypatch)
    make_trainer().fit(DataLoader(data, batch_size=1), epochs=1)
    # one read of the window every NONFINITE_CHECK_EVERY steps (the last at the epoch's end)
    assert len(reads) == 256 // NONFINITE_CHECK_EVERY


def write_one_epoch_checkpoint(folder: Path) -> Path:
    seed_everything(0)
    make_trainer(checkpoint_dir=folder).fit(DataLoader(make_data(), batch_size=32), epochs=1)
    return folder / CHECKPOINT_NAME


def test_a_truncated_checkpoint_names_the_file_and_what_to_do(tmp_path):
    path = write_one_epoch_checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"cannot read the checkpoint .*last\.pt.*delete"):
        make_trainer(checkpoint_dir=tmp_path).fit(DataLoader(make_data(), batch_size=32), epochs=2)


def test_a_file_that_is_not_a_checkpoint_names_the_file(tmp_path):
    (tmp_path / CHECKPOINT_NAME).write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"cannot read the checkpoint .*last\.pt"):
        make_trainer(checkpoint_dir=tmp_path).fit(DataLoader(make_data(), batch_size=32), epochs=2)


def test_a_checkpoint_of_another_model_names_the_file_and_what_to_do(tmp_path):
    write_one_epoch_checkpoint(tmp_path)
    model = nn.Linear(8, 3)
    trainer = Trainer(
        model,
        torch.optim.Adam(model.parameters(), fused=True),
        nn.CrossEntropyLoss(),
        device="cpu",
        checkpoint_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(CheckpointError, match=r"last\.pt does not fit this model.*delete"):
        trainer.fit(DataLoader(make_data(), batch_size=32), epochs=2)


def test_mismatched_input_shape_is_a_clear_error():
    seed_everything(0)
    data = TensorDataset(torch.randn(32, 5), torch.zeros(32, dtype=torch.long))
    with pytest.raises(ValueError, match=r"could not take a batch of shape \(16, 5\)"):
        make_trainer().fit(DataLoader(data, batch_size=16), epochs=1)


def test_output_target_shape_mismatch_is_a_clear_error():
    seed_everything(0)
    model = nn.Linear(8, 1)
    trainer = Trainer(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        nn.MSELoss(),
        device="cpu",
        progress=False,
    )
    data = TensorDataset(torch.randn(32, 8), torch.randn(32))  # (N,) target vs (N, 1) output
    with pytest.raises(ValueError, match=r"output shape \(16, 1\) does not match target shape"):
        trainer.fit(DataLoader(data, batch_size=16), epochs=1)


def test_empty_loader_is_a_clear_error():
    empty = TensorDataset(torch.randn(0, 8), torch.zeros(0, dtype=torch.long))
    trainer = make_trainer()
    with pytest.raises(ValueError, match="yielded no batches"):
        trainer.fit(DataLoader(empty, batch_size=16), epochs=1)
    with pytest.raises(ValueError, match="yielded no batches"):
        trainer.evaluate(DataLoader(empty, batch_size=16))


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'.*available here: cpu"):
        make_trainer(device="tpu")


def test_progress_bar_is_one_final_line(capsys):
    seed_everything(0)
    data = make_data()
    model = nn.Linear(8, 3)
    trainer = Trainer(
        model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), device="cpu"
    )
    trainer.fit(DataLoader(data, batch_size=32), epochs=3)
    final = capsys.readouterr().out.split("\r")[-1]
    assert final.startswith("epochs: 100%") and "3/3" in final and "loss=" in final


TORCHRUN_MISSING = not (Path(sys.executable).parent / "torchrun").exists()


@pytest.mark.skipif(TORCHRUN_MISSING, reason="torchrun is not installed")
def test_two_process_torchrun_matches_one_process(tmp_path):
    """DDP over 2 CPU processes (gloo) on half-batches equals 1 process on the global batch."""
    single, double = tmp_path / "single.json", tmp_path / "double.json"
    env = {**os.environ, "BOOK_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "helpers.distributed", str(single)]
    subprocess.run(command, check=True, env=env, timeout=300)
    result = torchrun(["-m", "helpers.distributed", str(double)])
    assert result.returncode == 0, result.stderr
    one, two = json.loads(single.read_text()), json.loads(double.read_text())
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert len(one["losses"]) == len(two["losses"]) == 5
    for a, b in zip(one["losses"], two["losses"], strict=True):
        assert math.isclose(a, b, rel_tol=1e-5), (one["losses"], two["losses"])


@pytest.mark.skipif(TORCHRUN_MISSING, reason="torchrun is not installed")
def test_a_nan_in_one_process_stops_every_process_with_the_same_error(tmp_path):
    """Process 1 meets the NaN; process 0 must not wait in an all-reduce until it times out."""
    out = tmp_path / "nan.json"
    # the process group's own timeout is 30 minutes
    result = torchrun(["-m", "helpers.distributed", str(out), "--nan-in-process", "1"], timeout=120)
    assert result.returncode != 0
    errors = [Path(f"{out}.rank{rank}.err").read_text() for rank in (0, 1)]
    assert errors[0] == errors[1]
    assert errors[0].startswith("loss became nan at epoch 1, step 1 in process 1 of 2:")


def test_close_without_torchrun_keeps_the_model_and_does_nothing():
    trainer = make_trainer()
    trainer.close()
    assert trainer.net is trainer.model
