"""Every sampler of the pack (and TPE as a control) through Ray Tune's ``OptunaSearch``.

``OptunaSearch(sampler=...)`` keeps the sampler inside an in-memory Optuna study, and Tune
checkpoints the searcher with pickle (``Searcher.save`` pickles its ``__dict__``). So each
sampler must survive pickling with the same behaviour afterwards, and a short local Tune run
must finish with every result, intermediate values included, in the searcher's study.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import math
from pathlib import Path
import pickle
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import pytest

from optuna_advanced import BOHBSampler
from optuna_advanced._space import value_in_distribution
from optuna_advanced.testing.conformance import assert_params_valid
from optuna_advanced.testing.registry import SAMPLERS
from tests.integration.databases import required
from tests.integration.workers import sampler_by_name

try:
    import ray
    from ray import tune
    from ray.tune import Result
    from ray.tune import ResultGrid
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    from optuna_advanced.integration.ray import OptunaSearch as PackOptunaSearch
except ImportError:
    if required():
        raise  # CI (.ci/run) installs the `ray` extra (part of `all`): there these tests run
    pytest.skip(
        "needs the `ray` extra: pip install 'optuna-advanced[ray]'", allow_module_level=True
    )

SAMPLER_NAMES = [e.name for e in SAMPLERS.values()] + ["optuna.TPESampler"]
CONTROLS = {e.name for e in SAMPLERS.values() if e.control} | {"optuna.TPESampler"}
SPACE: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "n": IntDistribution(1, 8),
    "kind": CategoricalDistribution(["a", "b", "c"]),
}
N_STEPS = 3  # iterations each trial reports
N_HISTORY = 5  # finished trials before a pickle round trip
N_TRIALS = 6  # trials of a Tune run


def _loss(config: dict[str, Any], step: int) -> float:
    kind = {"a": 0.0, "b": 0.5, "c": 1.0}[config["kind"]]
    final = (config["x"] - 1) ** 2 + abs(math.log10(config["lr"]) + 2) + kind
    return float(final + (config["n"] - 3) ** 2 / 10 + 1 / step)


def _trainable(config: dict[str, Any]) -> None:
    for step in range(1, N_STEPS + 1):
        tune.report({"loss": _loss(config, step)})


def _searcher(sampler: BaseSampler, space: dict[str, BaseDistribution] = SPACE) -> OptunaSearch:
    return OptunaSearch(space=space, metric="loss", mode="min", sampler=sampler)


def _finish(searcher: OptunaSearch, trial_id: str, config: dict[str, Any]) -> None:
    """What Tune does for a trial: one result per iteration, then completion."""
    for step in range(1, N_STEPS + 1):
        result = {"loss": _loss(config, step), "training_iteration": step}
        searcher.on_trial_result(trial_id, result)
    searcher.on_trial_complete(trial_id, result)


def _study(searcher: OptunaSearch) -> optuna.Study:
    study = searcher._ot_study
    assert isinstance(study, optuna.Study)
    return study


def _results(grid: ResultGrid) -> list[Result]:
    return [grid[i] for i in range(len(grid))]


def _metrics(result: Result) -> dict[str, Any]:
    assert result.metrics is not None
    return result.metrics


def _config(result: Result) -> dict[str, Any]:
    assert result.config is not None
    return result.config


def _summary(trials: list[FrozenTrial]) -> list[tuple[Any, ...]]:
    return [
        (t.number, t.state, t.params, t.value, t.intermediate_values, t.user_attrs) for t in trials
    ]


def _in_space(config: dict[str, Any]) -> bool:
    return set(config) == set(SPACE) and all(
        value_in_distribution(d, config[name]) for name, d in SPACE.items()
    )


# -- pickling (no Ray runtime needed) ----------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_searcher_pickle_round_trip(name: str) -> None:
    searcher = _searcher(sampler_by_name(name, 0))
    # Pickled before its first trial (a Tuner pickles its configuration into tuner.pkl before
    # the run): the copy makes the same suggestions as the original over the whole history.
    early = pickle.loads(pickle.dumps(searcher))
    for i in range(N_HISTORY):
        config = searcher.suggest(f"t{i}")
        assert config is not None and _in_space(config), config
        assert early.suggest(f"t{i}") == config
        _finish(searcher, f"t{i}", config)
        _finish(early, f"t{i}", config)
    assert _summary(_study(early).trials) == _summary(_study(searcher).trials)

    # Pickled mid-run, with a trial still running (as Tune checkpoints the searcher).
    running = searcher.suggest("running")
    assert running is not None
    copy = pickle.loads(pickle.dumps(searcher))
    assert type(_study(copy).sampler) is type(_study(searcher).sampler)
    assert copy._sampler is _study(copy).sampler
    assert copy._ot_trials["running"].study is _study(copy)
    assert _summary(_study(copy).trials) == _summary(_study(searcher).trials)
    following = searcher.suggest("next")
    assert following is not None and _in_space(following)
    assert copy.suggest("next") == following
    for s in (searcher, copy):
        _finish(s, "running", running)
        _finish(s, "next", following)
    trials = _study(copy).trials
    assert _summary(trials) == _summary(_study(searcher).trials)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * (N_HISTORY + 2)
    assert all(
        t.intermediate_values == {s: _loss(t.params, s) for s in range(1, N_STEPS + 1)}
        for t in trials
    )


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_sampler_pickle_round_trip_after_suggesting(name: str) -> None:
    searcher = _searcher(sampler_by_name(name, 0))
    for i in range(N_HISTORY):
        config = searcher.suggest(f"t{i}")
        assert config is not None
        _finish(searcher, f"t{i}", config)
    sampler = _study(searcher).sampler
    copy = pickle.loads(pickle.dumps(sampler))
    assert type(copy) is type(sampler)
    history = _study(searcher).trials

    def next_trial(s: BaseSampler) -> FrozenTrial:
        study = optuna.create_study(sampler=s)
        study.add_trials(history)
        trial = study.ask(SPACE)
        return study._storage.get_trial(trial._trial_id)

    original, restored = next_trial(sampler), next_trial(copy)
    assert_params_valid(restored)
    assert restored.params == original.params
    assert restored.user_attrs == original.user_attrs


# -- short local Tune runs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    assert not ray.is_initialized(), "another test left Ray running"
    # Tiny objects only: a small object store instead of 30 % of the machine's memory.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=256 * 1024**2,
    )
    try:
        yield
    finally:
        ray.shutdown()


def _fit(
    trainable: Callable[[dict[str, Any]], None],
    searcher: OptunaSearch,
    path: Path,
    num_samples: int,
    **tune_config: Any,
) -> ResultGrid:
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            num_samples=num_samples,
            metric="loss",
            mode="min",
            max_concurrent_trials=2,  # both CPUs busy: the sampler sees a RUNNING trial
            reuse_actors=True,
            **tune_config,
        ),
        run_config=tune.RunConfig(name="run", storage_path=str(path), verbose=0),
    )
    return tuner.fit()


def _check_study_saw_everything(
    searcher: OptunaSearch, results: ResultGrid, max_resource: int | None = None
) -> list[FrozenTrial]:
    """Each Tune trial is one Optuna trial with its config, every reported value as an
    intermediate value and the last one as its value; returns the study's trials. It is
    COMPLETE, or with ``max_resource`` PRUNED when it stopped before that iteration."""
    trials = _study(searcher).trials
    assert len(trials) == len(results)
    assert sorted(t.number for t in trials) == list(range(len(results)))
    for result in _results(results):
        assert result.error is None
        history = result.metrics_dataframe
        assert history is not None
        reported = dict(zip(history["training_iteration"], history["loss"]))
        assert len(reported) == _metrics(result)["training_iteration"]
        number = searcher._ot_trials[_metrics(result)["trial_id"]].number
        trial = trials[number]
        stopped = max_resource is not None and len(reported) < max_resource
        assert trial.state == (TrialState.PRUNED if stopped else TrialState.COMPLETE)
        assert trial.params == _config(result)
        assert trial.intermediate_values == reported
        assert trial.value == _metrics(result)["loss"]
    return trials


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_tune_run(ray_cluster: None, tmp_path: Path, name: str) -> None:
    searcher = _searcher(sampler_by_name(name, 0))
    results = _fit(_trainable, searcher, tmp_path, N_TRIALS)

    assert results.num_errors == 0 and results.num_terminated == N_TRIALS
    for result in _results(results):
        assert _metrics(result)["training_iteration"] == N_STEPS
        assert _in_space(_config(result)), result.config
    trials = _check_study_saw_everything(searcher, results)
    for t in trials:
        assert_params_valid(t)
    configurations = {tuple(sorted(t.params.items())) for t in trials}
    assert len(configurations) == N_TRIALS, "a configuration was repeated"
    if name not in CONTROLS:
        # The pack's samplers record in namespaced user attributes how they chose each trial:
        # their sampling hooks ran for every trial, not a fallback of Ray's.
        assert all(any(":" in key for key in t.user_attrs) for t in trials)

    # Tune's own checkpoint of the searcher (a pickle) restores the study and the sampler.
    restored = OptunaSearch()
    restored.restore_from_dir(str(tmp_path / "run"))
    assert _summary(_study(restored).trials) == _summary(trials)
    assert type(_study(restored).sampler) is type(_study(searcher).sampler)
    assert restored.suggest("after") == searcher.suggest("after")


def _curve_trainable(config: dict[str, Any]) -> None:
    for step in range(1, 10):
        tune.report({"loss": (config["x"] - 1) ** 2 + (config["y"] + 2) ** 2 + 1 / step})


def _check_bohb_under_asha(
    searcher: OptunaSearch, path: Path, max_resource: int | None = None
) -> None:
    scheduler = ASHAScheduler(max_t=9, grace_period=1, reduction_factor=3)
    results = _fit(_curve_trainable, searcher, path, 12, scheduler=scheduler)

    assert results.num_errors == 0 and results.num_terminated == 12
    iterations = [_metrics(r)["training_iteration"] for r in _results(results)]
    assert min(iterations) < 9 and max(iterations) == 9, iterations  # ASHA stopped some
    trials = _study(searcher).trials
    models = [t.user_attrs for t in trials if t.user_attrs["bohb:source"] == "model"]
    assert models, [t.user_attrs for t in trials]
    for attrs in models:
        # A model of a budget (an iteration) that trials reported at, not of final values;
        # with 2 parameters a budget needs 2 (d + 1) = 6 observations.
        assert attrs["bohb:model_budget"] in range(1, 10), attrs
        assert attrs["bohb:model_points"] >= 6
    _check_study_saw_everything(searcher, results, max_resource)


_SPACE_2D: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-5.0, 5.0),
    "y": FloatDistribution(-5.0, 5.0),
}


@pytest.mark.slow
def test_bohb_models_budgets_of_asha_stopped_trials(ray_cluster: None, tmp_path: Path) -> None:
    """Multi-fidelity: Tune's ASHA stops trials early, every reported iteration reaches the
    study as an intermediate value, and BOHB builds its models per budget from them.

    Tune tells ``OptunaSearch`` a stopped trial's last result as a completion, so stopped trials
    are COMPLETE (not PRUNED) with the value at the iteration they stopped at.
    ``random_fraction=0`` makes every suggestion after the start-up come from a model.
    """
    sampler = BOHBSampler(seed=0, random_fraction=0.0)
    searcher = PackOptunaSearch(space=_SPACE_2D, metric="loss", mode="min", sampler=sampler)
    _check_bohb_under_asha(searcher, tmp_path)


@pytest.mark.slow
def test_stopped_trials_are_pruned_with_max_resource(ray_cluster: None, tmp_path: Path) -> None:
    """With ``max_resource``, a trial ASHA stops before the last iteration is PRUNED, and its
    value is the last one it reported, as an Optuna pruner would leave it."""
    sampler = BOHBSampler(seed=0, random_fraction=0.0)
    searcher = PackOptunaSearch(
        space=_SPACE_2D, metric="loss", mode="min", sampler=sampler, max_resource=9
    )
    _check_bohb_under_asha(searcher, tmp_path, max_resource=9)
    trials = _study(searcher).trials
    for t in trials:
        last = max(t.intermediate_values)
        assert t.state == (TrialState.COMPLETE if last == 9 else TrialState.PRUNED)
        assert t.value == t.intermediate_values[last]
    assert {t.state for t in trials} == {TrialState.COMPLETE, TrialState.PRUNED}


@pytest.mark.slow
def test_ray_s_own_search_loses_the_budget_a_trial_stopped_at(
    ray_cluster: None, tmp_path: Path
) -> None:
    """Why the pack's class exists (Ray Tune 2.60): with Ray's ``OptunaSearch`` the result ASHA
    stops a trial on is told as its value but never reported at its iteration, so a trial
    stopped at iteration 1 has no intermediate values and BOHB models it as fully trained."""
    sampler = BOHBSampler(seed=0, random_fraction=0.0)
    searcher = _searcher(sampler, _SPACE_2D)
    scheduler = ASHAScheduler(max_t=9, grace_period=1, reduction_factor=3)
    results = _fit(_curve_trainable, searcher, tmp_path, 12, scheduler=scheduler)
    stopped = [r for r in _results(results) if _metrics(r)["training_iteration"] == 1]
    assert stopped
    trials = {t.number: t for t in _study(searcher).trials}
    lost = [t for t in trials.values() if not t.intermediate_values]
    assert len(lost) == len(stopped)
