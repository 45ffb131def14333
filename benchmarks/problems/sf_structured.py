"""Single-fidelity problems with structure: mixed integer, categorical-heavy and conditional.

Three families (the prefix of a problem's name is its family in the report):

* ``mixed_*``: integer-heavy and mixed functions. A shifted Ackley with 5 integer and 3
  continuous variables; Rosenbrock with 6 variables on an integer grid and 2 continuous ones;
  the pressure-vessel design problem (two plate thicknesses in multiples of 1/16 inch,
  penalised constraints; Sandgren 1990); a gradient-boosting-like response surface with
  log-scaled integers, a stepped float and a categorical, whose best learning rate depends on
  the number of rounds.
* ``cat_*``: categorical-heavy spaces. Pest control (25 stages, 5 choices each: no pesticide or
  one of four, with tolerance and discounts; after COMBO, Oh et al. 2019); a weighted MAX-SAT
  instance on 20 booleans (100 random 3-clauses; its optimum found by enumerating all 2^20
  assignments); Ackley on 8 variables whose 9 values are unordered labels (a fixed random
  permutation maps each label to a coordinate, so no order helps).
* ``cond_*``: conditional (define-by-run) spaces. Jenatton et al. (2017)'s tree-structured
  function; a choice between four model families with their own parameters; a layer-by-layer
  network architecture (the parameters of layer ``i`` exist only if there are more than ``i``
  layers); a real scikit-learn pipeline on the breast-cancer data (scaler x four
  classifiers, each with its own parameters; validation error on a fixed split).

Every synthetic problem is deterministic; its optimum is exact (by construction or, for MAX-SAT,
enumeration; pest control and the pipeline have none known, the report uses the best value any
run found), and its reference is the median of 2000 random configurations (the pipeline's: the
median of the runs' first trials). Conditional problems also give ``configspace(seed)``, the same
space with ConfigSpace conditions, so native SMAC3 runs on them.
"""

from __future__ import annotations

from functools import lru_cache
import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.problems.base import Problem
from benchmarks.problems.base import suggest_all

_N_REFERENCE = 2000


