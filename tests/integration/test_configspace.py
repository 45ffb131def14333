"""optuna_advanced.integration.configspace: a ConfigSpace space as define-by-run Optuna code."""

from __future__ import annotations

import math

import optuna
import pytest

from optuna_advanced import RandomForestSampler
from optuna_advanced.integration.configspace import ForbiddenConfiguration
from optuna_advanced.integration.configspace import suggest_configuration

cs_module = pytest.importorskip("ConfigSpace")
Categorical = cs_module.Categorical
Configuration = cs_module.Configuration
ConfigurationSpace = cs_module.ConfigurationSpace
Float = cs_module.Float
Integer = cs_module.Integer


def _svm_or_tree() -> object:
    cs = ConfigurationSpace(seed=0)
    kind = Categorical("kind", ["svm", "tree"])
    c = Float("C", (1e-3, 1e3), log=True)
    kernel = Categorical("kernel", ["rbf", "linear"])
    gamma = Float("gamma", (1e-4, 1.0), log=True)
    depth = Integer("depth", (1, 32), log=True)
    level = cs_module.OrdinalHyperparameter("level", ["low", "mid", "high"])
    fixed = cs_module.Constant("fixed", "yes")
    cs.add([kind, c, kernel, gamma, depth, level, fixed])
    cs.add(
        cs_module.EqualsCondition(c, kind, "svm"),
        cs_module.EqualsCondition(kernel, kind, "svm"),
        cs_module.AndConjunction(
            cs_module.EqualsCondition(gamma, kind, "svm"),
            cs_module.EqualsCondition(gamma, kernel, "rbf"),
        ),
        cs_module.EqualsCondition(depth, kind, "tree"),
    )
    return cs


def _loss(config: dict[str, object]) -> float:
    if config["kind"] == "svm":
        value = abs(math.log10(float(config["C"])) - 1)  # type: ignore[arg-type]
        if config["kernel"] == "rbf":
            value += abs(math.log10(float(config["gamma"])) + 2)  # type: ignore[arg-type]
        return value
    return 1.0 + abs(int(config["depth"]) - 8) / 8  # type: ignore[call-overload, no-any-return]


def test_every_configuration_is_one_configspace_accepts() -> None:
    cs = _svm_or_tree()
    seen: list[dict[str, object]] = []

    def objective(trial: optuna.Trial) -> float:
        config = suggest_configuration(trial, cs)
        Configuration(cs, values=config)  # raises if an inactive value is set or one is missing
        assert set(trial.params) == set(config) - {"fixed"}
        seen.append(config)
        return _loss(config)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=60)
    kinds = {(c["kind"], c.get("kernel")) for c in seen}
    assert kinds == {("svm", "rbf"), ("svm", "linear"), ("tree", None)}
    assert all(c["fixed"] == "yes" and c["level"] in ("low", "mid", "high") for c in seen)


def test_random_forest_sampler_searches_it() -> None:
    cs = _svm_or_tree()
    study = optuna.create_study(sampler=RandomForestSampler(seed=0, n_startup_trials=10))
    study.optimize(lambda t: _loss(suggest_configuration(t, cs)), n_trials=50)
    assert study.best_value < 0.5
    assert study.best_params["kind"] == "svm"


def test_forbidden_configurations_raise_and_priors_are_refused() -> None:
    cs = ConfigurationSpace(seed=0)
    a = Categorical("a", ["x", "y"], default="y")
    b = Categorical("b", ["u", "v"], default="v")
    cs.add([a, b])
    cs.add(
        cs_module.ForbiddenAndConjunction(
            cs_module.ForbiddenEqualsClause(a, "x"), cs_module.ForbiddenEqualsClause(b, "u")
        )
    )
    study = optuna.create_study()
    study.enqueue_trial({"a": "x", "b": "u"})
    with pytest.raises(ForbiddenConfiguration, match="forbidden"):
        study.optimize(lambda t: len(suggest_configuration(t, cs)), n_trials=1)

    normal = ConfigurationSpace()
    normal.add(cs_module.NormalFloatHyperparameter("n", mu=0.0, sigma=1.0, lower=-3, upper=3))
    with pytest.raises(TypeError, match="normal or beta"):
        optuna.create_study().optimize(lambda t: len(suggest_configuration(t, normal)), 1)
