"""PB2's explore step: a GP-UCB bandit on the population's reward changes (no Optuna import).

Parker-Holder, Nguyen and Roberts, "Provably Efficient Online Hyperparameter Optimization with
Population-Based Bandits", NeurIPS 2020.

Every finished segment is one observation: input ``(t, r, h)`` (the segment's end time, the
member's reward before it, its hyperparameters in the unit cube) and target the reward change
per step over the segment. The model is a GP with the time-varying squared-exponential kernel
of Bogunovic et al. (2016), which forgets old observations at a learnt rate ``eps``::

    k((t, x), (t', x')) = s2 * exp(-|x - x'|^2 / (2 l^2)) * (1 - eps)^(|t - t'| / 2)

with ``x = (r, h)`` and ``(l, s2, eps, noise)`` fitted by maximising the log marginal
likelihood (L-BFGS-B, from a fixed start and one more). The next hyperparameters maximise the
upper confidence bound ``mu + sqrt(beta) * sigma`` at the exploring member's time and reward,
with ``beta = 0.2 + max(0, log(0.4 n))`` as in the paper's code. Members still training are
added as observations equal to the posterior mean (GP-BUCB, Desautels et al. 2014): the mean is
unchanged and the variance around them shrinks, so parallel members are sent elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from scipy import linalg
from scipy import optimize

_JITTER = 1e-8


@dataclass
class TimeVaryingGP:
    """A GP regression with the time-varying kernel; inputs are scaled to [0, 1] by the caller.

    Attributes:
        lengthscale, signal, eps, noise: Kernel hyperparameters (after :meth:`fit`).
    """

    lengthscale: float = 0.5
    signal: float = 1.0
    eps: float = 0.05
    noise: float = 0.1

    def kernel(self, t1: np.ndarray, x1: np.ndarray, t2: np.ndarray, x2: np.ndarray) -> np.ndarray:
        sq = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(axis=-1)
        decay = (1.0 - self.eps) ** (np.abs(t1[:, None] - t2[None, :]) / 2.0)
        out: np.ndarray = self.signal * np.exp(-sq / (2.0 * self.lengthscale**2)) * decay
        return out

    def fit(self, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> TimeVaryingGP:
        """Fit the hyperparameters to ``(t, x) -> y`` (``y`` standardised by the caller)."""
        self._t, self._x, self._y = t, x, y

        def nll(theta: np.ndarray) -> float:
            self._set(theta)
            try:
                return -self._log_marginal_likelihood()
            except (linalg.LinAlgError, ValueError):
                return 1e10

        best: tuple[float, np.ndarray] | None = None
        bounds = [(math.log(0.05), math.log(5.0)), (-5.0, 3.0), (-12.0, 0.0), (-9.0, 1.0)]
        for start in (
            np.array([math.log(0.5), 0.0, math.log(0.05), math.log(0.1)]),
            np.array([math.log(0.2), 0.0, math.log(0.01), math.log(0.5)]),
        ):
            res = optimize.minimize(
                nll, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 60}
            )
            if best is None or res.fun < best[0]:
                best = (float(res.fun), res.x)
        assert best is not None
        self._set(best[1])
        self._factorise()
        return self

    def add_pending(self, t: np.ndarray, x: np.ndarray) -> None:
        """GP-BUCB: condition on pending inputs at their posterior mean (variance shrinks)."""
        if len(t) == 0:
            return
        mean, _ = self.predict(t, x)
        self._t = np.concatenate([self._t, t])
        self._x = np.vstack([self._x, x])
        self._y = np.concatenate([self._y, mean])
        self._factorise()

    def predict(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``(t, x)``."""
        k_star = self.kernel(t, x, self._t, self._x)
        mean = k_star @ self._alpha
        v = linalg.solve_triangular(self._chol, k_star.T, lower=True)
        var = self.signal - (v**2).sum(axis=0)
        return mean, np.sqrt(np.maximum(var, 1e-12))

    def _set(self, theta: np.ndarray) -> None:
        self.lengthscale = float(np.exp(theta[0]))
        self.signal = float(np.exp(theta[1]))
        self.eps = float(min(0.999, np.exp(theta[2])))
        self.noise = float(np.exp(theta[3]))

    def _gram(self) -> np.ndarray:
        k = self.kernel(self._t, self._x, self._t, self._x)
        return k + (self.noise + _JITTER) * np.eye(len(self._t))

    def _factorise(self) -> None:
        self._chol = linalg.cholesky(self._gram(), lower=True)
        self._alpha = linalg.cho_solve((self._chol, True), self._y)

    def _log_marginal_likelihood(self) -> float:
        chol = linalg.cholesky(self._gram(), lower=True)
        alpha = linalg.cho_solve((chol, True), self._y)
        return float(
            -0.5 * self._y @ alpha
            - np.log(np.diag(chol)).sum()
            - 0.5 * len(self._y) * math.log(2 * math.pi)
        )


