"""Bad input: every registered sampler and pruner on hostile histories, and nothing unpickled.

The per-sampler tests (``tests/samplers/``) each check a hand-picked NaN or FAIL case; here
hypothesis draws whole histories for every entry of the registry at once: mixed search spaces
whose ranges move between trials, conditional parameters, odd parameter names, objective and
intermediate values from {normal, NaN, +-inf, +-1e300, +-max float, 0}, constraint values
(``trial.set_constraint``) from {+-inf, 1e300, ...}, FAIL trials, PRUNED trials with and without
intermediate values, RUNNING trials of crashed workers. After each history the sampler
(a fresh object, as in another process) asks new trials on an SQLite copy of it, and plain
Optuna must read everything back. Then: studies that are empty or hold only failures, the
combinations the pack does not support (each must fail with a clear error), and a check that
nothing the pack reads back from storage is unpickled and every attribute is JSON.

The registry's ``HyperoptSampler`` and ``RandomForestSampler`` stay in their random start-up
phase for the short histories drawn here (TPE starts modelling after 20 trials, the forest after
``min(10 d, 25)``), so the bad values would never reach a model; the ``(model)`` variants below
start modelling after two trials so that they do.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import io
import itertools
import json
import math
from pathlib import Path
import pickle
import sys
import tempfile
import types
from typing import Any
from typing import Literal
import warnings

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import BaseSampler
from optuna.storages import RDBStorage
from optuna.study import Study
from optuna.study import StudyDirection
from optuna.trial import create_trial
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import pytest

from optuna_advanced._space import value_in_distribution
from optuna_advanced.pbt import Checkpoint
from optuna_advanced.testing.registry import PrunerEntry
from optuna_advanced.testing.registry import PRUNERS
from optuna_advanced.testing.registry import SAMPLERS

SamplerFactory = Callable[[int | None], BaseSampler]

# Optuna turns a NaN objective into a FAIL trial with this warning; that is the input here.
pytestmark = pytest.mark.filterwarnings("ignore:The value nan is not acceptable:UserWarning")


# -- the samplers and pruners under test ----------------------------------------------------------


def _hyperopt_tpe_model(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import HyperoptSampler

    return HyperoptSampler(algo="tpe", seed=seed, n_startup_jobs=2)


def _random_forest_model(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import RandomForestSampler

    return RandomForestSampler(
        seed=seed,
        n_startup_trials=2,
        random_fraction=0.0,
        n_random_candidates=200,
        n_local_starts=2,
    )


def _bohb_model(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import BOHBSampler

    return BOHBSampler(seed=seed, random_fraction=0.0)


@dataclass(frozen=True)
class _Case:
    name: str
    factory: SamplerFactory
    multi_objective: bool
    n_examples: int = 12  # hypothesis examples of hostile histories


# Ax rebuilds a Client at every ask (~0.3 s on a loaded machine): fewer examples.
_EXAMPLES = {"AxSampler(sobol)": 6}
CASES = [
    _Case(e.name, e.factory, e.multi_objective, _EXAMPLES.get(e.name, 12))
    for e in SAMPLERS.values()
] + [
    _Case("HyperoptSampler(model)", _hyperopt_tpe_model, False),
    _Case("RandomForestSampler(model)", _random_forest_model, True),
    _Case("BOHBSampler(model)", _bohb_model, False),
]
SINGLE_ONLY = [c for c in CASES if not c.multi_objective]


def _case_params(cases: list[_Case]) -> list[Any]:
    return [pytest.param(c, id=c.name) for c in cases]


def _pruner_params() -> list[Any]:
    return [pytest.param(e, id=e.name) for e in PRUNERS.values()]


# -- storage --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # One database for the module (each example makes its own study in it): creating an engine
    # and its tables per hypothesis example would dominate the run time. In RAM where Linux
    # offers it: SQLite's fsync per commit is most of an ask on a busy disk, and durability is
    # not what these tests check.
    shm = Path("/dev/shm")
    if shm.is_dir():
        with tempfile.TemporaryDirectory(dir=shm, prefix="optuna_advanced_") as directory:
            yield f"sqlite:///{Path(directory) / 'studies.db'}"
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('bad_input') / 'studies.db'}"


@pytest.fixture(scope="module")
def sqlite_storage(sqlite_url: str) -> RDBStorage:
    return RDBStorage(sqlite_url)


_names = (f"study-{i}" for i in itertools.count())


def _is_json(value: Any) -> bool:
    """A value made only of JSON's types (dict keys strings), as the storages must get."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_is_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    return False


