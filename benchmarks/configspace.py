"""Optuna search spaces as ConfigSpace spaces, for the native SMAC3 contenders.

The one translation the benchmarks use (``natives.smac_loop``, ``peers.smac_record``): a float
or integer range becomes ``Float``/``Integer`` with the same bounds and log scale, a categorical
becomes ``Categorical`` with the same choices. Stepped ranges have no ConfigSpace equivalent and
are passed as plain ranges (the objective snaps them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution


def to_configspace(space: Mapping[str, BaseDistribution], seed: int) -> Any:
    """A ``ConfigurationSpace`` with one hyperparameter per distribution."""
    from ConfigSpace import Categorical
    from ConfigSpace import ConfigurationSpace
    from ConfigSpace import Float
    from ConfigSpace import Integer

    cs = ConfigurationSpace(seed=seed)
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            cs.add(Categorical(name, list(dist.choices)))
        elif isinstance(dist, IntDistribution):
            cs.add(Integer(name, (dist.low, dist.high), log=dist.log))
        elif isinstance(dist, FloatDistribution):
            cs.add(Float(name, (dist.low, dist.high), log=dist.log))
        else:
            raise TypeError(f"Unsupported distribution for {name!r}: {dist!r}.")
    return cs


def plain_params(config: Any) -> dict[str, Any]:
    """A ConfigSpace ``Configuration`` as a dict of plain Python values."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(config).items()}
