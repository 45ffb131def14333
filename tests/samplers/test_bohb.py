from __future__ import annotations

from collections import Counter
import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState
import pytest

from optuna_advanced import BOHBSampler
from optuna_advanced._space import SearchSpace
from optuna_advanced.samplers._bohb.sampler import _budgets
from optuna_advanced.testing.conformance import assert_params_valid


def curve_objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 0, 10)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    value = (x - 1.0) ** 2 + (n - 3) ** 2 + (c != "b")
    for step in range(1, 28):
        trial.report(value + 5.0 / step, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def _hyperband() -> optuna.pruners.HyperbandPruner:
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)


def _study(pruner: Any = None, seed: int = 0, **kw: Any) -> optuna.Study:
    return optuna.create_study(sampler=BOHBSampler(seed=seed, **kw), pruner=pruner)


def test_models_see_every_bracket_through_the_hyperband_proxy() -> None:
    pruner = _hyperband()
    study = _study(pruner)
    study.optimize(curve_objective, n_trials=80)
    trials = study.trials
    checked = 0
    beyond_own_bracket = 0
    for t in trials:
        if t.user_attrs.get("bohb:source") != "model":
            continue
        budget = t.user_attrs["bohb:model_budget"]
        earlier = [u for u in trials[: t.number] if budget in u.intermediate_values]
        assert t.user_attrs["bohb:model_points"] == len(earlier)
        own = [
            u
            for u in earlier
            if pruner._get_bracket_id(study, u) == pruner._get_bracket_id(study, t)
        ]
        beyond_own_bracket += len(earlier) > len(own)
        checked += 1
    assert checked > 20
    assert beyond_own_bracket > 0


def sphere_curve_objective(trial: optuna.Trial) -> float:
    xs = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
    n = trial.suggest_int("n", 0, 10)
    value = sum((x - 1.0) ** 2 for x in xs) + (n - 3) ** 2
    for step in range(1, 28):
        trial.report(value * (1.0 + 2.0 / step), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


@pytest.mark.slow
def test_beats_random_search_under_hyperband() -> None:
    best: dict[str, list[float]] = {"bohb": [], "random": []}
    for seed in range(5):
        for name, sampler in [
            ("bohb", BOHBSampler(seed=seed)),
            ("random", optuna.samplers.RandomSampler(seed=seed)),
        ]:
            study = optuna.create_study(sampler=sampler, pruner=_hyperband())
            study.optimize(sphere_curve_objective, n_trials=150)
            best[name].append(study.best_value)
    assert np.median(best["bohb"]) < 0.5 * np.median(best["random"])


def test_sources_and_attributes_are_recorded() -> None:
    study = _study(_hyperband())
    study.optimize(curve_objective, n_trials=60)
    sources = Counter(t.user_attrs["bohb:source"] for t in study.trials)
    assert set(sources) == {"startup", "random", "model"}
    assert study.trials[0].user_attrs["bohb:source"] == "startup"
    # About a third of post-startup picks are random (random_fraction = 1/3).
    assert 0.15 < sources["random"] / (sources["random"] + sources["model"]) < 0.55
    for t in study.trials:
        if t.user_attrs["bohb:source"] == "model":
            assert t.user_attrs["bohb:model_budget"] in (1, 3, 9, 27)


def conditional_objective(trial: optuna.Trial) -> float:
    kind = trial.suggest_categorical("kind", ["rbf", "poly", "linear"])
    c = trial.suggest_float("C", 1e-3, 1e3, log=True)
    value = (math.log10(c) - 1) ** 2
    if kind != "linear":
        gamma = trial.suggest_float("gamma", 1e-4, 10.0, log=True)
        value += (math.log10(gamma) + 2) ** 2
    if kind == "poly":
        value += trial.suggest_int("degree", 2, 5) - 2
    value += {"rbf": 0.0, "poly": 0.5, "linear": 1.0}[kind]
    for step in (1, 3, 9):
        trial.report(value + 1.0 / step, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def conditional_objective_value(params: dict[str, Any]) -> float:
    value = (math.log10(params["C"]) - 1) ** 2
    if "gamma" in params:
        value += (math.log10(params["gamma"]) + 2) ** 2
    value += params.get("degree", 2) - 2
    return float(value + {"rbf": 0.0, "poly": 0.5, "linear": 1.0}[params["kind"]])


def test_conditional_space() -> None:
    study = _study(optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9))
    study.optimize(conditional_objective, n_trials=100)
    assert Counter(t.user_attrs["bohb:source"] for t in study.trials)["model"] > 20
    for t in study.trials:
        assert_params_valid(t)
        kind = t.params["kind"]
        assert ("gamma" in t.params) == (kind != "linear")
        assert ("degree" in t.params) == (kind == "poly")
    # Model picks land in the conditional space's good region: C near 10, gamma near 0.01.
    model = [t for t in study.trials if t.user_attrs["bohb:source"] == "model"]
    assert np.median([conditional_objective_value(t.params) for t in model]) < 2.0


def test_nan_and_failed_trials_do_not_break_the_model() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number % 7 == 3:
            raise RuntimeError("worker crashed")
        for step in range(1, 10):
            bad = trial.number % 5 == 1
            trial.report(float("nan") if bad else (x - 0.3) ** 2 + 1 / step, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float("nan") if trial.number % 5 == 1 else (x - 0.3) ** 2

    study = _study(optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9))
    study.optimize(objective, n_trials=80, catch=(RuntimeError,))
    states = Counter(t.state for t in study.trials)
    assert states[TrialState.FAIL] > 5
    assert Counter(t.user_attrs["bohb:source"] for t in study.trials)["model"] > 10
    assert study.best_value < 0.02
    # NaN reports count as the worst losses: no NaN-reporting trial was promoted past rung 1
    # by the model's data, and none is the best trial.
    assert study.best_trial.number % 5 != 1


def test_without_pruning_completed_values_form_the_model() -> None:
    study = _study()
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=40)
    model = [t for t in study.trials if t.user_attrs["bohb:source"] == "model"]
    assert model and all(t.user_attrs["bohb:model_budget"] == "final" for t in model)
    assert study.best_value < 0.05