def _assert_attrs_json(attrs: dict[str, Any], where: str) -> None:
    for key, value in attrs.items():
        assert _is_json(value), (where, key, value, type(value))
    json.dumps(attrs, allow_nan=True)  # what the RDB storages do with them


def _assert_sound(study: Study) -> None:
    """Every parameter inside its distribution, every attribute JSON."""
    for t in study.get_trials(deepcopy=False):
        for name, value in t.params.items():
            assert value_in_distribution(t.distributions[name], value), (t.number, name, value)
        _assert_attrs_json(t.user_attrs, f"trial {t.number} user_attrs")
        _assert_attrs_json(t.system_attrs, f"trial {t.number} system_attrs")
    _assert_attrs_json(study.user_attrs, "study user_attrs")
    system_attrs = study._storage.get_study_system_attrs(study._study_id)  # not public in Optuna 5
    _assert_attrs_json(system_attrs, "study system_attrs")


def _assert_readable(
    storage: str | RDBStorage, study_name: str, expected: list[FrozenTrial]
) -> None:
    """Plain Optuna loads the study afresh from the database: same trials, sound contents.

    Given the module's ``RDBStorage`` (one engine for all examples), the load still reads every
    trial from the database: the cache Optuna puts in front of an RDB storage is per ``Study``.
    """
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert [(t.number, t.state) for t in trials] == [(t.number, t.state) for t in expected]
    _assert_sound(study)


# -- suggesting -----------------------------------------------------------------------------------


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """Suggest through the public API, as an objective would; check the value."""
    if isinstance(dist, CategoricalDistribution):
        value: Any = trial.suggest_categorical(name, dist.choices)
    elif isinstance(dist, IntDistribution):
        value = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    else:
        assert isinstance(dist, FloatDistribution)
        value = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    assert value_in_distribution(trial.distributions[name], value), (name, value, dist)
    return value


def _suggest_mixed(trial: optuna.Trial) -> None:
    """Every distribution kind, with a conditional parameter (fixed ranges)."""
    _suggest(trial, "x", FloatDistribution(-5.0, 5.0))
    _suggest(trial, "lr", FloatDistribution(1e-5, 1e-1, log=True))
    _suggest(trial, "q", FloatDistribution(0.0, 1.0, step=0.25))
    _suggest(trial, "n", IntDistribution(1, 8))
    _suggest(trial, "width", IntDistribution(2, 64, log=True))
    if _suggest(trial, "kind", CategoricalDistribution(["a", 1, 2.5, None])) == "a":
        _suggest(trial, "a_only", FloatDistribution(0.0, 1.0))


# -- hypothesis: hostile histories ----------------------------------------------------------------

HUGE = sys.float_info.max
BAD_VALUES = (0.0, math.nan, math.inf, -math.inf, 1e300, -1e300, HUGE, -HUGE)
objective_values = st.sampled_from(BAD_VALUES) | st.floats(-10.0, 10.0)
# Optuna refuses a NaN constraint value.
constraint_values = st.none() | st.sampled_from((-1.0, 0.0, 1.0, math.inf, -math.inf, 1e300))

# Ranges per (class, log): a parameter keeps its class and log flag (Optuna's storages refuse a
# change) but may move between these from trial to trial, stepped or not. Widths stay above
# Ax's minimum (1.5e-5) and grids small (Ax enumerates a stepped range): see the dedicated
# tests below for what lies beyond.
FLOAT_RANGES: tuple[tuple[float, float, float | None], ...] = (
    (0.0, 1.0, None),
    (-5.0, 5.0, None),
    (-1e300, 1e300, None),
    (1e6, 1e6 + 1e-3, None),
    (3.0, 3.0, None),
    (0.0, 1.0, 0.25),
    (-1.0, 1.0, 0.1),
    (0.05, 1.05, 0.25),
    (1e6, 1e6 + 10.0, 0.5),
)
LOG_RANGES = ((1e-5, 1e-1), (1e-300, 1e300), (1.0, 1.0), (0.5, 2.0))
INT_RANGES = ((0, 10, 1), (-5, 5, 1), (-(10**15), 10**15, 1), (7, 7, 1), (0, 12, 3), (1, 9, 2))
INT_LOG_RANGES = ((1, 1024), (2, 3), (5, 5), (1, 10**12))
KINDS = ("float", "log", "int", "int_log", "categorical")
CHOICES = ("a", "", 3, 2.5, None, True, math.inf)  # no two equal (True == 1, so no 1)
NAMES = ("x", "lr", "n", "a b", "0", "objective", "ü.ü:1")
STEPS = (0, 1, 2, 3, 9, 27, 100)


