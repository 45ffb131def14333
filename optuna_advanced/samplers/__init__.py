"""Samplers of optuna_advanced.

Each algorithm lives in a private package or module (``_bohb/``, ``_forest/``, ``_hyperopt.py``,
``_ax.py``) and is re-exported here through ``__all__``; ``_base.py`` holds what they share.
The bridges' translation helpers are public too: :func:`hyperopt_space` and
:func:`hyperopt_params` (Optuna distributions <-> a Hyperopt space), :func:`ax_parameters`
(Ax parameter configs) and :func:`quiet_ax` (silences Ax's INFO logging).
"""

from __future__ import annotations

from optuna_advanced.samplers._ax import ax_parameters
from optuna_advanced.samplers._ax import AxSampler
from optuna_advanced.samplers._ax import quiet_ax
from optuna_advanced.samplers._bohb import BOHBSampler
from optuna_advanced.samplers._forest import RandomForestSampler
from optuna_advanced.samplers._hyperopt import hyperopt_params
from optuna_advanced.samplers._hyperopt import hyperopt_space
from optuna_advanced.samplers._hyperopt import HyperoptSampler

__all__ = [
    "AxSampler",
    "BOHBSampler",
    "HyperoptSampler",
    "RandomForestSampler",
    "ax_parameters",
    "hyperopt_params",
    "hyperopt_space",
    "quiet_ax",
]