@pytest.mark.parametrize(
    "pruner, expected",
    [
        (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27), [27, 9, 3, 1]),
        (
            optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
            [27, 9, 3, 1],
        ),
        (
            optuna.pruners.SuccessiveHalvingPruner(
                min_resource=1, reduction_factor=3, min_early_stopping_rate=1
            ),
            [27, 9, 3],
        ),
        (optuna.pruners.SuccessiveHalvingPruner(min_resource=1), [27, 16, 4, 1]),
        (optuna.pruners.MedianPruner(), list(range(27, 0, -1))),
        (optuna.pruners.NopPruner(), list(range(27, 0, -1))),
    ],
)
def test_budgets_come_from_the_pruner(pruner: Any, expected: list[int]) -> None:
    trials = [
        optuna.trial.create_trial(
            params={"x": 0.5},
            distributions={"x": FloatDistribution(0, 1)},
            value=1.0,
            intermediate_values={s: 1.0 for s in range(1, 28)},
        )
    ]
    assert _budgets(pruner, trials) == expected


def test_largest_budget_with_enough_points_is_used() -> None:
    # 3 points in each of the good and the bad set: budget 3 has 6 observations, budget 9 has
    # only 3.
    study = _study(optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    dist: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0)}
    for i in range(6):
        steps = (1, 3, 9) if i < 3 else (1, 3)
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": i / 6},
                distributions=dist,
                value=float(i) if i < 3 else None,
                state=TrialState.COMPLETE if i < 3 else TrialState.PRUNED,
                intermediate_values={s: float(i) for s in steps},
            )
        )
    budgets = []
    for _ in range(10):
        trial = study.ask(dist)
        attrs = study._storage.get_trial(trial._trial_id).user_attrs
        budgets.append(attrs.get("bohb:model_budget"))
        study.tell(trial, state=TrialState.FAIL)
    assert set(budgets) - {None} == {3}


