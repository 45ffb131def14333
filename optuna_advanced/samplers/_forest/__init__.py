"""RandomForestSampler: SMAC-style Bayesian optimisation with a random forest.

``surrogate.py`` (the forest and SMAC's cost scaling) and ``acquisition.py`` (log-EI and the
local-and-random-search maximiser) do not import Optuna; ``novelty.py`` keeps picks unseen;
``history.py`` turns trials into rows and costs; ``claims.py`` keeps workers asking at the same
moment from picking one configuration; ``sampler.py`` is the Optuna adapter.
"""

from __future__ import annotations

from optuna_advanced.samplers._forest.sampler import RandomForestSampler

__all__ = ["RandomForestSampler"]
