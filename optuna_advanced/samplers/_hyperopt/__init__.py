"""HyperoptSampler: Hyperopt's suggest algorithms inside Optuna (``sampler.py``), and the
translation between Optuna distributions or a native Hyperopt space and Hyperopt's labels
(``space.py``)."""

from __future__ import annotations

from optuna_advanced.samplers._hyperopt.sampler import HyperoptSampler
from optuna_advanced.samplers._hyperopt.space import hyperopt_params
from optuna_advanced.samplers._hyperopt.space import hyperopt_space

__all__ = ["HyperoptSampler", "hyperopt_params", "hyperopt_space"]