@pytest.mark.parametrize(("min_points_in_model", "first_model_at"), [(3, 6), (None, 14), (5, 10)])
def test_a_budget_is_modelled_once_both_sets_hold_min_points(
    min_points_in_model: int | None, first_model_at: int
) -> None:
    # Six parameters: the paper's d + 1 = 7 points per set waits for 14 observations.
    dist: dict[str, BaseDistribution] = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}
    study = _study(min_points_in_model=min_points_in_model)
    sampler = study.sampler
    assert isinstance(sampler, BOHBSampler)
    rng = np.random.RandomState(0)
    modelled_at = None
    for n in range(1, 20):
        params = {name: float(rng.uniform()) for name in dist}
        study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=dist, value=sum(params.values())
            )
        )
        model = sampler._fit(SearchSpace(dist), study.get_trials(deepcopy=False), study)
        if model is not None:
            modelled_at = n
            assert len(model.good.data) >= (min_points_in_model or 7)
            assert len(model.bad.data) >= (min_points_in_model or 7)
            break
    assert modelled_at == first_model_at


def test_pending_trials_join_the_bad_set() -> None:
    dist: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0)}
    models = {}
    for consider_pending in (False, True):
        study = _study(consider_pending=consider_pending)
        for i in range(20):
            x = (i + 0.5) / 20
            study.add_trial(
                optuna.trial.create_trial(params={"x": x}, distributions=dist, value=abs(x - 0.2))
            )
        for _ in range(6):  # six workers already evaluating the best region
            study.enqueue_trial({"x": 0.2})
            study.ask(dist)
        trials = study.get_trials(deepcopy=False)
        sampler = study.sampler
        assert isinstance(sampler, BOHBSampler)
        model = sampler._fit(SearchSpace(dist), trials, study)
        assert model is not None
        models[consider_pending] = model
    assert len(models[True].bad.data) == len(models[False].bad.data) + 6
    assert np.isclose(models[True].bad.data, 0.2).sum() == 6
    assert models[True].n_points == models[False].n_points == 20  # pending is not observed
    at_pending = np.array([[0.2]])
    ratio = {k: m.good.log_pdf(at_pending) - m.bad.log_pdf(at_pending) for k, m in models.items()}
    assert ratio[True] < ratio[False]


def test_invalid_arguments() -> None:
    kws: list[dict[str, Any]] = [
        {"top_n_percent": 0},
        {"random_fraction": 1.5},
        {"num_samples": 0},
        {"bandwidth_factor": 0},
        {"min_bandwidth": -1.0},
    ]
    for kw in kws:
        with pytest.raises(ValueError):
            BOHBSampler(**kw)


def test_multi_objective_is_refused_clearly() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=BOHBSampler())
    with pytest.raises(ValueError, match="multi-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 0.0), n_trials=1)


def test_define_by_run_changes_do_not_break_sampling() -> None:
    study = _study(optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9))

    # Optuna's storages refuse a changed kind or changed categorical choices for a name; ranges
    # may change, and new parameters may appear.
    def objective(trial: optuna.Trial, low: float, high: int, extra: bool) -> float:
        c = trial.suggest_categorical("c", ["a", "bb"])
        n = trial.suggest_int("n", 0, high)
        x = trial.suggest_float("x", low, 1)
        y = trial.suggest_float("y", 0, 1) if extra else 0.0
        for step in (1, 3, 9):
            trial.report(x**2 + y + n + len(c) + 1 / step, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x**2 + y + n + len(c)

    study.optimize(lambda t: objective(t, -1.0, 10, False), n_trials=40)
    study.optimize(lambda t: objective(t, 0.5, 3, True), n_trials=40)  # ranges move, y appears
    assert all(t.state != TrialState.FAIL for t in study.trials)
    for t in study.trials[40:]:
        assert_params_valid(t)
        assert t.params["n"] <= 3 and t.params["x"] >= 0.5 and "y" in t.params
    assert Counter(t.user_attrs["bohb:source"] for t in study.trials[40:])["model"] > 5
