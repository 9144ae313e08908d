"""Tests of the green-list watermark (helpers.watermark)."""

import numpy as np
import pytest

from helpers.ngram import CharNGram
from helpers.watermark import GreenListWatermark, sample_batch

V = 20


class Uniform:
    """A model that gives every token the same probability."""

    vocab_size = V

    def next_distributions(self, contexts):
        return np.full((len(contexts), V), 1.0 / V)


def test_each_previous_token_has_a_green_list_of_gamma_of_the_vocabulary():
    watermark = GreenListWatermark(V, key=1, gamma=0.25)
    assert watermark.green.shape == (V, V)
    assert (watermark.green.sum(axis=1) == 5).all()
    assert watermark.gamma == 0.25


def test_the_key_decides_the_lists():
    same = GreenListWatermark(V, key=1).green
    assert np.array_equal(same, GreenListWatermark(V, key=1).green)
    assert not np.array_equal(same, GreenListWatermark(V, key=2).green)


def test_apply_moves_mass_to_green_tokens_and_delta_zero_changes_nothing():
    probs = np.random.default_rng(0).dirichlet(np.ones(V), size=3)
    previous = np.array([0, 5, 7])
    assert np.allclose(GreenListWatermark(V, key=1, delta=0.0).apply(probs, previous), probs)
    watermark = GreenListWatermark(V, key=1, delta=2.0)
    tilted = watermark.apply(probs, previous)
    assert np.allclose(tilted.sum(axis=1), 1)
    green = watermark.green[previous]
    assert ((tilted * green).sum(axis=1) > (probs * green).sum(axis=1)).all()


def test_an_all_green_text_has_the_z_score_of_the_formula():
    watermark = GreenListWatermark(V, key=3, gamma=0.5)
    ids = [0]
    for _ in range(99):
        ids.append(int(np.flatnonzero(watermark.green[ids[-1]])[0]))
    found = watermark.detect(ids)
    assert (found.green, found.scored) == (99, 99)
    assert found.z == pytest.approx((99 - 49.5) / np.sqrt(99 * 0.25))


def test_text_written_without_the_key_scores_near_zero_and_watermarked_text_high():
    watermark = GreenListWatermark(V, key=4, gamma=0.5, delta=2.0)
    plain = sample_batch(Uniform(), [0], 400, 20, np.random.default_rng(0))
    marked = sample_batch(Uniform(), [0], 400, 20, np.random.default_rng(0), watermark)
    plain_z = np.array([watermark.detect([0, *row]).z for row in plain])
    marked_z = np.array([watermark.detect([0, *row]).z for row in marked])
    assert abs(plain_z.mean()) < 1 and plain_z.max() < 4
    assert marked_z.min() > 8


def test_sampling_stops_after_the_stop_token_and_drops_the_prompt():
    ids = np.array([1, 2, 3, 0] * 50)
    model = CharNGram(2).fit(ids, 4)
    rows = sample_batch(model, [0], steps=50, num_samples=5, rng=np.random.default_rng(0), stop=0)
    for row in rows:
        assert row[0] == 1 and row[-1] == 0 and 0 not in row[:-1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(gamma=0.0), "gamma must be strictly between 0 and 1"),
        (dict(gamma=1.0), "gamma must be strictly between 0 and 1"),
        (dict(delta=-1.0), "delta must be at least 0"),
        (dict(gamma=0.01), "leaves no green or no red token"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GreenListWatermark(V, key=0, **kwargs)


def test_detect_refuses_short_or_foreign_sequences():
    watermark = GreenListWatermark(V, key=0)
    with pytest.raises(ValueError, match="at least 2 token ids"):
        watermark.detect([3])
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 20\)"):
        watermark.detect([3, 20])
    with pytest.raises(ValueError, match="at least one token id"):
        sample_batch(Uniform(), [], 5, 1, np.random.default_rng(0))
