"""Population Based Training on Optuna studies.

The wrapper, member scheduling, explore (perturb, PB2) and checkpoints live in private modules
re-exported here through ``__all__`` when they land.
"""

from __future__ import annotations

__all__: list[str] = []
