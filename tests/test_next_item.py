"""Tests of helpers.next_item: the leave-last-out split, full-ranking metrics and SASRec."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import seed_everything
from helpers.next_item import (
    IGNORE,
    LeaveLastOut,
    SASRec,
    SASRecConfig,
    fit_sasrec,
    held_out_batches,
    leave_last_out,
    load_sasrec,
    next_item_batches,
    next_item_loss,
    pad_histories,
    rank_metrics,
    save_sasrec,
    sha256_of,
)

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "sasrec"


# ---------------------------------------------------------------------------------- split
def test_leave_last_out_orders_by_time_then_item() -> None:
    frame = pd.DataFrame(
        {
            "user": [0, 0, 0, 0, 1, 1, 1],
            "item": [5, 3, 4, 9, 2, 1, 0],
            "timestamp": [30, 10, 10, 40, 3, 2, 1],
        }
    )
    split = leave_last_out(frame.sample(frac=1, random_state=0), n_users=2)
    # user 0: items 3 and 4 share a timestamp and are ordered by index: 3, 4, 5, 9
    assert split.train[0].tolist() == [3, 4] and split.val[0] == 5 and split.test[0] == 9
    assert split.train[1].tolist() == [0] and split.val[1] == 1 and split.test[1] == 2
    assert [h.tolist() for h in split.histories("test")] == [[3, 4, 5], [0, 1]]
    assert split.targets("val").tolist() == [5, 1]
    with pytest.raises(ValueError, match="part"):
        split.histories("train")


def test_leave_last_out_needs_three_interactions() -> None:
    frame = pd.DataFrame({"user": [0, 0], "item": [1, 2], "timestamp": [1, 2]})
    with pytest.raises(ValueError, match="needs 3"):
        leave_last_out(frame, n_users=1)


# -------------------------------------------------------------------------------- metrics
def test_rank_metrics_by_hand() -> None:
    scores = np.array(
        [
            [0.9, 0.8, 0.7, 0.1],  # target 2 behind items 0 and 1: rank 3
            [0.9, 0.8, 0.7, 0.1],  # item 0 is in the history: target 2 is second
            [0.5, 0.5, 0.5, 0.5],  # a four-way tie: rank uniform on 1..4
        ]
    )
    histories = [np.array([3]), np.array([0]), np.array([], dtype=np.int64)]
    metrics = rank_metrics(scores, np.array([2, 2, 1]), histories, k=2)
    # user 0: rank 3 > k: no hit; user 1: rank 2: NDCG 1/log2(3), HR 1
    # user 2: ranks 1..4 equally likely: HR = 2/4, NDCG = (1 + 1/log2(3)) / 4
    assert metrics["HR@2"].tolist() == [0.0, 1.0, 0.5]
    expected = [0.0, 1 / math.log2(3), (1 + 1 / math.log2(3)) / 4]
    np.testing.assert_allclose(metrics["NDCG@2"], expected)


def test_rank_metrics_rejects_a_target_in_the_history() -> None:
    with pytest.raises(ValueError, match="in their history"):
        rank_metrics(np.zeros((1, 3)), np.array([1]), [np.array([1])])
    with pytest.raises(ValueError, match="one target"):
        rank_metrics(np.zeros((2, 3)), np.array([1]), [np.array([0])])


# --------------------------------------------------------------------------------- batches
def test_batches_shift_by_one_and_pad_on_the_right() -> None:
    inputs, targets = next_item_batches([np.array([1, 2, 3, 4, 5]), np.array([7, 8])], 3, pad=9)
    # the last max_len + 1 = 4 items of the first history: 2 3 4 5
    assert inputs.tolist() == [[2, 3, 4], [7, 9, 9]]
    assert targets.tolist() == [[3, 4, 5], [8, IGNORE, IGNORE]]
    items, lengths = pad_histories([np.array([1, 2, 3, 4]), np.array([6])], 2, pad=9)
    assert items.tolist() == [[3, 4], [6, 9]] and lengths.tolist() == [2, 1]
    inputs, labels = held_out_batches([np.array([1, 2]), np.array([6])], np.array([3, 7]), 3, 9)
    assert inputs.tolist() == [[1, 2, 9], [6, 9, 9]]
    assert labels.tolist() == [[IGNORE, 3, IGNORE], [7, IGNORE, IGNORE]]


# ---------------------------------------------------------------------------------- SASRec
def test_sasrec_is_causal_and_ignores_padding() -> None:
    seed_everything(0)
    model = SASRec(n_items=20, max_len=6, d_model=16, n_heads=2, n_layers=2).eval()
    items = torch.tensor([[1, 2, 3, 4, 5, 6]])
    changed = items.clone()
    changed[0, 4:] = torch.tensor([model.pad, 11])  # alter the future: the past is unchanged
    torch.testing.assert_close(model(items)[:, :4], model(changed)[:, :4])
    assert model(items).shape == (1, 6, 20)  # the padding id is never scored
    # score_next reads each history at its own last item, however the batch is padded
    scores = model.score_next([np.array([1, 2, 3]), np.array([4, 5, 6, 7, 8, 9, 10])])
    torch.testing.assert_close(torch.from_numpy(scores[0]), model(items[:, :3])[0, -1])
    tail = torch.tensor([[5, 6, 7, 8, 9, 10]])  # the longer history is cut to max_len
    torch.testing.assert_close(torch.from_numpy(scores[1]), model(tail)[0, -1])
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(1, 7, dtype=torch.long))


def test_next_item_loss_skips_padded_positions() -> None:
    logits = torch.randn(1, 3, 5)
    targets = torch.tensor([[1, IGNORE, 4]])
    expected = torch.nn.functional.cross_entropy(logits[0, [0, 2]], torch.tensor([1, 4]))
    torch.testing.assert_close(next_item_loss(logits, targets), expected)


def _toy_split() -> LeaveLastOut:
    # 60 users walking a cycle of 30 items: the next item is always the last + 1
    rng = np.random.default_rng(0)
    sequences = [(rng.integers(30) + np.arange(int(rng.integers(6, 12)))) % 30 for _ in range(60)]
    return LeaveLastOut(
        train=[s[:-2] for s in sequences],
        val=np.array([s[-2] for s in sequences]),
        test=np.array([s[-1] for s in sequences]),
    )


def test_fit_sasrec_learns_a_cycle_and_saves_what_it_loads(tmp_path: Path) -> None:
    config = SASRecConfig(max_len=8, d_model=16, dropout=0.0, lr=1e-2, max_epochs=40, patience=5)
    model, history = fit_sasrec(_toy_split(), 30, config, progress=False)
    assert set(history) == {"loss", "val_loss", "val_NDCG@10", "val_HR@10"}
    # from near chance (30 items) to ranking the next item of the cycle first
    assert history["val_NDCG@10"][0] < 0.6 < 0.95 < max(history["val_NDCG@10"])
    assert min(history["val_loss"]) < history["val_loss"][0]
    weights = save_sasrec(tmp_path, model, config, note="toy")
    loaded, meta = load_sasrec(tmp_path)
    assert meta["note"] == "toy" and meta["sha256"] == sha256_of(weights)
    items = torch.tensor([[0, 1, 2, 3]])
    torch.testing.assert_close(loaded(items), model.eval()(items))
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(ValueError, match="SHA-256"):
        load_sasrec(tmp_path)


# ------------------------------------------------------------------- the shipped checkpoint
def test_shipped_checkpoint_matches_its_hash_and_config() -> None:
    meta = json.loads((SHIPPED / "config.json").read_text())
    assert sha256_of(SHIPPED / "sasrec.safetensors") == meta["sha256"]
    model, meta = load_sasrec(SHIPPED)  # loads, so the config describes these weights
    config = SASRecConfig(**meta["config"])
    assert model.max_len == config.max_len and len(model.blocks) == config.n_layers
    assert meta["min_ratings"] == 20 and meta["n_items"] == model.n_items
    log = pd.read_csv(SHIPPED / "training_log.csv")
    chosen = log[(log.n_layers == config.n_layers) & (log.max_len == config.max_len)]
    best = chosen.loc[chosen["val_NDCG@10"].idxmax()]
    assert best.epoch == meta["best_epoch"]
    assert best["val_NDCG@10"] == pytest.approx(meta["val_ndcg_at_10"], abs=1e-6)
    assert meta["val_ndcg_at_10"] == pytest.approx(
        log.groupby(["n_layers", "max_len"])
        .apply(lambda run: run.loc[run.val_loss.idxmin(), "val_NDCG@10"])
        .max(),
        abs=1e-6,
    )
