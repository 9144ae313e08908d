"""Tests of the simulated listeners in helpers.data.listeners."""

import numpy as np
import pytest

from helpers.data.listeners import ListenerConfig, ListenerSim, tune_features

CONFIG = ListenerConfig(n_users=20, slate_size=3)
FEATURES = np.eye(6)[np.arange(40) % 6]  # 40 items, 6 one-hot features


def _trajectory(seed: int, steps: int = 15) -> np.ndarray:
    sim = ListenerSim(FEATURES, CONFIG, seed=seed)
    rng = np.random.default_rng(123)  # the same slates for every seed
    return np.stack(
        [sim.step(np.argsort(rng.random((20, 40)), axis=1)[:, :3]) for _ in range(steps)]
    )


def test_same_seed_same_trajectory_other_seed_differs() -> None:
    assert np.array_equal(_trajectory(0), _trajectory(0))
    assert not np.array_equal(_trajectory(0), _trajectory(1))


def test_world_seed_shared_users_differ() -> None:
    a = ListenerSim(FEATURES, CONFIG, seed=0, world_seed=5)
    b = ListenerSim(FEATURES, CONFIG, seed=1, world_seed=5)
    assert np.array_equal(a.quality, b.quality) and np.array_equal(a.taste_mean, b.taste_mean)
    assert not np.array_equal(a.taste, b.taste)


def test_choice_probabilities_sum_to_one_and_oracle_is_best() -> None:
    sim = ListenerSim(FEATURES, CONFIG, seed=0)
    slates = np.tile(np.arange(3), (20, 1))
    probs = sim.choice_probabilities(slates)
    assert probs.shape == (20, 4) and (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(sim.expected_reward(slates), 1.0 - probs[:, -1])
    assert (sim.oracle_reward() >= sim.expected_reward(slates) - 1e-12).all()


def test_boredom_lowers_appeal_of_a_repeated_item_then_recovers() -> None:
    config = ListenerConfig(n_users=1, slate_size=1, no_click=-50.0)  # always clicks
    sim = ListenerSim(FEATURES, config, seed=0)
    before = sim.choice_probabilities(np.array([[0]]))[0, 0]
    fresh = sim.appeal()[0, 0]
    for _ in range(3):
        assert sim.step(np.array([[0]]))[0] == 0
    bored = sim.appeal()[0, 0]
    assert bored < fresh - 3 * config.repeat_weight * config.repeat_decay**2
    assert sim.appeal()[0, 6] < fresh - sim.quality[0] + sim.quality[6] - 1e-9  # same features
    for _ in range(100):
        sim.step(np.array([[1]]))
    assert bored < sim.appeal()[0, 0] and before > 0.99


def test_bad_input_raises() -> None:
    sim = ListenerSim(FEATURES, CONFIG, seed=0)
    with pytest.raises(ValueError, match="shape"):
        sim.step(np.zeros((20, 2), dtype=int))
    with pytest.raises(ValueError, match="same tune twice"):
        sim.step(np.zeros((20, 3), dtype=int))
    with pytest.raises(ValueError, match="out-of-range"):
        sim.step(np.full((20, 3), [0, 1, 40]))
    with pytest.raises(ValueError, match="integer"):
        sim.step(np.tile([0.0, 1.0, 2.0], (20, 1)))
    with pytest.raises(ValueError, match="boredom_decay"):
        ListenerConfig(boredom_decay=1.0)
    with pytest.raises(ValueError, match="n_users"):
        ListenerConfig(n_users=0)
    with pytest.raises(ValueError, match="fewer than slate_size"):
        ListenerSim(FEATURES[:2], CONFIG)
    with pytest.raises(ValueError, match="finite 2-D"):
        ListenerSim(np.ones(5), CONFIG)
    with pytest.raises(ValueError, match="at least one tune"):
        tune_features([])


def test_tune_features_one_hot() -> None:
    from helpers.data.folk_tunes import parse_abc_tunes

    text = "X:1\nM:6/8\nR:double jig\nK:Em\nEGB|\nX:2\nM:C\nK:HP\nAB|\n"
    tunes = parse_abc_tunes(text, collection="ryansMammoth")
    features, names = tune_features(tunes)
    assert features.shape == (2, len(names)) and (features.sum(axis=1) == 5).all()
    on = [[names[j] for j in np.flatnonzero(row)] for row in features]
    assert on[0] == ["tonic=E", "mode=minor", "meter=6/8", "type=jig", "collection=ryansMammoth"]
    assert on[1] == [
        "tonic=other",
        "mode=modal",
        "meter=4/4",
        "type=unspecified",
        "collection=ryansMammoth",
    ]
    with pytest.raises(ValueError, match="unknown collection="):
        tune_features(parse_abc_tunes(text))


def test_pair_taste_is_what_no_linear_model_of_the_features_fits() -> None:
    # two one-hot groups of 3 values: 9 items, one per combination, each with one pair
    features = np.array([np.r_[np.eye(3)[a], np.eye(3)[b]] for a in range(3) for b in range(3)])

    def residual(sim: ListenerSim) -> float:
        target = (sim.appeal() - sim.quality).T  # (items, users): the taste part
        fit, *_ = np.linalg.lstsq(features, target, rcond=None)
        return float(np.abs(target - features @ fit).max())

    linear = ListenerSim(features, ListenerConfig(n_users=500, slate_size=2), seed=0)
    assert linear.pair_appeal is None and residual(linear) < 1e-9
    config = ListenerConfig(n_users=500, slate_size=2, pair_taste_scale=1.5)
    paired = ListenerSim(features, config, seed=0)
    assert residual(paired) > 0.5
    assert np.std(paired.pair_appeal) == pytest.approx(1.5, rel=0.1)
    # choices follow the same appeal: a logit over the slate's appeal and the no-click one
    slates = np.tile([0, 4], (500, 1))
    appeal = np.take_along_axis(paired.appeal(), slates, axis=1)
    logits = np.concatenate([appeal, np.full((500, 1), config.no_click)], axis=1)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(paired.choice_probabilities(slates), expected)
    # the linear tastes and the choices' generator are the same draws as without pairs
    np.testing.assert_array_equal(paired.taste, linear.taste)
    with pytest.raises(ValueError, match="pair_taste_scale"):
        ListenerConfig(pair_taste_scale=-1.0)
