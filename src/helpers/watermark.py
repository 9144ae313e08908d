"""A statistical watermark for sampled text and its detector (Kirchenbauer et al., 2023).

At every step the previous token and a secret key pick a "green list", a fixed share
``gamma`` of the vocabulary, and the sampler adds ``delta`` to the logits of the green tokens.
Text drawn this way holds more green tokens than chance; whoever has the key counts them and
computes a z-score, without the model. Without the key the lists look random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class NextTokenModel(Protocol):
    """What :func:`sample_batch` needs: a vocabulary size and next-token distributions."""

    vocab_size: int

    def next_distributions(self, contexts: Sequence[Sequence[int]]) -> np.ndarray: ...


@dataclass(frozen=True)
class Detection:
    """The detector's reading of one text: green tokens among the scored ones, and z."""

    green: int
    scored: int
    z: float


class GreenListWatermark:
    """Green lists drawn from ``key``, one per previous token, each ``gamma`` of the vocabulary.

    Args:
        vocab_size: number of token ids.
        key: the secret that seeds the lists.
        gamma: share of the vocabulary in each green list, strictly between 0 and 1.
        delta: what the sampler adds to a green token's logit (0: no watermark).
    """

    def __init__(self, vocab_size: int, key: int, gamma: float = 0.5, delta: float = 2.0):
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
        if not 0 < gamma < 1:
            raise ValueError(f"gamma must be strictly between 0 and 1, got {gamma}")
        if delta < 0:
            raise ValueError(f"delta must be at least 0, got {delta}")
        n_green = round(gamma * vocab_size)
        if not 0 < n_green < vocab_size:
            raise ValueError(f"gamma {gamma} leaves no green or no red token of {vocab_size}")
        self.vocab_size, self.gamma, self.delta = vocab_size, n_green / vocab_size, delta
        rng = np.random.default_rng(key)
        self.green = np.zeros((vocab_size, vocab_size), dtype=bool)
        for previous in range(vocab_size):
            self.green[previous, rng.permutation(vocab_size)[:n_green]] = True

    def apply(self, probs: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Tilt each row of ``probs`` (batch, vocab) toward the green list of its ``previous``."""
        boost = np.where(self.green[previous], np.exp(self.delta), 1.0)
        tilted = probs * boost
        return tilted / tilted.sum(axis=1, keepdims=True)

    def detect(self, ids: Sequence[int]) -> Detection:
        """Count the green tokens of ``ids`` (each judged by the one before it) and their z-score.

        Under the null hypothesis (text written without the key) each of the ``T`` scored
        tokens is green with probability ``gamma``, so ``z = (green - gamma T) /
        sqrt(T gamma (1 - gamma))`` is about standard normal.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) < 2:
            raise ValueError("detect needs a sequence of at least 2 token ids")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        green = int(self.green[ids[:-1], ids[1:]].sum())
        scored = len(ids) - 1
        expected, spread = self.gamma * scored, np.sqrt(scored * self.gamma * (1 - self.gamma))
        return Detection(green, scored, float((green - expected) / spread))


def sample_batch(
    model: NextTokenModel,
    prompt: Sequence[int],
    steps: int,
    num_samples: int,
    rng: np.random.Generator,
    watermark: GreenListWatermark | None = None,
    stop: int | None = None,
) -> list[list[int]]:
    """Draw ``num_samples`` continuations of ``prompt`` at once, watermarked if one is given.

    Each continuation ends after ``steps`` ids, or after it draws ``stop`` (kept as its last
    id). Returns the drawn ids, without the prompt.
    """
    if not prompt:
        raise ValueError("the prompt must hold at least one token id")
    rows = [list(prompt) for _ in range(num_samples)]
    done = np.zeros(num_samples, dtype=bool)
    for _ in range(steps):
        live = np.flatnonzero(~done)
        if live.size == 0:
            break
        probs = model.next_distributions([rows[i] for i in live])
        if watermark is not None:
            probs = watermark.apply(probs, np.array([rows[i][-1] for i in live]))
        cumulative = np.cumsum(probs, axis=1)
        draws = rng.random(live.size)[:, None] * cumulative[:, -1:]
        tokens = np.minimum((cumulative < draws).sum(axis=1), model.vocab_size - 1)
        for i, token in zip(live, tokens, strict=True):
            rows[i].append(int(token))
            done[i] = stop is not None and token == stop
    return [row[len(prompt) :] for row in rows]