@st.composite
def distributions(draw: st.DrawFn, kind: str, choices: tuple[Any, ...]) -> BaseDistribution:
    if kind == "float":
        low, high, step = draw(st.sampled_from(FLOAT_RANGES))
        return FloatDistribution(low, high, step=step)
    if kind == "log":
        low, high = draw(st.sampled_from(LOG_RANGES))
        return FloatDistribution(low, high, log=True)
    if kind == "int":
        ilow, ihigh, istep = draw(st.sampled_from(INT_RANGES))
        return IntDistribution(ilow, ihigh, step=istep)
    if kind == "int_log":
        ilow, ihigh = draw(st.sampled_from(INT_LOG_RANGES))
        return IntDistribution(ilow, ihigh, log=True)
    return CategoricalDistribution(choices)  # Optuna refuses changed choices for a name


@st.composite
def values_in(draw: st.DrawFn, dist: BaseDistribution) -> Any:
    """A parameter value inside ``dist`` (what another sampler or a user could have stored)."""
    if isinstance(dist, CategoricalDistribution):
        return draw(st.sampled_from(dist.choices))
    assert isinstance(dist, (FloatDistribution, IntDistribution))
    if dist.step is not None:
        k = draw(st.integers(0, round((dist.high - dist.low) / dist.step)))
        grid = min(dist.low + k * dist.step, dist.high)
        return int(grid) if isinstance(dist, IntDistribution) else float(grid)
    if isinstance(dist, IntDistribution):
        return draw(st.integers(dist.low, dist.high))
    return draw(st.floats(dist.low, dist.high))


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of a history: added with ``create_trial`` or run through ask/tell."""

    via: str  # "add" or "tell"
    distributions: dict[str, BaseDistribution]  # the trial's active parameters
    params: dict[str, Any]  # "add" only; with "tell" the sampler chooses
    state: TrialState
    values: tuple[float, ...] | None
    intermediate: dict[int, float]
    constraint: float | None


@dataclass(frozen=True)
class History:
    directions: tuple[StudyDirection, ...]
    trials: tuple[PlannedTrial, ...]
    new_space: dict[str, BaseDistribution]  # what the trials asked afterwards use


@st.composite
def histories(draw: st.DrawFn, *, multi_objective: bool, max_trials: int = 8) -> History:
    n_objectives = draw(st.sampled_from((1, 2))) if multi_objective else 1
    directions = tuple(
        draw(st.sampled_from((StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE)))
        for _ in range(n_objectives)
    )
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    kinds = {name: draw(st.sampled_from(KINDS)) for name in names}
    choices = tuple(
        CHOICES[i]
        for i in draw(
            st.lists(st.integers(0, len(CHOICES) - 1), min_size=1, max_size=4, unique=True)
        )
    )
    base = {name: draw(distributions(kinds[name], choices)) for name in names}
    moving = draw(st.booleans())  # ranges change between trials

    def dist_of(name: str) -> BaseDistribution:
        if moving and draw(st.booleans()):
            return draw(distributions(kinds[name], choices))
        return base[name]

    planned = []
    for _ in range(draw(st.integers(0, max_trials))):
        active = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
        dists = {name: dist_of(name) for name in active}  # conditional: a subset, maybe none
        via = draw(st.sampled_from(("add", "tell")))
        states = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED]
        if via == "tell":
            states.append(TrialState.RUNNING)  # a worker that died mid-trial
        state = draw(st.sampled_from(states))
        intermediate: dict[int, float] = {}
        if n_objectives == 1:  # Trial.report refuses multi-objective studies
            intermediate = draw(
                st.dictionaries(st.sampled_from(STEPS), objective_values, max_size=3)
            )
        values = None
        if state == TrialState.COMPLETE:
            values = tuple(draw(objective_values) for _ in range(n_objectives))
            if via == "add" and any(math.isnan(v) for v in values):
                state, values = TrialState.FAIL, None  # create_trial refuses NaN; tell fails it
        elif state == TrialState.PRUNED and via == "add" and intermediate and n_objectives == 1:
            last = intermediate[max(intermediate)]  # as study.tell records a pruned trial
            values = None if math.isnan(last) else (last,)
        params = {n: draw(values_in(d)) for n, d in dists.items()} if via == "add" else {}
        constraint = draw(constraint_values)
        planned.append(PlannedTrial(via, dists, params, state, values, intermediate, constraint))
    new_space = {name: dist_of(name) for name in names}
    return History(directions, tuple(planned), new_space)


def _replay(study: Study, history: History, *, check_pruner: bool = False) -> None:
    """Put ``history`` into ``study``; "tell" trials go through the study's sampler."""
    for plan in history.trials:
        if plan.via == "add":
            frozen = create_trial(
                state=plan.state,
                values=list(plan.values) if plan.values is not None else None,
                params=plan.params,
                distributions=plan.distributions,
                intermediate_values=plan.intermediate,
            )
            if plan.constraint is not None:
                frozen.set_constraint("c", plan.constraint)
            study.add_trial(frozen)
            continue
        trial = study.ask()
        for name, dist in plan.distributions.items():
            _suggest(trial, name, dist)
        if plan.constraint is not None:
            trial.set_constraint("c", plan.constraint)
        for step, value in plan.intermediate.items():
            trial.report(value, step)
            if check_pruner:
                assert type(trial.should_prune()) is bool
        if plan.state == TrialState.COMPLETE:
            assert plan.values is not None
            study.tell(trial, list(plan.values))
        elif plan.state != TrialState.RUNNING:
            study.tell(trial, state=plan.state)


