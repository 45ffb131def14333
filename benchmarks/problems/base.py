"""What a benchmark problem is, for every suite.

Every problem is minimised. Its objective is a plain Optuna objective ``objective(trial)`` that
suggests parameters, optionally reports intermediate values at integer fidelity steps (and
obeys ``trial.should_prune()``), and returns the observed value. When the observed value is
noisy (tabular benchmarks keep several seeds per configuration), the objective stores the
noise-free value in the user attribute ``bench:true``; regret is always measured on that.

Problems are built inside worker processes from a picklable :class:`Problem` description, so
heavy data is loaded once per run and never shipped between processes. The objective a problem
builds may carry two attributes the report normalises regret with:

* ``optimum``: the best attainable true value when it is known exactly (else the report uses
  the best value any run found);
* ``reference``: a "typical" true value (regret 1 means no better than it), the median over
  uniformly random configurations where that can be computed (else the report uses the median
  of all runs' first-trial values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

Objective = Callable[[optuna.Trial], float]
TRUE_VALUE_ATTR = "bench:true"


@dataclass(frozen=True)
class Problem:
    """A benchmark problem.

    Attributes:
        name: Unique name, e.g. ``"bbob_f021_d05"``.
        suite: ``"sf"``, ``"mf"`` or ``"pbt"``.
        build: ``build(seed, **kwargs) -> objective``; a module-level function (``None`` for
            the ``overhead`` suite, which measures samplers on a synthetic history).
        kwargs: Extra arguments for ``build``.
        budget: Trials (``sf``) or fidelity units (``mf``, ``pbt``) one run may spend.
        max_fidelity: Largest step an objective reports (``mf``, ``pbt``); ``None`` for ``sf``.
        numeric_only: Every parameter is numeric and unconditional (CMA-ES applies).
        static_space: The objective has a fixed ``space`` attribute (native peers apply).
        conditional: The space is conditional (define-by-run); the objective's
            ``configspace(seed)`` gives it with ConfigSpace conditions (native SMAC3 applies).
    """

    name: str
    suite: str
    build: Callable[..., Objective] | None
    budget: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_fidelity: int | None = None
    numeric_only: bool = False
    static_space: bool = True
    conditional: bool = False

    def objective(self, seed: int) -> Objective:
        if self.build is None:
            raise ValueError(f"{self.name} has no objective (an overhead measurement)")
        return self.build(seed, **self.kwargs)


def suggest_all(trial: optuna.Trial, space: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Suggest every parameter of a static ``space`` through the public ``suggest_*`` API."""
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, list(dist.choices))
        else:
            raise TypeError(f"Unsupported distribution {dist!r}")
    return params


@lru_cache(maxsize=1)
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, scaled to [0, 1], with a fixed stratified 70/30 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=0, stratify=y
    )
    return x_train, x_valid, y_train, y_valid
