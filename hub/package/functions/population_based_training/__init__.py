from __future__ import annotations

from optuna_advanced import PopulationBasedTraining
from optuna_advanced.pbt import Checkpoint
from optuna_advanced.pbt import lineage
from optuna_advanced.pbt import plot_lineage


__all__ = ["Checkpoint", "PopulationBasedTraining", "lineage", "plot_lineage"]