def _reference(objective: Any, seed: int = 12345) -> float:
    """Median value of ``_N_REFERENCE`` random configurations (define-by-run aware)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    values = []
    for _ in range(_N_REFERENCE):
        trial = study.ask()
        values.append(objective.evaluate(trial))
        study.tell(trial, values[-1])
    return float(np.median(values))


class _Static:
    """A problem over a fixed space: ``value(params)`` gives the objective."""

    space: dict[str, BaseDistribution]
    optimum: float | None = None
    reference: float | None = None

    def value(self, params: dict[str, Any]) -> float:
        raise NotImplementedError

    def evaluate(self, trial: optuna.Trial) -> float:
        return float(self.value(suggest_all(trial, self.space)))

    __call__ = evaluate


# -- mixed -------------------------------------------------------------------------------------


def _ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(
        -20.0 * math.exp(-0.2 * math.sqrt(float(np.sum(x * x)) / d))
        - math.exp(float(np.sum(np.cos(2 * math.pi * x))) / d)
        + 20.0
        + math.e
    )


class MixedAckley(_Static):
    """Ackley in 8 dimensions: ``k0..k4`` integers in [-8, 8], ``x0..x2`` floats in [-8, 8];
    the optimum is shifted to (3, -2, 5, -6, 1, 1.7, -3.9, 0.6)."""

    SHIFT = np.array([3, -2, 5, -6, 1, 1.7, -3.9, 0.6])

    def __init__(self, seed: int) -> None:
        self.space = {f"k{i}": IntDistribution(-8, 8) for i in range(5)}
        self.space.update({f"x{i}": FloatDistribution(-8.0, 8.0) for i in range(3)})
        self.optimum = 0.0
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        x = np.array([float(params[name]) for name in self.space]) - self.SHIFT
        return _ackley(x)


class MixedRosenbrock(_Static):
    """Rosenbrock in 8 dimensions: ``k0..k5`` pick ``(k - 10) / 5`` from 21 grid points in
    [-2, 2], ``x0, x1`` are floats in [-2, 2]; optimum 0 at all ones (k = 15)."""

    def __init__(self, seed: int) -> None:
        self.space = {f"k{i}": IntDistribution(0, 20) for i in range(6)}
        self.space.update({f"x{i}": FloatDistribution(-2.0, 2.0) for i in range(2)})
        self.optimum = 0.0
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        z = [(params[f"k{i}"] - 10) / 5.0 for i in range(6)] + [params["x0"], params["x1"]]
        x = np.array(z)
        return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


class PressureVessel(_Static):
    """Cost of a cylindrical pressure vessel (Sandgren 1990): shell and head thickness are
    multiples of 0.0625 in (``ts``, ``th`` in 1..99), radius and length are floats in
    [10, 200]. Constraint violations add ``1e5`` per relative unit; the best known design
    costs 6059.7143. The value is ``log10`` of the penalised cost (costs span six decades)."""

    def __init__(self, seed: int) -> None:
        self.space = {
            "ts": IntDistribution(1, 99),
            "th": IntDistribution(1, 99),
            "radius": FloatDistribution(10.0, 200.0),
            "length": FloatDistribution(10.0, 200.0),
        }
        self.optimum = math.log10(6059.714335)
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        ts, th = 0.0625 * params["ts"], 0.0625 * params["th"]
        r, length = params["radius"], params["length"]
        cost = (
            0.6224 * ts * r * length
            + 1.7781 * th * r * r
            + 3.1661 * ts * ts * length
            + 19.84 * ts * ts * r
        )
        volume = math.pi * r * r * length + 4.0 / 3.0 * math.pi * r**3
        violation = (
            max(0.0, 0.0193 * r - ts) / 0.0193
            + max(0.0, 0.00954 * r - th) / 0.00954
            + max(0.0, 1_296_000.0 - volume) / 1_296_000.0
            + max(0.0, length - 240.0) / 240.0
        )
        return math.log10(cost + 1e5 * violation)


class BoostingSurface(_Static):
    """A validation-loss surface shaped like gradient boosting's: the best learning rate
    falls as the number of rounds grows (``lr* = 2 / sqrt(rounds)``), depth interacts with
    the leaf size, and one booster is best. Minimum 0.1 (rounds >= 400 make the round term
    vanish)."""

    def __init__(self, seed: int) -> None:
        self.space = {
            "rounds": IntDistribution(10, 2000, log=True),
            "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
            "max_depth": IntDistribution(1, 16),
            "min_leaf": IntDistribution(1, 256, log=True),
            "subsample": FloatDistribution(0.3, 1.0, step=0.05),
            "booster": CategoricalDistribution(["gbtree", "dart", "linear"]),
        }
        self.optimum = 0.1
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        rounds, lr = params["rounds"], params["learning_rate"]
        lr_best = 2.0 / math.sqrt(rounds)
        loss = 0.1 + 0.04 * math.log10(lr / lr_best) ** 2
        loss += 0.05 * max(0.0, math.log10(400.0 / rounds))
        # Deep trees want bigger leaves: the best depth is 3 + log2(min_leaf).
        depth_best = 3.0 + math.log2(params["min_leaf"])
        loss += 0.002 * (params["max_depth"] - depth_best) ** 2 + 0.004 * abs(
            math.log2(params["min_leaf"]) - 4.0
        )
        loss += 0.06 * (params["subsample"] - 0.8) ** 2
        loss += {"gbtree": 0.0, "dart": 0.01, "linear": 0.08}[params["booster"]]
        return float(loss)


# -- categorical ---------------------------------------------------------------------------------


class PestControl(_Static):
    """COMBO's pest-control problem (Oh et al., 2019), re-implemented: 25 stages, each
    ``"none"`` or one of 4 pesticides; the cost is the price paid (with discounts for repeated
    use and tolerance that weakens a pesticide used often) plus the fraction of 100 simulated
    fields above the 10% contamination threshold at each stage. The simulation's randomness is
    fixed (seed 0), so the function is deterministic; 5^25 configurations, optimum unknown."""

    N_STAGES = 25
    PRICE = {1: 1.0, 2: 0.8, 3: 0.7, 4: 0.5}
    DISCOUNT = {1: 0.2, 2: 0.3, 3: 0.3, 4: 0.0}
    TOLERANCE = {1: 1.0 / 7.0, 2: 2.5 / 7.0, 3: 2.0 / 7.0, 4: 0.5 / 7.0}
    CONTROL_BETA = {1: 2.0 / 7.0, 2: 3.0 / 7.0, 3: 3.0 / 7.0, 4: 5.0 / 7.0}

    def __init__(self, seed: int) -> None:
        choices = ["none", "p1", "p2", "p3", "p4"]
        self.space = {f"stage{i:02d}": CategoricalDistribution(choices) for i in range(25)}
        self.optimum = None
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        x = np.array([0 if v == "none" else int(v[1]) for v in params.values()])
        rng = np.random.RandomState(0)
        n_sim = 100
        beta = dict(self.CONTROL_BETA)
        pest = rng.beta(1.0, 30.0, size=n_sim)
        paid = above = 0.0
        for choice in x:
            spread = rng.beta(1.0, 17.0 / 3.0, size=n_sim)
            if choice > 0:
                control = rng.beta(1.0, beta[choice], size=n_sim)
                nxt = (1.0 - control) * pest
                beta[choice] += self.TOLERANCE[choice] / self.N_STAGES
                uses = float(np.sum(x == choice))
                paid += self.PRICE[choice] * (1.0 - self.DISCOUNT[choice] / self.N_STAGES * uses)
            else:
                nxt = spread * (1.0 - pest) + pest
            above += float(np.mean(pest > 0.1))
            pest = nxt
        return paid + above


@lru_cache(maxsize=1)
def _maxsat_instance() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(2019)
    n_vars, n_clauses = 20, 100
    variables = np.array([rng.choice(n_vars, 3, replace=False) for _ in range(n_clauses)])
    negated = rng.random((n_clauses, 3)) < 0.5
    weights = rng.uniform(1.0, 10.0, n_clauses)
    # The optimum by enumeration: every assignment's unsatisfied weight, in chunks.
    best = math.inf
    for start in range(0, 1 << n_vars, 1 << 16):
        codes = np.arange(start, start + (1 << 16))
        bits = ((codes[:, None] >> np.arange(n_vars)) & 1).astype(bool)
        best = min(best, float(_unsatisfied(bits, variables, negated, weights).min()))
    return variables, negated, weights, best


def _unsatisfied(
    bits: np.ndarray, variables: np.ndarray, negated: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    literals = bits[:, variables] ^ negated  # (assignments, clauses, 3)
    return np.asarray((~literals.any(axis=2)).astype(float) @ weights)


class MaxSat(_Static):
    """Weighted MAX-SAT: 20 booleans, 100 random 3-clauses with weights in [1, 10]; the value is
    the total weight of unsatisfied clauses (optimum by enumerating all 2^20 assignments)."""

    def __init__(self, seed: int) -> None:
        self.space = {f"b{i:02d}": CategoricalDistribution([False, True]) for i in range(20)}
        self._vars, self._neg, self._weights, self.optimum = _maxsat_instance()
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        bits = np.array([[bool(params[name]) for name in self.space]])
        return float(_unsatisfied(bits, self._vars, self._neg, self._weights)[0])


class ShuffledAckley(_Static):
    """Ackley in 8 dimensions over labels: each variable takes one of 9 labels ``"a".."i"``,
    and a fixed random permutation per variable maps labels to the coordinates -4..4 (optimum
    0 where every label maps to 0). The labels' order says nothing about their values."""

    LABELS = list("abcdefghi")

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(7)
        self._maps = [dict(zip(self.LABELS, rng.permutation(9) - 4.0)) for _ in range(8)]
        self.space = {f"c{i}": CategoricalDistribution(self.LABELS) for i in range(8)}
        self.optimum = 0.0
        self.reference = _reference(self)

    def value(self, params: dict[str, Any]) -> float:
        x = np.array([m[params[f"c{i}"]] for i, m in enumerate(self._maps)]) * 0.5
        return _ackley(x)


