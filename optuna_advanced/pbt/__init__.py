"""Population Based Training on Optuna studies.

Layout, from the user's entry point down:

- ``_wrapper``: ``PopulationBasedTraining``, the public API (arguments, ``optimize``,
  ``best_trial``, ``population``);
- ``_worker``: one process's loop (claim a segment, run it, create the next one, heartbeats);
- ``_scheduler``: the decision for a member whose segment ended (continue, or exploit whom and
  explore to what), a pure function with no Optuna import;
- ``_explore``: explore on Optuna distributions (perturb/resample, PB2's observations) and
  ``_bandit``: PB2's GP-UCB bandit (no Optuna import);
- ``_population``: the population as read from storage; ``_schema``: the one owner of the
  attribute names a population writes; ``_checkpoint``: checkpoints through Optuna's artifact
  stores; ``_lineage``: lineage tables and plots; ``_replay``: the schedule a member was
  trained with, the log of exploits, and a fresh member trained on a schedule;
  ``_heartbeat``: the segments' heartbeats; ``_arguments``: the argument checks.
"""

from __future__ import annotations

from optuna_advanced.pbt._checkpoint import Checkpoint
from optuna_advanced.pbt._lineage import lineage
from optuna_advanced.pbt._lineage import plot_lineage
from optuna_advanced.pbt._replay import perturbations
from optuna_advanced.pbt._replay import replay
from optuna_advanced.pbt._replay import schedule
from optuna_advanced.pbt._wrapper import PopulationBasedTraining

__all__ = [
    "Checkpoint",
    "PopulationBasedTraining",
    "lineage",
    "perturbations",
    "plot_lineage",
    "replay",
    "schedule",
]
