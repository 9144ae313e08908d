"""Next-item recommendation: a leave-last-out split, full-ranking metrics, and SASRec.

The chapter "Sequential recommendation" (``chapters/05_code/12_sequential_recommendation``)
reads each viewer's history as a sequence, oldest first, and asks for the next item.
:func:`leave_last_out` holds out each user's last item for test and the one before it for
validation; :func:`rank_metrics` scores a model by where the held-out item lands when *every*
item the user has not seen is ranked (no sampled negatives); :class:`SASRec` (Kang & McAuley
2018) is a causal Transformer over item embeddings, built from the book's
:class:`~helpers.models.TransformerBlock`, trained by :func:`next_item_loss` (full softmax
cross-entropy over the catalogue) on the batches :func:`next_item_batches` makes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from .data.loaders import make_loader
from .data.movielens import load_movielens
from .models import TransformerBlock, _init_gpt_style
from .runtime import seed_everything
from .training import Trainer

IGNORE = -100
"""Target id of a padded position: :func:`torch.nn.functional.cross_entropy` skips it."""


# ------------------------------------------------------------------------------------ split


@dataclass(frozen=True)
class LeaveLastOut:
    """Each user's history split in time: all but the last two items, then one, then one.

    ``train[u]`` holds user ``u``'s items oldest first except the last two; ``val[u]`` is the
    second-to-last item and ``test[u]`` the last. A model scored on ``"val"`` sees ``train[u]``
    as the history; on ``"test"`` it also sees the validation item.
    """

    train: list[np.ndarray]
    val: np.ndarray
    test: np.ndarray

    def histories(self, part: str) -> list[np.ndarray]:
        """The items each user has seen before the ``part`` ("val" or "test") target."""
        if part == "val":
            return self.train
        if part == "test":
            return [np.append(h, v) for h, v in zip(self.train, self.val, strict=True)]
        raise ValueError(f"part must be 'val' or 'test', got {part!r}")

    def targets(self, part: str) -> np.ndarray:
        """The held-out item of each user for ``part`` ("val" or "test")."""
        if part not in ("val", "test"):
            raise ValueError(f"part must be 'val' or 'test', got {part!r}")
        return self.val if part == "val" else self.test


def movielens_sequences(min_ratings: int = 20) -> tuple[pd.DataFrame, LeaveLastOut]:
    """The bundled MovieLens ratings of movies with at least ``min_ratings`` ratings, split.

    Every rating counts as an interaction (the movie was watched), whatever its stars. Users and
    the kept movies get consecutive indices (columns ``user`` and ``item``); returns the frame
    and its :func:`leave_last_out` split.
    """
    ratings = load_movielens()
    counts = ratings.movieId.value_counts()
    kept = ratings[ratings.movieId.isin(counts.index[counts >= min_ratings])].copy()
    kept["user"] = kept.userId.astype("category").cat.codes.astype("int64")
    kept["item"] = kept.movieId.astype("category").cat.codes.astype("int64")
    kept = kept.reset_index(drop=True)
    return kept, leave_last_out(kept, kept.user.nunique())


def leave_last_out(frame: pd.DataFrame, n_users: int) -> LeaveLastOut:
    """Split ``frame`` (columns ``user``, ``item``, ``timestamp``) by each user's last items.

    Users are ``0..n_users-1`` and each needs at least 3 interactions. Equal timestamps are
    ordered by item index, so the split does not depend on the frame's row order.
    """
    ordered = frame.sort_values(["user", "timestamp", "item"], kind="stable")
    groups = ordered.groupby("user").item
    lengths = groups.size().reindex(range(n_users), fill_value=0)
    if (lengths < 3).any():
        short = int(lengths.index[lengths < 3][0])
        raise ValueError(f"user {short} has {lengths[short]} interactions; leave-last-out needs 3")
    items = [group.to_numpy(np.int64) for _, group in groups]
    return LeaveLastOut(
        train=[seq[:-2] for seq in items],
        val=np.array([seq[-2] for seq in items]),
        test=np.array([seq[-1] for seq in items]),
    )


# ---------------------------------------------------------------------------------- metrics


def rank_metrics(
    scores: np.ndarray,
    targets: np.ndarray,
    histories: Sequence[np.ndarray],
    k: int = 10,
) -> dict[str, np.ndarray]:
    """Per-user NDCG@k and HR@k of one held-out item when all unseen items are ranked.

    ``scores`` is ``(n_users, n_items)``; the items in ``histories[u]`` are removed from user
    ``u``'s ranking (the target never is). With ``g`` items scored above the target and ``t``
    others tied with it, the target's rank is uniform on ``g+1 .. g+t+1`` (ties broken at
    random), and the metrics are their expected values over that draw: ``HR@k`` the chance
    the rank is at most ``k``, ``NDCG@k`` the mean of ``1 / log2(rank + 1)`` over ranks up to
    ``k`` (one relevant item, so the ideal DCG is 1). Returns ``{"NDCG@k": ..., "HR@k": ...}``,
    one value per user; their means are the reported metrics.
    """
    scores = np.array(scores, dtype=np.float64)  # a copy: history items are masked in place
    targets = np.asarray(targets)
    if scores.ndim != 2 or len(scores) != len(targets) or len(histories) != len(targets):
        raise ValueError(
            f"need scores (n_users, n_items) with one target and history per user: scores "
            f"{scores.shape}, {len(targets)} targets, {len(histories)} histories"
        )
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rows = np.arange(len(targets))
    for user, items in enumerate(histories):
        if np.isin(targets[user], items):
            raise ValueError(f"user {user}'s target {targets[user]} is in their history")
        scores[user, items] = -np.inf
    target_scores = scores[rows, targets][:, None]
    above = (scores > target_scores).sum(axis=1)
    ties = (scores == target_scores).sum(axis=1) - 1
    discounts = np.zeros(scores.shape[1] + 1)
    discounts[:k] = 1.0 / np.log2(np.arange(2, k + 2))  # discounts[r - 1] for rank r <= k
    cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    hits = np.clip(k - above, 0, ties + 1)  # ranks g+1 .. g+t+1 that are <= k
    ndcg = (cumulative[above + ties + 1] - cumulative[above]) / (ties + 1)
    return {f"NDCG@{k}": ndcg, f"HR@{k}": hits / (ties + 1)}


# ----------------------------------------------------------------------------------- SASRec


def pad_histories(
    histories: Sequence[np.ndarray], max_len: int, pad: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The last ``max_len`` items of each history, right-padded with ``pad``, and their lengths."""
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    items = torch.full((len(histories), max_len), pad, dtype=torch.long)
    lengths = torch.zeros(len(histories), dtype=torch.long)
    for row, history in enumerate(histories):
        kept = np.asarray(history, dtype=np.int64)[-max_len:]
        items[row, : len(kept)] = torch.from_numpy(kept.copy())
        lengths[row] = len(kept)
    return items, lengths


