"""Multi-fidelity problems: the budget is the step passed to ``trial.report``.

Cost is counted the same way for every sampler: a trial that reached step ``k`` consumed ``k``
fidelity units (training is resumed, never restarted, inside a trial), and a run stops once it
has consumed its problem's budget.

* ``mfh3_*`` / ``mfh6_*``: ``mf-prior-bench``'s MFHartmann 3D and 6D, in its "good" and "bad"
  fidelity-correlation variants, fidelity 1..100 reported at every step. At fidelity 100 the
  value is the Hartmann function itself, whose optimum is known.
* ``mlp_digits``: scikit-learn ``MLPClassifier`` trained epoch by epoch with ``partial_fit`` on
  ``load_digits``; validation error after each of 27 epochs.
* ``hgb_digits``: ``HistGradientBoostingClassifier`` on ``load_digits`` with ``max_iter`` as
  the fidelity (warm start, so boosting resumes), validation error reported at the Hyperband
  rungs 1, 3, 9 and 27 iterations.

The two training problems have no known optimum: the report uses the best value any run found.
"""

from __future__ import annotations

from typing import Any
import warnings

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution

from benchmarks.problems.base import digits_split
from benchmarks.problems.base import Problem
from benchmarks.problems.base import suggest_all

_N_REFERENCE_SAMPLES = 1000


class MFHartmann:
    """mf-prior-bench's MFHartmann as a reporting Optuna objective over ``X_0 ..``."""

    def __init__(self, seed: int, name: str) -> None:
        import mfpbench

        self._bench = mfpbench.get(name, seed=seed)
        self._config = self._bench.Config
        self.max_fidelity = int(self._bench.fidelity_range[1])
        names = sorted(hp.name for hp in list(self._bench.space.values()))
        self.space: dict[str, BaseDistribution] = {n: FloatDistribution(0.0, 1.0) for n in names}
        self.optimum = _value(self._bench.query(self._bench.optimum, at=self.max_fidelity))
        ref_bench = mfpbench.get(name, seed=12345)
        values = [
            _value(ref_bench.query(ref_bench.sample(), at=self.max_fidelity))
            for _ in range(_N_REFERENCE_SAMPLES)
        ]
        self.reference = float(np.median(values))

    def __call__(self, trial: optuna.Trial) -> float:
        config = self._config(**suggest_all(trial, self.space))
        value = float("nan")
        for step in range(1, self.max_fidelity + 1):
            value = _value(self._bench.query(config, at=step))
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value


def _value(result: Any) -> float:
    value = result.value  # a float in some mf-prior-bench versions, a Metric.Value in others
    return float(getattr(value, "value", value))


class _DigitsTrainer:
    """A training problem on the digits split; no known optimum."""

    max_fidelity: int

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._data = digits_split()
        self.optimum = None
        self.reference = None


class MLPDigits(_DigitsTrainer):
    """Validation error of an MLP after each ``partial_fit`` epoch (27 epochs)."""

    max_fidelity = 27

    def __call__(self, trial: optuna.Trial) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        solver = trial.suggest_categorical("solver", ["adam", "sgd"])
        params: dict[str, Any] = {
            "hidden_layer_sizes": (trial.suggest_int("n_units", 8, 256, log=True),),
            "activation": trial.suggest_categorical("activation", ["relu", "tanh", "logistic"]),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1.0, log=True),
            "batch_size": trial.suggest_int("batch_size", 16, 256, log=True),
        }
        if solver == "sgd":
            params["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
        x_train, x_valid, y_train, y_valid = self._data
        model = MLPClassifier(solver=solver, random_state=self._seed, **params)
        error = 1.0
        for epoch in range(1, self.max_fidelity + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)  # overflow with huge rates
                model.partial_fit(x_train, y_train, classes=np.arange(10))
            error = 1.0 - float(model.score(x_valid, y_valid))
            trial.report(error, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error


class HGBDigits(_DigitsTrainer):
    """Validation error of gradient boosting with ``max_iter`` as the fidelity."""

    max_fidelity = 27
    steps = (1, 3, 9, 27)

    def __call__(self, trial: optuna.Trial) -> float:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            learning_rate=trial.suggest_float("learning_rate", 1e-3, 1.0, log=True),
            max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 4, 64, log=True),
            min_samples_leaf=trial.suggest_int("min_samples_leaf", 1, 64, log=True),
            l2_regularization=trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
            max_features=trial.suggest_float("max_features", 0.2, 1.0),
            warm_start=True,
            early_stopping=False,
            random_state=self._seed,
        )
        x_train, x_valid, y_train, y_valid = self._data
        error = 1.0
        for step in self.steps:
            model.set_params(max_iter=step)
            model.fit(x_train, y_train)
            error = 1.0 - float(model.score(x_valid, y_valid))
            trial.report(error, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error


def problems() -> list[Problem]:
    out = [
        Problem(
            name=name,
            suite="mf",
            build=MFHartmann,
            kwargs={"name": name},
            budget=30 * 100,
            max_fidelity=100,
            numeric_only=True,
        )
        for name in ("mfh3_good", "mfh3_bad", "mfh6_good", "mfh6_bad")
    ]
    out.append(
        Problem(name="mlp_digits", suite="mf", build=MLPDigits, budget=30 * 27, max_fidelity=27)
    )
    out.append(
        Problem(
            name="hgb_digits",
            suite="mf",
            build=HGBDigits,
            budget=30 * 27,
            max_fidelity=27,
            numeric_only=True,
        )
    )
    return out
