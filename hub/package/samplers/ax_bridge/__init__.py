from __future__ import annotations

from optuna_advanced import AxSampler


__all__ = ["AxSampler"]
