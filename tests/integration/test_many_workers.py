"""Four worker processes on one study, for every sampler of the pack and TPE as a control, on
PostgreSQL, MariaDB, JournalStorage and the gRPC proxy; and a worker killed mid-trial."""

from __future__ import annotations

from collections.abc import Sequence
import math
import multiprocessing
import os
import signal
import time

import numpy as np
import optuna
from optuna.trial import TrialState
import pytest

from optuna_advanced.testing.conformance import assert_params_valid
from optuna_advanced.testing.registry import SAMPLERS
from tests.integration.workers import heartbeat_worker
from tests.integration.workers import optimize_worker
from tests.integration.workers import storage_from
from tests.integration.workers import StorageSpec

SAMPLER_NAMES = [e.name for e in SAMPLERS.values() if not e.control] + ["optuna.TPESampler"]
N_WORKERS = 4
N_EACH = 6
TIMEOUT = 240.0


def _join(procs: Sequence[multiprocessing.process.BaseProcess]) -> list[int | None]:
    deadline = time.monotonic() + TIMEOUT
    for p in procs:
        p.join(max(1.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
    return [p.exitcode for p in procs]


@pytest.mark.multiprocess
@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_four_workers_share_one_study(storage_spec: StorageSpec, sampler: str) -> None:
    storage = storage_from(storage_spec)
    optuna.create_study(study_name="shared", storage=storage)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=optimize_worker, args=(storage_spec, "shared", sampler, seed, N_EACH))
        for seed in range(N_WORKERS)
    ]
    for p in procs:
        p.start()
    assert _join(procs) == [0] * N_WORKERS, "a worker raised or hung"

    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert len(trials) == N_WORKERS * N_EACH
    assert sorted(t.number for t in trials) == list(range(N_WORKERS * N_EACH))
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.state for t in trials]
    for t in trials:
        assert_params_valid(t)
    values = [float(t.value) for t in trials if t.value is not None]
    assert len(values) == len(trials) and all(math.isfinite(v) for v in values)
    assert min(values) <= float(np.median(values))
    # Distinct configurations: workers did not replay one another's stream. (A single value may
    # repeat: the forest's local search moves one parameter of a good trial and keeps "x".)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)


@pytest.mark.multiprocess
@pytest.mark.parametrize("sampler", ["RandomForestSampler", "optuna.TPESampler"])
def test_killed_worker_trial_is_failed_and_retried(postgres_url: str, sampler: str) -> None:
    optuna.create_study(study_name="crash", storage=postgres_url)
    ctx = multiprocessing.get_context("spawn")
    doomed = ctx.Process(
        target=heartbeat_worker, args=(postgres_url, "crash", sampler, 0, 1, True)
    )
    doomed.start()
    storage = optuna.storages.RDBStorage(postgres_url)
    study = optuna.load_study(study_name="crash", storage=storage)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        hanging = [t for t in study.get_trials(deepcopy=False) if "pid" in t.user_attrs]
        if hanging:
            break
        time.sleep(0.2)
    assert hanging, "the doomed worker never started its trial"
    os.kill(hanging[0].user_attrs["pid"], signal.SIGKILL)
    doomed.join(30)
    killed_number = hanging[0].number

    survivors = [
        ctx.Process(target=heartbeat_worker, args=(postgres_url, "crash", sampler, s, 4, False))
        for s in (1, 2)
    ]
    time.sleep(4)  # past the grace period, so the survivors find the trial stale
    for p in survivors:
        p.start()
    assert _join(survivors) == [0, 0]

    trials = study.get_trials(deepcopy=False)
    killed = next(t for t in trials if t.number == killed_number)
    assert killed.state == TrialState.FAIL
    retries = [
        t
        for t in trials
        if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
        == killed_number
    ]
    assert len(retries) == 1
    retry = retries[0]
    assert retry.params == killed.params  # the retry re-runs the same configuration
    assert all(t.state != TrialState.RUNNING for t in trials)
    assert sum(t.state == TrialState.COMPLETE for t in trials) >= 8
