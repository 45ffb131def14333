"""Pack-wide conformance tests for samplers and pruners (needs pytest: the ``dev`` extra).

Optuna's ``optuna.testing.pytest_samplers`` checks that one sampler object returns valid values.
These classes check what a user of many workers relies on beyond that:

* :class:`SamplerConformanceTestCase`: seeding is reproducible and ``reseed_rng`` changes the
  stream; pickle and deepcopy copies continue exactly like the original; ``n_jobs=2`` works; the
  sampler resumes a SQLite study from storage alone; two processes sharing a ``JournalStorage``
  end with every trial finished and valid.
* :class:`PrunerContractTestCase` (Optuna has none): a pruner never prunes a trial that has not
  reported; its decisions are a function of the storage (fresh or unpickled instances agree);
  it works from two processes on one study.

Subclass and provide the ``sampler_factory`` (``factory(seed) -> sampler``) or ``pruner_factory``
fixture. Factories must be picklable (module-level functions) so worker processes can use them.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
import math
import multiprocessing
import pickle
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import pytest

from optuna_advanced._space import value_in_distribution

__all__ = [
    "PrunerContractTestCase",
    "SamplerConformanceTestCase",
    "assert_params_valid",
    "mixed_objective",
    "pruning_objective",
    "value_in_distribution",
]

SamplerFactory = Callable[[int | None], BaseSampler]
PrunerFactory = Callable[[], BasePruner]

_PROCESS_TIMEOUT = 300.0


def mixed_objective(trial: optuna.Trial) -> float:
    """A cheap objective over every distribution kind, with a conditional parameter."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 8)
    width = trial.suggest_int("width", 2, 64, log=True)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    kind = trial.suggest_categorical("kind", ["a", 1, 2.5, None])
    value = x**2 + (math.log10(lr) + 3.0) ** 2 + abs(n - 3) + abs(math.log2(width) - 4) + q
    if kind == "a":
        value += trial.suggest_float("a_only", 0.0, 1.0)
    elif kind is None:
        value += 1.0
    return value


def pruning_objective(trial: optuna.Trial) -> float:
    """Learning curves over steps 1..9; configurations with ``x >= 0.5`` are clearly worse."""
    x = trial.suggest_float("x", 0.0, 1.0)
    value = math.inf
    for step in range(1, 10):
        value = (x if x < 0.5 else 10.0 + x) + 1.0 / step
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def assert_params_valid(trial: FrozenTrial) -> None:
    """Every parameter is a plain Python value inside its distribution (steps respected)."""
    for name, value in trial.params.items():
        dist = trial.distributions[name]
        assert value_in_distribution(dist, value), (name, value, type(value), dist)


def _params(study: optuna.Study) -> list[dict[str, Any]]:
    return [t.params for t in study.trials]


def _run(sampler: BaseSampler, n_trials: int, storage: Any = None) -> optuna.Study:
    study = optuna.create_study(sampler=sampler, storage=storage)
    study.optimize(mixed_objective, n_trials=n_trials)
    return study


def _journal_sampler_worker(
    factory: SamplerFactory, seed: int, path: str, study_name: str, n_trials: int
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(path))
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=factory(seed))
    study.optimize(mixed_objective, n_trials=n_trials)


def _journal_pruner_worker(
    factory: PrunerFactory, seed: int, path: str, study_name: str, n_trials: int
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(path))
    study = optuna.load_study(
        study_name=study_name,
        storage=storage,
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=factory(),
    )
    study.optimize(pruning_objective, n_trials=n_trials)


def _run_processes(target: Callable[..., None], args: list[tuple[Any, ...]]) -> None:
    # "spawn" gives each worker a fresh interpreter, as on another machine: nothing is shared
    # but the storage file.
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(_PROCESS_TIMEOUT)
        if p.is_alive():
            p.kill()
            p.join()
    codes = [p.exitcode for p in procs]
    assert codes == [0] * len(procs), f"worker exit codes: {codes}"