# -- conditional -------------------------------------------------------------------------------


class _Conditional:
    """A define-by-run problem: ``evaluate(trial)`` suggests only active parameters."""

    optimum: float | None = None
    reference: float | None = None

    def evaluate(self, trial: optuna.Trial) -> float:
        raise NotImplementedError

    def __call__(self, trial: optuna.Trial) -> float:
        return float(self.evaluate(trial))

    def configspace(self, seed: int) -> Any:
        raise NotImplementedError


class Jenatton(_Conditional):
    """Jenatton et al. (2017)'s tree-structured function: ``x1`` picks a branch, ``x2`` or
    ``x3`` a leaf, whose own variable (``x4..x7``) and the branch's shift (``r8``/``r9``) give
    the value; the optimum 0.1 is at x1 = x2 = 0, x4 = r8 = 0."""

    def __init__(self, seed: int) -> None:
        self.optimum = 0.1
        self.reference = _reference(self)

    def evaluate(self, trial: optuna.Trial) -> float:
        x1 = trial.suggest_categorical("x1", [0, 1])
        if x1 == 0:
            x2 = trial.suggest_categorical("x2", [0, 1])
            leaf = trial.suggest_float("x4" if x2 == 0 else "x5", 0.0, 1.0)
            r = trial.suggest_float("r8", 0.0, 1.0)
            return leaf**2 + (0.1 if x2 == 0 else 0.2) + r
        x3 = trial.suggest_categorical("x3", [0, 1])
        leaf = trial.suggest_float("x6" if x3 == 0 else "x7", 0.0, 1.0)
        r = trial.suggest_float("r9", 0.0, 1.0)
        return leaf**2 + (0.3 if x3 == 0 else 0.4) + r

    def configspace(self, seed: int) -> Any:
        from ConfigSpace import Categorical
        from ConfigSpace import ConfigurationSpace
        from ConfigSpace import EqualsCondition
        from ConfigSpace import Float

        cs = ConfigurationSpace(seed=seed)
        x1, x2, x3 = (Categorical(n, [0, 1]) for n in ("x1", "x2", "x3"))
        floats = {n: Float(n, (0.0, 1.0)) for n in ("x4", "x5", "x6", "x7", "r8", "r9")}
        cs.add([x1, x2, x3, *floats.values()])
        cs.add(
            [
                EqualsCondition(x2, x1, 0),
                EqualsCondition(x3, x1, 1),
                EqualsCondition(floats["x4"], x2, 0),
                EqualsCondition(floats["x5"], x2, 1),
                EqualsCondition(floats["x6"], x3, 0),
                EqualsCondition(floats["x7"], x3, 1),
                EqualsCondition(floats["r8"], x1, 0),
                EqualsCondition(floats["r9"], x1, 1),
            ]
        )
        return cs


