"""PBT's explore steps on Optuna distributions, always in bounds: perturb/resample, and PB2.

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

:func:`pb2_params` gathers PB2's observations from the population and asks the GP bandit
(``_bandit``, no Optuna import) for the numeric hyperparameters.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_advanced._space import nearest_value
from optuna_advanced._space import sample_prior
from optuna_advanced._space import SearchSpace
from optuna_advanced.pbt._population import Population
from optuna_advanced.pbt._population import Segment


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
            new[name] = sample_prior(dist, rng)
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
    new = nearest_value(dist, value)
    step = dist.step if dist.step is not None else (1 if isinstance(dist, IntDistribution) else 0)
    if new == old and step and factor != 1.0:
        # Rounding to the grid undid the perturbation: move one grid step instead.
        new = nearest_value(dist, float(old) + (step if factor > 1.0 else -step))
    return new


def pb2_params(
    numeric: Mapping[str, BaseDistribution],
    base: Segment,
    population: Population,
    interval: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """PB2: the UCB-best numeric hyperparameters for a member continuing from ``base``.

    Every finished segment with a finite score whose starting point (``restore_from``) also has
    one is an observation: time (its end step, in intervals), the reward before it, its
    hyperparameters, and the reward change per step. Members still training or waiting to start
    (whose segment exists, but has suggested nothing yet) enter the bandit as pending points
    (GP-BUCB), so the members of one round are sent to different points.
    """
    space = SearchSpace(numeric)
    rows, times, rewards, deltas = [], [], [], []
    for s in population.scored:
        if s.score is None or not math.isfinite(s.score):
            continue
        before = population.by_number.get(s.info.restore_from)  # type: ignore[arg-type]
        if before is None or before.score is None or not math.isfinite(before.score):
            continue
        row = space.encode_params(s.trial.params)
        if np.isnan(row).any():
            continue
        with np.errstate(over="ignore"):  # ±1e308 scores: the difference overflows
            delta = (s.score - before.score) / max(1, s.end_step - s.start_step)
        if not math.isfinite(delta):
            continue
        rows.append(row)
        times.append(s.end_step / interval)
        rewards.append(before.score)
        deltas.append(delta)
    pending = [space.encode_params(s.params) for s in population.pending()]
    pending_h = np.array([p for p in pending if not np.isnan(p).any()]).reshape(-1, len(space))
    assert base.score is not None
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    from optuna_advanced.pbt import _bandit  # scipy.linalg/optimize: imported on first use

    with threadpool_limits(1):  # BLAS threads only slow down these small matrices
        point = _bandit.suggest(
            np.array(times),
            np.array(rewards),
            np.array(rows).reshape(-1, len(space)),
            np.array(deltas),
            t_now=base.end_step / interval,
            reward_now=base.score,
            pending_h=pending_h,
            rng=rng,
        )
    return space.decode(space.snap(point)[0])


#: A user's explore step: ``explore(params, rng) -> new params`` (Ray Tune's
#: ``custom_explore_fn``, with the random generator of the decision).
CustomExplore = Callable[[dict[str, Any], np.random.Generator], Mapping[str, Any]]


def explorer(
    population: Population,
    search_space: Mapping[str, BaseDistribution] | None,
    kind: str | CustomExplore,
    resample_probability: float,
    factors: Sequence[float],
    interval: int,
) -> Callable[[Mapping[str, Any], Any, np.random.Generator], tuple[dict[str, Any], Any]]:
    """The explore step of the scheduler for this population.

    ``kind`` is ``"perturb"`` (PBT), ``"pb2"`` (numeric parameters by PB2's bandit, the others
    perturbed) or a :data:`CustomExplore` callable, whose values are brought back to their
    distributions (:func:`optuna_advanced._space.nearest_value`), so explore never leaves the
    search space.
    """

    def explore(
        params: Mapping[str, Any], source: Any, rng: np.random.Generator
    ) -> tuple[dict[str, Any], dict[str, str]]:
        base = population.by_number[source.segment]
        if search_space is not None:
            mutable = {k: d for k, d in search_space.items() if k in base.trial.params}
        else:
            mutable = dict(base.trial.distributions)
        if callable(kind):
            proposed = dict(kind(dict(params), rng))
            new = dict(params)
            how = {}
            for name, dist in mutable.items():
                if name in proposed:
                    new[name] = nearest_value(dist, proposed[name])
                    how[name] = "custom"
            return new, how
        if kind == "perturb":
            return perturb(
                params, mutable, rng, resample_probability=resample_probability, factors=factors
            )
        numeric = {k: d for k, d in mutable.items() if not isinstance(d, CategoricalDistribution)}
        others = {k: d for k, d in mutable.items() if k not in numeric}
        new, how = perturb(
            params, others, rng, resample_probability=resample_probability, factors=factors
        )
        if numeric:
            new.update(pb2_params(numeric, base, population, interval, rng))
            how.update({k: "pb2" for k in numeric})
        return new, how

    return explore
