"""AxSampler: Ax's generation strategies inside Optuna studies (``sampler.py``), the translation
of Optuna distributions into Ax parameters (``parameters.py``) and Ax's logging (``quiet.py``)."""

from __future__ import annotations

from optuna_advanced.samplers._ax.parameters import ax_parameters
from optuna_advanced.samplers._ax.quiet import quiet_ax
from optuna_advanced.samplers._ax.sampler import AxSampler

__all__ = ["AxSampler", "ax_parameters", "quiet_ax"]