class ModelFamilies(_Conditional):
    """A choice between four model families, each with its own parameters and best loss:
    linear 0.30, tree 0.22, neighbours 0.25, boosting 0.12 (reachable only with a narrow
    learning rate for its number of rounds)."""

    def __init__(self, seed: int) -> None:
        self.optimum = 0.12
        self.reference = _reference(self)

    def evaluate(self, trial: optuna.Trial) -> float:
        family = trial.suggest_categorical("family", ["linear", "tree", "knn", "boost"])
        if family == "linear":
            c = trial.suggest_float("linear_C", 1e-4, 1e4, log=True)
            penalty = trial.suggest_categorical("linear_penalty", ["l1", "l2", "elasticnet"])
            extra = {"l1": 0.03, "l2": 0.0, "elasticnet": 0.01}[penalty]
            return 0.30 + 0.01 * (math.log10(c) - 1.0) ** 2 + extra
        if family == "tree":
            depth = trial.suggest_int("tree_depth", 1, 30)
            leaf = trial.suggest_int("tree_min_leaf", 1, 64, log=True)
            criterion = trial.suggest_categorical("tree_criterion", ["gini", "entropy", "loss"])
            extra = {"gini": 0.0, "entropy": 0.005, "loss": 0.02}[criterion]
            return 0.22 + 0.0008 * (depth - 12) ** 2 + 0.01 * (math.log2(leaf) - 2) ** 2 + extra
        if family == "knn":
            k = trial.suggest_int("knn_k", 1, 128, log=True)
            weights = trial.suggest_categorical("knn_weights", ["uniform", "distance"])
            p = trial.suggest_int("knn_p", 1, 3)
            return (
                0.25 + 0.01 * (math.log2(k) - 4) ** 2 + (0.02 if weights == "uniform" else 0.0)
            ) + 0.01 * (p - 2) ** 2
        rounds = trial.suggest_int("boost_rounds", 10, 1000, log=True)
        lr = trial.suggest_float("boost_lr", 1e-3, 1.0, log=True)
        depth = trial.suggest_int("boost_depth", 1, 10)
        subsample = trial.suggest_float("boost_subsample", 0.5, 1.0)
        lr_best = 3.0 / rounds**0.75
        return (
            0.12
            + 0.15 * math.log10(lr / lr_best) ** 2
            + 0.04 * max(0.0, math.log10(300 / rounds))
            + 0.004 * (depth - 5) ** 2
            + 0.1 * (subsample - 0.8) ** 2
        )

    def configspace(self, seed: int) -> Any:
        from ConfigSpace import Categorical
        from ConfigSpace import ConfigurationSpace
        from ConfigSpace import EqualsCondition
        from ConfigSpace import Float
        from ConfigSpace import Integer

        cs = ConfigurationSpace(seed=seed)
        family = Categorical("family", ["linear", "tree", "knn", "boost"])
        members: dict[str, list[Any]] = {
            "linear": [
                Float("linear_C", (1e-4, 1e4), log=True),
                Categorical("linear_penalty", ["l1", "l2", "elasticnet"]),
            ],
            "tree": [
                Integer("tree_depth", (1, 30)),
                Integer("tree_min_leaf", (1, 64), log=True),
                Categorical("tree_criterion", ["gini", "entropy", "loss"]),
            ],
            "knn": [
                Integer("knn_k", (1, 128), log=True),
                Categorical("knn_weights", ["uniform", "distance"]),
                Integer("knn_p", (1, 3)),
            ],
            "boost": [
                Integer("boost_rounds", (10, 1000), log=True),
                Float("boost_lr", (1e-3, 1.0), log=True),
                Integer("boost_depth", (1, 10)),
                Float("boost_subsample", (0.5, 1.0)),
            ],
        }
        cs.add(family)
        for name, params in members.items():
            cs.add(params)
            cs.add([EqualsCondition(p, family, name) for p in params])
        return cs


