from __future__ import annotations

import logging
import math
import sys
from typing import Any
from typing import Literal

import hyperopt
from hyperopt import hp
import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState
import pytest
from scipy import stats

from optuna_advanced import HyperoptSampler
from optuna_advanced.samplers import hyperopt_space
from optuna_advanced.testing.conformance import assert_params_valid

SPACE: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "n": IntDistribution(1, 10),
    "m": IntDistribution(2, 200, log=True),
    "s": FloatDistribution(0.0, 1.0, step=0.1),
    "odd": IntDistribution(1, 9, step=2),  # low is not a multiple of step: grid-index form
    "k": CategoricalDistribution(["a", "b", "c"]),
}

# What a Hyperopt user writes by hand for SPACE (see HyperoptSampler's mapping).
NATIVE_SPACE = {
    "x": hp.uniform("x", -5.0, 5.0),
    "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
    "n": hp.quniform("n", 0.5, 10.5, 1),
    "m": hp.qloguniform("m", math.log(1.5), math.log(200.5), 1),
    "s": hp.quniform("s", -0.05, 1.05, 0.1),
    "odd": 1 + 2 * hp.quniform("odd", -0.5, 4.5, 1),
    "k": hp.choice("k", ["a", "b", "c"]),
}


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def loss(p: dict[str, Any]) -> float:
    return float(
        (p["x"] - 1) ** 2
        + math.log10(p["lr"] / 1e-2) ** 2
        + abs(p["n"] - 4)
        + abs(math.log(p["m"] / 20))
        + abs(p["s"] - 0.3)
        + abs(p["odd"] - 5)
        + {"a": 0.0, "b": 1.0, "c": 2.0}[p["k"]]
    )


def suggest_all(trial: optuna.Trial) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, d in SPACE.items():
        if isinstance(d, FloatDistribution):
            out[name] = trial.suggest_float(name, d.low, d.high, log=d.log, step=d.step)
        elif isinstance(d, IntDistribution):
            out[name] = trial.suggest_int(name, d.low, d.high, log=d.log, step=d.step)
        else:
            assert isinstance(d, CategoricalDistribution)
            out[name] = trial.suggest_categorical(name, d.choices)
    return out


def _native_points(algo: Any, n: int, seed: int, sign: float = 1.0) -> list[dict[str, Any]]:
    trials = hyperopt.Trials()
    hyperopt.fmin(
        lambda p: sign * loss(p),
        NATIVE_SPACE,
        algo=algo,
        max_evals=n,
        rstate=np.random.default_rng(seed),
        trials=trials,
        show_progressbar=False,
    )
    points = []
    for t in trials.trials:
        raw = {k: v[0] for k, v in t["misc"]["vals"].items()}
        p = hyperopt.space_eval(NATIVE_SPACE, raw)
        points.append({k: int(v) if k in ("n", "m", "odd") else v for k, v in p.items()})
    return points


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # Hyperopt's quantised floats are round(u / q) * q (0.30000000000000004); Optuna snaps to
    # low + k * step (0.3). Everything else is compared exactly.
    if a.keys() != b.keys():
        return False
    return all(
        math.isclose(a[k], b[k], rel_tol=0, abs_tol=1e-12) if k == "s" else a[k] == b[k] for k in a
    )


@pytest.mark.parametrize(
    ("algo", "options"),
    [("tpe", {}), ("tpe", {"n_startup_jobs": 5, "gamma": 0.2}), ("anneal", {}), ("rand", {})],
)
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_same_points_as_native_fmin(
    algo: Literal["tpe", "anneal", "rand"], options: dict[str, Any], direction: str
) -> None:
    n, seed = 40, 3
    suggest = getattr(hyperopt, algo).suggest
    if options:
        import functools

        suggest = functools.partial(suggest, **options)
    sign = 1.0 if direction == "minimize" else -1.0
    native = _native_points(suggest, n, seed)

    sampler = HyperoptSampler(algo=algo, seed=seed, search_space=SPACE, **options)
    study = optuna.create_study(sampler=sampler, direction=StudyDirection[direction.upper()])
    study.optimize(lambda t: sign * loss(suggest_all(t)), n_trials=n)
    ours = [t.params for t in study.trials]
    assert len(ours) == n
    mismatches = [i for i, (a, b) in enumerate(zip(native, ours)) if not _same(a, b)]
    assert not mismatches, f"first mismatch at trial {mismatches[0]}"
    for t in study.trials:
        assert_params_valid(t)
        assert type(t.params["n"]) is int and type(t.params["x"]) is float