class SamplerConformanceTestCase:
    """Pack-wide sampler tests. Provide a ``sampler_factory`` fixture returning
    ``factory(seed) -> sampler``."""

    #: Trials per run: enough to leave a model-based sampler's start-up phase.
    n_trials = 16

    @pytest.fixture
    def sampler_factory(self) -> SamplerFactory:
        raise NotImplementedError

    def test_same_seed_same_params(self, sampler_factory: SamplerFactory) -> None:
        first = _params(_run(sampler_factory(0), self.n_trials))
        second = _params(_run(sampler_factory(0), self.n_trials))
        assert first == second

    def test_same_seed_same_params_under_hyperband(self, sampler_factory: SamplerFactory) -> None:
        # Pruning feeds intermediate values back into samplers that read them (BOHB). The study
        # name is fixed because Hyperband assigns brackets by hashing it.
        def run() -> list[dict[str, Any]]:
            study = optuna.create_study(
                study_name="conformance",
                sampler=sampler_factory(0),
                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9),
            )
            study.optimize(pruning_objective, n_trials=2 * self.n_trials)
            assert any(t.state == TrialState.PRUNED for t in study.trials)
            return _params(study)

        assert run() == run()

    def test_different_seed_different_params(self, sampler_factory: SamplerFactory) -> None:
        first = _params(_run(sampler_factory(0), self.n_trials))
        second = _params(_run(sampler_factory(1), self.n_trials))
        n_equal = sum(a == b for a, b in zip(first, second))
        assert n_equal < self.n_trials // 2, f"{n_equal} of {self.n_trials} trials identical"

    def test_reseed_rng_changes_stream(self, sampler_factory: SamplerFactory) -> None:
        reseeded = sampler_factory(0)
        reseeded.reseed_rng()
        first = _params(_run(sampler_factory(0), self.n_trials))
        second = _params(_run(reseeded, self.n_trials))
        n_equal = sum(a == b for a, b in zip(first, second))
        assert n_equal < self.n_trials // 2, f"{n_equal} of {self.n_trials} trials identical"

    @pytest.mark.parametrize("how", ["pickle", "deepcopy"])
    def test_copy_continues_identically(self, sampler_factory: SamplerFactory, how: str) -> None:
        n_before = self.n_trials // 2
        original = _run(sampler_factory(0), n_before)
        sampler = original.sampler
        clone = pickle.loads(pickle.dumps(sampler)) if how == "pickle" else copy.deepcopy(sampler)
        assert type(clone) is type(sampler)
        twin = optuna.create_study(sampler=clone)
        twin.add_trials(original.trials)
        original.optimize(mixed_objective, n_trials=self.n_trials - n_before)
        twin.optimize(mixed_objective, n_trials=self.n_trials - n_before)
        assert _params(original)[n_before:] == _params(twin)[n_before:]

    def test_n_jobs_2(self, sampler_factory: SamplerFactory) -> None:
        study = optuna.create_study(sampler=sampler_factory(0))
        study.optimize(mixed_objective, n_trials=self.n_trials, n_jobs=2)
        trials = study.trials
        assert len(trials) == self.n_trials
        assert all(t.state == TrialState.COMPLETE for t in trials)
        for t in trials:
            assert_params_valid(t)
        # Two threads must not replay one stream: no configuration repeats (it has continuous
        # values). A single value may: a local search moves one parameter of a good trial.
        assert len({tuple(sorted(t.params.items())) for t in trials}) == self.n_trials

    def test_sqlite_storage_and_resume(
        self, sampler_factory: SamplerFactory, tmp_path: Any
    ) -> None:
        storage = f"sqlite:///{tmp_path / 'study.db'}"
        study = optuna.create_study(sampler=sampler_factory(0), storage=storage, study_name="s")
        study.optimize(mixed_objective, n_trials=self.n_trials // 2)
        # A new sampler object (as in a new process) carries on from storage alone.
        resumed = optuna.load_study(study_name="s", storage=storage, sampler=sampler_factory(1))
        resumed.optimize(mixed_objective, n_trials=self.n_trials - self.n_trials // 2)
        trials = optuna.load_study(study_name="s", storage=storage).trials
        assert len(trials) == self.n_trials
        assert all(t.state == TrialState.COMPLETE for t in trials)
        for t in trials:
            assert_params_valid(t)

    def test_journal_storage_two_processes(
        self, sampler_factory: SamplerFactory, tmp_path: Any
    ) -> None:
        path = str(tmp_path / "journal.log")
        storage = JournalStorage(JournalFileBackend(path))
        optuna.create_study(storage=storage, study_name="s")
        n_each = self.n_trials // 2
        _run_processes(
            _journal_sampler_worker,
            [(sampler_factory, seed, path, "s", n_each) for seed in (0, 1)],
        )
        trials = optuna.load_study(study_name="s", storage=storage).trials
        assert len(trials) == 2 * n_each
        assert sorted(t.number for t in trials) == list(range(2 * n_each))
        assert all(t.state == TrialState.COMPLETE for t in trials)
        for t in trials:
            assert_params_valid(t)


def _replay_decisions(pruner: BasePruner, n_trials: int = 24) -> list[tuple[int, int]]:
    """Run a fixed sequence of trials; return ``(trial number, step)`` of each prune decision.

    The parameters and values are fixed, so two runs differ only if the pruner's decisions are
    not a function of what is in storage.
    """
    study = optuna.create_study(
        study_name="contract", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    decisions = []
    dist: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0)}
    for i in range(n_trials):
        x = ((i * 7) % n_trials) / n_trials
        study.enqueue_trial({"x": x})
        trial = study.ask(dist)
        state = TrialState.COMPLETE
        value = math.inf
        for step in range(1, 10):
            value = (x if x < 0.5 else 10.0 + x) + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                decisions.append((trial.number, step))
                state = TrialState.PRUNED
                break
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    return decisions


class PrunerContractTestCase:
    """The pruner contract. Provide a ``pruner_factory`` fixture (``factory() -> pruner``) and,
    for a pruner that never prunes, override ``expects_pruning``."""

    @pytest.fixture
    def pruner_factory(self) -> PrunerFactory:
        raise NotImplementedError

    @pytest.fixture
    def expects_pruning(self) -> bool:
        return True

    def test_never_prunes_before_a_report(self, pruner_factory: PrunerFactory) -> None:
        study = optuna.create_study(
            pruner=pruner_factory(), sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(pruning_objective, n_trials=20)
        for _ in range(5):
            trial = study.ask()
            trial.suggest_float("x", 0.0, 1.0)
            assert trial.should_prune() is False
            frozen = study._storage.get_trial(trial._trial_id)
            assert study.pruner.prune(study, frozen) is False
            study.tell(trial, 0.0)

    def test_decisions_are_plain_bools(self, pruner_factory: PrunerFactory) -> None:
        study = optuna.create_study(
            pruner=pruner_factory(), sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(pruning_objective, n_trials=10)
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        trial.report(100.0, 1)
        decision = study.pruner.prune(study, study._storage.get_trial(trial._trial_id))
        assert type(decision) is bool

    def test_deterministic_given_storage(
        self, pruner_factory: PrunerFactory, expects_pruning: bool
    ) -> None:
        reference = _replay_decisions(pruner_factory())
        assert _replay_decisions(pruner_factory()) == reference
        assert _replay_decisions(pickle.loads(pickle.dumps(pruner_factory()))) == reference
        assert _replay_decisions(copy.deepcopy(pruner_factory())) == reference
        if expects_pruning:
            assert reference, "the pruner pruned nothing in a study where half the trials are bad"

    def test_journal_storage_two_processes(
        self, pruner_factory: PrunerFactory, expects_pruning: bool, tmp_path: Any
    ) -> None:
        path = str(tmp_path / "journal.log")
        storage = JournalStorage(JournalFileBackend(path))
        optuna.create_study(storage=storage, study_name="p")
        _run_processes(
            _journal_pruner_worker, [(pruner_factory, seed, path, "p", 12) for seed in (0, 1)]
        )
        trials = optuna.load_study(study_name="p", storage=storage).trials
        assert len(trials) == 24
        assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        pruned = [t for t in trials if t.state == TrialState.PRUNED]
        assert all(t.intermediate_values for t in pruned), "a trial was pruned before reporting"
        if expects_pruning:
            assert pruned, "no trial was pruned"
