from __future__ import annotations

import math
from typing import Any

from ax import ChoiceParameterConfig
from ax import Client
from ax import RangeParameterConfig
from ax.core.trial_status import TrialStatus
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import StudyDirection
from optuna.trial import TrialState
import pytest

from optuna_advanced import AxSampler
from optuna_advanced.samplers import ax_parameters
from optuna_advanced.samplers import quiet_ax
from optuna_advanced.samplers._ax.parameters import Parameter
from optuna_advanced.testing.conformance import _run_processes
from optuna_advanced.testing.conformance import assert_params_valid

SOBOL_ONLY = {"method": "random_search"}  # Ax's quasi-random strategy: no BoTorch, fast

SPACE: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "k": CategoricalDistribution(["a", "b"]),
}


@pytest.fixture(autouse=True)
def _quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def loss(p: dict[str, Any]) -> float:
    return float((p["x"] - 1) ** 2 + math.log10(p["lr"] / 1e-2) ** 2 + (p["k"] != "a"))


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "x": trial.suggest_float("x", -5.0, 5.0),
        "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
        "k": trial.suggest_categorical("k", ["a", "b"]),
    }


def _native_client(seed: int, **gs: Any) -> Any:
    # What an Ax user writes by hand for SPACE.
    client = Client(random_seed=seed)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="x", parameter_type="float", bounds=(-5.0, 5.0)),
            RangeParameterConfig(
                name="lr", parameter_type="float", bounds=(1e-4, 1.0), scaling="log"
            ),
            ChoiceParameterConfig(
                name="k", parameter_type="str", values=["a", "b"], is_ordered=False
            ),
        ]
    )
    client.configure_optimization(objective="-objective")
    if gs:
        client.configure_generation_strategy(**gs)
    return client


@pytest.mark.slow
def test_same_points_as_a_native_client_loop() -> None:
    # Ax's default strategy, shortened: the centre, two Sobol points, then two BoTorch points.
    n, seed, gs = 5, 4, {"initialization_budget": 3}
    native = []
    with quiet_ax():
        client = _native_client(seed, **gs)
        for _ in range(n):
            ((index, params),) = client.get_next_trials(max_trials=1).items()
            native.append(params)
            client.complete_trial(trial_index=index, raw_data={"objective": loss(params)})

    sampler = AxSampler(seed=seed, search_space=SPACE, generation_strategy=gs)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: loss(suggest(t)), n_trials=n)
    assert [t.params for t in study.trials] == native
    nodes = [t.user_attrs["ax:generation_node"] for t in study.trials]
    assert nodes == ["CenterOfSearchSpace", "Sobol", "Sobol", "MBM", "MBM"]


def test_rebuilt_client_reaches_the_node_an_uninterrupted_one_is_at() -> None:
    # A fresh Client with six attached trials would make one more Sobol point before moving
    # on; the sampler's rebuilt Client goes straight to the model, as the native loop does.
    sampler = AxSampler(seed=0, search_space=SPACE, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: loss(suggest(t)), n_trials=6)
    params = [Parameter(n, d) for n, d in SPACE.items()]
    with quiet_ax():
        client, index_of = sampler.build_client(params, study.trials, study.directions)
    assert sorted(index_of) == list(range(6))
    assert len(client._experiment.trials) == 6
    assert all(t.status == TrialStatus.COMPLETED for t in client._experiment.trials.values())


