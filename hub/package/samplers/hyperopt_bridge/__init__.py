from __future__ import annotations

from optuna_advanced import HyperoptSampler


__all__ = ["HyperoptSampler"]
