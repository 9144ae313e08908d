"""Recommender-system building blocks: rating splits, metrics, rating models, top-k lists.

The chapter "Movie recommendation" (``chapters/05_code/07_movie_recommendation.ipynb``) uses
them on MovieLens. Ratings are a pandas frame with one row per (user, item, rating,
timestamp); models and ranking functions work on integer indices ``0..n_users-1`` and
``0..n_items-1``. Ranking metrics take ``recommended`` (user -> ranked item list) and
``relevant`` (user -> set of held-out items that count as hits).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

# ----------------------------------------------------------------------------------- splits


def _check_fraction(test_frac: float) -> None:
    if not 0.0 < test_frac < 1.0:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac}")


def random_split(
    ratings: pd.DataFrame, test_frac: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a random ``test_frac`` of the rows; returns ``(train, test)`` in row order."""
    _check_fraction(test_frac)
    n_test = int(round(test_frac * len(ratings)))
    order = np.random.default_rng(seed).permutation(len(ratings))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[:n_test]] = True
    return ratings[~is_test], ratings[is_test]


def temporal_split(
    ratings: pd.DataFrame,
    test_frac: float = 0.2,
    user_col: str = "userId",
    time_col: str = "timestamp",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's latest ``floor(test_frac * n_u)`` ratings; returns ``(train, test)``.

    Ties in time keep the frame's row order (a stable sort), so the split is deterministic.
    """
    _check_fraction(test_frac)
    for column in (user_col, time_col):
        if column not in ratings.columns:
            raise ValueError(f"ratings has no column {column!r}: {list(ratings.columns)}")
    position = np.arange(len(ratings))
    order = np.lexsort((position, ratings[time_col].to_numpy(), ratings[user_col].to_numpy()))
    users = ratings[user_col].to_numpy()[order]
    # rank of each row within its user's history (0 = oldest) and the user's count
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(users)])
    rank = position - np.repeat(starts, counts)
    n_test = np.floor(test_frac * counts).astype(int)
    is_test_sorted = rank >= np.repeat(counts - n_test, counts)
    is_test = np.empty(len(ratings), dtype=bool)
    is_test[order] = is_test_sorted
    return ratings[~is_test], ratings[is_test]


# ---------------------------------------------------------------------------------- metrics


def rmse(y_true: Sequence[float] | np.ndarray, y_pred: Sequence[float] | np.ndarray) -> float:
    """Root mean squared error, :math:`\\sqrt{\\frac1n \\sum_i (y_i - \\hat y_i)^2}`."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need two non-empty arrays of one shape: {y_true.shape}, {y_pred.shape}")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _scored_users(
    recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]], k: int
) -> list[int]:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    users = [user for user, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError("no user has a relevant item: the metric is undefined")
    missing = [user for user in users if user not in recommended]
    if missing:
        raise ValueError(
            f"{len(missing)} users with relevant items have no list, e.g. {missing[0]}"
        )
    return users


def recall_at_k(
    recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]], k: int
) -> float:
    """Mean over users with a relevant item of ``|top-k ∩ relevant| / |relevant|``."""
    users = _scored_users(recommended, relevant, k)
    scores = [
        len(set(list(recommended[user])[:k]) & set(relevant[user])) / len(relevant[user])
        for user in users
    ]
    return float(np.mean(scores))