def test_history_is_translated_into_ax_statuses() -> None:
    study = optuna.create_study(sampler=AxSampler(seed=0, generation_strategy=SOBOL_ONLY))
    study.optimize(lambda t: loss(suggest(t)), n_trials=3)
    dist = dict(SPACE)
    fixed = {"x": 0.5, "lr": 0.01, "k": "b"}
    for state, value in [
        (TrialState.FAIL, None),
        (TrialState.PRUNED, None),
        (TrialState.PRUNED, 2.0),
        (TrialState.COMPLETE, float("inf")),
    ]:
        study.enqueue_trial(fixed)
        trial = study.ask(dist)
        if value is not None:
            trial.report(value, 3)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    study.enqueue_trial(fixed)
    running = study.ask(dist)  # another worker's trial, still RUNNING
    params = [Parameter(n, d) for n, d in SPACE.items()]
    with quiet_ax():
        client, index_of = AxSampler(seed=0).build_client(
            params, study._get_trials(deepcopy=False), study.directions
        )
    status = {n: client._experiment.trials[i].status for n, i in index_of.items()}
    assert [status[n] for n in range(3)] == [TrialStatus.COMPLETED] * 3
    assert status[3] == TrialStatus.FAILED
    assert status[4] == TrialStatus.ABANDONED  # pruned before reporting anything
    assert status[5] == TrialStatus.EARLY_STOPPED  # its last intermediate value is Ax data
    assert status[6] == TrialStatus.FAILED  # non-finite value
    assert status[running.number] == TrialStatus.RUNNING  # a pending point for Ax
    data = client._experiment.lookup_data().df
    assert data.loc[data["trial_index"] == index_of[5], "mean"].tolist() == [2.0]


def test_pending_trials_steer_the_next_suggestion_away() -> None:
    # Sobol's dedup skips a pending point: with a RUNNING trial at the next Sobol point, the
    # suggestion differs from the one made without it.
    sampler = AxSampler(seed=1, search_space=SPACE, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: loss(suggest(t)), n_trials=3)
    first = study.ask()
    alone = sampler.sample_relative(study, study._storage.get_trial(first._trial_id), SPACE)
    study2 = optuna.create_study(sampler=sampler)
    for t in study.trials[:3]:
        study2.add_trial(t)
    study2.enqueue_trial(alone)
    pending = study2.ask()
    suggest(pending)
    second = study2.ask()
    nxt = sampler.sample_relative(study2, study2._storage.get_trial(second._trial_id), SPACE)
    assert nxt != alone


def test_define_by_run_intersection_space_and_independent_params() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "rbf"])
        c = trial.suggest_float("C", 1e-3, 1e3, log=True)
        value = abs(math.log10(c))
        if kind == "rbf":
            value += abs(math.log10(trial.suggest_float("gamma", 1e-4, 1.0, log=True)) + 2)
        return value

    study = optuna.create_study(sampler=AxSampler(seed=0, generation_strategy=SOBOL_ONLY))
    study.optimize(objective, n_trials=12)
    for t in study.trials:
        assert_params_valid(t)
    first = study.trials[0]
    assert first.user_attrs["ax:independent"] == list(first.params)
    later = [t for t in study.trials[1:]]
    assert all(t.user_attrs.get("ax:generation_node") for t in later)
    assert all(set(t.user_attrs.get("ax:independent", [])) <= {"gamma"} for t in later)


def test_parameter_mapping_covers_every_distribution() -> None:
    space: dict[str, BaseDistribution] = {
        "f": FloatDistribution(0.0, 1.0),
        "flog": FloatDistribution(1e-3, 1.0, log=True),
        "fstep": FloatDistribution(0.0, 1.0, step=0.25),
        "i": IntDistribution(1, 10),
        "ilog": IntDistribution(1, 1000, log=True),
        "istep": IntDistribution(0, 20, step=5),
        "cs": CategoricalDistribution(["a", "b"]),
        "ci": CategoricalDistribution([16, 32, 64]),
        "cmix": CategoricalDistribution([None, True, 1.5, "x"]),
    }
    configs = {c.name: c for c in ax_parameters(space)}
    assert configs["flog"].scaling == "log" and configs["ilog"].parameter_type == "int"
    assert configs["fstep"].step_size == 0.25 and configs["istep"].step_size == 5
    assert configs["i"].step_size is None
    assert configs["ci"].values == [16, 32, 64] and configs["ci"].is_ordered is False
    assert configs["cmix"].values == ["0", "1", "2", "3"]

    sampler = AxSampler(seed=0, search_space=space, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: optuna.Trial) -> float:
        for name, d in space.items():
            trial._suggest(name, d)
        return 0.0

    study.optimize(objective, n_trials=10)
    for t in study.trials:
        assert_params_valid(t)
        assert "ax:independent" not in t.user_attrs
    assert {t.params["cmix"] is None for t in study.trials} == {True, False}


