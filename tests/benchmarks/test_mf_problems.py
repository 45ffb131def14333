"""The ``mf`` problems build, report every step, reproduce, and have the traits they claim."""

from __future__ import annotations

from collections.abc import Iterator
import math
import time
from typing import Any
from typing import cast

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import FixedTrial
import pytest
from scipy.stats import spearmanr
import threadpoolctl  # type: ignore[import-untyped]

from benchmarks.problems import problems
from benchmarks.problems import TRUE_VALUE_ATTR
from benchmarks.problems.curves import GRID
from benchmarks.problems.curves import grid_index
from benchmarks.problems.curves import load_table
from benchmarks.problems.curves import TABLE_PATH
from benchmarks.problems.curves import TabularSGDDigits
from benchmarks.problems.mf import FracSVC
from benchmarks.problems.mf_synthetic import ConditionalSynthetic
from benchmarks.problems.mf_synthetic import CrossingCurves
from benchmarks.problems.mf_synthetic import MisleadingShift
from benchmarks.problems.mf_synthetic import NoisyLevy
from benchmarks.problems.mf_synthetic import sample_space

# Builds every mf problem and trains scikit-learn models: seconds, not milliseconds.
pytestmark = pytest.mark.slow

PROBLEMS = {p.name: p for p in problems("mf")}
NEW = ("mis6_shift", "cond26", "cross_int64", "frac_svc", "noisy_levy5", "tab_sgd_digits")
#: A configuration of mlp_digits that trains in a fraction of a second.
CHEAP_MLP = {
    "solver": "adam",
    "n_units": 16,
    "activation": "relu",
    "alpha": 1e-4,
    "learning_rate_init": 1e-2,
    "batch_size": 256,
}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    # As in the benchmark's workers: OpenMP threads fighting over a busy machine make
    # gradient boosting orders of magnitude slower. Only libraries already loaded are limited.
    import sklearn.ensemble  # noqa: F401

    with threadpoolctl.threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def objectives(one_thread: None) -> dict[str, Any]:
    return {name: p.objective(0) for name, p in PROBLEMS.items()}


def _run(objective: Any, params: dict[str, Any] | None, seed: int = 7) -> optuna.trial.FrozenTrial:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    if params is not None:
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    return trial


def _true(trial: optuna.trial.FrozenTrial) -> float:
    value = trial.user_attrs.get(TRUE_VALUE_ATTR, trial.value)
    assert value is not None
    return float(value)


def _fixed(params: dict[str, Any]) -> optuna.Trial:
    """A trial that suggests ``params`` (reports are ignored, nothing is pruned)."""
    return cast(optuna.Trial, FixedTrial(params))


def test_the_suite_is_wide_and_every_problem_builds(objectives: dict[str, Any]) -> None:
    assert len(PROBLEMS) == len(problems("mf")) >= 12
    assert set(NEW) <= set(PROBLEMS)
    for name, problem in PROBLEMS.items():
        objective = objectives[name]
        assert problem.max_fidelity is not None
        assert problem.max_fidelity == objective.max_fidelity
        assert problem.budget == 30 * problem.max_fidelity
        space = getattr(objective, "space", None)
        assert problem.static_space == isinstance(space, dict), name
        if problem.numeric_only and space is not None:
            assert all(isinstance(d, FloatDistribution | IntDistribution) for d in space.values())
    assert not PROBLEMS["mlp_digits"].static_space
    assert not PROBLEMS["cond26"].static_space


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_reports_every_step_and_reproduces(name: str, objectives: dict[str, Any]) -> None:
    problem = PROBLEMS[name]
    assert problem.max_fidelity is not None
    first = _run(objectives[name], CHEAP_MLP if name == "mlp_digits" else None)
    steps = sorted(first.intermediate_values)
    assert steps[-1] == problem.max_fidelity
    if name == "hgb_digits":
        assert steps == [1, 3, 9, 27]  # the Hyperband rungs only
    else:
        assert steps == list(range(1, problem.max_fidelity + 1))
    assert all(math.isfinite(v) for v in first.intermediate_values.values())
    assert first.value == first.intermediate_values[problem.max_fidelity]
    # A fresh build with the same seed gives the same curve for the same configuration.
    again = _run(problem.objective(0), first.params)
    assert again.params == first.params
    assert again.intermediate_values == first.intermediate_values
    assert _true(again) == _true(first)


@pytest.mark.parametrize("name", [n for n in PROBLEMS if n not in ("mlp_digits", "hgb_digits")])
def test_random_configurations_are_no_better_than_the_optimum(
    name: str, objectives: dict[str, Any]
) -> None:
    objective = objectives[name]
    optimum, reference = objective.optimum, objective.reference
    assert reference is not None and math.isfinite(reference)
    if optimum is None:
        assert name == "frac_svc" and 0.0 < reference < 0.9
        return
    assert optimum <= reference
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=3 if name.startswith("mfh") else 30)
    trues = [_true(t) for t in study.trials]
    assert min(trues) >= optimum - 1e-9
    assert np.median(trues) > optimum


