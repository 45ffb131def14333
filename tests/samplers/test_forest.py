from __future__ import annotations

import math
from typing import Literal

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState
import pytest
from scipy.stats import qmc

from optuna_advanced import RandomForestSampler
from optuna_advanced._space import SearchSpace
from optuna_advanced.samplers._forest.history import training_data
from optuna_advanced.testing.conformance import assert_params_valid


@pytest.fixture(autouse=True)
def _quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def mixed(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 1, 20)
    k = trial.suggest_categorical("k", ["a", "b", "c"])
    return (x - 1) ** 2 + math.log10(lr / 1e-2) ** 2 + abs(n - 7) / 3 + 2.0 * (k != "b")


def conditional(trial: optuna.Trial) -> float:
    kind = trial.suggest_categorical("kind", ["linear", "rbf", "poly"])
    c = trial.suggest_float("C", 1e-3, 1e3, log=True)
    value = abs(math.log10(c) - 1) + (kind == "linear") * 2.0
    if kind == "rbf":
        value += abs(math.log10(trial.suggest_float("gamma", 1e-4, 1.0, log=True)) + 2)
    elif kind == "poly":
        value += abs(trial.suggest_int("degree", 2, 5) - 3) + 1.0
    return value


def test_sources_and_predictions_are_recorded() -> None:
    sampler = RandomForestSampler(seed=0, n_startup_trials=6, n_random_candidates=500)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=40)
    sources = [t.user_attrs["rf:source"] for t in study.trials]
    assert sources[0] == "startup"  # the first trial has no modelled space yet
    assert study.trials[0].user_attrs["rf:independent"] == list(study.trials[0].params)
    assert sources[1:6] == ["startup"] * 5  # the Sobol design
    later = sources[6:]
    assert set(later) == {"model", "random"}
    assert 0.05 < later.count("random") / len(later) < 0.45
    for t in study.trials:
        assert_params_valid(t)
        if t.user_attrs["rf:source"] == "model":
            assert math.isfinite(t.user_attrs["rf:predicted_value"])
            assert t.user_attrs["rf:predicted_std"] >= 0
            assert t.user_attrs["rf:expected_improvement"] >= 0


def test_start_up_points_are_a_scrambled_sobol_sequence() -> None:
    space: dict[str, BaseDistribution] = {
        "a": FloatDistribution(0.0, 1.0),
        "b": FloatDistribution(0.0, 1.0),
    }
    sampler = RandomForestSampler(seed=3, n_startup_trials=8)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1), 8)
    expected = qmc.Sobol(2, scramble=True, seed=3).random(8)
    got = np.array([[t.params["a"], t.params["b"]] for t in study.trials[1:]])
    np.testing.assert_allclose(got, expected[1:8], atol=1e-12)
    assert set(SearchSpace(space).names) == {"a", "b"}


def test_beats_random_search_on_a_mixed_space() -> None:
    ours, theirs = [], []
    for seed in range(3):
        study = optuna.create_study(sampler=RandomForestSampler(seed=seed))
        study.optimize(mixed, n_trials=60)
        ours.append(study.best_value)
        rand = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        rand.optimize(mixed, n_trials=60)
        theirs.append(rand.best_value)
    assert np.mean(ours) < np.mean(theirs)


def test_conditional_define_by_run_space() -> None:
    study = optuna.create_study(sampler=RandomForestSampler(seed=0, n_startup_trials=8))
    study.optimize(conditional, n_trials=45)
    for t in study.trials:
        assert_params_valid(t)
        assert ("gamma" in t.params) == (t.params["kind"] == "rbf")
        assert ("degree" in t.params) == (t.params["kind"] == "poly")
    assert study.best_value < 1.0