def _copy_to_sqlite(memory: Study, storage: RDBStorage, **kwargs: Any) -> Study:
    """The history as it reaches another process: through an RDB storage, attributes as JSON."""
    study = optuna.create_study(
        storage=storage, study_name=next(_names), directions=memory.directions, **kwargs
    )
    study.add_trials(memory.get_trials(deepcopy=False))
    return study


def _tell_new(study: Study, trial: optuna.Trial, value: float) -> None:
    values = [value] * len(study.directions)
    study.tell(trial, values if len(values) > 1 else values[0])


@pytest.mark.slow
@pytest.mark.parametrize("case", _case_params(CASES))
def test_sampler_survives_hostile_history(case: _Case, sqlite_storage: RDBStorage) -> None:
    # The history is built in memory (the sampler under test picks the "tell" trials'
    # parameters); then a fresh sampler object asks on an SQLite copy, so everything it knows
    # comes back from an RDB storage, as in another process.
    @settings(
        max_examples=case.n_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        history = data.draw(histories(multi_objective=case.multi_objective), label="history")
        memory = optuna.create_study(directions=list(history.directions), sampler=case.factory(0))
        _replay(memory, history)
        study = _copy_to_sqlite(memory, sqlite_storage, sampler=case.factory(1))
        for value in data.draw(st.lists(objective_values, min_size=2, max_size=2), label="new"):
            trial = study.ask()
            for name, dist in history.new_space.items():
                _suggest(trial, name, dist)
            _tell_new(study, trial, value)
        _assert_readable(sqlite_storage, study.study_name, study.get_trials(deepcopy=False))

    check()


@pytest.mark.slow
@pytest.mark.parametrize("entry", _pruner_params())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pruner_survives_hostile_history(
    entry: PrunerEntry, sqlite_storage: RDBStorage, data: st.DataObject
) -> None:
    history = data.draw(histories(multi_objective=False), label="history")
    memory = optuna.create_study(
        directions=list(history.directions),
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=entry.factory(),
    )
    _replay(memory, history, check_pruner=True)
    study = _copy_to_sqlite(
        memory, sqlite_storage, sampler=optuna.samplers.RandomSampler(1), pruner=entry.factory()
    )
    curves = st.dictionaries(st.sampled_from(STEPS), objective_values, min_size=1, max_size=4)
    for curve in data.draw(st.lists(curves, min_size=2, max_size=2), label="curves"):
        trial = study.ask()
        for name, dist in history.new_space.items():
            _suggest(trial, name, dist)
        pruned = False
        for step in sorted(curve):
            trial.report(curve[step], step)
            decision = trial.should_prune()
            assert type(decision) is bool
            if decision:
                pruned = True
                break
        if pruned:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, curve[max(curve)])
    _assert_readable(sqlite_storage, study.study_name, study.get_trials(deepcopy=False))


# -- studies with nothing usable in them ----------------------------------------------------------

_DIST = {"x": FloatDistribution(-5.0, 5.0), "kind": CategoricalDistribution(["a", 1, 2.5, None])}


def _degenerate_history(study: Study, scenario: str) -> None:
    """``empty``; ``fail``: only FAIL trials; ``pruned``: only PRUNED, half without any
    intermediate value; ``nan``: every objective and intermediate value NaN."""
    if scenario == "empty":
        return
    for i in range(6):
        params = {"x": -5.0 + i, "kind": [None, "a", 1][i % 3]} if i % 4 else {}
        dists = _DIST if params else {}
        if scenario == "fail":
            study.add_trial(
                create_trial(state=TrialState.FAIL, params=params, distributions=dists)
            )
        elif scenario == "pruned":
            curve = {1: float(i), 3: float(-i)} if i % 2 else {}
            study.add_trial(
                create_trial(
                    state=TrialState.PRUNED,
                    params=params,
                    distributions=dists,
                    intermediate_values=curve,
                )
            )
        else:  # nan: told NaN (Optuna fails those trials), pruned after NaN reports
            trial = study.ask(dict(dists))
            if len(study.directions) == 1:
                trial.report(math.nan, 1)
                trial.report(math.nan, 3)
            if i % 2:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                study.tell(trial, [math.nan] * len(study.directions))


