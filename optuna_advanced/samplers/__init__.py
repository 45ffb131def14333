"""Samplers of optuna_advanced.

Each algorithm lives in a private package or module (``_bohb/``, ``_forest/``, ``_hyperopt.py``,
``_ax.py``) and is re-exported here through ``__all__`` when it lands.
"""

from __future__ import annotations

__all__: list[str] = []
