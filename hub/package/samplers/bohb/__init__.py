from __future__ import annotations

from optuna_advanced import BOHBPruner
from optuna_advanced import BOHBSampler


__all__ = ["BOHBPruner", "BOHBSampler"]
