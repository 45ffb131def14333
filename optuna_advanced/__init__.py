"""optuna_advanced: advanced tuning methods as first-class Optuna samplers and pruners.

Public names are re-exported here as each algorithm lands (``BOHBSampler``,
``RandomForestSampler``, ``HyperoptSampler``, ``AxSampler``, ``PopulationBasedTraining``).
Importing this package never imports hyperopt, ax, torch or matplotlib: the bridges load their
library when constructed.

Layout:
    ``optuna_advanced._space``: Optuna distributions <-> numeric arrays (the one encoding).
    ``optuna_advanced._attrs``: namespaced, chunked JSON trial attributes.
    ``optuna_advanced.samplers``: one private package or module per sampler.
    ``optuna_advanced.pruners``: pruners Optuna does not have.
    ``optuna_advanced.pbt``: Population Based Training on Optuna studies.
    ``optuna_advanced.testing``: the registry and the conformance suite (needs pytest).
"""

from __future__ import annotations

from optuna_advanced import pbt
from optuna_advanced import pruners
from optuna_advanced import samplers
from optuna_advanced.pbt import PopulationBasedTraining
from optuna_advanced.pruners import BOHBPruner
from optuna_advanced.samplers import AxSampler
from optuna_advanced.samplers import BOHBSampler
from optuna_advanced.samplers import HyperoptSampler
from optuna_advanced.samplers import RandomForestSampler
from optuna_advanced.version import __version__

__all__ = [
    "AxSampler",
    "BOHBPruner",
    "BOHBSampler",
    "HyperoptSampler",
    "PopulationBasedTraining",
    "RandomForestSampler",
    "__version__",
    "pbt",
    "pruners",
    "samplers",
]