def test_attributes_name_the_algorithm_and_the_start_up_phase() -> None:
    sampler = HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=4)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: loss(suggest_all(t)), n_trials=8)
    sources = [t.user_attrs["hyperopt:source"] for t in study.trials]
    algos = [t.user_attrs["hyperopt:algo"] for t in study.trials]
    # Trial 0 has no modelled space yet: every parameter comes from the prior.
    assert (sources[0], algos[0]) == ("startup", "rand")
    assert study.trials[0].user_attrs["hyperopt:independent"] == list(SPACE)
    assert sources[1:4] == ["startup"] * 3
    assert sources[4:] == ["model"] * 4
    assert algos[1:] == ["tpe"] * 7
    assert all("hyperopt:independent" not in t.user_attrs for t in study.trials[1:])


def test_running_trials_are_pending_jobs() -> None:
    # Hyperopt counts queued jobs as history (with an infinite loss): with n_startup_jobs=3,
    # two finished trials plus one RUNNING trial of another worker end the start-up phase.
    sampler = HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=3, search_space=SPACE)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: loss(suggest_all(t)), n_trials=2)
    pending = study.ask()
    suggest_all(pending)
    trial = study.ask()
    suggest_all(trial)
    frozen = study._storage.get_trial(trial._trial_id)
    assert frozen.user_attrs["hyperopt:source"] == "model"


def test_failed_pruned_and_nan_trials_do_not_break_it() -> None:
    sampler = HyperoptSampler(algo="tpe", seed=1, n_startup_jobs=5)
    study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.MedianPruner(0, 0))

    def objective(trial: optuna.Trial) -> float:
        p = suggest_all(trial)
        if trial.number % 7 == 3:
            raise RuntimeError("boom")
        if trial.number % 7 == 5:
            return float("nan")
        value = loss(p)
        for step in range(5):
            trial.report(value + 1.0 / (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=40, catch=(RuntimeError,))
    states = {t.state for t in study.trials}
    assert {TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED} <= states
    for t in study.trials:
        assert_params_valid(t)


def test_conditional_define_by_run_space() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "rbf"])
        c = trial.suggest_float("C", 1e-3, 1e3, log=True)
        value = abs(math.log10(c))
        if kind == "rbf":
            gamma = trial.suggest_float("gamma", 1e-4, 1.0, log=True)
            value += abs(math.log10(gamma) + 2) - 1
        return value

    study = optuna.create_study(sampler=HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=5))
    study.optimize(objective, n_trials=40)
    for t in study.trials:
        assert_params_valid(t)
        assert ("gamma" in t.params) == (t.params["kind"] == "rbf")
    late = study.trials[20:]
    assert sum(t.params["kind"] == "rbf" for t in late) > len(late) / 2
    assert study.best_value < 0.5


def test_define_by_run_first_points_follow_hyperopts_prior() -> None:
    # The first trial of a define-by-run study is drawn one parameter at a time from Hyperopt's
    # prior: the same distribution as fmin's first point, not the same point.
    ours = []
    for seed in range(200):
        study = optuna.create_study(sampler=HyperoptSampler(algo="tpe", seed=seed))
        trial = study.ask()
        ours.append(trial.suggest_float("lr", 1e-4, 1.0, log=True))
    prior = hyperopt.pyll.stochastic.sample(
        [hp.loguniform("lr", math.log(1e-4), 0.0) for _ in range(2000)],
        rng=np.random.default_rng(0),
    )
    assert stats.ks_2samp(ours, prior).pvalue > 0.01


def test_range_change_falls_back_to_the_prior() -> None:
    study = optuna.create_study(sampler=HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=2))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4)
    study.optimize(lambda t: t.suggest_float("x", 5, 6), n_trials=4)
    for t in study.trials:
        assert_params_valid(t)
    # The first trial with the new range cannot use the old model; later ones model the new one.
    assert study.trials[4].user_attrs["hyperopt:independent"] == ["x"]
    assert "hyperopt:independent" not in study.trials[5].user_attrs


def test_space_mapping_is_what_the_docstring_says() -> None:
    space = hyperopt_space(SPACE)
    assert set(space) == set(SPACE)
    rng = np.random.default_rng(0)
    draws = [hyperopt.pyll.stochastic.sample(space, rng=rng) for _ in range(3000)]
    # Every grid point of an int gets the same prior mass, end points included.
    counts = np.bincount([int(d["n"]) for d in draws], minlength=11)[1:]
    assert stats.chisquare(counts).pvalue > 0.01
    assert {round(d["odd"]) for d in draws} == {0, 1, 2, 3, 4}  # grid index of 1, 3, ..., 9


def test_argument_validation() -> None:
    with pytest.raises(ValueError, match="algo must be one of"):
        HyperoptSampler(algo="bayes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="n_startup_jobs"):
        HyperoptSampler(algo="anneal", n_startup_jobs=3)
    HyperoptSampler(algo="anneal", shrink_coef=0.2)


def test_atpe_without_lightgbm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(ImportError, match=r"optuna-advanced\[atpe\]"):
        HyperoptSampler(algo="atpe")
