"""Tests of helpers.recsys: splits, metrics, rating models and top-k lists."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import Trainer, seed_everything
from helpers.recsys import (
    BiasModel,
    MatrixFactorization,
    catalogue_coverage,
    mean_popularity,
    ndcg_at_k,
    pair_loader,
    random_split,
    recall_at_k,
    rmse,
    temporal_split,
    top_k_unseen,
)


def _ratings(n_users: int = 6, per_user: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        (user, item, float(rng.integers(1, 6)), int(rng.integers(0, 10**6)))
        for user in range(n_users)
        for item in rng.choice(50, per_user, replace=False)
    ]
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


# ------------------------------------------------------------------------------- metrics
def test_rmse_by_hand() -> None:
    # errors 1, -1, 2: sqrt((1 + 1 + 4) / 3) = sqrt(2)
    assert rmse([3, 4, 5], [2, 5, 3]) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError):
        rmse([1, 2], [1])


def test_recall_by_hand() -> None:
    recommended = {0: [1, 2, 3, 4], 1: [5, 6, 7, 8], 2: [9]}
    relevant = {0: {2, 4, 10}, 1: {9}, 2: set()}  # user 2 has nothing relevant: skipped
    # user 0: hits {2} in top 2 of 3 relevant = 1/3; user 1: 0 -> mean 1/6
    assert recall_at_k(recommended, relevant, 2) == pytest.approx(1 / 6)
    # top 4: user 0 hits {2, 4} = 2/3; user 1: 0 -> mean 1/3
    assert recall_at_k(recommended, relevant, 4) == pytest.approx(1 / 3)


def test_ndcg_by_hand() -> None:
    recommended = {0: [1, 2, 3, 4], 1: [7, 8, 5, 6]}
    relevant = {0: {2, 4, 10}, 1: {7}}
    # user 0, k=4: hits at ranks 2 and 4 -> DCG = 1/log2(3) + 1/log2(5) = 0.6309 + 0.4307
    # ideal: min(4, 3) = 3 hits at ranks 1-3 -> 1 + 0.6309 + 0.5 = 2.1309; ratio 0.4982
    # user 1: the one relevant item at rank 1 -> 1.0; mean (0.4982 + 1) / 2 = 0.7491
    user0 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.5)
    assert user0 == pytest.approx(0.4982, abs=1e-4)
    assert ndcg_at_k(recommended, relevant, 4) == pytest.approx((user0 + 1) / 2)
    # k=1: user 0 misses (0), user 1 hits (ideal DCG@1 = 1) -> 0.5
    assert ndcg_at_k(recommended, relevant, 1) == pytest.approx(0.5)
    perfect = {0: [2, 4, 10, 1], 1: [7, 1, 2, 3]}
    assert ndcg_at_k(perfect, relevant, 4) == pytest.approx(1.0)


def test_ranking_metric_errors() -> None:
    with pytest.raises(ValueError, match="no list"):
        ndcg_at_k({0: [1]}, {0: {1}, 1: {2}}, 1)
    with pytest.raises(ValueError, match="relevant"):
        recall_at_k({0: [1]}, {0: set()}, 1)
    with pytest.raises(ValueError, match="k must"):
        recall_at_k({0: [1]}, {0: {1}}, 0)


def test_coverage_and_popularity_by_hand() -> None:
    recommended = {0: [0, 1, 2], 1: [0, 3, 4]}
    # top 2: items {0, 1, 3} of 10 -> 0.3
    assert catalogue_coverage(recommended, n_items=10, k=2) == pytest.approx(0.3)
    popularity = np.array([10, 4, 0, 2, 0, 0, 0, 0, 0, 0])
    # top 2 entries: items 0, 1, 0, 3 -> (10 + 4 + 10 + 2) / 4 = 6.5
    assert mean_popularity(recommended, popularity, k=2) == pytest.approx(6.5)


# -------------------------------------------------------------------------------- splits
def test_random_split_disjoint_complete_stable() -> None:
    ratings = _ratings()
    train, test = random_split(ratings, 0.2, seed=3)
    assert len(test) == 12 and len(train) == 48
    assert set(train.index).isdisjoint(test.index)
    assert set(train.index) | set(test.index) == set(ratings.index)
    again_train, again_test = random_split(ratings, 0.2, seed=3)
    assert test.index.equals(again_test.index) and train.index.equals(again_train.index)
    assert not test.index.equals(random_split(ratings, 0.2, seed=4)[1].index)
    with pytest.raises(ValueError):
        random_split(ratings, 1.0)


def test_temporal_split_takes_each_users_latest() -> None:
    ratings = _ratings(per_user=10)
    train, test = temporal_split(ratings, 0.2)
    assert set(train.index).isdisjoint(test.index)
    assert len(train) + len(test) == len(ratings)
    for user, group in ratings.groupby("userId"):
        held = test[test.userId == user]
        kept = train[train.userId == user]
        assert len(held) == 2  # floor(0.2 * 10)
        assert held.timestamp.min() >= kept.timestamp.max()
        assert set(held.index) == set(group.nlargest(2, "timestamp").index)


def test_temporal_split_ties_keep_row_order() -> None:
    ratings = pd.DataFrame(
        {"userId": [1] * 5, "movieId": range(5), "rating": 3.0, "timestamp": [7] * 5}
    )
    _, test = temporal_split(ratings, 0.4)
    assert list(test.movieId) == [3, 4]


# -------------------------------------------------------------------------------- models
def test_forward_shapes() -> None:
    pairs = torch.tensor([[0, 1], [2, 3], [1, 0]])
    for model in (BiasModel(3, 4, 3.5), MatrixFactorization(3, 4, 3.5, n_factors=5)):
        assert model(pairs).shape == (3,)
        assert model.score_all().shape == (3, 4)
        np.testing.assert_allclose(
            model.score_all()[[0, 2, 1], [1, 3, 0]], model(pairs).detach().numpy(), rtol=1e-6
        )
    with pytest.raises(ValueError, match="pairs"):
        BiasModel(3, 4, 3.5)(torch.tensor([0, 1]))


def test_bias_model_fits_a_bias_matrix() -> None:
    seed_everything(0, threads=1)
    user_bias, item_bias = np.array([-1.0, 0.0, 1.0]), np.array([0.5, -0.5, 0.0, 1.0])
    users, items = np.meshgrid(range(3), range(4), indexing="ij")
    frame = pd.DataFrame({"user": users.ravel(), "item": items.ravel()})
    frame["rating"] = 3.0 + user_bias[frame.user] + item_bias[frame.item]
    model = BiasModel(3, 4, frame.rating.mean())
    trainer = Trainer(
        model,
        torch.optim.Adam(model.parameters(), lr=0.1, fused=True),
        torch.nn.MSELoss(),
        device="cpu",
        progress=False,
    )
    trainer.fit(pair_loader(frame, 12), epochs=80)  # full batch
    assert rmse(frame.rating, model.score_all().ravel()) < 0.02  # ratings span 1.5-5
    np.testing.assert_allclose(model.score_all(), frame.rating.to_numpy().reshape(3, 4), atol=0.05)


def test_top_k_unseen_excludes_seen_and_breaks_ties_low() -> None:
    scores = np.array([[0.1, 0.9, 0.9, 0.5, 0.9], [1.0, 0.0, 0.0, 0.0, 0.0]])
    recs = top_k_unseen(scores, {0: {1}}, k=3)
    assert recs[0] == [2, 4, 3]  # item 1 was seen; ties 2 and 4 by index
    assert recs[1] == [0, 1, 2]
    assert scores[0, 1] == 0.9  # input not modified
