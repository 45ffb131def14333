"""Optuna parameters <-> Hyperopt labels, both ways, for the two kinds of search space.

Hyperopt records a configuration as the *raw* value of each label (``trials.trials[i]["misc"]
["vals"]``): the index for ``hp.choice``, the number for ranges. The bridge rebuilds that record
from Optuna's trials and turns Hyperopt's raw suggestions back into Optuna values.

- :class:`Column`: an Optuna distribution translated into the ``hp`` expression a Hyperopt user
  would write for it (the sampler's own space, when ``search_space`` holds distributions or the
  space is define-by-run).
- :class:`NativeLabel`: a label of the user's own Hyperopt space (``search_space`` holds ``hp.*``
  expressions); the objective suggests each label with a matching Optuna distribution, and the
  raw values are exactly Hyperopt's.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_advanced._space import n_values
from optuna_advanced._space import nearest_value

__all__ = ["Column", "NativeLabel", "hyperopt_params", "hyperopt_space", "native_labels"]


class Column:
    """One Optuna distribution as one Hyperopt label, and the raw values between them.

    The mapping (what a Hyperopt user would write by hand):

    - float: ``hp.uniform(name, low, high)``; log: ``hp.loguniform(name, ln low, ln high)``.
    - int or float with ``step`` s and ``low`` a multiple of s (ints with step 1, floats such as
      ``[0, 1]`` step 0.1): ``hp.quniform(name, low - s/2, high + s/2, s)``; the half-cells at
      both ends give every grid point the same prior mass (``hp.quniform(name, low, high, s)``
      would give the end points half). Otherwise the grid index: ``low + s *
      hp.quniform(name, -0.5, K + 0.5, 1)`` with ``K = (high - low) / s``.
    - log int: ``hp.qloguniform(name, ln(low - 0.5), ln(high + 0.5), 1)``.
    - categorical: ``hp.choice(name, range(len(choices)))``; Hyperopt's raw value is the
      index for any ``hp.choice``, so this equals ``hp.choice(name, choices)``.

    Raw values that rounding pushes past an end are clipped back onto the grid.
    """

    def __init__(self, name: str, dist: BaseDistribution) -> None:
        self.name = name
        self.dist = dist
        self.offset = 0.0  # raw = (value - offset) / scale for the grid-index form
        self.scale = 1.0
        self.n_cells = 0
        if isinstance(dist, (IntDistribution, FloatDistribution)) and dist.step is not None:
            step = float(dist.step)
            self.n_cells = int(n_values(dist)) - 1
            ratio = dist.low / step
            if abs(ratio - round(ratio)) > 1e-9 * max(1.0, abs(ratio)):
                self.offset, self.scale = float(dist.low), step

    def expression(self) -> Any:
        from hyperopt import hp

        d, name = self.dist, self.name
        if isinstance(d, CategoricalDistribution):
            return hp.choice(name, list(range(len(d.choices))))
        assert isinstance(d, (IntDistribution, FloatDistribution))
        if d.log:
            if isinstance(d, IntDistribution):
                return hp.qloguniform(name, math.log(d.low - 0.5), math.log(d.high + 0.5), 1)
            return hp.loguniform(name, math.log(d.low), math.log(d.high))
        if d.step is None:
            return hp.uniform(name, d.low, d.high)
        if self.scale != 1.0 or self.offset != 0.0:
            return hp.quniform(name, -0.5, self.n_cells + 0.5, 1)
        half = float(d.step) / 2
        return hp.quniform(name, d.low - half, d.high + half, d.step)

    def to_raw(self, value: Any) -> float | int:
        d = self.dist
        if isinstance(d, CategoricalDistribution):
            return int(d.to_internal_repr(value))  # Hyperopt counts choices with bincount
        return (float(value) - self.offset) / self.scale

    def from_raw(self, raw: float) -> Any:
        d = self.dist
        if isinstance(d, CategoricalDistribution):
            return d.choices[int(raw)]
        return nearest_value(d, float(raw) * self.scale + self.offset)


class NativeLabel:
    """A label of a user's Hyperopt space, suggested by the objective with an Optuna
    distribution of its choosing.

    ``hp.choice``/``hp.pchoice`` (and one-argument ``hp.randint``) labels are recorded by index:
    the objective suggests them with ``suggest_categorical`` over as many choices (the value
    returned is the choice at Hyperopt's index). Range labels (``uniform``, ``quniform``,
    ``uniformint``, ``loguniform``, ``normal``, two-argument ``randint``, ...) are recorded by
    value: the objective suggests them with ``suggest_float``/``suggest_int`` over a range that
    holds the label's values (a value outside is clipped into the Optuna range).

    Args:
        name: The label.
        node: Its distribution node (``Domain(...).params[name]``).
    """

    def __init__(self, name: str, node: Any) -> None:
        self.name = name
        self.node = node
        self.by_index = node.name == "categorical" or (
            node.name == "randint" and len(node.pos_args) == 1
        )

    def to_raw(self, value: Any, dist: BaseDistribution) -> float | int:
        if isinstance(dist, CategoricalDistribution):
            index = int(dist.to_internal_repr(value))
            return index if self.by_index else dist.choices[index]  # type: ignore[return-value]
        return int(value) if self.by_index else value

    def from_raw(self, raw: float, dist: BaseDistribution) -> Any:
        if isinstance(dist, CategoricalDistribution):
            if self.by_index:
                index = int(raw)
                if not 0 <= index < len(dist.choices):
                    raise ValueError(
                        f"HyperoptSampler: {self.name!r} is a Hyperopt choice of more options "
                        f"than the {len(dist.choices)} choices the objective suggests."
                    )
                return dist.choices[index]
            return min(dist.choices, key=lambda c: abs(float(c) - raw))  # type: ignore[arg-type]
        return nearest_value(dist, raw)

    def expression(self) -> Any:
        """The label alone, as a space of one parameter (for a draw from its prior)."""
        from hyperopt.pyll import scope

        return {self.name: scope.hyperopt_param(self.name, self.node)}


def native_labels(domain: Any) -> dict[str, NativeLabel]:
    """Every label of a Hyperopt ``Domain``."""
    return {name: NativeLabel(name, node) for name, node in domain.params.items()}


def hyperopt_params(
    search_space: Mapping[str, BaseDistribution], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The Optuna parameters of Hyperopt's raw values for :func:`hyperopt_space`'s labels
    (choice indices, grid indices), e.g. of ``trials.trials[i]["misc"]["vals"]``."""
    columns = [Column(name, d) for name, d in search_space.items() if name in raw]
    return {c.name: c.from_raw(raw[c.name]) for c in columns}


def hyperopt_space(search_space: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """The Hyperopt space the bridge uses for ``search_space`` (a dict of ``hp`` expressions).

    Useful to run native ``hyperopt.fmin`` on exactly the space the sampler models (see
    :class:`Column` for the mapping). The raw values ``fmin`` reports for it are not always the
    Optuna values: grid-index columns report the index (:func:`hyperopt_params` converts).
    """
    return {name: Column(name, d).expression() for name, d in search_space.items()}