def test_failed_nan_and_pruned_trials_enter_with_the_worst_cost() -> None:
    study = optuna.create_study(sampler=RandomForestSampler(seed=0, n_startup_trials=5))
    dist: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0)}
    for x, state, value in [
        (0.1, TrialState.COMPLETE, 1.0),
        (0.2, TrialState.COMPLETE, 3.0),
        (0.3, TrialState.FAIL, None),
        (0.4, TrialState.PRUNED, None),
    ]:
        study.enqueue_trial({"x": x})
        trial = study.ask(dist)
        study.tell(trial, value, state=state)
    study.enqueue_trial({"x": 0.5})
    running = study.ask(dist)
    space = SearchSpace(dist)
    data = training_data(
        space, study._get_trials(deepcopy=False), study.directions, np.random.default_rng(0)
    )
    assert data is not None
    rows, costs, pending, _ = data
    np.testing.assert_allclose(costs, [1.0, 3.0, 3.0, 3.0])
    np.testing.assert_allclose(pending, space.encode_params(running.params)[None, :])
    # And the sampler keeps going through all of that.
    with pytest.warns(UserWarning, match="nan is not acceptable"):
        study.tell(running, float("nan"))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=10)
    assert all(t.state != TrialState.RUNNING for t in study.trials)


def test_running_trials_steer_parallel_workers_apart() -> None:
    def objective(trial: optuna.Trial) -> float:
        return (trial.suggest_float("x", 0.0, 1.0) - 0.3) ** 2 + trial.suggest_float("y", 0, 1)

    sampler = RandomForestSampler(seed=0, n_startup_trials=5, random_fraction=0.0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=15)
    # Ask three trials without telling, as three workers would: no two get the same point.
    asked = [study.ask() for _ in range(3)]
    points = {(t.suggest_float("x", 0.0, 1.0), t.suggest_float("y", 0.0, 1.0)) for t in asked}
    assert len(points) == 3


def test_maximize_direction_and_constraints() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -3.0, 3.0)
        trial.set_constraint("x_at_most_1", x - 1.0)
        return -((x - 2.0) ** 2)  # unconstrained optimum at 2, infeasible

    sampler = RandomForestSampler(seed=0, n_startup_trials=5)
    study = optuna.create_study(sampler=sampler, direction=StudyDirection.MAXIMIZE)
    study.optimize(objective, n_trials=30)
    feasible = [t for t in study.trials if t.constraints["x_at_most_1"] <= 0]
    best = max(feasible, key=lambda t: t.value if t.value is not None else -np.inf)
    assert best.params["x"] > 0.5
    later = study.trials[10:]
    assert sum(t.constraints["x_at_most_1"] <= 0 for t in later) >= len(later) // 2

    space = SearchSpace({"x": FloatDistribution(-3.0, 3.0)})
    data = training_data(
        space, study._get_trials(deepcopy=False), study.directions, np.random.default_rng(0)
    )
    assert data is not None
    _, costs, _, _ = data
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    infeasible = np.array([t.constraints["x_at_most_1"] > 0 for t in completed])
    assert costs[~infeasible].max() < costs[infeasible].min()


def test_multi_objective_parego_weights_change_per_trial() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x**2, (x - 1) ** 2

    sampler = RandomForestSampler(seed=0, n_startup_trials=5, random_fraction=0.0)
    study = optuna.create_study(sampler=sampler, directions=["minimize", "minimize"])
    study.optimize(objective, n_trials=25)
    xs = [t.params["x"] for t in study.trials[5:]]
    # Different scalarisations put trials all along the Pareto front [0, 1].
    assert max(xs) - min(xs) > 0.4


