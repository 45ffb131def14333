"""Who competes: Optuna's baselines, the pack's samplers, and native peers.

A contender is a sampler (and optionally a pruner) built fresh for each run from ``(seed,
problem)``, or a native peer: another library's own optimisation loop that proposes
configurations which are then evaluated through the very same Optuna objective (an enqueued
trial), so cost accounting and records are identical for everyone.

Names:
    ``random``, ``tpe``, ``gp``, ``cmaes``: Optuna's samplers with their defaults, no pruner
        (CMA-ES only on problems whose parameters are all numeric).
    ``random+hb``, ``tpe+hb``: with ``HyperbandPruner(min_resource=1,
        max_resource=<problem's max fidelity>, reduction_factor=3)`` (``mf``/``pbt`` only).
    ``<registry name>`` and ``<registry name>+hb``: every sampler of
        ``optuna_advanced.testing.registry.SAMPLERS`` that the pack ships.
    ``<registry name>+bohb``: with ``optuna_advanced.BOHBPruner`` (same rungs and bracket
        sizes as ``+hb``, brackets filled in turn, most aggressive first).
    ``tpe+bohb``: TPESampler with ``BOHBPruner``, to separate the pruner's effect.
    ``AxSampler``: the Ax bridge with Ax's default strategy (Sobol, then BoTorch); the registry's
        ``AxSampler(sobol)`` is its quasi-random strategy, kept fast for the test harness.
    ``bohb-paper+hb``: BOHBSampler as in the paper and HpBandSter: fixed bandwidth floor
        (``adaptive_bandwidth=False``) and ``d + 1`` points per model
        (``min_points_in_model=None``), for comparison with the default.
    ``bohb-d1+hb``, ``bohb-d1+bohb``: BOHBSampler's defaults before issue 18 (models from the
        paper's ``d + 1`` points per budget, adaptive bandwidth floor).
    ``rf-smac``: RandomForestSampler with SMAC3's own forest and acquisition
        (``splitter="best", acquisition="log_ei"``; the default before random thresholds);
        ``rf-ei``: random thresholds with plain EI of the log cost. Ablations of the defaults.
    ``pbt4``, ``pbt8``, ``pb2-4``, ``pb2-8``, ``pbt4-none``, ``pbt8-none``: Population Based
        Training with 4 or 8 members (``pbt`` suite only; see ``benchmarks.population``).
    ``hyperopt-native``, ``smac-native``, ``ax-native``: ``hyperopt.fmin`` (TPE), SMAC3's HPO
        facade and Ax's ``Client`` (optional ``bench`` extra; static spaces only).
    ``hpbandster-bohb``, ``dehb``, ``smac-mf``: HpBandSter's BOHB, DEHB and SMAC3's
        multi-fidelity facade (Hyperband, eta 3, budgets 1 to the max fidelity), every
        (configuration, budget) evaluated from scratch as a new trial stopped at its budget
        (``mf`` suite, static spaces only; see ``benchmarks.mf_natives``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Literal

import optuna
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler

from benchmarks import mf_natives
from benchmarks import natives
from benchmarks.population import population_loop
from benchmarks.population import PopulationLoop
from benchmarks.problems import Problem
from benchmarks.ray_population import ray_population_loop
from optuna_advanced.testing.registry import SAMPLERS

SamplerBuilder = Callable[[int], BaseSampler]
NativeLoop = Callable[[optuna.Study, Any, int, int, Callable[[], bool]], None]


@dataclass(frozen=True)
class Contender:
    name: str
    sampler: SamplerBuilder | None
    hyperband: bool = False
    bohb_pruner: bool = False
    native: NativeLoop | None = None
    numeric_only: bool = False
    population: PopulationLoop | None = None
    native_mf: bool = False  # ``native`` is a multi-fidelity loop (``mf`` suite)
    native_conditional: bool = False  # ``native`` also runs conditional spaces (ConfigSpace)

    def applies_to(self, problem: Problem) -> bool:
        if self.population is not None:
            return problem.suite == "pbt"
        if self.hyperband and problem.max_fidelity is None:
            return False
        if self.numeric_only and not problem.numeric_only:
            return False
        if self.native is not None:
            # Natives need fixed spaces; single-fidelity ones run whole trials (``sf``),
            # multi-fidelity ones choose budgets themselves (``mf``).
            space_ok = problem.static_space or (problem.conditional and self.native_conditional)
            return space_ok and problem.suite == ("mf" if self.native_mf else "sf")
        return True

    def pruner(self, problem: Problem) -> BasePruner | None:
        if self.native_mf:
            assert problem.max_fidelity is not None
            return mf_natives.BudgetPruner(problem.max_fidelity)
        if not self.hyperband:
            return None
        assert problem.max_fidelity is not None
        if self.bohb_pruner:
            from optuna_advanced import BOHBPruner

            return BOHBPruner(
                min_resource=1, max_resource=problem.max_fidelity, reduction_factor=3
            )
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=problem.max_fidelity, reduction_factor=3
        )


def _random(seed: int) -> BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _tpe(seed: int) -> BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def _gp(seed: int) -> BaseSampler:
    return optuna.samplers.GPSampler(seed=seed)


def _cmaes(seed: int) -> BaseSampler:
    return optuna.samplers.CmaEsSampler(seed=seed)


def _bohb_paper(seed: int) -> BaseSampler:
    from optuna_advanced import BOHBSampler

    return BOHBSampler(seed=seed, adaptive_bandwidth=False, min_points_in_model=None)


def _bohb_d1(seed: int) -> BaseSampler:
    """BOHBSampler's defaults before issue 18: the paper's ``d + 1`` points per model."""
    from optuna_advanced import BOHBSampler

    return BOHBSampler(seed=seed, min_points_in_model=None)


# RandomForestSampler's settings before issue 19: SMAC3's start-up size and maximiser sizes.
_FOREST_BEFORE: dict[str, Any] = {
    "n_startup_trials": "smac",
    "n_random_candidates": 10_000,
    "n_local_starts": 10,
}


def _forest(
    splitter: Literal["random", "best"] = "random",
    acquisition: Literal["log_ei", "ei"] = "log_ei",
    **options: Any,
) -> SamplerBuilder:
    def build(seed: int) -> BaseSampler:
        from optuna_advanced import RandomForestSampler

        return RandomForestSampler(
            seed=seed, splitter=splitter, acquisition=acquisition, **options
        )

    return build


def _ax(seed: int) -> BaseSampler:
    from optuna_advanced import AxSampler

    return AxSampler(seed=seed)


def contenders() -> dict[str, Contender]:
    out = [
        Contender("random", _random),
        Contender("tpe", _tpe),
        Contender("gp", _gp),
        Contender("cmaes", _cmaes, numeric_only=True),
        Contender("random+hb", _random, hyperband=True),
        Contender("tpe+hb", _tpe, hyperband=True),
        Contender("tpe+bohb", _tpe, hyperband=True, bohb_pruner=True),
        Contender("AxSampler", _ax),
        Contender("bohb-paper+hb", _bohb_paper, hyperband=True),
        # Ablation of issue 18: models from d + 1 points per budget (the paper's), not 3.
        Contender("bohb-d1+hb", _bohb_d1, hyperband=True),
        Contender("bohb-d1+bohb", _bohb_d1, hyperband=True, bohb_pruner=True),
        Contender("rf-smac", _forest("best", "log_ei", **_FOREST_BEFORE)),
        Contender("rf-ei", _forest("random", "ei", **_FOREST_BEFORE)),
        # Ablations of issue 19: the defaults before it, and each of its two changes undone.
        Contender("rf-before", _forest(**_FOREST_BEFORE)),
        Contender("rf-10k", _forest(n_random_candidates=10_000, n_local_starts=10)),
        Contender("rf-smac-startup", _forest(n_startup_trials="smac")),
        Contender("hyperopt-native", None, native=natives.hyperopt_loop),
        Contender("smac-native", None, native=natives.smac_loop, native_conditional=True),
        Contender("ax-native", None, native=natives.ax_loop),
        Contender("hpbandster-bohb", None, native=mf_natives.hpbandster_loop, native_mf=True),
        Contender("dehb", None, native=mf_natives.dehb_loop, native_mf=True),
        Contender("smac-mf", None, native=mf_natives.smac_mf_loop, native_mf=True),
    ]
    for size in (4, 8):
        out.append(
            Contender(f"pbt{size}", None, population=population_loop(size, "perturb", True))
        )
        out.append(
            Contender(f"pbt{size}-none", None, population=population_loop(size, "perturb", False))
        )
        out.append(Contender(f"pb2-{size}", None, population=population_loop(size, "pb2", True)))
        out.append(Contender(f"ray-pbt{size}", None, population=ray_population_loop(size, "pbt")))
        out.append(Contender(f"ray-pb2-{size}", None, population=ray_population_loop(size, "pb2")))
    for entry in SAMPLERS.values():
        if entry.control:
            continue
        out.append(Contender(entry.name, entry.factory))
        out.append(Contender(f"{entry.name}+hb", entry.factory, hyperband=True))
        out.append(
            Contender(f"{entry.name}+bohb", entry.factory, hyperband=True, bohb_pruner=True)
        )
    return {c.name: c for c in out}


DEFAULTS = {
    "sf": ["random", "tpe", "gp", "cmaes"],
    "mf": ["random", "tpe", "random+hb", "tpe+hb", "hpbandster-bohb", "dehb", "smac-mf"],
    "pbt": ["random", "tpe", "random+hb", "tpe+hb", "pbt8", "pbt8-none", "pbt4", "pb2-4"],
    "overhead": ["random", "tpe", "gp", "cmaes"],
}
