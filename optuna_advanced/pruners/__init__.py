"""Pruners of optuna_advanced: only what Optuna's own pruners cannot do.

Each pruner lives in a private module re-exported here through ``__all__`` when it lands.
"""

from __future__ import annotations

from optuna_advanced.pruners._bohb import BOHBPruner

__all__ = ["BOHBPruner"]