def test_argument_validation() -> None:
    with pytest.raises(ValueError):
        RandomForestSampler(n_startup_trials=0)
    with pytest.raises(ValueError):
        RandomForestSampler(random_fraction=1.5)
    with pytest.raises(ValueError, match="splitter"):
        RandomForestSampler(splitter="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="acquisition"):
        RandomForestSampler(acquisition="ucb")  # type: ignore[arg-type]


@pytest.mark.parametrize(("splitter", "acquisition"), [("best", "log_ei"), ("random", "ei")])
def test_every_model_option_finds_the_minimum(
    splitter: Literal["random", "best"], acquisition: Literal["log_ei", "ei"]
) -> None:
    sampler = RandomForestSampler(
        seed=0, n_startup_trials=8, splitter=splitter, acquisition=acquisition
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=30)
    assert study.best_value < 0.05
    assert any(t.user_attrs.get("rf:source") == "model" for t in study.trials)


def test_categorical_only_space() -> None:
    dist = CategoricalDistribution(list(range(6)))
    study = optuna.create_study(sampler=RandomForestSampler(seed=0, n_startup_trials=4))
    study.optimize(lambda t: float((t._suggest("c", dist) - 4) ** 2), n_trials=20)
    assert study.best_value == 0.0


def test_the_first_model_based_ask_loads_nothing_the_constructor_did_not() -> None:
    """Heavy imports and scikit-learn's first-fit work happen at construction: in a fresh
    process, the asks after it import no module of scikit-learn, SciPy or NumPy."""
    import subprocess
    import sys

    script = """
import sys
import optuna
import optuna_advanced
optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler = optuna_advanced.RandomForestSampler(seed=0, n_startup_trials=3, random_fraction=0.0)
before = set(sys.modules)
study = optuna.create_study(sampler=sampler)
study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2
               + (t.suggest_categorical("c", ["a", "b"]) == "b"), n_trials=6)
assert [t.user_attrs["rf:source"] for t in study.trials][3:] == ["model"] * 3
print(sorted(m for m in set(sys.modules) - before
             if m.split(".")[0] in ("sklearn", "scipy", "numpy")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_one_sampler_used_for_study_after_study_proposes_what_a_fresh_one_would() -> None:
    """The per-process rows cache belongs to one study's storage: a later in-memory study, whose
    trials have the same ids and numbers but other parameters, gets none of the old rows. (An
    address reused by a new storage, the case the weak reference guards against, cannot be
    forced from a test; this checks the contract around it.)"""
    import gc

    def study_points(sampler: RandomForestSampler, shift: float) -> list[dict[str, object]]:
        study = optuna.create_study(sampler=sampler)
        for x in (0.1, 0.5, 0.9, 0.3, 0.7):  # the same numbers, other values in each study
            study.enqueue_trial({"x": x + shift, "k": "a"})
        study.optimize(
            lambda t: (
                (t.suggest_float("x", -1.0, 2.0) - 0.4) ** 2
                + (t.suggest_categorical("k", ["a", "b"]) == "b")
            ),
            n_trials=12,
        )
        points = [t.params for t in study.trials]
        del study
        gc.collect()
        return points

    reused = RandomForestSampler(seed=0, n_startup_trials=5)
    for shift in (0.0, 0.05, -0.05):
        assert study_points(reused, shift) == study_points(
            RandomForestSampler(seed=0, n_startup_trials=5), shift
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_maximiser_snapping_moved_cells_finds_what_snapping_whole_rows_finds(
    seed: int,
) -> None:
    from optuna.distributions import IntDistribution

    from optuna_advanced.samplers._forest.acquisition import Layout
    from optuna_advanced.samplers._forest.acquisition import maximise
    from optuna_advanced.samplers._forest.acquisition import SnapCells

    space = SearchSpace(
        {
            "f": FloatDistribution(-5, 5),
            "s": FloatDistribution(0, 1, step=0.05),
            "g": FloatDistribution(1e-3, 1e3, log=True, step=None),
            "n": IntDistribution(1, 1024, log=True),
            "i": IntDistribution(-3, 40),
            "c": CategoricalDistribution(["a", "b", None, 2.5]),
            "one": IntDistribution(7, 7),
        }
    )
    continuous = ~space.is_categorical & (space.n_levels == 0) & ~space.is_single
    layout = Layout(space.is_categorical, space.n_levels, continuous)
    target = np.random.default_rng(seed).random(len(space))

    def acquisition(x: np.ndarray) -> np.ndarray:
        return np.asarray(-np.nansum((x - target) ** 2, axis=1))

    def run(snap_cells: SnapCells | None) -> tuple[np.ndarray, float]:
        rng = np.random.default_rng(seed)
        evaluated = space.snap(space.sample_uniform(rng, 20))
        random_rows = space.sample_uniform(rng, 300)
        return maximise(
            acquisition, evaluated, random_rows, layout, space.snap, rng, 5, snap_cells=snap_cells
        )

    row, value = run(None)
    row_cells, value_cells = run(space.snap_cells)
    np.testing.assert_array_equal(row_cells, row)
    assert value_cells == value
