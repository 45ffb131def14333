"""Optuna distributions as Ax parameters, and Ax's values back as Optuna values."""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any
from typing import Literal

from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial

from optuna_advanced._space import n_values
from optuna_advanced._space import nearest_value

__all__ = ["Parameter", "ax_parameters", "n_points", "tried"]

#: Integer ranges and stepped grids with more values go to Ax as plain float ranges: Ax lists
#: every value of an integer range or a grid (``list(range(low, high + 1))``), which for
#: ``suggest_int("m", 1, 2**62)`` ends in a MemoryError.
MAX_GRID = 10_000


class Parameter:
    """One Optuna distribution as one Ax parameter.

    - float ranges: ``RangeParameterConfig`` with ``scaling="log"`` for log ranges and
      ``step_size`` for stepped ones (Ax then treats the grid as an ordered choice, listing
      every value);
    - integer ranges: ``RangeParameterConfig(parameter_type="int")``, log-scaled if log;
    - an integer range or a grid of more than :data:`MAX_GRID` values is passed as a plain float
      range (log-scaled if log) and Ax's value is snapped to the nearest value Optuna allows;
    - categorical: an unordered ``ChoiceParameterConfig``; choices that are all strings, all
      ints or all floats are passed as they are, any other mix (``None``, booleans with
      numbers, ...) as the strings ``"0"``, ``"1"``, ... of their indices.
    """

    def __init__(self, name: str, dist: BaseDistribution) -> None:
        self.name = name
        self.dist = dist
        self.by_index = False
        self.as_float = False
        if isinstance(dist, CategoricalDistribution):
            kinds = {type(c) for c in dist.choices}
            self.by_index = not (kinds == {str} or kinds == {int} or kinds == {float})
        elif isinstance(dist, (IntDistribution, FloatDistribution)):
            self.as_float = math.isfinite(n_values(dist)) and n_values(dist) > MAX_GRID

    def config(self) -> Any:
        from ax import ChoiceParameterConfig
        from ax import RangeParameterConfig

        d = self.dist
        if isinstance(d, CategoricalDistribution):
            if self.by_index:
                values: list[Any] = [str(i) for i in range(len(d.choices))]
                kind: Literal["float", "int", "str"] = "str"
            else:
                values = list(d.choices)
                kind = {str: "str", int: "int", float: "float"}[type(values[0])]  # type: ignore[assignment]
            return ChoiceParameterConfig(
                name=self.name, values=values, parameter_type=kind, is_ordered=False
            )
        assert isinstance(d, (IntDistribution, FloatDistribution))
        step = d.step
        if isinstance(d, IntDistribution) and step == 1 or self.as_float:
            step = None
        integer = isinstance(d, IntDistribution) and not self.as_float
        return RangeParameterConfig(
            name=self.name,
            bounds=(d.low, d.high) if integer else (float(d.low), float(d.high)),
            parameter_type="int" if integer else "float",
            scaling="log" if d.log else None,
            step_size=step,
        )

    def to_ax(self, value: Any) -> Any:
        d = self.dist
        if isinstance(d, CategoricalDistribution) and self.by_index:
            return str(d.to_internal_repr(value))
        return float(value) if self.as_float else value

    def from_ax(self, value: Any) -> Any:
        d = self.dist
        if isinstance(d, CategoricalDistribution):
            if self.by_index:
                return d.choices[int(value)]
            return d.choices[int(d.to_internal_repr(value))]
        return nearest_value(d, value)


def ax_parameters(search_space: Mapping[str, BaseDistribution]) -> list[Any]:
    """The Ax parameter configs the bridge uses for ``search_space`` (see ``Parameter``)."""
    return [Parameter(name, d).config() for name, d in search_space.items()]


def n_points(params: list[Parameter]) -> float:
    """How many distinct points the space holds (``inf`` with any continuous parameter)."""
    return math.prod(float(n_values(p.dist)) for p in params)


def tried(params: list[Parameter], history: list[FrozenTrial]) -> set[tuple[Any, ...]]:
    """The distinct points of ``history`` (trials with every parameter set)."""
    names = [p.name for p in params]
    return {
        tuple(repr(t.params[n]) for n in names)
        for t in history
        if all(n in t.params for n in names)
    }
