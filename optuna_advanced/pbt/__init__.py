"""Population Based Training on Optuna studies.

``PopulationBasedTraining`` (the study wrapper, member scheduling through storage) lives in
``_wrapper``; the population as read from storage in ``_population``; explore in ``_explore``
(perturb/resample) and ``_pb2`` (the GP bandit, no Optuna import); checkpoints through Optuna's
artifact stores in ``_checkpoint``; lineage tables and plots in ``_lineage``.
"""

from __future__ import annotations

from optuna_advanced.pbt._checkpoint import Checkpoint
from optuna_advanced.pbt._lineage import lineage
from optuna_advanced.pbt._lineage import plot_lineage
from optuna_advanced.pbt._wrapper import PopulationBasedTraining

__all__ = ["Checkpoint", "PopulationBasedTraining", "lineage", "plot_lineage"]