class LayeredNetwork(_Conditional):
    """A network's architecture layer by layer: ``n_layers`` in 1..6, then for each layer its
    width (16..512, a categorical), activation and dropout; the optimiser and its learning rate
    (SGD's momentum exists only for SGD). The loss prefers a total capacity of 28 (sum of
    log2 widths, e.g. four layers of 128), ``gelu``, dropout near 0.2 on wide layers, and the
    optimiser's own best learning rate; minimum 0.08."""

    WIDTHS = [16, 32, 64, 128, 256, 512]
    MAX_LAYERS = 6

    def __init__(self, seed: int) -> None:
        self.optimum = 0.08
        self.reference = _reference(self)

    def evaluate(self, trial: optuna.Trial) -> float:
        n_layers = trial.suggest_int("n_layers", 1, self.MAX_LAYERS)
        capacity = 0.0
        loss = 0.08
        for i in range(n_layers):
            width = trial.suggest_categorical(f"width_{i}", self.WIDTHS)
            act = trial.suggest_categorical(f"activation_{i}", ["relu", "tanh", "gelu"])
            dropout = trial.suggest_float(f"dropout_{i}", 0.0, 0.5)
            capacity += math.log2(width)
            loss += {"relu": 0.004, "tanh": 0.012, "gelu": 0.0}[act]
            loss += 0.1 * (dropout - (0.2 if width >= 128 else 0.0)) ** 2
        loss += 0.0015 * (capacity - 28.0) ** 2
        optimiser = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        if optimiser == "sgd":
            momentum = trial.suggest_float("momentum", 0.0, 0.99)
            lr_best = 0.1 * (1.0 - momentum) + 1e-3
            loss += 0.01
        else:
            lr_best = 1e-3
        return loss + 0.03 * math.log10(lr / lr_best) ** 2

    def configspace(self, seed: int) -> Any:
        from ConfigSpace import Categorical
        from ConfigSpace import ConfigurationSpace
        from ConfigSpace import EqualsCondition
        from ConfigSpace import Float
        from ConfigSpace import GreaterThanCondition
        from ConfigSpace import Integer

        cs = ConfigurationSpace(seed=seed)
        n_layers = Integer("n_layers", (1, self.MAX_LAYERS))
        optimiser = Categorical("optimizer", ["adam", "sgd"])
        momentum = Float("momentum", (0.0, 0.99))
        cs.add([n_layers, optimiser, Float("lr", (1e-5, 1e-1), log=True), momentum])
        cs.add(EqualsCondition(momentum, optimiser, "sgd"))
        for i in range(self.MAX_LAYERS):
            layer = [
                Categorical(f"width_{i}", self.WIDTHS),
                Categorical(f"activation_{i}", ["relu", "tanh", "gelu"]),
                Float(f"dropout_{i}", (0.0, 0.5)),
            ]
            cs.add(layer)
            if i > 0:
                cs.add([GreaterThanCondition(p, n_layers, i) for p in layer])
        return cs


@lru_cache(maxsize=1)
def _cancer_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(x, y, test_size=0.4, random_state=0, stratify=y))


