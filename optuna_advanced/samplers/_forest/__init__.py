"""RandomForestSampler: SMAC-style Bayesian optimisation with a random forest.

``surrogate.py`` (the forest and SMAC's cost scaling) and ``acquisition.py`` (log-EI and the
local-and-random-search maximiser) do not import Optuna; ``sampler.py`` is the Optuna adapter.
"""

from __future__ import annotations

from optuna_advanced.samplers._forest.sampler import RandomForestSampler

__all__ = ["RandomForestSampler"]
