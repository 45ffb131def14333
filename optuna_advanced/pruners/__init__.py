"""Pruners of optuna_advanced: only what Optuna's own pruners cannot do.

Each pruner lives in a private module re-exported here through ``__all__`` when it lands.
"""

from __future__ import annotations

__all__: list[str] = []
