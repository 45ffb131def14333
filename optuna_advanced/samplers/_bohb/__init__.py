from __future__ import annotations

from optuna_advanced.samplers._bohb.sampler import BOHBSampler

__all__ = ["BOHBSampler"]
