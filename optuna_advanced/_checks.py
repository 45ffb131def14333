"""Argument checks for the public constructors: one wording for every class.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, outside what
is allowed) with a message that names the owner, the argument, the value and what is allowed,
e.g. ``BOHBSampler: num_samples must be an integer >= 1, got 0.``
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Mapping
import math
import numbers
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

__all__ = [
    "check_bool",
    "check_choice",
    "check_distributions",
    "check_int",
    "check_number",
    "check_seed",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    owner: str,
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    none: bool = False,
) -> None:
    """An integer (not a bool) in ``[minimum, maximum]``; ``None`` too when ``none``."""
    if value is None and none:
        return
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    allowed = "an integer" + (" " + " and ".join(bounds) if bounds else "")
    if none:
        allowed += " or None"
    if not _is_int(value):
        raise TypeError(f"{owner}: {name} must be {allowed}, got {value!r}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}.")


def check_number(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """A finite real number (not a bool) in the interval from ``low`` to ``high``."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    allowed = f"a number in {left}{low:g}, {high:g}{right}"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be {allowed}, got {value!r}.")
    v = float(value)
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if math.isnan(v) or not inside:
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}.")


def check_bool(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}.")


def check_choice(owner: str, name: str, value: Any, choices: Collection[Any]) -> None:
    if not any(value == c and type(value) is type(c) for c in choices):
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: {name} must be one of {allowed}; got {value!r}.")


def check_seed(owner: str, value: Any) -> None:
    """``None`` or an integer in ``[0, 2**32 - 1]`` (what NumPy's generators accept)."""
    check_int(owner, "seed", value, minimum=0, maximum=2**32 - 1, none=True)


def check_distributions(owner: str, name: str, value: Any, *, none: bool = True) -> None:
    """A mapping of parameter names (strings) to Optuna distributions of the kinds the pack
    supports (float, int, categorical); ``None`` too when ``none``."""
    if value is None and none:
        return
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{owner}: {name} must be a mapping of parameter names to Optuna distributions"
            f"{' or None' if none else ''}, got {value!r}."
        )
    kinds = (FloatDistribution, IntDistribution, CategoricalDistribution)
    for key, dist in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{owner}: {name} has a non-string parameter name {key!r}.")
        if not isinstance(dist, BaseDistribution):
            raise TypeError(
                f"{owner}: {name}[{key!r}] must be an Optuna distribution (e.g. "
                f"optuna.distributions.FloatDistribution(0, 1)), got {dist!r}."
            )
        if not isinstance(dist, kinds):
            raise TypeError(
                f"{owner}: {name}[{key!r}] is a {type(dist).__name__}; supported are "
                "FloatDistribution, IntDistribution and CategoricalDistribution."
            )
