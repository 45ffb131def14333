"""Samplers of optuna_advanced.

Each algorithm lives in a private package or module (``_bohb/``, ``_forest/``, ``_hyperopt.py``,
``_ax.py``) and is re-exported here through ``__all__``.
"""

from __future__ import annotations

from optuna_advanced.samplers._ax import AxSampler
from optuna_advanced.samplers._bohb import BOHBSampler
from optuna_advanced.samplers._forest import RandomForestSampler
from optuna_advanced.samplers._hyperopt import HyperoptSampler

__all__ = ["AxSampler", "BOHBSampler", "HyperoptSampler", "RandomForestSampler"]
