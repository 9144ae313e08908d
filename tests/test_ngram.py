"""Tests of the character n-gram baseline in helpers.ngram."""

import math

import numpy as np
import pytest

from helpers.ngram import CharNGram


@pytest.fixture(scope="module")
def text_ids() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 6, size=3000)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_distributions_sum_to_one(text_ids, n) -> None:
    model = CharNGram(n, alpha=0.5).fit(text_ids, vocab_size=7)  # id 6 never seen
    for context in ([], [0], [1, 2, 3], [6, 6, 6], text_ids[:10].tolist()):
        probs = model.next_distribution(context)
        assert probs.shape == (7,) and (probs > 0).all()
        assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)
    # log2_probs agrees with next_distribution at every position
    ids = text_ids[:20]
    expected = [
        math.log2(model.next_distribution(ids[max(0, i - n + 1) : i])[ids[i]])
        for i in range(len(ids))
    ]
    assert np.allclose(model.log2_probs(ids), expected)


def test_uniform_random_text_costs_log2_v() -> None:
    rng = np.random.default_rng(1)
    model = CharNGram(3).fit(rng.integers(0, 8, size=200_000), vocab_size=8)
    bits = model.bits_per_char(rng.integers(0, 8, size=20_000))
    assert abs(bits - 3.0) < 0.05


def test_deterministic_sequence_is_learned() -> None:
    ids = np.tile(np.array([0, 1, 2, 3, 2, 1]), 500)  # needs 2 tokens of context
    bits = CharNGram(3, alpha=0.01).fit(ids, vocab_size=4).bits_per_char(ids[3:600])
    assert bits < 0.01
    assert CharNGram(2).fit(ids, vocab_size=4).bits_per_char(ids[3:600]) > 0.3


def test_seeded_sampling_is_reproducible(text_ids) -> None:
    model = CharNGram(3).fit(text_ids, vocab_size=6)
    first = model.sample([0, 1], 50, np.random.default_rng(5), temperature=0.8)
    again = model.sample([0, 1], 50, np.random.default_rng(5), temperature=0.8)
    assert first == again and first[:2] == [0, 1] and len(first) == 52
    assert first != model.sample([0, 1], 50, np.random.default_rng(6), temperature=0.8)
    stopped = model.sample([0], 10_000, np.random.default_rng(0), stop=5)
    assert stopped[-1] == 5 and 5 not in stopped[1:-1]
    ids = np.tile(np.array([0, 1, 2]), 200)
    cold = CharNGram(2, alpha=0.01).fit(ids, 3).sample([0], 30, np.random.default_rng(0), 0.05)
    assert cold == np.tile([0, 1, 2], 11)[:31].tolist()


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="n must be at least 1"):
        CharNGram(0)
    with pytest.raises(ValueError, match="not fitted"):
        CharNGram(2).bits_per_char(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"ids must lie in 0\.\.2"):
        CharNGram(2).fit(np.array([0, 1, 3]), vocab_size=3)
    with pytest.raises(ValueError, match="overflows int64"):
        CharNGram(12).fit(np.arange(100) % 90, vocab_size=90)
