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
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry=2
        ),
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


def pbt_worker(
    spec: StorageSpec, study_name: str, artifact_dir: str, log_path: str, kill: bool
) -> None:
    """Train a shared PBT population; log each segment's start and end; with ``kill``, SIGKILL
    this process in the middle of the first segment it runs after a member's first one."""
    import json
    import signal

    import numpy as np
    from optuna.artifacts import FileSystemArtifactStore
    from optuna.distributions import FloatDistribution

    from optuna_advanced import PopulationBasedTraining
    from optuna_advanced.pbt import Checkpoint

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = storage_from(spec)
    study = optuna.load_study(study_name=study_name, storage=storage)

    def log(event: str, trial: optuna.Trial, checkpoint: Checkpoint) -> None:
        line = f"{event} {checkpoint.member} {trial.number} {time.time():.6f} {os.getpid()}\n"
        with open(log_path, "a") as f:  # one short O_APPEND write: lines never interleave
            f.write(line)

    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        log("start", trial, checkpoint)
        h = np.array([trial.suggest_float("h0", 0.0, 1.0), trial.suggest_float("h1", 0.0, 1.0)])
        data = checkpoint.load_bytes()
        theta = np.array(json.loads(data)) if data else np.array([0.9, 0.9])
        q = 0.0
        for step in checkpoint.steps:
            if kill and checkpoint.generation >= 1 and step > checkpoint.start_step + 1:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.02)
            theta = theta - 0.02 * h * theta
            q = 1.2 - float(np.sum(theta**2))
            trial.report(q, step)
        checkpoint.save_bytes(json.dumps(theta.tolist()).encode())
        log("end", trial, checkpoint)
        return q

    pbt = PopulationBasedTraining(
        study,
        population_size=4,
        perturbation_interval=4,
        search_space={"h0": FloatDistribution(0.0, 1.0), "h1": FloatDistribution(0.0, 1.0)},
        artifact_store=FileSystemArtifactStore(artifact_dir),
        heartbeat_interval=1.0,  # stale after 3 s, well above a loaded machine's stalls
        seed=0,
    )
    pbt.optimize(objective, n_steps=24)
    if spec[0] == "grpc":
        storage.close()  # type: ignore[union-attr]


def paused_worker(url: str, study_name: str, sampler: str, seed: int, n: int, log: str) -> None:
    """Optimise ``n`` trials with 1 s heartbeats and a 3 s grace period on a machine where the
    test pauses workers (SIGSTOP) for longer than the grace period, so other workers fail this
    one's live trials. Every exception that leaves the objective or ends a ``study.optimize``
    call is recorded in ``log`` (JSON lines: the exception and the files of its traceback) and
    the worker goes on, so the test can tell where each one came from."""
    import json
    import traceback

    optuna.logging.set_verbosity(optuna.logging.CRITICAL)
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=3)
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=sampler_by_name(sampler, seed)
    )

    def record(exc: BaseException) -> None:
        frames = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
        with open(log, "a") as f:
            f.write(json.dumps({"error": repr(exc)[:300], "files": frames}) + "\n")

    def objective(trial: optuna.Trial) -> float:
        try:
            trial.set_user_attr("pid", os.getpid())  # the test pauses workers mid-trial
            time.sleep(1.0)  # after a pause here, the sampler works on a trial failed meanwhile:
            value = mixed_objective(trial)  # sample_relative writes its labels,
            trial.suggest_float(f"new{trial.number}", 0.0, 1.0)  # sample_independent too
            for step in range(1, 5):
                time.sleep(0.2)
                trial.report(value + 1.0 / step, step)
            return value
        except Exception as exc:
            # Optuna's tell then raises its own error without this one as context: record it.
            record(exc)
            raise

    done = 0
    attempts = 0
    while done < n and attempts < 4 * n:
        attempts += 1
        try:
            study.optimize(objective, n_trials=1)
            done += 1
        except Exception as exc:  # recorded for the test, then the worker goes on
            record(exc)