class CancerPipeline(_Conditional):
    """A scikit-learn pipeline on the breast-cancer data (fixed 60/40 split): a scaler, then
    logistic regression, k-nearest neighbours, a decision tree or an RBF SVM, each with its own
    parameters; the value is the validation error (real training, about 10 ms a trial)."""

    def __init__(self, seed: int) -> None:
        self._data = _cancer_split()

    def evaluate(self, trial: optuna.Trial) -> float:
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.preprocessing import MinMaxScaler
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        from sklearn.tree import DecisionTreeClassifier

        x_train, x_valid, y_train, y_valid = self._data
        scaler = trial.suggest_categorical("scaler", ["none", "standard", "minmax"])
        if scaler != "none":
            fitted = (StandardScaler() if scaler == "standard" else MinMaxScaler()).fit(x_train)
            x_train, x_valid = fitted.transform(x_train), fitted.transform(x_valid)
        kind = trial.suggest_categorical("classifier", ["logreg", "knn", "tree", "svc"])
        model: Any
        if kind == "logreg":
            model = LogisticRegression(
                C=trial.suggest_float("logreg_C", 1e-4, 1e4, log=True), max_iter=300
            )
        elif kind == "knn":
            model = KNeighborsClassifier(
                n_neighbors=trial.suggest_int("knn_k", 1, 64, log=True),
                weights=trial.suggest_categorical("knn_weights", ["uniform", "distance"]),
                p=trial.suggest_int("knn_p", 1, 2),
            )
        elif kind == "tree":
            model = DecisionTreeClassifier(
                max_depth=trial.suggest_int("tree_depth", 1, 20),
                min_samples_leaf=trial.suggest_int("tree_min_leaf", 1, 32, log=True),
                criterion=trial.suggest_categorical("tree_criterion", ["gini", "entropy"]),
                random_state=0,
            )
        else:
            model = SVC(
                C=trial.suggest_float("svc_C", 1e-3, 1e3, log=True),
                gamma=trial.suggest_float("svc_gamma", 1e-5, 1e1, log=True),
            )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x_train, y_train)
        return 1.0 - float(model.score(x_valid, y_valid))

    def configspace(self, seed: int) -> Any:
        from ConfigSpace import Categorical
        from ConfigSpace import ConfigurationSpace
        from ConfigSpace import EqualsCondition
        from ConfigSpace import Float
        from ConfigSpace import Integer

        cs = ConfigurationSpace(seed=seed)
        kind = Categorical("classifier", ["logreg", "knn", "tree", "svc"])
        members: dict[str, list[Any]] = {
            "logreg": [Float("logreg_C", (1e-4, 1e4), log=True)],
            "knn": [
                Integer("knn_k", (1, 64), log=True),
                Categorical("knn_weights", ["uniform", "distance"]),
                Integer("knn_p", (1, 2)),
            ],
            "tree": [
                Integer("tree_depth", (1, 20)),
                Integer("tree_min_leaf", (1, 32), log=True),
                Categorical("tree_criterion", ["gini", "entropy"]),
            ],
            "svc": [
                Float("svc_C", (1e-3, 1e3), log=True),
                Float("svc_gamma", (1e-5, 1e1), log=True),
            ],
        }
        cs.add([Categorical("scaler", ["none", "standard", "minmax"]), kind])
        for name, params in members.items():
            cs.add(params)
            cs.add([EqualsCondition(p, kind, name) for p in params])
        return cs


def _build(seed: int, cls: str) -> Any:
    return _CLASSES[cls](seed)


_CLASSES: dict[str, Any] = {
    "mixed_ackley_i5c3": MixedAckley,
    "mixed_rosenbrock_i6c2": MixedRosenbrock,
    "mixed_pressure_vessel": PressureVessel,
    "mixed_boosting_surface": BoostingSurface,
    "cat_pest_control": PestControl,
    "cat_maxsat_20": MaxSat,
    "cat_ackley_shuffled": ShuffledAckley,
    "cond_jenatton": Jenatton,
    "cond_model_families": ModelFamilies,
    "cond_layered_network": LayeredNetwork,
    "cond_cancer_pipeline": CancerPipeline,
}


def problems() -> list[Problem]:
    return [
        Problem(
            name=name,
            suite="sf",
            build=_build,
            kwargs={"cls": name},
            budget=100,
            static_space=not name.startswith("cond_"),
            conditional=name.startswith("cond_"),
        )
        for name in _CLASSES
    ]
