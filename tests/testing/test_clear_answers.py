"""Every input gets a clear answer (the rows of docs/behaviour.rst that the argument tests and the
samplers' own tests do not cover): pruned and failed trials never stop a study with any pack
sampler, a resumed study goes on, misconfigured pruners do not hang, labels are one vocabulary,
Ax stays quiet, and a sampler never raises over a trial that another worker finished.
"""

from __future__ import annotations

import math
from pathlib import Path
import subprocess
import sys
import warnings

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState
import pytest

import optuna_advanced
from optuna_advanced.testing.conformance import mixed_objective
from optuna_advanced.testing.registry import SAMPLERS

PACK = [name for name, entry in SAMPLERS.items() if not entry.control]
NAMESPACE = {
    "BOHBSampler": "bohb",
    "HyperoptSampler": "hyperopt",
    "HyperoptSampler(anneal)": "hyperopt",
    "RandomForestSampler": "rf",
    "AxSampler(sobol)": "ax",
}


def _prunes_or_fails(trial: optuna.Trial) -> float:
    """Trial 0 completes; then most are pruned (after a report), some fail, one in five
    completes."""
    value = mixed_objective(trial)
    trial.report(value + 1.0, 1)
    if trial.number % 5 == 3:
        raise RuntimeError("a failing objective")
    if trial.number >= 1 and trial.number % 5 != 0:
        raise optuna.TrialPruned()
    return value


def _ax_default(seed: int | None) -> optuna.samplers.BaseSampler:
    return optuna_advanced.AxSampler(seed=seed)


@pytest.mark.parametrize("name", [*PACK, "AxSampler(default)"])
@pytest.mark.parametrize(
    "pruner",
    [
        optuna.pruners.MedianPruner(n_startup_trials=1),
        optuna_advanced.BOHBPruner(min_resource=1, max_resource=9),
    ],
    ids=["median", "bohb"],
)
@pytest.mark.slow
def test_pruned_and_failed_trials_never_stop_a_study(
    name: str, pruner: optuna.pruners.BasePruner, tmp_path: Path
) -> None:
    factory = _ax_default if name == "AxSampler(default)" else SAMPLERS[name].factory
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    study = optuna.create_study(storage=url, sampler=factory(0), pruner=pruner, study_name="p")
    n = 10 if name == "AxSampler(default)" else 14
    study.optimize(_prunes_or_fails, n_trials=n, catch=(RuntimeError,))
    # Resumed in a new process-like setting: a fresh sampler, two threads.
    resumed = optuna.load_study(study_name="p", storage=url, sampler=factory(1), pruner=pruner)
    resumed.optimize(_prunes_or_fails, n_trials=4, n_jobs=2, catch=(RuntimeError,))
    trials = resumed.trials
    assert len(trials) == n + 4
    failed = [t for t in trials if t.state == TrialState.FAIL]
    # Only the objective's own failures: none comes from the sampler.
    assert all(t.number % 5 == 3 for t in failed), [
        (t.number, t.system_attrs.get("fail_reason", "")[:200]) for t in failed
    ]
    assert {TrialState.COMPLETE, TrialState.PRUNED} <= {t.state for t in trials}