def next_item_batches(
    histories: Sequence[np.ndarray], max_len: int, pad: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets for next-item training: each user's last ``max_len + 1`` items.

    Row ``u`` of ``inputs`` holds items ``s_1 .. s_n-1`` of user ``u``'s (truncated) history and
    row ``u`` of ``targets`` the items ``s_2 .. s_n`` that follow them; rows are right-padded
    with ``pad`` (inputs) and :data:`IGNORE` (targets), so that with causal attention no real
    position ever attends to padding. Users with fewer than two items are left out.
    """
    kept = [np.asarray(h)[-(max_len + 1) :] for h in histories if len(h) >= 2]
    inputs, _ = pad_histories([seq[:-1] for seq in kept], max_len, pad)
    targets, _ = pad_histories([seq[1:] for seq in kept], max_len, IGNORE)
    return inputs, targets


def held_out_batches(
    histories: Sequence[np.ndarray], targets: np.ndarray, max_len: int, pad: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets that score only the held-out item, after each user's whole history.

    The inputs are :func:`pad_histories`; the targets are :data:`IGNORE` except at each row's
    last real position, which holds ``targets[u]``. Their :func:`next_item_loss` is the
    validation (or test) cross-entropy of the held-out items.
    """
    inputs, lengths = pad_histories(histories, max_len, pad)
    if (lengths == 0).any():
        raise ValueError("every history needs at least one item")
    labels = torch.full_like(inputs, IGNORE)
    labels[torch.arange(len(inputs)), lengths - 1] = torch.as_tensor(np.asarray(targets))
    return inputs, labels


def next_item_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every real position, the softmax over the whole catalogue."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE
    )


