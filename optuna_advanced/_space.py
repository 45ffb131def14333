"""Optuna distributions <-> numeric arrays: the one encoding every model-based sampler shares.

A :class:`SearchSpace` turns a mapping ``name -> distribution`` into columns of a float matrix:

* ``FloatDistribution`` / ``IntDistribution`` -> the unit interval ``[0, 1]``, on a log scale when
  ``log=True``. For integers and stepped floats the range is widened by half a step on each side,
  so every grid point owns a cell of equal width (the convention of Optuna's TPE and GP samplers);
  decoding rounds to the nearest grid point.
* ``CategoricalDistribution`` -> the index of the choice, as a float ``0.0 .. k-1``. Choices may
  be of mixed types (``None``, bool, int, float, str); decoding returns the choice object itself.
* A parameter that a trial does not have (inactive in a conditional space), or whose value lies
  outside the *current* distribution (the range changed between trials, a choice was removed),
  is encoded as ``NaN``. Models decide how to impute; the encoding never invents a value.
* Single-value distributions encode to ``0.5`` (numeric) or ``0.0`` (categorical) and always
  decode to their one value.

Decoding clips to the unit interval first, so any real row decodes to plain Python values that
lie inside their distributions (steps respected). ``NaN`` columns are left out of the decoded
dict: that is how a model says "this parameter is inactive".

Beside the encoding, the toolbox every module uses for single values of a distribution:
:func:`nearest_value` (clip, snap to the step, cast), :func:`n_values` (choices or grid points)
and :func:`sample_prior` (one draw from the distribution's prior).

This module imports Optuna only for its distribution and trial types; it holds no state but the
distributions, so it is cheap to build at every ``ask``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from fractions import Fraction
import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial

__all__ = [
    "SearchSpace",
    "latest_search_space",
    "n_values",
    "nearest_value",
    "sample_prior",
    "value_in_distribution",
]

RandomState = np.random.RandomState | np.random.Generator

_ABSENT: Any = object()  # a parameter the trial does not have

# Relative tolerance when deciding whether a stored value lies inside a distribution: values that
# went through float arithmetic (log/exp, step rounding) may overshoot a bound by a few ulps.
_RTOL = 1e-9


class _NumericColumn:
    """Affine map between a numeric distribution and [0, 1] (after an optional log)."""

    def __init__(self, dist: FloatDistribution | IntDistribution) -> None:
        self.dist = dist
        self.is_int = isinstance(dist, IntDistribution)
        self.log = dist.log
        self.step: float | None = dist.step
        low, high = float(dist.low), float(dist.high)
        self.low, self.high = low, high
        # Half a grid cell of padding for discrete dimensions.
        pad = 0.5 * self.step if self.step is not None else 0.0
        if self.log:
            self.lo = math.log(low - pad)
            self.hi = math.log(high + pad)
        else:
            self.lo = low - pad
            self.hi = high + pad
        self.single = dist.single()
        self.n_levels = int(n_values(dist)) if self.step is not None else 0

    def encode_many(self, values: Sequence[Any]) -> np.ndarray:
        """Encode a column of values (``_ABSENT``, non-numbers and out-of-range values: NaN)."""
        v = np.array(
            [
                math.nan
                if isinstance(x, bool) or not isinstance(x, (int, float, np.number))
                else float(x)
                for x in values
            ],
            dtype=float,
        )
        tol = _RTOL * max(1.0, abs(self.low), abs(self.high))
        with np.errstate(invalid="ignore"):
            inside = (self.low - tol <= v) & (v <= self.high + tol)
        if self.hi == self.lo:  # single-value continuous distribution
            return np.where(inside, 0.5, math.nan)
        v = np.where(inside, np.maximum(v, self.low), self.low)
        # math.log, element by element: numpy's vectorised log may differ in the last ulp.
        t = np.array([math.log(x) for x in v.tolist()]) if self.log else v
        u = np.minimum(1.0, np.maximum(0.0, (t - self.lo) / (self.hi - self.lo)))
        return np.where(inside, u, math.nan)

    def decode(self, u: float) -> int | float:
        if self.single:
            return self.dist.low
        t = self.lo + min(1.0, max(0.0, u)) * (self.hi - self.lo)
        return nearest_value(self.dist, math.exp(t) if self.log else t)  # type: ignore[no-any-return]

    def snap(self, u: np.ndarray) -> np.ndarray:
        """``encode(decode(u))`` for an array (NaN stays NaN)."""
        nan = np.isnan(u)
        if self.single:
            return np.where(nan, np.nan, self.encode_many([self.dist.low])[0])  # the one value
        if self.step is None:  # decode clips too, so this decodes to exactly decode(u)
            return np.where(nan, np.nan, np.clip(u, 0.0, 1.0))
        t = self.lo + np.clip(np.nan_to_num(u), 0.0, 1.0) * (self.hi - self.lo)
        v = np.exp(t) if self.log else t
        k = np.clip(np.round((v - self.low) / self.step), 0, self.n_levels - 1)
        v = np.clip(self.low + k * self.step, self.low, self.high)
        if self.is_int:
            v = np.round(v)
        t = np.log(np.maximum(v, self.low)) if self.log else v
        return np.where(nan, np.nan, np.clip((t - self.lo) / (self.hi - self.lo), 0.0, 1.0))


class _CategoricalColumn:
    def __init__(self, dist: CategoricalDistribution) -> None:
        self.dist = dist
        self.n_levels = len(dist.choices)

    def encode_many(self, values: Sequence[Any]) -> np.ndarray:
        """Choice indices of a column of values (absent or unknown values: NaN)."""
        known: dict[tuple[type, str], float] = {}  # repr-equal values of one type: one lookup
        out = np.empty(len(values))
        for i, value in enumerate(values):
            key = (type(value), repr(value))
            code = known.get(key)
            if code is None:
                code = known[key] = self._encode(value)
            out[i] = code
        return out

    def _encode(self, value: Any) -> float:
        if value is _ABSENT:
            return math.nan
        try:
            return float(self.dist.to_internal_repr(value))
        except (ValueError, TypeError):
            return math.nan

    def decode(self, u: float) -> Any:
        index = min(self.n_levels - 1, max(0, int(round(u))))
        return self.dist.choices[index]

    def snap(self, u: np.ndarray) -> np.ndarray:
        """``encode(decode(u))`` for an array (NaN stays NaN)."""
        return np.where(
            np.isnan(u), np.nan, np.clip(np.round(np.nan_to_num(u)), 0, self.n_levels - 1)
        )


class _Snapper:
    """``SearchSpace.snap`` for all columns at once: the per-column arithmetic of
    ``_NumericColumn.snap`` and ``_CategoricalColumn.snap``, done on groups of columns (free
    floats, grids, categoricals, single values), so its cost does not grow with the number of
    parameters (samplers snap thousands of candidate rows per ask, a few rows at a time)."""

    def __init__(self, columns: Sequence[_NumericColumn | _CategoricalColumn]) -> None:
        numeric = [(j, c) for j, c in enumerate(columns) if isinstance(c, _NumericColumn)]
        self.free = np.array([j for j, c in numeric if not c.single and c.step is None], int)
        grid = [(j, c) for j, c in numeric if not c.single and c.step is not None]
        self.grid = np.array([j for j, _ in grid], dtype=int)
        self.lo = np.array([c.lo for _, c in grid])
        self.width = np.array([c.hi - c.lo for _, c in grid])
        self.low = np.array([c.low for _, c in grid])
        self.high = np.array([c.high for _, c in grid])
        self.step = np.array([c.step for _, c in grid], dtype=float)
        self.top = np.array([c.n_levels - 1 for _, c in grid], dtype=float)
        self.log = np.array([c.log for _, c in grid], dtype=bool)
        self.is_int = np.array([c.is_int for _, c in grid], dtype=bool)
        self.single = np.array([j for j, c in numeric if c.single], dtype=int)
        self.single_code = np.array(
            [c.encode_many([c.dist.low])[0] for j, c in numeric if c.single]
        )
        categorical = [(j, c) for j, c in enumerate(columns) if isinstance(c, _CategoricalColumn)]
        self.categorical = np.array([j for j, _ in categorical], dtype=int)
        self.cat_top = np.array([c.n_levels - 1 for _, c in categorical], dtype=float)
        # Each column's group (0 free, 1 grid, 2 categorical, 3 single) and place in it.
        self.group = np.zeros(len(columns), dtype=int)
        self.place = np.zeros(len(columns), dtype=int)
        for g, members in enumerate((self.free, self.grid, self.categorical, self.single)):
            self.group[members], self.place[members] = g, np.arange(len(members))

    def cells(self, values: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """``values[i]`` snapped as a value of column ``columns[i]``: the arithmetic of
        ``__call__``, element by element (no NaN: those are inactive cells, never moved)."""
        out = np.array(values, dtype=float, copy=True)
        group, place = self.group[columns], self.place[columns]
        free, cat, single = group == 0, group == 2, group == 3
        out[free] = _clip(values[free], 0.0, 1.0)
        out[cat] = _clip(np.round(values[cat]), 0, self.cat_top[place[cat]])
        out[single] = self.single_code[place[single]]
        grid = np.flatnonzero(group == 1)
        if len(grid):
            at = place[grid]
            out[grid] = self._grid(values[grid], at, self.log[at], self.is_int[at])
        return out

    def _grid(self, u: np.ndarray, at: Any, log: np.ndarray, is_int: np.ndarray) -> np.ndarray:
        """Grid cells (finite ``u``, of grid columns ``at``, broadcast) onto the grid's values;
        ``log`` and ``is_int`` mask the log-scaled and integer cells (or columns)."""
        lo, width, low = self.lo[at], self.width[at], self.low[at]
        t = lo + _clip(u, 0.0, 1.0) * width
        v = t.copy()
        if log.any():
            v[..., log] = np.exp(t[..., log])
        k = _clip(np.round((v - low) / self.step[at]), 0, self.top[at])
        v = _clip(low + k * self.step[at], low, self.high[at])
        if is_int.any():
            v[..., is_int] = np.round(v[..., is_int])
        t = v.copy()
        if log.any():
            t[..., log] = np.log(np.maximum(v, low)[..., log])
        return _clip((t - lo) / width, 0.0, 1.0)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        # np.minimum(np.maximum(...)) is np.clip without its wrapper (NaN stays NaN either way).
        out = np.array(rows, copy=True)
        if len(self.free):
            out[:, self.free] = _clip(rows[:, self.free], 0.0, 1.0)
        if len(self.grid):
            u = rows[:, self.grid]
            nan = np.isnan(u)
            # NaN -> 0 as nan_to_num does (infinities clip to the same ends either way).
            snapped = self._grid(np.where(nan, 0.0, u), slice(None), self.log, self.is_int)
            out[:, self.grid] = np.where(nan, np.nan, snapped)
        if len(self.categorical):
            u = rows[:, self.categorical]
            nan = np.isnan(u)
            snapped = _clip(np.round(np.where(nan, 0.0, u)), 0, self.cat_top)
            out[:, self.categorical] = np.where(nan, np.nan, snapped)
        if len(self.single):
            u = rows[:, self.single]
            out[:, self.single] = np.where(np.isnan(u), np.nan, self.single_code)
        return out


def _clip(x: np.ndarray, low: Any, high: Any) -> np.ndarray:
    return np.asarray(np.minimum(np.maximum(x, low), high))


class SearchSpace:
    """A fixed, ordered set of Optuna distributions and its numeric encoding.

    Args:
        distributions: Parameter name -> distribution. Column order follows the mapping's order;
            use :func:`latest_search_space` (sorted names) when processes must agree on it.

    Attributes:
        names: Parameter names, one per column.
        is_categorical: Boolean mask of categorical columns.
        n_levels: Number of values a column can take: choices for categoricals, grid points for
            integers and stepped floats, ``0`` for continuous floats.
        is_single: Mask of columns whose distribution has exactly one value.
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        self.distributions: dict[str, BaseDistribution] = dict(distributions)
        self.names: tuple[str, ...] = tuple(self.distributions)
        self._columns: list[_NumericColumn | _CategoricalColumn] = []
        for name, dist in self.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                self._columns.append(_CategoricalColumn(dist))
            elif isinstance(dist, (FloatDistribution, IntDistribution)):
                self._columns.append(_NumericColumn(dist))
            else:
                raise TypeError(f"Unsupported distribution for {name!r}: {dist!r}.")
        self.is_categorical = np.array(
            [isinstance(c, _CategoricalColumn) for c in self._columns], dtype=bool
        )
        self.n_levels = np.array([c.n_levels for c in self._columns], dtype=np.int64)
        self.is_single = np.array([c.dist.single() for c in self._columns], dtype=bool)
        self._snapper = _Snapper(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"SearchSpace({self.distributions!r})"

    def encode_params(self, params: Mapping[str, Any]) -> np.ndarray:
        """Encode one parameter dict to a row; missing or out-of-distribution values are NaN."""
        row: np.ndarray = self.encode_many([params])[0]
        return row

    def encode_many(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode parameter dicts to an ``(n, n_params)`` matrix, one column at a time."""
        out = np.full((len(params), len(self)), math.nan)
        for j, (name, col) in enumerate(zip(self.names, self._columns)):
            out[:, j] = col.encode_many([p.get(name, _ABSENT) for p in params])
        return out

    def encode_trials(self, trials: Sequence[FrozenTrial]) -> np.ndarray:
        """Encode the parameters of ``trials`` to an ``(n_trials, n_params)`` matrix."""
        return self.encode_many([t.params for t in trials])

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        """Decode one row to plain Python values; NaN columns (inactive) are omitted."""
        row = np.asarray(row, dtype=float)
        if row.shape != (len(self),):
            raise ValueError(f"Expected a row of shape ({len(self)},), got {row.shape}.")
        return {
            name: col.decode(float(u))
            for name, col, u in zip(self.names, self._columns, row)
            if not math.isnan(u)
        }

    def snap(self, rows: np.ndarray) -> np.ndarray:
        """Map rows onto the values they decode to (grid-cell centres, choice indices).

        On discrete columns (categoricals, integers, stepped floats) two rows that decode to the
        same parameters snap to the same row, which is how samplers detect duplicate
        candidates; continuous columns are clipped to [0, 1] (which decodes to the same value).
        NaN stays NaN. ``decode(snap(row)) == decode(row)`` for every row.
        """
        return self._snapper(np.atleast_2d(np.asarray(rows, dtype=float)))

    def snap_cells(self, values: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """:meth:`snap` of single cells, ``values[i]`` in column ``columns[i]`` (finite values):
        a row that differs from a snapped row in one cell is snapped by snapping that cell."""
        return self._snapper.cells(np.asarray(values, dtype=float), np.asarray(columns, int))

    def snap_by_column(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`snap`, one column at a time (the reference the vectorised one is tested on)."""
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        out = np.array(rows, copy=True)
        for j, col in enumerate(self._columns):
            out[:, j] = col.snap(rows[:, j])
        return out

    def sample_uniform(self, rng: RandomState, n: int) -> np.ndarray:
        """Draw ``n`` rows uniformly in the encoded space (log-uniform for log parameters)."""
        if isinstance(rng, np.random.Generator):
            out = rng.random((n, len(self)))
        else:
            out = rng.random_sample((n, len(self)))
        for j in np.flatnonzero(self.is_categorical):
            # Every choice gets an equal share, whatever the cell arithmetic would give.
            out[:, j] = np.floor(out[:, j] * self.n_levels[j]).clip(0, self.n_levels[j] - 1)
        return out


def latest_search_space(trials: Iterable[FrozenTrial]) -> dict[str, BaseDistribution]:
    """The union of the trials' parameters, each with the distribution it had most recently.

    This is the define-by-run view of a study: a parameter seen in any trial is part of the space
    (conditional parameters included), and when a range changed between trials the newest one
    (highest trial number) wins. Names are sorted so every process builds the same column order.
    """
    latest: dict[str, BaseDistribution] = {}
    # In trial order (a stable sort: of two equal numbers, the later in ``trials`` wins), each
    # trial's distributions overwrite the older ones.
    for trial in sorted(trials, key=lambda t: t.number):
        latest.update(trial.distributions)
    return {name: latest[name] for name in sorted(latest)}


def value_in_distribution(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is a plain Python value that ``dist`` can take.

    Unlike ``dist._contains``, the step check tolerates the rounding error of ``low + k * step``
    at large magnitudes (Optuna's own check rejects ``high`` of ``[131072, 131072.001]`` with
    step 0.001, for example).
    """
    if isinstance(dist, CategoricalDistribution):
        return any(value is c or value == c for c in dist.choices)
    if isinstance(dist, IntDistribution):
        if type(value) is not int:
            return False
    elif not (isinstance(dist, FloatDistribution) and type(value) is float):
        return False
    if not dist.low <= value <= dist.high:
        return False
    if dist.step is None:
        return True
    k = round((value - dist.low) / dist.step)
    scale = max(1.0, abs(dist.low), abs(dist.high))
    return bool(abs(value - (dist.low + k * dist.step)) <= 1e-9 * scale)


def n_values(dist: BaseDistribution) -> float:
    """How many values ``dist`` can take: its choices, its grid points (integers and stepped
    floats), or ``inf`` for a continuous float range (``1`` when it is a single value)."""
    if isinstance(dist, CategoricalDistribution):
        return len(dist.choices)
    if isinstance(dist, IntDistribution):
        return (dist.high - dist.low) // dist.step + 1
    if isinstance(dist, FloatDistribution):
        if dist.step is not None:
            return int(round((dist.high - dist.low) / dist.step)) + 1
        return 1 if dist.single() else math.inf
    raise TypeError(f"Unsupported distribution {dist!r}.")


def nearest_value(dist: BaseDistribution, value: Any) -> Any:
    """The value of ``dist`` nearest to ``value``: clipped to the range, snapped to the step,
    cast to ``int`` for integer distributions (exactly, for integers of any size). A value that
    is not one of a categorical's choices becomes the first choice."""
    if isinstance(dist, CategoricalDistribution):
        return value if value in dist.choices else dist.choices[0]
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise TypeError(f"Unsupported distribution {dist!r}.")
    if isinstance(dist, IntDistribution) and type(value) is int:
        i = min(dist.high, max(dist.low, value))
        k = round(Fraction(i - dist.low, dist.step))  # exact: a float loses integers > 2**53
        return min(dist.high, dist.low + k * dist.step)
    v = min(float(dist.high), max(float(dist.low), float(value)))
    if dist.step is not None:
        k = round((v - dist.low) / dist.step)
        k_max = int(n_values(dist)) - 1
        v = dist.low + min(k_max, max(0, k)) * dist.step
        v = min(float(dist.high), max(float(dist.low), v))
    if isinstance(dist, IntDistribution):
        return int(round(v))
    return float(v)


def sample_prior(dist: BaseDistribution, rng: np.random.Generator) -> Any:
    """One draw from ``dist``'s prior: uniform over choices and grid points, log-uniform for
    log distributions, uniform otherwise.

    This is the value-space draw for one parameter (PBT's resample); samplers that draw whole
    rows in the encoded space use :meth:`SearchSpace.sample_uniform`.
    """
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise TypeError(f"Unsupported distribution {dist!r}.")
    if dist.log:
        pad = 0.5 if isinstance(dist, IntDistribution) else 0.0
        value = math.exp(rng.uniform(math.log(dist.low - pad * 0.999), math.log(dist.high + pad)))
    elif dist.step is not None:
        index = int(rng.integers(int(n_values(dist))))
        return nearest_value(dist, dist.low + index * dist.step)
    else:
        value = rng.uniform(dist.low, dist.high)
    return nearest_value(dist, value)
