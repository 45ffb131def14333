"""Population Based Training contenders of the ``pbt`` suite.

``pbt<P>`` runs :class:`optuna_advanced.PopulationBasedTraining` with ``P`` members and its
defaults (quantile 0.25, resample probability 0.25, factors 1.2/0.8); ``pb2-<P>`` the same with
``explore="pb2"``; ``pbt<P>-none`` the same population with exploit and explore switched off
(every member keeps its first hyperparameters), the ablation the PBT paper compares with.
Members train to the problem's last step in segments of its ``perturbation_interval``;
checkpoints go through a ``FileSystemArtifactStore`` in a temporary directory.

A segment is recorded with its own cost (``end_step - start_step``) and counts as a complete,
fully trained configuration only when it ends at the last step (state ``"C"``); earlier segments
are recorded as partial (``"P"``), like pruned trials.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import tempfile
from typing import Any

import numpy as np
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from benchmarks.problems import TRUE_VALUE_ATTR
from benchmarks.problems.base import suggest_all
from optuna_advanced import PopulationBasedTraining
from optuna_advanced.pbt import Checkpoint

PopulationLoop = Callable[[optuna.Study, Any, int], None]


def initial_population(trainer: Any, size: int, seed: int) -> list[dict[str, Any]]:
    """The starting hyperparameters of a population, the same for every contender on a
    (problem, seed): each drawn uniformly (log-uniformly on log scales) from the trainer's
    ``initial_space`` (its whole space when it has none)."""
    rng = np.random.default_rng([seed, 20261204])
    space = trainer.initial_space or trainer.space
    members = []
    for _ in range(size):
        params = {}
        for name, dist in space.items():
            u = float(rng.random())
            if dist.log:
                low, high = math.log(dist.low), math.log(dist.high)
                params[name] = float(
                    min(dist.high, max(dist.low, math.exp(low + u * (high - low))))
                )
            else:
                params[name] = float(dist.low + u * (dist.high - dist.low))
        members.append(params)
    return members


def population_loop(population_size: int, explore: str, exploit: bool) -> PopulationLoop:
    """A loop training ``trainer`` (a ``benchmarks.problems.pbt.Trainer``) with PBT."""

    def loop(study: optuna.Study, trainer: Any, seed: int) -> None:
        def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
            params = suggest_all(trial, trainer.space)
            data = checkpoint.load_bytes()
            state = trainer.loads(data) if data else trainer.init_state(trainer._seed)
            value = math.nan
            for step in checkpoint.steps:
                state, value = trainer.train(state, params, 1)
                trial.report(value, step)
            checkpoint.save_bytes(trainer.dumps(state))
            return value

        with tempfile.TemporaryDirectory() as tmp:
            pbt = PopulationBasedTraining(
                study,
                population_size=population_size,
                perturbation_interval=trainer.perturbation_interval,
                search_space=trainer.space,
                initial_params=initial_population(trainer, population_size, seed),
                explore=explore,  # type: ignore[arg-type]
                exploit=exploit,
                artifact_store=FileSystemArtifactStore(tmp),
                seed=seed,
            )
            pbt.optimize(objective, n_steps=trainer.max_fidelity)

    return loop


def record_segment(trial: FrozenTrial, max_fidelity: int) -> list[Any]:
    """``[cost, observed, true, state]`` of one PBT segment (see the module docstring)."""
    start = int(trial.user_attrs["pbt:start_step"])
    end = int(trial.user_attrs["pbt:end_step"])
    value = trial.value if trial.state == TrialState.COMPLETE else None
    if value is not None and not math.isfinite(value):
        value = None
    full = trial.state == TrialState.COMPLETE and end >= max_fidelity
    cost = end - start if trial.state in (TrialState.COMPLETE, TrialState.FAIL) else 0
    true = trial.user_attrs.get(TRUE_VALUE_ATTR, value)
    return [cost, value, true if full else None, "C" if full else "P"]