class SASRec(nn.Module):
    """Self-attentive sequential recommendation (Kang & McAuley 2018), decoder-only.

    Item embedding plus a learned position embedding, ``n_layers`` causal
    :class:`~helpers.models.TransformerBlock` s and a final LayerNorm; the score of item ``j``
    after position ``t`` is the dot product of the state at ``t`` with item ``j``'s embedding
    (the embedding table is shared with the output, as in SASRec). Item ``n_items`` is the
    padding id, never scored.

    Args:
        n_items: catalogue size; items are ``0..n_items-1``.
        max_len: the longest history the model reads (its last ``max_len`` items).
        d_model: width of the embeddings and of the residual stream.
        n_heads: attention heads per block.
        n_layers: number of blocks.
        dropout: dropout after the embeddings and inside each block.
    """

    def __init__(
        self,
        n_items: int,
        max_len: int,
        d_model: int = 64,
        n_heads: int = 2,
        n_layers: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.n_items, self.max_len = n_items, max_len
        self.item_emb = nn.Embedding(n_items + 1, d_model)  # + the padding id
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, n_heads, dropout=dropout) for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model)
        self.apply(_init_gpt_style)

    @property
    def pad(self) -> int:
        """The padding id (one past the last item)."""
        return self.n_items

    def embed(self, items: torch.Tensor) -> torch.Tensor:
        """The input of the first block for ``(batch, time)`` item ids."""
        time = items.shape[1]
        if time > self.max_len:
            raise ValueError(f"history of length {time} is longer than max_len={self.max_len}")
        positions = torch.arange(time, device=items.device)
        return self.drop(self.item_emb(items) + self.pos_emb(positions))

    def states(self, items: torch.Tensor) -> torch.Tensor:
        """``(batch, time)`` ids -> ``(batch, time, d_model)``: the last block's normed output."""
        x = self.embed(items)
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """``(batch, time)`` ids -> ``(batch, time, n_items)`` scores of the next item."""
        return self.states(items) @ self.item_emb.weight[: self.n_items].T

    @torch.no_grad()
    def score_next(self, histories: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """``(n_users, n_items)`` scores of each user's next item after ``histories[u]``.

        Each history is cut to its last ``max_len`` items and right-padded; the scores are
        read at its last real position.
        """
        if any(len(h) == 0 for h in histories):
            raise ValueError("every history needs at least one item")
        was_training = self.training
        self.eval()
        device = self.item_emb.weight.device
        out = np.empty((len(histories), self.n_items), dtype=np.float32)
        for start in range(0, len(histories), batch_size):
            items, lengths = pad_histories(
                histories[start : start + batch_size], self.max_len, self.pad
            )
            last = self.states(items.to(device))[torch.arange(len(items)), lengths - 1]
            scores = last @ self.item_emb.weight[: self.n_items].T
            out[start : start + len(items)] = scores.float().cpu().numpy()
        self.train(was_training)
        return out


@dataclass(frozen=True)
class SASRecConfig:
    """Everything :func:`fit_sasrec` needs besides the data; the epochs stop early on validation."""

    n_layers: int = 1
    max_len: int = 50
    d_model: int = 64
    n_heads: int = 2
    dropout: float = 0.2
    lr: float = 1e-2
    batch_size: int = 64
    max_epochs: int = 80
    patience: int = 8
    seed: int = 0


def fit_sasrec(
    split: LeaveLastOut,
    n_items: int,
    config: SASRecConfig,
    *,
    device: torch.device | str | None = "cpu",
    epochs: int | None = None,
    progress: bool = True,
) -> tuple[SASRec, dict[str, list[float]]]:
    """Train :class:`SASRec` on ``split.train`` with full cross-entropy, Adam and early stopping.

    After every epoch it records the training loss, the validation cross-entropy of the
    held-out items (``val_loss``) and the validation ``val_NDCG@10`` and ``val_HR@10`` of
    :func:`rank_metrics`; early stopping watches ``val_NDCG@10`` with ``config.patience``.
    Training runs at most ``config.max_epochs`` epochs (``epochs`` overrides that, without early
    stopping, for a short demonstration). Returns the model with the weights of its best
    epoch, and the history.
    """
    seed_everything(config.seed)
    model = SASRec(
        n_items, config.max_len, config.d_model, config.n_heads, config.n_layers, config.dropout
    )
    # Fused Adam: the same bits on every CPU, unlike the foreach one (DESIGN's traps)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    inputs, targets = next_item_batches(split.train, config.max_len, model.pad)
    val_inputs, val_targets = held_out_batches(split.train, split.val, config.max_len, model.pad)

    def validation_ranking(name: str) -> Callable[[SASRec], float]:
        def metric(model: SASRec) -> float:
            scores = model.score_next(split.train)
            return float(rank_metrics(scores, split.val, split.train)[name].mean())

        return metric

    trainer = Trainer(
        model,
        optimizer,
        next_item_loss,
        device=device,
        model_metrics={name: validation_ranking(name) for name in ("NDCG@10", "HR@10")},
        patience=None if epochs is not None else config.patience,
        monitor="val_NDCG@10",
        progress=progress,
    )
    history = trainer.fit(
        make_loader(inputs.numpy(), targets.numpy(), config.batch_size, shuffle=True),
        make_loader(val_inputs.numpy(), val_targets.numpy(), 1024),
        epochs if epochs is not None else config.max_epochs,
    )
    return model, history


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_sasrec(
    directory: str | os.PathLike[str], model: SASRec, config: SASRecConfig, **facts: Any
) -> Path:
    """Write ``sasrec.safetensors``, ``config.json`` (config, catalogue size, ``facts``, hash).

    Returns the weights file's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / "sasrec.safetensors"
    state = {
        name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()
    }
    save_file(state, weights)
    meta = {"config": asdict(config), "n_items": model.n_items, **facts}
    meta["sha256"] = sha256_of(weights)
    (directory / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
    return weights


def load_sasrec(directory: str | os.PathLike[str]) -> tuple[SASRec, dict[str, Any]]:
    """The model :func:`save_sasrec` wrote, in eval mode, and its ``config.json``.

    Raises ``ValueError`` if the weights' SHA-256 is not the one recorded beside them.
    """
    directory = Path(directory)
    weights = directory / "sasrec.safetensors"
    meta = json.loads((directory / "config.json").read_text())
    digest = sha256_of(weights)
    if digest != meta["sha256"]:
        raise ValueError(
            f"{weights} has SHA-256 {digest}, but config.json records {meta['sha256']}"
        )
    config = SASRecConfig(**meta["config"])
    model = SASRec(
        meta["n_items"], config.max_len, config.d_model, config.n_heads, config.n_layers, 0.0
    )
    model.load_state_dict(load_file(weights))
    return model.eval(), meta