# In memory: the in-memory storage keeps the objects a sampler writes, so the JSON check is
# strict here (an RDB storage would have turned a tuple into a list); the hostile-history
# tests above cover reading back from SQLite.


@pytest.mark.parametrize("scenario", ["empty", "fail", "pruned", "nan"])
@pytest.mark.parametrize("case", _case_params(CASES))
def test_sampler_on_a_study_with_nothing_to_learn_from(case: _Case, scenario: str) -> None:
    study = optuna.create_study(sampler=case.factory(0))
    _degenerate_history(study, scenario)
    for _ in range(3):
        trial = study.ask()
        _suggest_mixed(trial)
        study.tell(trial, 1.0)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials[-3:]] == [TrialState.COMPLETE] * 3
    _assert_sound(study)


@pytest.mark.parametrize("scenario", ["empty", "fail", "pruned", "nan"])
@pytest.mark.parametrize("entry", _pruner_params())
def test_pruner_on_a_study_with_nothing_to_learn_from(entry: PrunerEntry, scenario: str) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0), pruner=entry.factory())
    _degenerate_history(study, scenario)
    decisions = []
    for i in range(4):
        trial = study.ask(dict(_DIST))
        for step in range(1, 10):
            trial.report(math.nan if scenario == "nan" else float(i), step)
            decisions.append(trial.should_prune())
            if decisions[-1]:
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(i))
    assert all(type(d) is bool for d in decisions)
    new = study.trials[-4:]
    if scenario == "nan":
        assert all(t.state == TrialState.PRUNED for t in new)  # NaN ranks worst at every rung
    else:
        assert new[0].state == TrialState.COMPLETE  # the best curve so far is never stopped
    _assert_sound(study)


# -- combinations the pack does not support: a clear error, storage intact ------------------------


def _multi_objective_history(study: Study) -> None:
    for i, values in enumerate([(1.0, 2.0), (math.inf, -math.inf), (1e300, 0.0)]):
        study.add_trial(
            create_trial(params={"x": i / 4}, distributions={"x": _DIST["x"]}, values=values)
        )


@pytest.mark.parametrize("case", _case_params(SINGLE_ONLY))
def test_single_objective_samplers_refuse_multi_objective_clearly(
    case: _Case, sqlite_url: str, sqlite_storage: RDBStorage
) -> None:
    study = optuna.create_study(
        storage=sqlite_storage,
        study_name=next(_names),
        directions=["minimize", "maximize"],
        sampler=case.factory(0),
    )
    _multi_objective_history(study)
    # Raised at the first suggestion (the sampler checks in infer_relative_search_space), with
    # the sampler's name and what it needs.
    with pytest.raises(ValueError) as info:
        study.optimize(lambda t: (t.suggest_float("x", -5.0, 5.0), 0.0), n_trials=1)
    message = str(info.value)
    assert type(study.sampler).__name__ in message and "-objective" in message, message
    trials = study.get_trials(deepcopy=False)
    assert trials[-1].state == TrialState.FAIL and not trials[-1].params  # optimize failed it
    _assert_readable(sqlite_url, study.study_name, trials)


@pytest.mark.parametrize("entry", _pruner_params())
def test_pruners_on_multi_objective_studies_behave_as_optunas(entry: PrunerEntry) -> None:
    # Optuna refuses report and should_prune on a multi-objective study before any pruner
    # runs. Called directly, Optuna's halving pruners read ``study.direction`` once a trial
    # reaches a rung, which raises; BOHBPruner must do exactly that (and nothing else), as
    # HyperbandPruner does.
    study = optuna.create_study(directions=["minimize", "minimize"], pruner=entry.factory())
    trial = study.ask({"x": _DIST["x"]})
    with pytest.raises(NotImplementedError, match="multi-objective"):
        trial.report(1.0, 1)
    with pytest.raises(NotImplementedError, match="multi-objective"):
        trial.should_prune()
    study.tell(trial, [1.0, 2.0])

    outcomes: set[bool | str] = set()
    for _ in range(40):
        trial = study.ask({"x": _DIST["x"]})
        for step in (1, 3, 9):
            study._storage.set_trial_intermediate_value(trial._trial_id, step, 1.0)
        frozen = study._storage.get_trial(trial._trial_id)
        try:
            outcomes.add(study.pruner.prune(study, frozen))
        except RuntimeError as exc:
            assert "multi-objective" in str(exc)
            outcomes.add("raises")
        study.tell(trial, [1.0, 2.0])
    assert outcomes <= {False, "raises"}
    assert "raises" in outcomes  # the first rung is reached in every pruner's first bracket