def ndcg_at_k(
    recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]], k: int
) -> float:
    """Mean over users with a relevant item of DCG@k / ideal DCG@k, binary relevance.

    ``DCG@k = sum over hits at 1-based rank r <= k of 1 / log2(r + 1)``; the ideal DCG puts
    ``min(k, |relevant|)`` hits at the top.
    """
    users = _scored_users(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for user in users:
        hits = set(relevant[user])
        gains = np.array([item in hits for item in list(recommended[user])[:k]], dtype=float)
        dcg = float(gains @ discounts[: len(gains)])
        ideal = float(discounts[: min(k, len(hits))].sum())
        scores.append(dcg / ideal)
    return float(np.mean(scores))


def catalogue_coverage(recommended: Mapping[int, Sequence[int]], n_items: int, k: int) -> float:
    """Fraction of the ``n_items`` catalogue that appears in at least one top-k list."""
    if n_items < 1:
        raise ValueError(f"n_items must be at least 1, got {n_items}")
    shown = {item for items in recommended.values() for item in list(items)[:k]}
    return len(shown) / n_items


def mean_popularity(
    recommended: Mapping[int, Sequence[int]], popularity: np.ndarray, k: int
) -> float:
    """Mean of ``popularity[item]`` (e.g. training-rating counts) over all top-k entries."""
    shown = [item for items in recommended.values() for item in list(items)[:k]]
    if not shown:
        raise ValueError("no recommendations to average over")
    return float(np.mean(np.asarray(popularity)[shown]))


# ----------------------------------------------------------------------------------- models


def pair_loader(
    frame: pd.DataFrame,
    batch_size: int = 1024,
    shuffle: bool = False,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str = "rating",
) -> DataLoader:
    """A loader of ``(pairs, ratings)`` batches: int64 ``(B, 2)`` indices, float32 ratings.

    It indexes whole batches at once (a batch sampler), about ten times faster than
    one row at a time; shuffling draws from PyTorch's global generator.
    """
    for column in (user_col, item_col, rating_col):
        if column not in frame.columns:
            raise ValueError(f"frame has no column {column!r}: {list(frame.columns)}")
    dataset = TensorDataset(
        torch.tensor(frame[[user_col, item_col]].to_numpy(dtype=np.int64)),
        torch.tensor(frame[rating_col].to_numpy(dtype=np.float32)),
    )
    base = RandomSampler(dataset) if shuffle else range(len(dataset))
    sampler = BatchSampler(base, batch_size, drop_last=False)
    return DataLoader(dataset, sampler=sampler, batch_size=None)


def _split_pairs(pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"expected (user_idx, item_idx) pairs of shape (N, 2), got {pairs.shape}")
    pairs = pairs.long()
    return pairs[:, 0], pairs[:, 1]


class BiasModel(nn.Module):
    """Baseline predictor :math:`\\hat r_{ui} = \\mu + b_u + b_i` (global mean plus biases).

    ``forward`` takes an ``(N, 2)`` tensor of (user index, item index) pairs and returns ``N``
    predicted ratings. The global mean is a fixed buffer; the biases start at zero.
    """

    def __init__(self, n_users: int, n_items: int, global_mean: float) -> None:
        super().__init__()
        self.register_buffer("global_mean", torch.tensor(float(global_mean)))
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        users, items = _split_pairs(pairs)
        return (
            self.global_mean + self.user_bias(users).squeeze(-1) + self.item_bias(items).squeeze(-1)
        )

    @torch.no_grad()
    def score_all(self) -> np.ndarray:
        """Predicted ratings of every (user, item), shape ``(n_users, n_items)``."""
        return (self.global_mean + self.user_bias.weight + self.item_bias.weight.T).numpy(
            force=True
        )


class MatrixFactorization(BiasModel):
    """Biased matrix factorization :math:`\\hat r_{ui} = \\mu + b_u + b_i + p_u^\\top q_i`.

    User and item factors start from :math:`\\mathcal N(0, \\text{init\\_std}^2)`.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        global_mean: float,
        n_factors: int = 32,
        init_std: float = 0.01,
    ) -> None:
        super().__init__(n_users, n_items, global_mean)
        if n_factors < 1:
            raise ValueError(f"n_factors must be at least 1, got {n_factors}")
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        nn.init.normal_(self.user_factors.weight, std=init_std)
        nn.init.normal_(self.item_factors.weight, std=init_std)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        users, items = _split_pairs(pairs)
        dot = (self.user_factors(users) * self.item_factors(items)).sum(-1)
        return super().forward(pairs) + dot

    @torch.no_grad()
    def score_all(self) -> np.ndarray:
        """Predicted ratings of every (user, item), shape ``(n_users, n_items)``."""
        dot = self.user_factors.weight @ self.item_factors.weight.T
        return super().score_all() + dot.numpy(force=True)


# ---------------------------------------------------------------------------------- ranking


def top_k_unseen(
    scores: np.ndarray, seen: Mapping[int, Collection[int]], k: int = 10
) -> dict[int, list[int]]:
    """Each user's ``k`` highest-scoring items that are not in ``seen[user]``.

    ``scores`` has one row per user index and one column per item index. Ties are broken
    towards the lower item index, so the lists are deterministic.
    """
    scores = np.array(scores, dtype=float)  # a copy: seen items are masked in place
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n_users, n_items), got shape {scores.shape}")
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be in [1, {scores.shape[1]}], got {k}")
    for user, items in seen.items():
        scores[user, list(items)] = -np.inf
    # The k-th largest score of each row; every item at or above it is a candidate, and a
    # sort of the candidates by (-score, item) keeps the lower index first among ties.
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
    rows, cols = np.nonzero(scores >= kth[:, None])
    order = np.lexsort((cols, -scores[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(rows, np.arange(len(scores)))
    rank = np.arange(len(rows)) - first[rows]
    keep = rank < k
    return {
        user: [int(item) for item in cols[keep][rows[keep] == user]] for user in range(len(scores))
    }
