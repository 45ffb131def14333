"""Eight workers on a loaded machine, paused behind their backs: pack code never kills one.

With RDB heartbeats (1 s interval, 3 s grace: what the tutorials used to recommend) a worker
whose process stalls for longer than the grace period (a busy machine, swap, a stopped VM) has
its live trial failed by another worker. When it wakes up, Optuna's own ``tell`` refuses the
finished trial (``ValueError: Cannot tell a FAIL trial``) or its ``report``/``suggest`` does
(``UpdateFinishedTrialError``): that is Optuna's answer and the docs say how to avoid it. The
pack's samplers must never be the ones that raise: no exception that ends an ``optimize`` call
may pass through ``optuna_advanced``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
import random
import signal
import time

import optuna
from optuna.trial import TrialState
import pytest

from tests.integration.workers import paused_worker

N_WORKERS = 8
N_TRIALS = 4  # per worker
MAX_PAUSES = 5
PAUSE = 6.0  # seconds: twice the grace period


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.slow
@pytest.mark.multiprocess
@pytest.mark.parametrize(
    "sampler", ["BOHBSampler", "RandomForestSampler", "HyperoptSampler", "AxSampler(sobol)"]
)
def test_paused_workers_on_a_loaded_machine(
    postgres_url: str, sampler: str, tmp_path: Path
) -> None:
    optuna.create_study(study_name="loaded", storage=postgres_url)
    ctx = multiprocessing.get_context("spawn")
    busy = [ctx.Process(target=_spin, args=(600.0,), daemon=True) for _ in range(2)]
    log = tmp_path / "errors.jsonl"
    workers = [
        ctx.Process(
            target=paused_worker,
            args=(postgres_url, "loaded", sampler, seed, N_TRIALS, str(log)),
        )
        for seed in range(N_WORKERS)
    ]
    try:
        for p in busy + workers:
            p.start()
        rng = random.Random(0)
        deadline = time.monotonic() + 400
        n_pauses = 0
        study = optuna.load_study(study_name="loaded", storage=postgres_url)
        while n_pauses < MAX_PAUSES and time.monotonic() < deadline:
            alive = {p.pid for p in workers if p.is_alive()}
            running = [
                t.user_attrs["pid"]
                for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                if t.user_attrs.get("pid") in alive
            ]
            if not alive:
                break
            if not running:
                time.sleep(0.2)
                continue
            victim = rng.choice(running)
            try:
                os.kill(victim, signal.SIGSTOP)
                time.sleep(PAUSE)
            finally:
                os.kill(victim, signal.SIGCONT)
            n_pauses += 1
            time.sleep(0.5)
        for p in workers:
            p.join(60)
    finally:
        for p in busy + workers:
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in workers] == [0] * N_WORKERS, "a worker died"
    errors = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    # The objective itself is optuna_advanced.testing's mixed_objective: not sampler code.
    through_pack = [
        e
        for e in errors
        if any("optuna_advanced" in f and "optuna_advanced/testing" not in f for f in e["files"])
    ]
    assert through_pack == [], through_pack
    trials = study.get_trials(deepcopy=False)
    assert n_pauses >= 3
    # The situation under test happened: live trials were failed behind their workers' backs.
    failed = [t for t in trials if t.state == TrialState.FAIL]
    print(
        f"{sampler}: {n_pauses} pauses, {len(failed)} trials failed as stale, {len(errors)} "
        f"optimize calls ended by Optuna: {sorted({e['error'][:40] for e in errors})}"
    )
    assert failed
    assert sum(t.state == TrialState.COMPLETE for t in trials) >= N_WORKERS * N_TRIALS
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    namespace = {
        "BOHBSampler": "bohb",
        "RandomForestSampler": "rf",
        "HyperoptSampler": "hyperopt",
        "AxSampler(sobol)": "ax",
    }[sampler]
    labelled = [t for t in trials if t.state == TrialState.COMPLETE]
    assert all(f"{namespace}:source" in t.user_attrs for t in labelled)
