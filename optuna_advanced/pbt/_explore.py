"""PBT's random explore step on Optuna distributions: perturb or resample, always in bounds.

Ray Tune's perturbation multiplies values and lets them leave their range (a known complaint,
see REFERENCES.md). Here every value that comes out of :func:`perturb` is a plain Python value
that its distribution contains:

* floats (and log floats) are multiplied by a factor, then clipped to ``[low, high]`` and
  snapped to ``step``;
* integers are multiplied, rounded and clipped, and move at least one step when the factor
  would leave them unchanged (``int(1 * 1.2) == 1`` would freeze them otherwise);
* a float at exactly zero, which multiplication cannot move, is shifted by
  ``(factor - 1)`` times a tenth of its range instead;
* categoricals move to a neighbouring choice (reflected at the ends, so they always move);
* with probability ``resample_probability`` a value is redrawn from its prior instead (uniform,
  log-uniform for log distributions, uniform over the choices).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution


def sample_value(dist: BaseDistribution, rng: np.random.Generator) -> Any:
    """Draw one value from ``dist``'s prior (log-uniform for log distributions)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise TypeError(f"Unsupported distribution {dist!r}.")
    if dist.log:
        pad = 0.5 if isinstance(dist, IntDistribution) else 0.0
        value = math.exp(rng.uniform(math.log(dist.low - pad * 0.999), math.log(dist.high + pad)))
    elif isinstance(dist, IntDistribution) or dist.step is not None:
        n_levels = int(round((dist.high - dist.low) / (dist.step or 1))) + 1
        return clip_value(dist, dist.low + int(rng.integers(n_levels)) * (dist.step or 1))
    else:
        value = rng.uniform(dist.low, dist.high)
    return clip_value(dist, value)


def clip_value(dist: BaseDistribution, value: Any) -> Any:
    """The value of ``dist`` nearest to ``value`` (clipped to the range, snapped to the step)."""
    if isinstance(dist, CategoricalDistribution):
        return value if value in dist.choices else dist.choices[0]
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise TypeError(f"Unsupported distribution {dist!r}.")
    v = min(float(dist.high), max(float(dist.low), float(value)))
    if dist.step is not None:
        k = round((v - dist.low) / dist.step)
        k_max = int(round((dist.high - dist.low) / dist.step))
        v = dist.low + min(k_max, max(0, k)) * dist.step
        v = min(float(dist.high), max(float(dist.low), v))
    if isinstance(dist, IntDistribution):
        return int(round(v))
    return float(v)


def perturb(
    params: Mapping[str, Any],
    distributions: Mapping[str, BaseDistribution],
    rng: np.random.Generator,
    *,
    resample_probability: float = 0.25,
    factors: Sequence[float] = (1.2, 0.8),
) -> tuple[dict[str, Any], dict[str, str]]:
    """Explore around ``params``: perturb or resample each parameter named in ``distributions``.

    Args:
        params: Current values (the exploited member's).
        distributions: The parameters to explore and their distributions. Parameters of
            ``params`` not named here are returned unchanged.
        rng: Random generator.
        resample_probability: Probability of redrawing a value from its prior.
        factors: Multiplicative factors, one chosen uniformly per parameter.

    Returns:
        The new parameters and, per explored parameter, how it changed (``"*1.2"``,
        ``"*0.8"``, ``"resample"``, ``"+1"``/``"-1"`` for a choice index), for the lineage.
    """
    new = dict(params)
    how: dict[str, str] = {}
    for name, dist in distributions.items():
        old = params.get(name)
        if old is None or rng.random() < resample_probability:
            new[name] = sample_value(dist, rng)
            how[name] = "resample"
            continue
        if isinstance(dist, CategoricalDistribution):
            new[name], how[name] = _shift_choice(dist, old, rng)
            continue
        if not isinstance(dist, (FloatDistribution, IntDistribution)):
            raise TypeError(f"Unsupported distribution for {name!r}: {dist!r}.")
        factor = float(factors[int(rng.integers(len(factors)))])
        new[name] = _scale(dist, old, factor)
        how[name] = f"*{factor:g}"
    return new, how


def _shift_choice(
    dist: CategoricalDistribution, old: Any, rng: np.random.Generator
) -> tuple[Any, str]:
    n = len(dist.choices)
    if n == 1 or old not in dist.choices:
        return dist.choices[0], "resample"
    index = dist.choices.index(old)
    shift = 1 if rng.random() < 0.5 else -1
    if not 0 <= index + shift < n:
        shift = -shift  # reflect at the ends so the value always moves
    return dist.choices[index + shift], f"{shift:+d}"


def _scale(dist: FloatDistribution | IntDistribution, old: Any, factor: float) -> Any:
    value = float(old) * factor
    if isinstance(dist, FloatDistribution) and float(old) == 0.0 and not dist.log:
        value = (factor - 1.0) * 0.1 * (dist.high - dist.low)
    new = clip_value(dist, value)
    step = dist.step if dist.step is not None else (1 if isinstance(dist, IntDistribution) else 0)
    if new == old and step and factor != 1.0:
        # Rounding to the grid undid the perturbation: move one grid step instead.
        new = clip_value(dist, float(old) + (step if factor > 1.0 else -step))
    return new
