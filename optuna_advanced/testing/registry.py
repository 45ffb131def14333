"""The registry of every sampler and pruner the pack ships, for tests and benchmarks.

Each entry maps a name to a picklable ``factory(seed)`` and declares which of Optuna's conformance
classes fit it. The conformance tests (``tests/testing/test_conformance.py``) and the benchmark
suite iterate over it, so a new sampler is covered by registering it here and nowhere else.

Entries marked ``control`` are Optuna's own algorithms: they prove the harness runs (and the
benchmark suite uses them as baselines), but they are not part of the pack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "PrunerEntry",
    "SamplerEntry",
]


@dataclass(frozen=True)
class SamplerEntry:
    """How to build a sampler and which conformance classes apply to it.

    Attributes:
        name: Registry key, also used as the pytest id.
        factory: ``factory(seed) -> sampler``; a module-level function so it pickles into worker
            processes.
        relative: The sampler implements ``sample_relative`` for every parameter of a static
            space (runs Optuna's ``RelativeSamplerTestCase``).
        multi_objective: The sampler supports multi-objective studies (runs
            ``MultiObjectiveSamplerTestCase``); otherwise it must raise ``ValueError`` on them
            (``SingleOnlySamplerTestCase``).
        control: An Optuna sampler registered as a control, not shipped by the pack.
    """

    name: str
    factory: Callable[[int | None], BaseSampler]
    relative: bool
    multi_objective: bool
    control: bool = False


@dataclass(frozen=True)
class PrunerEntry:
    """How to build a pruner for the pruner contract suite.

    Attributes:
        name: Registry key.
        factory: ``factory() -> pruner``; module-level so it pickles into worker processes.
        prunes: The pruner is expected to prune some trials of the contract suite's objective
            (half of whose configurations are clearly bad); ``False`` for a no-op pruner.
        control: An Optuna pruner registered as a control, not shipped by the pack.
    """

    name: str
    factory: Callable[[], BasePruner]
    prunes: bool = True
    control: bool = False


def _random_sampler(seed: int | None) -> BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _bohb_sampler(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import BOHBSampler

    return BOHBSampler(seed=seed)


def _hyperopt_tpe_sampler(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import HyperoptSampler

    return HyperoptSampler(algo="tpe", seed=seed)


def _hyperopt_anneal_sampler(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import HyperoptSampler

    return HyperoptSampler(algo="anneal", seed=seed)


def _random_forest_sampler(seed: int | None) -> BaseSampler:
    from optuna_advanced.samplers import RandomForestSampler

    return RandomForestSampler(seed=seed)


def _ax_sobol_sampler(seed: int | None) -> BaseSampler:
    # Ax's quasi-random strategy exercises the whole bridge (history -> Client -> Ax trial ->
    # Optuna params) in milliseconds; the BoTorch strategy is tested in tests/samplers/test_ax.py
    # (a model-based suggestion takes seconds, too slow for every conformance test).
    from optuna_advanced.samplers import AxSampler

    return AxSampler(seed=seed, generation_strategy={"method": "random_search"})


def _successive_halving_pruner() -> BasePruner:
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)


def _hyperband_pruner() -> BasePruner:
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)


def _bohb_pruner() -> BasePruner:
    from optuna_advanced.pruners import BOHBPruner

    return BOHBPruner(min_resource=1, max_resource=9, reduction_factor=3)


SAMPLERS: dict[str, SamplerEntry] = {
    e.name: e
    for e in [
        SamplerEntry(
            "optuna.RandomSampler",
            _random_sampler,
            relative=False,
            multi_objective=True,
            control=True,
        ),
        SamplerEntry("BOHBSampler", _bohb_sampler, relative=True, multi_objective=False),
        SamplerEntry(
            "HyperoptSampler", _hyperopt_tpe_sampler, relative=True, multi_objective=False
        ),
        SamplerEntry(
            "HyperoptSampler(anneal)",
            _hyperopt_anneal_sampler,
            relative=True,
            multi_objective=False,
        ),
        SamplerEntry(
            "RandomForestSampler", _random_forest_sampler, relative=True, multi_objective=True
        ),
        SamplerEntry("AxSampler(sobol)", _ax_sobol_sampler, relative=True, multi_objective=True),
    ]
}

PRUNERS: dict[str, PrunerEntry] = {
    e.name: e
    for e in [
        PrunerEntry("optuna.SuccessiveHalvingPruner", _successive_halving_pruner, control=True),
        PrunerEntry("optuna.HyperbandPruner", _hyperband_pruner, control=True),
        PrunerEntry("BOHBPruner", _bohb_pruner),
    ]
}