def test_synthetic_optima_are_attained() -> None:
    shift = MisleadingShift(0)
    best = {f"x{i}": float(c) for i, c in enumerate(shift.centre)}
    assert shift(_fixed(best)) == pytest.approx(shift.optimum, abs=1e-12)
    cross = CrossingCurves(0)
    best_cross = {"lr": 1e-3, "momentum": 0.9, "width": 512, "l2": 1e-4, "warmup": 4}
    assert cross(_fixed(best_cross)) == pytest.approx(cross.optimum, abs=1e-12)
    levy = NoisyLevy(0)
    trial = _fixed({f"x{i}": 1.0 for i in range(5)})
    observed = levy(trial)
    assert trial.user_attrs[TRUE_VALUE_ATTR] == pytest.approx(0.0, abs=1e-12)
    assert observed != trial.user_attrs[TRUE_VALUE_ATTR]
    cond = ConditionalSynthetic(0)
    best_cond = {
        "optimizer": "sgd",
        "model": "cnn",
        "scheduler": "cosine",
        "batch_size": 128,
        "weight_decay": 10**-3.5,
        "label_smoothing": 0.1,
        "sgd_lr": 0.1,
        "sgd_momentum": 0.9,
        "sgd_nesterov": True,
        "cnn_blocks": 4,
        "cnn_filters": 64,
        "cnn_kernel": 3,
        "cnn_dropout": 0.25,
        "cos_min_frac": 0.01,
    }
    assert cond(_fixed(best_cond)) == pytest.approx(cond.optimum, abs=1e-12) == 0.05


def test_low_fidelities_of_the_misleading_problem_point_the_wrong_way() -> None:
    problem = MisleadingShift(0)
    rng = np.random.default_rng(0)
    configs = [sample_space(problem.space, rng) for _ in range(200)]
    full = np.array([problem.value(c, problem.max_fidelity) for c in configs])
    for step in (1, 3, 9):  # the first Hyperband rungs
        low = np.array([problem.value(c, step) for c in configs])
        assert spearmanr(low, full)[0] < -0.5
        chosen = full[np.argmin(low)]  # what looks best early, judged at the end
        assert chosen - full.min() > 0.5 * (np.median(full) - full.min())


def test_curves_of_the_crossing_problem_cross() -> None:
    problem = CrossingCurves(0)
    rng = np.random.default_rng(0)
    configs = [sample_space(problem.space, rng) for _ in range(100)]
    early = np.array([problem.value(c, 8) for c in configs])
    final = np.array([problem.value(c, problem.max_fidelity) for c in configs])
    # Pairs ahead by 0.05 at step 8 and behind by 0.05 at the end.
    crossed = (early[:, None] + 0.05 < early[None, :]) & (final[:, None] > final[None, :] + 0.05)
    assert crossed.sum() >= 10
    assert spearmanr(early, final)[0] < 0.5
    assert final[np.argmin(early)] > np.percentile(final, 25)


def test_conditional_space_is_wide_and_define_by_run() -> None:
    problem = ConditionalSynthetic(0)
    assert not hasattr(problem, "space")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(problem, n_trials=60)
    names = set().union(*(t.params for t in study.trials))
    assert len(names) == 26
    assert all(13 <= len(t.params) <= 15 for t in study.trials)
    assert {t.params["optimizer"] for t in study.trials} == {"sgd", "adam", "rmsprop"}


def test_noise_is_reproducible_per_run_seed() -> None:
    params = {f"x{i}": 0.5 * i for i in range(5)}
    runs: dict[int, list[tuple[float, dict[str, Any]]]] = {}
    for seed in (0, 0, 1):
        trial = _fixed(params)
        runs.setdefault(seed, []).append((NoisyLevy(seed)(trial), trial.user_attrs))
    (a, attrs_a), (b, _) = runs[0]
    (c, attrs_c) = runs[1][0]
    assert a == b and a != c
    assert attrs_a[TRUE_VALUE_ATTR] == attrs_c[TRUE_VALUE_ATTR] != a
    problem = NoisyLevy(0)
    noise = [problem.observe(params, s) - problem.value(params, s) for s in (1, 50)]
    assert all(n != 0.0 for n in noise)


def test_fraction_of_data_problem_learns_from_more_data() -> None:
    problem = FracSVC(0)
    params = {"C": 10.0, "gamma": 0.05, "scaler": "unit", "class_weight": "none"}
    start = time.process_time()
    full = problem.error(params, problem.max_fidelity)
    assert time.process_time() - start < 1.0  # ~0.05 s on an idle core
    assert full < 0.03 < problem.error(params, 1)


def test_tabulated_table_loads_and_its_grid_is_the_space() -> None:
    assert TABLE_PATH.stat().st_size < 1_000_000
    table = load_table()
    assert table.shape == (3, 2, 2, 7, 5, 40)
    assert np.all((0.0 <= table) & (table <= 1.0))
    problem = TabularSGDDigits(0)
    assert list(problem.space) == list(GRID)
    for name, dist in problem.space.items():
        if isinstance(dist, CategoricalDistribution):
            assert list(dist.choices) == list(GRID[name])
        else:
            assert isinstance(dist, FloatDistribution) and dist.step is not None
            values = np.arange(dist.low, dist.high + dist.step / 2, dist.step)
            assert values.tolist() == list(GRID[name])
    assert problem.optimum == table[..., -1].min() < problem.reference
    # Every grid point is reachable; values off the grid snap to the nearest point.
    best = np.unravel_index(np.argmin(table[..., -1]), table.shape[:-1])
    params = {name: GRID[name][i] for name, i in zip(GRID, best)}
    assert problem(_fixed(params)) == problem.optimum
    off = dict(params, log10_alpha=params["log10_alpha"] + 0.3)
    assert grid_index(off) == tuple(best)
