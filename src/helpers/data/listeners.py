"""Simulated listeners for music recommendation, in the style of RecSim (Ie et al., 2019).

A recommender cannot be evaluated offline on what users would have done with other
recommendations; a simulator makes that question answerable, under its own assumptions.
Here the catalogue is real (the folk tunes of :mod:`helpers.data.folk_tunes`, described by
one-hot features from :func:`tune_features`) and the listeners are made up.

The model. Tune :math:`i` has a feature vector :math:`x_i \\in \\{0,1\\}^d` (one 1 per feature
group). The *world* (``world_seed``) draws a population taste :math:`\\mu \\sim N(0,
\\sigma_\\mu^2 I)` and a quality :math:`q_i \\sim N(0, \\sigma_q^2)` per tune; the *users*
(``seed``) draw latent tastes :math:`\\theta_u = \\mu + \\sigma_\\theta z_u`,
:math:`z_u \\sim N(0, I)`. At step :math:`t` user :math:`u` has feature boredom
:math:`b_u \\in \\mathbb{R}^d` and tune familiarity :math:`h_{u} \\in \\mathbb{R}^N` (both start
at 0), and tune :math:`i` appeals to them by

.. math:: s_{ui} = \\theta_u^\\top x_i + q_i - \\beta\\, b_u^\\top x_i - \\eta\\, h_{ui}.

That appeal is linear in the features, the very model a linear bandit fits. To test a policy
whose model is wrong, ``pair_taste_scale`` (:math:`\\sigma_p > 0`) adds a taste for
*combinations* of features, which no linear function of :math:`x_i` can express:
:math:`\\sigma_p \\sum_{j<l} P_{u,jl}\\, x_{ij} x_{il} / \\sqrt{m_i}`, with
:math:`P_{u,jl} \\sim N(0, 1)` per user and :math:`m_i` the number of feature pairs tune
:math:`i` has (so the term has variance :math:`\\sigma_p^2`).

Shown a slate :math:`S_u` of :math:`k` distinct tunes, the user picks one by a multinomial logit
with a "no click" option of fixed appeal :math:`s_0`:

.. math:: P(i \\mid S_u) = \\frac{e^{s_{ui}}}{e^{s_0} + \\sum_{j \\in S_u} e^{s_{uj}}},\\quad
    P(\\varnothing \\mid S_u) = \\frac{e^{s_0}}{e^{s_0} + \\sum_{j \\in S_u} e^{s_{uj}}}.

The reward is 1 for a click (the tune is played), 0 otherwise, so the expected reward of a slate
is :math:`R(S_u) = 1 - P(\\varnothing \\mid S_u)`. After the choice :math:`c` both kinds of
boredom decay and grow with what was played:
:math:`b_u \\leftarrow \\rho_b b_u + x_c`, :math:`h_u \\leftarrow \\rho_h h_u + e_c`
(nothing is added after no click).

Oracle. :math:`R(S)` grows with :math:`\\sum_{j\\in S} e^{s_{uj}}`, so the best slate for the
current state is the :math:`k` tunes of highest appeal (:meth:`ListenerSim.best_slates`) and
:meth:`ListenerSim.oracle_reward` is its expected reward. The regret of a policy at step
:math:`t` is ``oracle_reward() - expected_reward(slates)`` in the state that policy has led to.
This oracle is *myopic*: with boredom, the best plan over many steps may differ.

All randomness comes from two ``numpy.random.Generator``: the same ``seed``, ``world_seed``
and slates give the same trajectory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .folk_tunes import Tune

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "tonic": ("G", "D", "A", "C", "F", "Bb", "E", "other"),
    "mode": ("major", "minor", "modal"),
    "meter": ("2/4", "4/4", "6/8", "9/8", "3/4", "other"),
    "type": ("reel", "jig", "hornpipe", "slip jig", "strathspey", "other", "unspecified"),
    "collection": ("oneills1850", "ryansMammoth"),
}
"""The one-hot feature groups of a tune and their values, in column order."""

_RHYTHM = {
    "reel": "reel",
    "jig": "jig",
    "double jig": "jig",
    "hornpipe": "hornpipe",
    "slip jig": "slip jig",
    "slipjig": "slip jig",
    "strathspey": "strathspey",
    "highland fling": "strathspey",
    "fling": "strathspey",
}


def _tune_values(tune: Tune) -> dict[str, str]:
    """The value of each feature group for one tune."""
    tonic = tune.tonic if tune.tonic in FEATURE_GROUPS["tonic"] else "other"
    mode = tune.mode if tune.mode in ("major", "minor") else "modal"
    meter = {"C": "4/4", "C|": "4/4"}.get(tune.meter, tune.meter)
    meter = meter if meter in FEATURE_GROUPS["meter"] else "other"
    kind = "unspecified" if tune.rhythm is None else _RHYTHM.get(tune.rhythm, "other")
    return {"tonic": tonic, "mode": mode, "meter": meter, "type": kind,
            "collection": tune.collection}  # fmt: skip


def tune_features(tunes: Sequence[Tune]) -> tuple[np.ndarray, list[str]]:
    """One-hot feature matrix of tunes: tonic, mode, meter, tune type and collection.

    Returns:
        ``(features, names)``: a float array of shape ``(len(tunes), d)`` with exactly one 1 per
        group in each row, and the ``d`` column names such as ``"meter=6/8"``.
    """
    if len(tunes) == 0:
        raise ValueError("tune_features needs at least one tune")
    names = [f"{group}={value}" for group, values in FEATURE_GROUPS.items() for value in values]
    column = {name: j for j, name in enumerate(names)}
    features = np.zeros((len(tunes), len(names)))
    for i, tune in enumerate(tunes):
        for group, value in _tune_values(tune).items():
            key = f"{group}={value}"
            if key not in column:
                raise ValueError(f"tune {tune.file} X:{tune.number}: unknown {key}")
            features[i, column[key]] = 1.0
    return features, names


@dataclass(frozen=True)
class ListenerConfig:
    """Parameters of :class:`ListenerSim` (symbols of the module docstring).

    Args:
        n_users: number of simulated users :math:`U`.
        slate_size: tunes per recommendation :math:`k`.
        taste_mean_scale: :math:`\\sigma_\\mu`, how much the population agrees.
        taste_scale: :math:`\\sigma_\\theta`, how much users differ from the population.
        quality_scale: :math:`\\sigma_q`, spread of tune quality.
        no_click: :math:`s_0`, the appeal of not clicking.
        boredom_weight: :math:`\\beta`, appeal lost per unit of feature boredom.
        boredom_decay: :math:`\\rho_b \\in [0, 1)`, how slowly feature boredom fades.
        repeat_weight: :math:`\\eta`, appeal lost per unit of familiarity with the tune.
        repeat_decay: :math:`\\rho_h \\in [0, 1)`, how slowly familiarity fades.
        pair_taste_scale: :math:`\\sigma_p`, the taste for feature pairs (0: tastes are
            linear in the features).
    """

    n_users: int = 100
    slate_size: int = 5
    taste_mean_scale: float = 1.0
    taste_scale: float = 1.0
    quality_scale: float = 1.0
    no_click: float = 3.0
    boredom_weight: float = 0.15
    boredom_decay: float = 0.9
    repeat_weight: float = 2.0
    repeat_decay: float = 0.95
    pair_taste_scale: float = 0.0

    def __post_init__(self) -> None:
        for name in ("n_users", "slate_size"):
            if int(getattr(self, name)) != getattr(self, name) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("taste_mean_scale", "taste_scale", "quality_scale", "boredom_weight",
                     "repeat_weight", "pair_taste_scale"):  # fmt: skip
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("boredom_decay", "repeat_decay"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not np.isfinite(self.no_click):
            raise ValueError(f"no_click must be finite, got {self.no_click}")


class ListenerSim:
    """A population of simulated listeners over a catalogue (equations: module docstring).

    Args:
        features: item feature matrix of shape ``(n_items, d)``, finite.
        config: the model's parameters.
        seed: seeds the users' tastes and their choices.
        world_seed: seeds the population taste and tune quality, so that several populations
            (e.g. a warm-up log and the evaluation users) can share one world.
    """

    def __init__(
        self,
        features: np.ndarray,
        config: ListenerConfig = ListenerConfig(),  # noqa: B008 (frozen, immutable)
        seed: int = 0,
        world_seed: int = 0,
    ) -> None:
        features = np.array(features, dtype=float)  # a private, read-only copy
        if features.ndim != 2 or not np.isfinite(features).all():
            raise ValueError(f"features must be a finite 2-D array, got shape {features.shape}")
        if features.shape[0] < config.slate_size:
            raise ValueError(
                f"the catalogue has {features.shape[0]} items, fewer than slate_size "
                f"{config.slate_size}"
            )
        self.config = config
        self.features = features
        self.features.setflags(write=False)
        n_items, d = features.shape
        world = np.random.default_rng(world_seed)
        self.taste_mean = config.taste_mean_scale * world.standard_normal(d)
        self.quality = config.quality_scale * world.standard_normal(n_items)
        self.rng = np.random.default_rng(seed)
        self.taste = self.taste_mean + config.taste_scale * self.rng.standard_normal(
            (config.n_users, d)
        )
        self.boredom = np.zeros((config.n_users, d))
        self.familiarity = np.zeros((config.n_users, n_items))
        self.pair_appeal = self._pair_appeal(seed) if config.pair_taste_scale > 0 else None

    def _pair_appeal(self, seed: int) -> np.ndarray:
        # sigma_p * sum_{j<l} P_ujl x_ij x_il / sqrt(m_i), shape (U, N); its own generator,
        # so that tastes and choices are the same draws as without it
        d = self.features.shape[1]
        rng = np.random.default_rng([seed, 1])
        pairs = np.triu(rng.standard_normal((self.n_users, d, d)), k=1)
        ones = self.features.sum(axis=1)
        scale = self.config.pair_taste_scale / np.sqrt(np.maximum(ones * (ones - 1) / 2, 1))
        terms = np.stack([((self.features @ p) * self.features).sum(axis=1) for p in pairs])
        return terms * scale

    @property
    def n_users(self) -> int:
        """Number of users :math:`U`."""
        return self.config.n_users

    @property
    def n_items(self) -> int:
        """Number of tunes :math:`N` in the catalogue."""
        return self.features.shape[0]

    @property
    def slate_size(self) -> int:
        """Tunes per slate :math:`k`."""
        return self.config.slate_size

    def appeal(self) -> np.ndarray:
        """Current appeal :math:`s_{ui}` of every tune to every user, shape ``(U, N)``."""
        cfg = self.config
        weights = self.taste - cfg.boredom_weight * self.boredom
        appeal = weights @ self.features.T + self.quality - cfg.repeat_weight * self.familiarity
        return appeal if self.pair_appeal is None else appeal + self.pair_appeal

    def _check_slates(self, slates: np.ndarray) -> np.ndarray:
        slates = np.asarray(slates)
        shape = (self.n_users, self.slate_size)
        if slates.shape != shape:
            raise ValueError(f"slates must have shape {shape}, got {slates.shape}")
        if not np.issubdtype(slates.dtype, np.integer):
            raise ValueError(f"slates must hold integer item indices, got dtype {slates.dtype}")
        if slates.min() < 0 or slates.max() >= self.n_items:
            raise ValueError(f"slate items must be in [0, {self.n_items}), got out-of-range ids")
        ordered = np.sort(slates, axis=1)
        if (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError("a slate must not show the same tune twice")
        return slates

    def choice_probabilities(self, slates: np.ndarray) -> np.ndarray:
        """Multinomial-logit choice probabilities, shape ``(U, k + 1)``.

        Column ``j < k`` is the probability of clicking ``slates[:, j]``; the last column is
        "no click". Rows sum to 1.
        """
        slates = self._check_slates(slates)
        cfg = self.config
        x = self.features[slates]  # (U, k, d)
        weights = self.taste - cfg.boredom_weight * self.boredom
        scores = np.einsum("ukd,ud->uk", x, weights) + self.quality[slates]
        scores -= cfg.repeat_weight * np.take_along_axis(self.familiarity, slates, axis=1)
        if self.pair_appeal is not None:
            scores += np.take_along_axis(self.pair_appeal, slates, axis=1)
        scores = np.concatenate([scores, np.full((self.n_users, 1), cfg.no_click)], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        expo = np.exp(scores)
        return expo / expo.sum(axis=1, keepdims=True)

    def expected_reward(self, slates: np.ndarray) -> np.ndarray:
        """Probability of a click on each user's slate, :math:`1 - P(\\varnothing)`, shape (U,)."""
        return 1.0 - self.choice_probabilities(slates)[:, -1]

    def best_slates(self) -> np.ndarray:
        """The oracle: each user's ``k`` tunes of highest current appeal, shape ``(U, k)``."""
        k = self.slate_size
        return np.argpartition(-self.appeal(), k - 1, axis=1)[:, :k]

    def oracle_reward(self) -> np.ndarray:
        """Expected reward of :meth:`best_slates` in the current state, shape ``(U,)``."""
        return self.expected_reward(self.best_slates())

    def step(self, slates: np.ndarray) -> np.ndarray:
        """Show each user a slate; they choose, then boredom and familiarity update.

        Args:
            slates: integer array ``(U, k)`` of distinct tune indices per row.

        Returns:
            The tune each user played, shape ``(U,)``, or ``-1`` where they did not click.
        """
        probs = self.choice_probabilities(slates)
        draws = self.rng.random((self.n_users, 1))
        position = (probs.cumsum(axis=1) < draws).sum(axis=1)
        position = np.minimum(position, self.slate_size)  # guards round-off in the cumsum
        clicked = position < self.slate_size
        chosen = np.where(clicked, slates[np.arange(self.n_users), position % self.slate_size], -1)
        cfg = self.config
        self.boredom *= cfg.boredom_decay
        self.familiarity *= cfg.repeat_decay
        users = np.flatnonzero(clicked)
        self.boredom[users] += self.features[chosen[users]]
        self.familiarity[users, chosen[users]] += 1.0
        return chosen