def suggest(
    t: np.ndarray,
    reward: np.ndarray,
    h: np.ndarray,
    delta: np.ndarray,
    *,
    t_now: float,
    reward_now: float,
    pending_h: np.ndarray,
    rng: np.random.Generator,
    n_candidates: int = 1000,
    max_observations: int = 60,
) -> np.ndarray:
    """Hyperparameters (in the unit cube) maximising the UCB of the next reward change.

    Args:
        t: Observation times (e.g. in perturbation intervals), shape ``(n,)``.
        reward: The member's reward before each observed segment, shape ``(n,)``.
        h: Hyperparameters of each observed segment in ``[0, 1]^d``, shape ``(n, d)``.
        delta: Reward change per step over each segment, shape ``(n,)``.
        t_now: Time of the exploring member.
        reward_now: Its current reward (after exploit: the copied member's).
        pending_h: Hyperparameters of members still training, shape ``(m, d)``; they enter the
            model at ``t_now`` and ``reward_now`` (GP-BUCB).
        rng: Random generator for the candidate sample.
        n_candidates: Random candidates scored before the best five are polished by L-BFGS-B.
        max_observations: Only the most recent observations are modelled (older ones carry
            little weight under the time-varying kernel and would make each fit cubic in the
            run's length).

    Returns:
        A point of ``[0, 1]^d``.
    """
    d = h.shape[1]
    if len(t) < 2:
        return np.asarray(rng.random(d), dtype=float)
    recent = np.argsort(t, kind="stable")[-max_observations:]
    t, reward, h, delta = t[recent], reward[recent], h[recent], delta[recent]
    # Scaled in halves so that rewards of ±1e308 do not overflow; deltas by their largest
    # magnitude first, for the same reason.
    r_lo, r_hi = min(reward.min(), reward_now) / 2, max(reward.max(), reward_now) / 2
    r_scale = (r_hi - r_lo) or 1.0
    x = np.column_stack([(reward / 2 - r_lo) / r_scale, h])
    delta = delta / (np.abs(delta).max() or 1.0)
    y = (delta - delta.mean()) / (delta.std() or 1.0)
    gp = TimeVaryingGP().fit(np.asarray(t, dtype=float), x, y)
    r_now = (reward_now / 2 - r_lo) / r_scale
    if len(pending_h):
        m = len(pending_h)
        gp.add_pending(np.full(m, t_now), np.column_stack([np.full(m, r_now), pending_h]))
    beta = 0.2 + max(0.0, math.log(0.4 * len(gp._y)))

    def negative_ucb(points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(points)
        xs = np.column_stack([np.full(len(points), r_now), points])
        mean, std = gp.predict(np.full(len(points), t_now), xs)
        return -(mean + math.sqrt(beta) * std)

    candidates = rng.random((n_candidates, d))
    scores = negative_ucb(candidates)
    best_x, best_score = candidates[np.argmin(scores)], float(scores.min())
    for start in candidates[np.argsort(scores)[:5]]:
        res = optimize.minimize(
            lambda p: float(negative_ucb(p)[0]), start, method="L-BFGS-B", bounds=[(0, 1)] * d
        )
        if res.fun < best_score:
            best_x, best_score = np.clip(res.x, 0.0, 1.0), float(res.fun)
    return np.asarray(best_x, dtype=float)
