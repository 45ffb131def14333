from __future__ import annotations

from optuna_advanced import BOHBPruner


__all__ = ["BOHBPruner"]