def test_multi_objective_directions_become_ax_objectives() -> None:
    sampler = AxSampler(seed=0, search_space=SPACE, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler, directions=["minimize", "maximize"])
    study.optimize(lambda t: (loss(suggest(t)), t.params["x"]), n_trials=4)
    params = [Parameter(n, d) for n, d in SPACE.items()]
    with quiet_ax():
        client, _ = sampler.build_client(params, study.trials, study.directions)
    config = client._experiment.optimization_config
    assert config.is_moo_problem
    assert config.objective.expression == "-objective_0, objective_1"


def test_constraints_become_outcome_constraints() -> None:
    sampler = AxSampler(seed=0, search_space=SPACE, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: optuna.Trial) -> float:
        p = suggest(trial)
        trial.set_constraint("x_below_2", p["x"] - 2.0)
        return loss(p)

    study.optimize(objective, n_trials=4)
    params = [Parameter(n, d) for n, d in SPACE.items()]
    with quiet_ax():
        client, index_of = sampler.build_client(params, study.trials, study.directions)
    (constraint,) = client._experiment.optimization_config.outcome_constraints
    assert constraint.metric_names == ["constraint_0"] and constraint.bound == 0.0
    data = client._experiment.lookup_data().df
    got = data[data["metric_name"] == "constraint_0"].sort_values("trial_index")["mean"]
    assert got.tolist() == [t.params["x"] - 2.0 for t in study.trials]


@pytest.mark.slow
def test_botorch_multi_objective_with_constraints_runs() -> None:
    space: dict[str, BaseDistribution] = {"x": FloatDistribution(-5.0, 5.0)}
    sampler = AxSampler(
        seed=0, search_space=space, generation_strategy={"initialization_budget": 3}
    )
    study = optuna.create_study(sampler=sampler, directions=["minimize", "minimize"])

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", -5.0, 5.0)
        trial.set_constraint("c", x - 3.0)
        return (x - 1) ** 2, (x + 2) ** 2

    study.optimize(objective, n_trials=4)
    assert study.trials[-1].user_attrs["ax:generation_node"] == "MBM"
    for t in study.trials:
        assert_params_valid(t)


def _journal_worker(path: str, seed: int, n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(path))
    space = {"x": SPACE["x"], "lr": SPACE["lr"]}  # continuous: BoTorch takes ~1 s, not ~10
    gs = {"initialization_budget": 3}
    sampler = AxSampler(seed=seed, search_space=space, generation_strategy=gs)
    study = optuna.load_study(study_name="ax", storage=storage, sampler=sampler)
    study.optimize(
        lambda t: (
            (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_float("lr", 1e-4, 1, log=True)
        ),
        n_trials=n_trials,
    )


@pytest.mark.slow
@pytest.mark.multiprocess
def test_two_processes_on_journal_storage(tmp_path: Any) -> None:
    path = str(tmp_path / "journal.log")
    storage = JournalStorage(JournalFileBackend(path))
    optuna.create_study(storage=storage, study_name="ax")
    _run_processes(_journal_worker, [(path, seed, 3) for seed in (0, 1)])
    trials = optuna.load_study(study_name="ax", storage=storage).trials
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:
        assert_params_valid(t)
    assert any(t.user_attrs.get("ax:generation_node") == "MBM" for t in trials)
    assert len({t.params["x"] for t in trials}) == 6


def test_minimize_direction_is_negated_for_ax() -> None:
    sampler = AxSampler(seed=0, search_space=SPACE, generation_strategy=SOBOL_ONLY)
    study = optuna.create_study(sampler=sampler, direction=StudyDirection.MINIMIZE)
    study.optimize(lambda t: loss(suggest(t)), n_trials=2)
    params = [Parameter(n, d) for n, d in SPACE.items()]
    with quiet_ax():
        client, _ = sampler.build_client(params, study.trials, study.directions)
    assert client._experiment.optimization_config.objective.minimize is True
