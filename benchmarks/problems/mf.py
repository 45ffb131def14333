"""Multi-fidelity problems: the budget is the step passed to ``trial.report``.

Cost is counted the same way for every sampler: a trial that reached step ``k`` consumed ``k``
fidelity units (training is resumed inside a trial; ``frac_svc`` refits on each larger fraction,
which the cost ignores as it would a resumed fit), and a run stops once it has consumed its
problem's budget, 30 times its maximum fidelity.

* ``mfh3_*`` / ``mfh6_*``: ``mf-prior-bench``'s MFHartmann 3D and 6D, in its "good" and "bad"
  fidelity-correlation variants, fidelity 1..100 reported at every step. At fidelity 100 the
  value is the Hartmann function itself, whose optimum is known.
* ``mlp_digits``: scikit-learn ``MLPClassifier`` trained epoch by epoch with ``partial_fit`` on
  ``load_digits``; validation error after each of 27 epochs. Conditional (``momentum`` only
  for SGD), so it has no static space.
* ``hgb_digits``: ``HistGradientBoostingClassifier`` on ``load_digits`` with ``max_iter`` as
  the fidelity (warm start, so boosting resumes), validation error reported at the Hyperband
  rungs 1, 3, 9 and 27 iterations.
* ``mis6_shift``: misleading low fidelities (6-D, 81 steps): the optimum moves with the
  fidelity, so low fidelities rank configurations in the reverse order of the full one.
* ``cond26``: a high-dimensional define-by-run space (26 parameters, 13 to 15 active, three
  categorical branches with their own sub-parameters), synthetic, optimum known; 27 steps.
* ``cross_int64``: 64 integer steps of learning curves that cross: configurations that learn
  slowly end best (5-D, optimum known).
* ``frac_svc``: a real ``SVC`` on digits trained on 10% .. 100% of the training set (10 steps),
  validation error; fraction of data as the fidelity, optimum unknown.
* ``noisy_levy5``: the 5-D Levy function over 50 steps observed with noise that shrinks with
  the fidelity, reproducible per run seed; the noise-free value is the true value.
* ``tab_sgd_digits``: real learning curves (40 epochs of ``SGDClassifier`` on digits) tabulated
  once over a 420-point grid that is the search space; optimum and median known.

The synthetic problems are defined in ``benchmarks.problems.mf_synthetic``, the tabulated one in
``benchmarks.problems.curves``. The training problems without a known optimum use the best value
any run found.
"""

from __future__ import annotations

from typing import Any
import warnings

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.problems.base import digits_split
from benchmarks.problems.base import Problem
from benchmarks.problems.base import suggest_all
from benchmarks.problems.curves import TabularSGDDigits
from benchmarks.problems.mf_synthetic import ConditionalSynthetic
from benchmarks.problems.mf_synthetic import CrossingCurves
from benchmarks.problems.mf_synthetic import MisleadingShift
from benchmarks.problems.mf_synthetic import NoisyLevy
from benchmarks.problems.mf_synthetic import REFERENCE_SEED
from benchmarks.problems.mf_synthetic import sample_space

_N_REFERENCE_SAMPLES = 1000
#: ``frac_svc_reference()`` with scikit-learn 1.9.1 (1000 configurations from seed 12345): a
#: minute of CPU, too slow for every build, so computed once.
FRAC_SVC_REFERENCE = 0.025925925925925908


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

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.space: dict[str, BaseDistribution] = {
            "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
            "max_leaf_nodes": IntDistribution(4, 64, log=True),
            "min_samples_leaf": IntDistribution(1, 64, log=True),
            "l2_regularization": FloatDistribution(1e-6, 10.0, log=True),
            "max_features": FloatDistribution(0.2, 1.0),
        }

    def __call__(self, trial: optuna.Trial) -> float:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            **suggest_all(trial, self.space),
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


class FracSVC:
    """An RBF ``SVC`` on the digits split trained on a growing fraction of the training set.

    Step ``k`` (1 to 10) fits a fresh model on the first ``k / 10`` of a fixed class-interleaved
    order of the training set (so every prefix holds every class in proportion) and reports
    the validation error. Space: ``C``, ``gamma``, the feature ``scaler`` (pixels in [0, 1], or
    standardised with the training set's mean and deviation, which moves the best ``gamma``)
    and ``class_weight``. The optimum is unknown; the reference is :data:`FRAC_SVC_REFERENCE`.
    """

    max_fidelity = 10

    def __init__(self, seed: int) -> None:
        x_train, x_valid, y_train, y_valid = digits_split()
        rng = np.random.default_rng(0)
        by_class = [rng.permutation(np.flatnonzero(y_train == c)) for c in np.unique(y_train)]
        # Interleave the classes: the i-th sample of every class, then the (i+1)-th, and so on.
        ranks = np.concatenate([np.arange(len(idx)) / len(idx) for idx in by_class])
        order = np.concatenate(by_class)[np.argsort(ranks, kind="stable")]
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        self._y_train, self._y_valid = y_train[order], y_valid
        self._x = {
            "unit": (x_train[order], x_valid),
            "standard": ((x_train[order] - mean) / std, (x_valid - mean) / std),
        }
        self.space: dict[str, BaseDistribution] = {
            "C": FloatDistribution(1e-1, 1e4, log=True),
            "gamma": FloatDistribution(1e-5, 1.0, log=True),
            "scaler": CategoricalDistribution(["unit", "standard"]),
            "class_weight": CategoricalDistribution(["none", "balanced"]),
        }
        self.optimum = None
        self.reference = FRAC_SVC_REFERENCE

    def error(self, params: dict[str, Any], step: int) -> float:
        from sklearn.svm import SVC

        x_train, x_valid = self._x[params["scaler"]]
        n = round(len(x_train) * step / self.max_fidelity)
        weight = None if params["class_weight"] == "none" else params["class_weight"]
        model = SVC(C=params["C"], gamma=params["gamma"], class_weight=weight)
        model.fit(x_train[:n], self._y_train[:n])
        return 1.0 - float(model.score(x_valid, self._y_valid))

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        error = float("nan")
        for step in range(1, self.max_fidelity + 1):
            error = self.error(params, step)
            trial.report(error, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error


def frac_svc_reference(n: int = _N_REFERENCE_SAMPLES) -> float:
    """The median full-fidelity error of ``n`` random configurations (a minute of CPU)."""
    problem = FracSVC(0)
    rng = np.random.default_rng(REFERENCE_SEED)
    configs = [sample_space(problem.space, rng) for _ in range(n)]
    return float(np.median([problem.error(c, problem.max_fidelity) for c in configs]))


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
        Problem(
            name="mlp_digits",
            suite="mf",
            build=MLPDigits,
            budget=30 * 27,
            max_fidelity=27,
            static_space=False,  # define-by-run: momentum exists only for SGD
        )
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
    # name, objective, numeric parameters only, static space
    more: list[tuple[str, Any, bool, bool]] = [
        ("mis6_shift", MisleadingShift, True, True),
        ("cond26", ConditionalSynthetic, False, False),
        ("cross_int64", CrossingCurves, True, True),
        ("frac_svc", FracSVC, False, True),
        ("noisy_levy5", NoisyLevy, True, True),
        ("tab_sgd_digits", TabularSGDDigits, False, True),
    ]
    for name, build, numeric_only, static_space in more:
        out.append(
            Problem(
                name=name,
                suite="mf",
                build=build,
                budget=30 * build.max_fidelity,
                max_fidelity=build.max_fidelity,
                numeric_only=numeric_only,
                static_space=static_space,
            )
        )
    return out
