from __future__ import annotations

from optuna_advanced import RandomForestSampler


__all__ = ["RandomForestSampler"]