def test_ax_keeps_its_design_going_while_pruned_trials_hold_no_data() -> None:
    space = {"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)}
    study = optuna.create_study(sampler=optuna_advanced.AxSampler(seed=0, search_space=space))

    def objective(trial: optuna.Trial) -> float:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        trial.report(x + y + 1, 1)
        if 1 <= trial.number <= 5:
            raise optuna.TrialPruned()
        return x + y

    study.optimize(objective, n_trials=8)
    nodes = [t.user_attrs["ax:generation_node"] for t in study.trials]
    # Centre, then 4 Sobol points (pruned: no data), then Sobol beyond the initial budget
    # until 2 trials completed; Ax's default strategy raised DataRequiredError here.
    assert nodes[:7] == ["CenterOfSearchSpace"] + ["Sobol"] * 6, nodes
    assert all(t.state != TrialState.FAIL for t in study.trials)


def test_ax_huge_integer_ranges_are_float_ranges() -> None:
    study = optuna.create_study(
        sampler=optuna_advanced.AxSampler(seed=0, generation_strategy={"method": "random_search"})
    )
    study.optimize(lambda t: float(t.suggest_int("m", 1, 2**62, log=True) % 7), n_trials=5)
    values = [t.params["m"] for t in study.trials]
    assert all(type(v) is int and 1 <= v <= 2**62 for v in values)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_ax_objective_thresholds_silence_its_warning() -> None:
    space = {"x": FloatDistribution(0, 1)}

    def two(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        return (x - 0.2) ** 2, (x - 0.8) ** 2

    sampler = optuna_advanced.AxSampler(
        seed=0, search_space=space, objective_thresholds=[1.0, 1.0]
    )
    study = optuna.create_study(sampler=sampler, directions=["minimize", "minimize"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(two, n_trials=7)
    assert study.trials[-1].user_attrs["ax:source"] == "model"
    # Without thresholds, every BoTorch ask warns "Encountered a `MultiObjective` without
    # objective thresholds" (AxOptimizationWarning).
    assert not [w for w in caught if "without objective thresholds" in str(w.message)]
    with pytest.raises(ValueError, match="objective_thresholds"):
        optuna.create_study(
            sampler=optuna_advanced.AxSampler(objective_thresholds=[1.0, 1.0])
        ).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


def test_quiet_ax_prints_nothing_at_construction() -> None:
    code = (
        "import optuna_advanced\n"
        "optuna_advanced.AxSampler(seed=0, generation_strategy={'method': 'fast'})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout == "" and "INFO" not in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize(
    "pruner",
    [
        optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=1),
        optuna.pruners.HyperbandPruner(min_resource=0, max_resource=9),
    ],
    ids=["eta1", "min0"],
)
@pytest.mark.timeout(120)
def test_bohb_sampler_never_hangs_on_a_misconfigured_optuna_pruner(
    pruner: optuna.pruners.BasePruner,
) -> None:
    # Optuna's HyperbandPruner accepts these (its own pruning then fails with
    # ZeroDivisionError); BOHBPruner refuses them (tests/testing/test_arguments.py).
    study = optuna.create_study(sampler=optuna_advanced.BOHBSampler(seed=0), pruner=pruner)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(1, 4):
            trial.report(x + 1 / step, step)
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=12, catch=(ZeroDivisionError, ValueError))
    assert len(study.trials) == 12


@pytest.mark.parametrize("name", PACK)
def test_every_trial_carries_its_source_in_one_vocabulary(name: str) -> None:
    study = optuna.create_study(sampler=SAMPLERS[name].factory(0))
    study.enqueue_trial(
        {"x": 0.5, "lr": 1e-3, "n": 3, "width": 16, "q": 0.25, "kind": 1}  # no "a_only"
    )
    study.optimize(mixed_objective, n_trials=26)
    sources = [t.user_attrs[f"{NAMESPACE[name]}:source"] for t in study.trials]
    assert sources[0] == "enqueued"
    assert set(sources) <= {"startup", "random", "model", "enqueued"}
    if name in ("BOHBSampler", "RandomForestSampler", "HyperoptSampler"):
        assert "startup" in sources and "model" in sources  # tpe: n_startup_jobs=20 < 26
    if name == "AxSampler(sobol)":
        assert set(sources[1:]) == {"random"}  # Ax's method="random_search"
    # The conditional parameter's first appearance is drawn alone, from its prior, and says so.
    first = next(t for t in study.trials if "a_only" in t.params)
    assert "a_only" in first.user_attrs[f"{NAMESPACE[name]}:independent"]


@pytest.mark.parametrize("name", ["BOHBSampler", "HyperoptSampler"])
def test_constraints_on_a_sampler_that_ignores_them_warn_once(name: str) -> None:
    def constrained(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.set_constraint("c", x - 0.5)
        return x

    study = optuna.create_study(sampler=SAMPLERS[name].factory(0))
    with pytest.warns(UserWarning, match="ignores the constraints") as record:
        study.optimize(constrained, n_trials=5)
    assert len([w for w in record if "ignores the constraints" in str(w.message)]) == 1


@pytest.mark.parametrize("name", PACK)
def test_a_trial_finished_elsewhere_is_not_written_and_nothing_raises(name: str) -> None:
    """Another worker failed the trial (stale heartbeat) while this one was sampling it."""
    study = optuna.create_study(sampler=SAMPLERS[name].factory(0))
    study.optimize(mixed_objective, n_trials=12)
    trial = study.ask()
    study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    sampler = study.sampler
    frozen = study._storage.get_trial(trial._trial_id)
    space = sampler.infer_relative_search_space(study, frozen)
    params = sampler.sample_relative(study, frozen, space)
    assert isinstance(params, dict)
    value = sampler.sample_independent(study, frozen, "new", FloatDistribution(0, 1))
    assert 0 <= value <= 1
    sampler.after_trial(study, frozen, TrialState.COMPLETE, [1.0])
    assert study._storage.get_trial(trial._trial_id).state == TrialState.FAIL


def test_hyperopt_native_space_gives_fmins_points() -> None:
    hyperopt = pytest.importorskip("hyperopt")
    import numpy as np

    hp = hyperopt.hp
    space = {
        "x": hp.uniform("x", -5, 5),
        "n": hp.uniformint("n", 1, 10),
        "c": hp.choice(
            "c",
            [
                {"kind": "a", "a1": hp.loguniform("a1", -3, 0)},
                {"kind": "b", "b1": hp.quniform("b1", 0, 1, 0.25)},
            ],
        ),
        "r": hp.randint("r", 2, 9),
    }

    def loss(x: float, n: int, kind: str, extra: float, r: int) -> float:
        return (x - 1) ** 2 + abs(n - 4) + extra + (kind == "b") + 0.1 * r

    def fn(p: dict) -> float:  # type: ignore[type-arg]
        extra = p["c"].get("a1", p["c"].get("b1"))
        return loss(p["x"], p["n"], p["c"]["kind"], extra, p["r"])

    n, seed = 40, 5
    trials = hyperopt.Trials()
    hyperopt.fmin(
        fn,
        space,
        algo=hyperopt.tpe.suggest,
        max_evals=n,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    native = [{k: v[0] for k, v in t["misc"]["vals"].items() if v} for t in trials.trials]

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        count = trial.suggest_int("n", 1, 10)
        kind = trial.suggest_categorical("c", ["a", "b"])
        if kind == "a":
            extra = trial.suggest_float("a1", math.exp(-3), 1, log=True)
        else:
            extra = trial.suggest_float("b1", 0, 1, step=0.25)
        return loss(x, count, kind, extra, trial.suggest_int("r", 2, 8))

    sampler = optuna_advanced.HyperoptSampler(seed=seed, search_space=space)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n)
    ours = [
        {k: ({"a": 0, "b": 1}[v] if k == "c" else v) for k, v in t.params.items()}
        for t in study.trials
    ]
    assert len(native) == len(ours) == n
    for i, (a, b) in enumerate(zip(native, ours)):
        assert a.keys() == b.keys(), i
        assert all(math.isclose(float(a[k]), float(b[k]), abs_tol=1e-12) for k in a), (i, a, b)
    assert {t.user_attrs["hyperopt:source"] for t in study.trials} == {"startup", "model"}
