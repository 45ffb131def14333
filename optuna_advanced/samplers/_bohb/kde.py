"""BOHB's density models and candidate proposal (Falkner, Klein & Hutter, ICML 2018).

Pure NumPy/SciPy, no Optuna: rows are configurations encoded by ``optuna_advanced._space``
(numeric columns in ``[0, 1]``, categorical columns as choice indices). The maths follows the
paper's Section 3.1 and the reference implementation (HpBandSter's ``bohb.py``), which builds its
KDEs with statsmodels' ``KDEMultivariate``:

* product kernel: Gaussian for numeric columns, Aitchison-Aitken for categorical ones;
* bandwidths by the normal-reference rule ``1.06 * std * n ** (-1 / (4 + d))`` per column,
  floored at ``min_bandwidth``;
* candidates: draw a random point of the good set, perturb numeric columns with a normal
  truncated to ``[0, 1]`` whose scale is ``bandwidth_factor`` times the good KDE's bandwidth,
  keep each categorical value with probability ``1 - bw`` (else a uniform choice); the candidate
  maximising ``l(x) / g(x)`` wins (Eq. 2-3 of the paper, TPE's expected-improvement argument).

Three deliberate differences from HpBandSter, all for robustness:

* a categorical bandwidth is capped at ``(k - 1) / k`` (the uniform kernel): the
  normal-reference rule applied to choice indices can exceed it, which would make the
  Aitchison-Aitken kernel favour every value *but* the observed one;
* densities are compared in log space, clamped at ``log(1e-32)`` as the reference clamps them;
* the bandwidth floor may differ per column: the sampler floors integer and stepped columns at
  one grid cell, otherwise a good set that agrees on one integer collapses the kernel to
  ``min_bandwidth`` and candidates can never reach the neighbouring integer; by default it also
  floors every column at a value that shrinks with the number of points (see
  ``BOHBSampler(adaptive_bandwidth=...)``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ProductKDE", "impute_inactive", "normal_reference_bandwidth", "propose"]

_LOG_FLOOR = float(np.log(1e-32))
_LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))


def normal_reference_bandwidth(data: np.ndarray) -> np.ndarray:
    """Silverman/Scott normal-reference rule as statsmodels' ``KDEMultivariate`` applies it."""
    n, d = data.shape
    bandwidth: np.ndarray = 1.06 * data.std(axis=0) * n ** (-1.0 / (4.0 + d))
    return bandwidth


class ProductKDE:
    """A product-kernel density over encoded rows.

    Args:
        data: ``(n, d)`` rows without NaN (impute inactive values first).
        n_levels: Number of choices per column; ``0`` marks a numeric column. Columns with a
            positive count are categorical.
        min_bandwidth: Floor on the bandwidths: one number (the paper's ``min_bandwidth``) or
            one per column.
    """

    def __init__(
        self, data: np.ndarray, n_levels: np.ndarray, min_bandwidth: float | np.ndarray
    ) -> None:
        self.data = np.asarray(data, dtype=float)
        if self.data.ndim != 2 or len(self.data) == 0 or np.isnan(self.data).any():
            raise ValueError("ProductKDE needs a non-empty 2-D array without NaN.")
        self.n_levels = np.asarray(n_levels, dtype=np.int64)
        self.is_categorical = self.n_levels > 0
        bw = np.maximum(normal_reference_bandwidth(self.data), min_bandwidth)
        cat = self.is_categorical
        levels = np.maximum(self.n_levels[cat], 1)
        bw[cat] = np.minimum(bw[cat], (levels - 1) / levels)
        self.bandwidth = bw

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at each row of ``x`` (``(m, d)``), clamped below at ``log(1e-32)``."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        num = ~self.is_categorical
        log_k = np.zeros((len(x), len(self.data)))
        if num.any():
            h = self.bandwidth[num]
            z = (x[:, None, num] - self.data[None, :, num]) / h
            log_k += (-0.5 * z**2 - _LOG_SQRT_2PI - np.log(h)).sum(axis=2)
        for j in np.flatnonzero(self.is_categorical):
            h, levels = self.bandwidth[j], self.n_levels[j]
            same = x[:, None, j] == self.data[None, :, j]
            if levels <= 1:
                continue  # one choice: the kernel is 1 everywhere
            with np.errstate(divide="ignore"):
                log_k += np.where(same, np.log1p(-h), np.log(h / (levels - 1)))
        peak = log_k.max(axis=1, keepdims=True)
        log_sum = peak[:, 0] + np.log(np.exp(log_k - peak).sum(axis=1))
        out: np.ndarray = np.maximum(log_sum - np.log(len(self.data)), _LOG_FLOOR)
        return out


def impute_inactive(
    data: np.ndarray, n_levels: np.ndarray, rng: np.random.RandomState
) -> np.ndarray:
    """Fill NaN (inactive) entries as HpBandSter does.

    Each missing value is copied from a random row where that column is active; a column active
    nowhere gets a uniform random value (a random choice for categoricals).
    """
    data = np.array(data, dtype=float, copy=True)
    for j in range(data.shape[1]):
        missing = np.isnan(data[:, j])
        if not missing.any():
            continue
        active = data[~missing, j]
        if len(active):
            data[missing, j] = active[rng.randint(0, len(active), size=int(missing.sum()))]
        elif n_levels[j] > 0:
            data[missing, j] = rng.randint(0, n_levels[j], size=int(missing.sum()))
        else:
            data[missing, j] = rng.uniform(0.0, 1.0, size=int(missing.sum()))
    return data


def propose(
    good: ProductKDE,
    bad: ProductKDE,
    rng: np.random.RandomState,
    num_samples: int,
    bandwidth_factor: float,
) -> tuple[np.ndarray, float]:
    """Draw ``num_samples`` candidates around good points; return the best and its log l/g."""
    d = good.data.shape[1]
    base = good.data[rng.randint(0, len(good.data), size=num_samples)]
    cands = np.empty((num_samples, d))
    for j in range(d):
        m = base[:, j]
        bw = float(good.bandwidth[j])  # already floored at min_bandwidth
        if good.is_categorical[j]:
            keep = rng.uniform(size=num_samples) < 1.0 - bw
            cands[:, j] = np.where(keep, m, rng.randint(0, good.n_levels[j], size=num_samples))
        else:
            cands[:, j] = _truncated_normal(m, bandwidth_factor * bw, rng)
    scores = good.log_pdf(cands) - bad.log_pdf(cands)
    best = int(np.argmax(scores))
    return cands[best], float(scores[best])


def _truncated_normal(mean: np.ndarray, scale: float, rng: np.random.RandomState) -> np.ndarray:
    """Normal(mean, scale) truncated to [0, 1], by inverting the CDF.

    ``mean`` lies in [0, 1], so the interval always contains the mode and ``ndtri`` is never
    asked for both ends in one far tail. scipy.special is imported here, not at module import,
    to keep ``import optuna_advanced`` light.
    """
    from scipy.special import ndtr
    from scipy.special import ndtri

    lo = ndtr((0.0 - mean) / scale)
    hi = ndtr((1.0 - mean) / scale)
    u = lo + rng.uniform(size=len(mean)) * (hi - lo)
    u = np.clip(u, np.finfo(float).tiny, 1.0 - np.finfo(float).eps)
    out: np.ndarray = np.clip(mean + scale * ndtri(u), 0.0, 1.0)
    return out
