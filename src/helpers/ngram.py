"""Character n-gram language models: the counting baseline for the neural models.

:class:`CharNGram` predicts the next token id from the ``n - 1`` ids before it, with
probabilities from counts in a training sequence. Smoothing is *interpolated additive*
(Dirichlet-prior) smoothing: an order-k estimate adds ``beta = alpha * V`` pseudo-counts to
the counts seen after its context and shares them out by the order-(k - 1) estimate,

    P_k(c | h) = (N(h, c) + beta * P_{k-1}(c | h')) / (N(h) + beta),

where ``h'`` is ``h`` without its oldest token, ``V`` the vocabulary size and
``P_0(c) = 1 / V``. With a uniform lower order this is plain add-``alpha`` smoothing; a context
never seen in training falls back to the shorter one. Every ``P_k`` sums to 1 over the ``V``
tokens.

Counts are kept per order as sorted arrays of n-gram codes (the ids read as a base-``V``
number), so fitting and scoring are vectorized NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _codes(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """Base-``base`` codes of the ``len(ids) - k + 1`` windows of ``k`` ids (k >= 1)."""
    code = np.zeros(len(ids) - k + 1, dtype=np.int64)
    for j in range(k):
        code = code * base + ids[j : len(ids) - k + 1 + j]
    return code


def _lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
    """Counts of ``keys`` in a (sorted unique keys, counts) table; 0 for absent keys."""
    uniq, counts = table
    if len(uniq) == 0:
        return np.zeros(keys.shape, dtype=np.int64)
    pos = np.minimum(np.searchsorted(uniq, keys), len(uniq) - 1)
    return np.where(uniq[pos] == keys, counts[pos], 0)


class CharNGram:
    """An order-``n`` language model over token ids with interpolated additive smoothing.

    Args:
        n: the order: the next token is predicted from the ``n - 1`` tokens before it
            (``n = 1`` is the unigram model).
        alpha: pseudo-count per vocabulary entry added at each order (see the module
            docstring); smaller trusts the counts more.
    """

    def __init__(self, n: int, alpha: float = 0.1) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        self.n = n
        self.alpha = alpha
        self.vocab_size = 0
        # per order k = 1..n: counts of k-grams and of their (k-1)-token contexts
        self._grams: list[tuple[np.ndarray, np.ndarray]] = []
        self._contexts: list[tuple[np.ndarray, np.ndarray]] = []

    def __repr__(self) -> str:
        return f"CharNGram(n={self.n}, alpha={self.alpha}, vocab_size={self.vocab_size})"

    def fit(self, ids: np.ndarray, vocab_size: int) -> CharNGram:
        """Count the 1- to n-grams of the id sequence ``ids``; returns ``self``.

        Raises:
            ValueError: if an id is outside ``0 .. vocab_size - 1``, ``ids`` is shorter than
                ``n``, or ``vocab_size ** n`` does not fit the int64 codes.
        """
        ids = self._check(ids, vocab_size)
        if len(ids) < self.n:
            raise ValueError(f"need at least n={self.n} ids to fit, got {len(ids)}")
        if vocab_size**self.n >= 2**63:
            raise ValueError(f"vocab_size**n = {vocab_size}**{self.n} overflows int64 codes")
        self.vocab_size = vocab_size
        self._grams, self._contexts = [], []
        for k in range(1, self.n + 1):
            codes = _codes(ids, k, vocab_size)
            self._grams.append(np.unique(codes, return_counts=True))
            self._contexts.append(np.unique(codes // vocab_size, return_counts=True))
        return self

    def _check(self, ids: Sequence[int] | np.ndarray, vocab_size: int) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
            raise ValueError(f"ids must lie in 0..{vocab_size - 1}")
        return ids

    def _fitted(self) -> None:
        if not self._grams:
            raise ValueError("the model is not fitted; call fit() first")

    def next_distribution(self, context: Sequence[int]) -> np.ndarray:
        """Probabilities (length ``vocab_size``, summing to 1) of the token after ``context``.

        Only the last ``n - 1`` ids of ``context`` matter; a shorter one uses fewer orders.
        """
        return self.next_distributions([context])[0]

    def next_distributions(self, contexts: Sequence[Sequence[int]]) -> np.ndarray:
        """:meth:`next_distribution` of every context at once: ``(len(contexts), vocab_size)``.

        Contexts may differ in length; each row is what that context alone gives.
        """
        self._fitted()
        V, width = self.vocab_size, self.n - 1
        kept = [self._check(context, V) for context in contexts]
        kept = [context[max(0, len(context) - width) :] for context in kept]
        lengths = np.array([len(context) for context in kept], dtype=np.int64)
        ctx = np.zeros((len(kept), width), dtype=np.int64)  # right-aligned, zero-padded
        for row, context in enumerate(kept):
            if len(context):
                ctx[row, width - len(context) :] = context
        beta = self.alpha * V
        probs = np.full((len(kept), V), 1.0 / V)
        tokens = np.arange(V, dtype=np.int64)
        for k in range(1, width + 2):
            rows = np.flatnonzero(lengths >= k - 1)  # contexts long enough for order k
            if rows.size == 0:
                break
            h = np.zeros(rows.size, dtype=np.int64)
            for j in range(width - (k - 1), width):
                h = h * V + ctx[rows, j]
            seen = _lookup(self._grams[k - 1], h[:, None] * V + tokens)
            total = _lookup(self._contexts[k - 1], h)
            probs[rows] = (seen + beta * probs[rows]) / (total[:, None] + beta)
        return probs

    def count_tables(self) -> dict[str, np.ndarray]:
        """The fitted counts as named int64 arrays, to save (see :meth:`from_count_tables`)."""
        self._fitted()
        tables = {}
        for k, (grams, contexts) in enumerate(zip(self._grams, self._contexts, strict=True), 1):
            tables[f"grams{k}.codes"], tables[f"grams{k}.counts"] = grams
            tables[f"contexts{k}.codes"], tables[f"contexts{k}.counts"] = contexts
        return {name: np.ascontiguousarray(a, dtype=np.int64) for name, a in tables.items()}

    @classmethod
    def from_count_tables(
        cls, n: int, alpha: float, vocab_size: int, tables: dict[str, np.ndarray]
    ) -> CharNGram:
        """A fitted model from the arrays of :meth:`count_tables` (``KeyError``: one is missing)."""
        model = cls(n, alpha)
        model.vocab_size = vocab_size
        for k in range(1, n + 1):
            model._grams.append((tables[f"grams{k}.codes"], tables[f"grams{k}.counts"]))
            model._contexts.append((tables[f"contexts{k}.codes"], tables[f"contexts{k}.counts"]))
        return model

    def log2_probs(self, ids: np.ndarray) -> np.ndarray:
        """``log2 P(ids[i] | ids[max(0, i - n + 1) : i])`` for every position ``i``.

        The first ``n - 1`` positions are conditioned on the shorter context they have
        (position 0 on none: the unigram estimate).
        """
        self._fitted()
        V = self.vocab_size
        ids = self._check(ids, V)
        beta = self.alpha * V
        probs = np.full(len(ids), 1.0 / V)
        for k in range(1, self.n + 1):
            if len(ids) < k:
                break
            codes = _codes(ids, k, V)  # the k-gram ending at position i = index + k - 1
            seen = _lookup(self._grams[k - 1], codes)
            total = _lookup(self._contexts[k - 1], codes // V)
            probs[k - 1 :] = (seen + beta * probs[k - 1 :]) / (total + beta)
        return np.log2(probs)

    def bits_per_char(self, ids: np.ndarray) -> float:
        """Cross-entropy of the sequence ``ids`` in bits per token (mean of ``-log2 P``).

        Every token is scored, the first ``n - 1`` from their shorter contexts (see
        :meth:`log2_probs`).
        """
        if len(ids) == 0:
            raise ValueError("need at least one id to score")
        return float(-self.log2_probs(ids).mean())

    def sample(
        self,
        prompt: Sequence[int],
        steps: int,
        rng: np.random.Generator,
        temperature: float = 1.0,
        stop: int | None = None,
    ) -> list[int]:
        """Continue ``prompt`` by up to ``steps`` ids drawn one at a time.

        Each id is drawn with ``rng`` from the model's distribution raised to the power
        ``1 / temperature`` and renormalized (below 1 sharpens, above 1 flattens).

        Returns:
            the prompt followed by the drawn ids; drawing stops early after drawing ``stop``,
            which is then the last id.
        """
        self._fitted()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        tokens = [int(t) for t in self._check(prompt, self.vocab_size)]
        for _ in range(steps):
            probs = self.next_distribution(tokens[-self.n :])
            if temperature != 1.0:
                logits = np.log(probs) / temperature
                probs = np.exp(logits - logits.max())
                probs /= probs.sum()
            token = int(rng.choice(self.vocab_size, p=probs))
            tokens.append(token)
            if token == stop:
                break
        return tokens
