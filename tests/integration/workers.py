"""Worker processes for the integration tests (module level, so "spawn" can import them)."""

from __future__ import annotations

import os
import time
from typing import Any

import optuna
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage

from optuna_advanced.testing.conformance import mixed_objective
from optuna_advanced.testing.registry import SAMPLERS

StorageSpec = tuple[str, Any]  # ("rdb", url) | ("journal", path) | ("grpc", (host, port))


def storage_from(spec: StorageSpec, **rdb_options: Any) -> BaseStorage | str:
    kind, where = spec
    if kind == "rdb":
        return optuna.storages.RDBStorage(where, **rdb_options)
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(where))
    if kind == "grpc":
        host, port = where
        return optuna.storages.GrpcStorageProxy(host=host, port=port)
    raise ValueError(kind)


def sampler_by_name(name: str, seed: int) -> BaseSampler:
    if name == "optuna.TPESampler":
        return optuna.samplers.TPESampler(seed=seed)
    return SAMPLERS[name].factory(seed)


def optimize_worker(spec: StorageSpec, study_name: str, sampler: str, seed: int, n: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage_from(spec)
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=sampler_by_name(sampler, seed)
    )
    study.optimize(mixed_objective, n_trials=n)
    if spec[0] == "grpc":
        storage.close()  # type: ignore[union-attr]


def heartbeat_worker(
    url: str, study_name: str, sampler: str, seed: int, n: int, hang: bool
) -> None:
    """Optimise with heartbeats; with ``hang``, the first trial records its pid and waits to be
    killed (the test sends SIGKILL)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(
        url,
        heartbeat_interval=1,
        grace_period=3,
        failed_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2),
    )
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=sampler_by_name(sampler, seed)
    )

    def objective(trial: optuna.Trial) -> float:
        value = mixed_objective(trial)
        if hang:
            trial.set_user_attr("pid", os.getpid())
            time.sleep(600)
        time.sleep(0.2)  # long enough for the heartbeat thread to matter
        return value

    study.optimize(objective, n_trials=n)