def test_population_based_training_refuses_multi_objective_before_writing(
    sqlite_url: str, sqlite_storage: RDBStorage
) -> None:
    # tests/pbt checks the error; here, on a stored history, nothing is written first.
    from optuna_advanced import PopulationBasedTraining

    study = optuna.create_study(
        storage=sqlite_storage, study_name=next(_names), directions=["minimize", "minimize"]
    )
    _multi_objective_history(study)
    with pytest.raises(ValueError, match="single-objective"):
        PopulationBasedTraining(study, population_size=2)
    reloaded = optuna.load_study(study_name=study.study_name, storage=sqlite_url)
    assert reloaded.user_attrs == {} and len(reloaded.trials) == 3
    _assert_readable(sqlite_url, study.study_name, study.get_trials(deepcopy=False))


def _ax_sobol(seed: int | None) -> BaseSampler:
    return SAMPLERS["AxSampler(sobol)"].factory(seed)


def _run_two_trials(study: Study, dist: BaseDistribution) -> None:
    # The first trial of a define-by-run study is drawn independently; the bridge models the
    # parameter from the second on.
    study.optimize(lambda t: float(len(repr(_suggest(t, "p", dist)))), n_trials=2)


@pytest.mark.parametrize(
    ("dist", "match"),
    [
        # Ax refuses ranges narrower than 100 * 1.5e-7 ("likely to cause numerical errors").
        (FloatDistribution(0.0, 1e-9), "p's range .* is very small"),
        # Optuna accepts repeated choices; Ax's choice parameter needs distinct values.
        (CategoricalDistribution(["a", "a"]), "require multiple feasible values"),
    ],
    ids=["narrow-range", "repeated-choices"],
)
def test_ax_bridge_refuses_what_ax_cannot_represent_clearly(
    dist: BaseDistribution, match: str, sqlite_url: str, sqlite_storage: RDBStorage
) -> None:
    from ax.exceptions.core import UserInputError

    study = optuna.create_study(
        storage=sqlite_storage, study_name=next(_names), sampler=_ax_sobol(0)
    )
    with pytest.raises(UserInputError, match=match):
        _run_two_trials(study, dist)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    _assert_readable(sqlite_url, study.study_name, trials)


def test_ax_bridge_large_stepped_grid() -> None:
    """A stepped range too large to list goes to Ax as a plain range, snapped back."""
    study = optuna.create_study(sampler=_ax_sobol(0))
    dist = IntDistribution(0, 3 * 10**17, step=3)
    _run_two_trials(study, dist)
    for t in study.trials:
        assert t.state == TrialState.COMPLETE and t.params["p"] % 3 == 0


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="Hyperopt's TPE asserts a positive prior width (tpe.adaptive_parzen_normal: "
    "`assert minsigma > 0`); a float range a few subnormals wide, which Optuna accepts, "
    "ends in a bare AssertionError once the model starts, not a clear error.",
)
def test_hyperopt_bridge_subnormal_range() -> None:
    study = optuna.create_study(sampler=_hyperopt_tpe_model(0))
    study.optimize(lambda t: _suggest(t, "p", FloatDistribution(0.0, 5e-324)), n_trials=4)


# -- found by these tests and fixed: huge scores and grids ----------------------------------------


