"""The forest's training data: a study's trials as rows of the unit cube and costs to minimise."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._space import SearchSpace

_PAREGO_RHO = 0.05  # SMAC3's ParEGO: augmented Tchebycheff with rho = 0.05
_BIG = 1e300  # costs are clipped to [-_BIG, _BIG]: their differences stay finite


def training_data(
    space: SearchSpace,
    history: list[FrozenTrial],
    directions: Sequence[StudyDirection],
    rng: np.random.Generator,
    encode: Callable[[Sequence[FrozenTrial]], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any] | None:
    """Rows and costs (lower is better) of finished trials, rows of pending ones, and the map
    from a modelled cost back to the objective's units (identity up to sign; ParEGO for many
    objectives). ``encode`` turns trials into rows (``space.encode_trials`` by default)."""
    encode = encode or space.encode_trials
    finished = [t for t in history if t.state.is_finished()]
    complete = [
        t
        for t in finished
        if t.state == TrialState.COMPLETE
        and t.values is not None
        and all(math.isfinite(v) for v in t.values)
    ]
    if not complete:
        return None
    signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in directions])
    # Finite but huge values (±1e308) would overflow every difference taken below (ranges,
    # scaling) into inf and NaN: clip them where differences stay finite; the order is kept.
    values = np.clip(np.array([t.values for t in complete], dtype=float) * signs, -_BIG, _BIG)
    if len(directions) > 1:
        low, high = values.min(axis=0), values.max(axis=0)
        scaled = (values - low) / np.where(high > low, high - low, 1.0)
        weights = rng.dirichlet(np.ones(len(directions)))
        weighted = scaled * weights
        cost = weighted.max(axis=1) + _PAREGO_RHO * weighted.sum(axis=1)

        def unscale(v: float) -> float:
            return v

    else:
        cost = values[:, 0]
        sign = float(signs[0])

        def unscale(v: float) -> float:
            return sign * v

    violation = np.array([sum(max(c, 0.0) for c in t.constraints.values()) for t in complete])
    violation = np.nan_to_num(np.minimum(violation, _BIG), nan=_BIG)  # inf/NaN: the worst
    if (violation > 0).any():
        feasible = violation <= 0
        spread = float(np.ptp(cost)) or 1.0
        worst_feasible = float(cost[feasible].max()) if feasible.any() else float(cost.min())
        with np.errstate(over="ignore"):  # an overflow to inf is clipped just below
            penalty = np.minimum(spread * (1.0 + violation), _BIG)
        cost = np.clip(np.where(feasible, cost, worst_feasible + penalty), -_BIG, _BIG)
    complete_numbers = {t.number for t in complete}
    failed = [t for t in finished if t.number not in complete_numbers]
    rows = encode(complete + failed)
    costs = np.concatenate([cost, np.full(len(failed), float(cost.max()))])
    keep = ~np.all(np.isnan(rows), axis=1)  # trials that share no parameter with the space
    pending_trials = [t for t in history if t.state == TrialState.RUNNING]
    pending = encode(pending_trials)
    pending = pending[~np.all(np.isnan(pending), axis=1)] if len(pending) else pending
    if not keep[: len(complete)].any():
        return None
    return rows[keep], costs[keep], pending, unscale