def test_pb2_huge_scores_of_both_signs(tmp_path: Path) -> None:
    from optuna.artifacts import FileSystemArtifactStore

    from optuna_advanced import PopulationBasedTraining

    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        trial.suggest_float("h", 0.0, 1.0)
        return 1e308 if checkpoint.member == 1 else -1e308

    pbt = PopulationBasedTraining(
        optuna.create_study(direction="maximize"),
        population_size=2,
        perturbation_interval=1,
        search_space={"h": FloatDistribution(0.0, 1.0)},
        explore="pb2",
        artifact_store=FileSystemArtifactStore(str(tmp_path)),
        seed=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way either
        pbt.optimize(objective, n_steps=3)
    assert len(pbt.study.trials) >= 6  # more when a member copied one a step behind it
    assert all(t.state == TrialState.COMPLETE for t in pbt.study.trials)


@pytest.mark.parametrize(
    ("values", "constraints"),
    [
        ([[1.0], [2.0], [3.0], [4.0]], [math.inf, -1.0, -1.0, -1.0]),
        ([[1e308], [-1e308], [1.0], [2.0]], [-1.0] * 4),
        # ParEGO scales each objective by its range, which overflows the same way.
        ([[1e308, 0.0], [-1e308, 1.0], [1.0, 2.0], [2.0, 0.5]], [-1.0] * 4),
    ],
    ids=["infinite-constraint", "values-1e308-of-both-signs", "multi-objective-1e308"],
)
def test_random_forest_overflowing_costs(
    values: list[list[float]], constraints: list[float]
) -> None:
    study = optuna.create_study(
        directions=["minimize"] * len(values[0]), sampler=_random_forest_model(0)
    )
    for value, constraint in zip(values, constraints):
        trial = study.ask()
        trial.suggest_float("x", -5.0, 5.0)
        trial.set_constraint("c", constraint)
        study.tell(trial, value)
    last = study.trials[-1].user_attrs
    assert last["rf:source"] == "model"
    assert math.isfinite(last["rf:predicted_value"]), last


# -- security: nothing read from storage is unpickled; attributes are JSON ------------------------

# pickle's readers: the C ones and the pure-Python ones (joblib and cloudpickle build on those).
_PICKLE_READERS = ("loads", "load", "Unpickler", "_loads", "_load", "_Unpickler")


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out += [sub, *_subclasses(sub)]
    return out


@contextlib.contextmanager
def _no_unpickling() -> Iterator[list[str]]:
    """Make every way to unpickle raise inside the block, and record the attempts.

    pickle's reader functions and classes are replaced wherever a loaded module holds them
    (``import pickle`` as well as ``from pickle import loads``); subclasses of the Unpicklers
    that libraries defined at import have their ``load`` replaced. Attempts are recorded too,
    since a library may catch the error. Only the code inside the block is covered: samplers are
    built and modules imported outside it.

    Nothing needed narrowing: none of the samplers, BOHBPruner or PopulationBasedTraining, nor
    what they call in Hyperopt, Ax, scikit-learn or SciPy during an ask or tell, unpickles
    anything (Optuna's JournalStorage does, for its snapshots; these tests use SQLite).
    """
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def reader(*args: Any, **kwargs: Any) -> Any:
            attempts.append(what)
            raise pickle.UnpicklingError(f"{what} while reading from storage")

        return reader

    class RefusingUnpickler(pickle.Unpickler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            refuse("pickle.Unpickler")()

    class RefusingPyUnpickler(pickle._Unpickler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            refuse("pickle._Unpickler")()

    replacements: dict[int, Any] = {
        id(getattr(pickle, name)): refuse(f"pickle.{name}") for name in _PICKLE_READERS
    }
    replacements[id(pickle.Unpickler)] = RefusingUnpickler
    replacements[id(pickle._Unpickler)] = RefusingPyUnpickler
    # Taken before pickle's own attributes are replaced below.
    subclassed = [pickle._Unpickler, *_subclasses(pickle._Unpickler)]
    subclassed += [c for c in _subclasses(pickle.Unpickler) if c is not RefusingUnpickler]
    with pytest.MonkeyPatch.context() as patch:
        for module in list(sys.modules.values()):
            if isinstance(module, types.ModuleType):
                for attr, value in list(vars(module).items()):
                    if id(value) in replacements:
                        patch.setattr(module, attr, replacements[id(value)])
        for cls in subclassed:
            if cls is not RefusingPyUnpickler:
                patch.setattr(cls, "load", refuse(f"{cls.__module__}.{cls.__qualname__}.load"))
        yield attempts


class _EarlyUnpickler(pickle.Unpickler):
    """An Unpickler subclass defined before the guard, as libraries define them at import."""


class _UnpicklingSampler(optuna.samplers.RandomSampler):
    """What the guard must catch: state pickled into a system attribute and read back (as
    Optuna's CmaEsSampler does with its optimizer)."""

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        for past in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            pickle.loads(bytes.fromhex(past.system_attrs["state"]))
        study._storage.set_trial_system_attr(trial._trial_id, "state", pickle.dumps(1).hex())


def test_the_unpickling_guard_catches_a_sampler_that_unpickles(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url, study_name=next(_names), sampler=_UnpicklingSampler(seed=0)
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    with _no_unpickling() as attempts:
        with pytest.raises(pickle.UnpicklingError, match="while reading from storage"):
            study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert attempts == ["pickle.loads"]
    assert pickle.loads(pickle.dumps(2)) == 2  # restored afterwards


def _security_objective(trial: optuna.Trial) -> float:
    _suggest_mixed(trial)
    value = BAD_VALUES[trial.number % len(BAD_VALUES)]
    for step in (1, 3, 9):  # the pruner's rungs
        trial.report(value if trial.number % 3 else float(step), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


@pytest.mark.slow
@pytest.mark.parametrize("case", _case_params(CASES))
def test_samplers_and_bohb_pruner_never_unpickle_what_they_read(
    case: _Case, sqlite_url: str
) -> None:
    from optuna_advanced.pruners import BOHBPruner

    name = next(_names)
    study = optuna.create_study(
        storage=sqlite_url,
        study_name=name,
        sampler=case.factory(0),
        pruner=BOHBPruner(min_resource=1, max_resource=9, reduction_factor=3),
    )
    resumed = case.factory(1)
    with _no_unpickling() as attempts:
        study.optimize(_security_objective, n_trials=8)
        # Another process: a new sampler object that knows the study only from storage.
        other = optuna.load_study(study_name=name, storage=sqlite_url, sampler=resumed)
        other.optimize(_security_objective, n_trials=2)
    assert attempts == []
    trials = optuna.load_study(study_name=name, storage=sqlite_url).get_trials(deepcopy=False)
    assert len(trials) == 10
    _assert_readable(sqlite_url, name, trials)


@pytest.mark.parametrize("case", _case_params(CASES))
def test_attributes_written_are_json_types_before_any_storage_converts_them(
    case: _Case,
) -> None:
    # An RDB storage turns whatever it is given into JSON text, which hides numpy scalars and
    # tuples; the in-memory storage keeps the objects, so here they must already be JSON.
    study = optuna.create_study(sampler=case.factory(0))
    study.optimize(_security_objective, n_trials=8)
    for t in study.get_trials(deepcopy=False):
        _assert_attrs_json(t.user_attrs, f"trial {t.number} user_attrs")
        _assert_attrs_json(t.system_attrs, f"trial {t.number} system_attrs")


def _pbt_objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
    h = trial.suggest_float("h", 0.0, 1.0)
    state = json.loads(checkpoint.load_bytes() or b"[0.0]")
    for step in checkpoint.steps:
        state.append(h)
        trial.report(float(step) * h, step)
    checkpoint.save_bytes(json.dumps(state).encode())
    # Bad scores too: a diverged member (NaN), both infinities, huge magnitudes.
    scores = [h, math.nan, math.inf, -math.inf, 1e300, -1e300]
    return scores[(checkpoint.member + checkpoint.generation) % len(scores)]


@pytest.mark.slow
@pytest.mark.parametrize("explore", ["perturb", "pb2"])
def test_population_based_training_never_unpickles_what_it_reads(
    explore: Literal["perturb", "pb2"], sqlite_url: str, tmp_path: Path
) -> None:
    from optuna.artifacts import FileSystemArtifactStore

    from optuna_advanced import PopulationBasedTraining

    (tmp_path / "checkpoints").mkdir()
    name = next(_names)
    study = optuna.create_study(storage=sqlite_url, study_name=name)
    pbt = PopulationBasedTraining(
        study,
        population_size=4,
        perturbation_interval=2,
        search_space={"h": FloatDistribution(0.0, 1.0)},
        explore=explore,
        artifact_store=FileSystemArtifactStore(str(tmp_path / "checkpoints")),
        seed=0,
    )
    with _no_unpickling() as attempts:
        pbt.optimize(_pbt_objective, n_steps=6)
        restored = json.loads(pbt.load_checkpoint(pbt.best_trial))
    assert attempts == []
    assert len(restored) == 7  # the initial state and one entry per step
    trials = optuna.load_study(study_name=name, storage=sqlite_url).get_trials(deepcopy=False)
    assert {t.user_attrs["pbt:member"] for t in trials} == set(range(4))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    _assert_readable(sqlite_url, name, trials)


def test_the_guard_covers_every_reader_and_restores_them() -> None:
    before = {name: getattr(pickle, name) for name in _PICKLE_READERS}
    data = pickle.dumps({"a": 1})
    calls: list[Callable[[], Any]] = [
        lambda: pickle.loads(data),
        lambda: pickle.load(io.BytesIO(data)),
        lambda: pickle.Unpickler(io.BytesIO(data)).load(),
        lambda: pickle._loads(data),  # type: ignore[attr-defined]
        lambda: pickle._Unpickler(io.BytesIO(data)).load(),
        lambda: _EarlyUnpickler(io.BytesIO(data)).load(),
    ]
    with _no_unpickling() as attempts:
        for call in calls:
            with pytest.raises(pickle.UnpicklingError, match="while reading from storage"):
                call()
    assert len(attempts) == len(calls)
    assert {name: getattr(pickle, name) for name in _PICKLE_READERS} == before
    assert _EarlyUnpickler(io.BytesIO(data)).load() == {"a": 1}
