"""Trials per second with 1, 2, 4 and 8 worker processes on one PostgreSQL study, per sampler.

Every run gets a fresh PostgreSQL database and study; ``n_workers`` spawned processes share a
fixed total of trials (a shared counter hands them out one at a time, so the study always ends
with exactly that many and no worker idles while others still have work). Each worker imports
its libraries and takes every code path of its sampler once on a throw-away in-memory study
before a barrier releases all workers at once: start-up costs (several seconds of lazy imports
per process, at the first start-up trial and the first model trial) are not throughput.
Throughput is complete trials / (last ``datetime_complete`` - first ``datetime_start``), read
from storage.

The objective is a mixed 4-parameter function (continuous, log-scaled, integer, categorical)
that costs microseconds and by default does not sleep: what is measured is the sampler's and
the storage's overhead per trial, which is what limits a study whose trials are cheap and what
more workers can or cannot hide. A fixed sleep (``sleep``) mimics work; it parallelises
perfectly (it uses no CPU), so it inflates every speed-up and pulls every ratio towards 1.
The database server runs on the same cores as the workers, so its time is part of the cost.

Absolute timings on a shared machine are noisy, so speeds are reported as ratios measured in
the same invocation: speed-up over 1 worker, and ratio to ``RandomSampler`` and ``TPESampler``
at the same worker count, each computed within one repeat (runs a few seconds apart) and then
the median over repeats. Within a repeat every worker count runs all samplers back to back;
odd repeats mirror the one before (worker counts and samplers in reverse order) and each pair
rotates the sampler order, so drift in machine load does not favour one sampler.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import datetime
import json
import math
import multiprocessing
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier
import os
from pathlib import Path
import time
from typing import Any
import uuid
import warnings

import numpy as np
import optuna
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from benchmarks.stats import table
from optuna_advanced.testing.registry import SAMPLERS

THROUGHPUT_FILE = "throughput.jsonl"
BASELINES = ("optuna.RandomSampler", "optuna.TPESampler")
DEFAULT_SAMPLERS = BASELINES + tuple(e.name for e in SAMPLERS.values() if not e.control)
STUDY = "throughput"
# Warm-up history: past every default start-up phase (TPE 10, Hyperopt 20,
# RandomForestSampler min(10 * d, 25)).
WARMUP_HISTORY = 30
WARMUP_ASKS = 4
BARRIER_TIMEOUT = 600.0  # a worker that died warming up must not leave the others waiting
JOIN_TIMEOUT = 900.0


def make_sampler(name: str, seed: int) -> BaseSampler:
    if name == "optuna.TPESampler":
        return optuna.samplers.TPESampler(seed=seed)
    return SAMPLERS[name].factory(seed)


class Objective:
    """A mixed 4-parameter function; ``sleep`` seconds per trial mimic work (0: none)."""

    def __init__(self, sleep: float = 0.0) -> None:
        self.sleep = sleep

    def __call__(self, trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        n = trial.suggest_int("n", 1, 64)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        if self.sleep > 0:
            time.sleep(self.sleep)
        value = (x - 1.0) ** 2 + (math.log10(lr) + 3.0) ** 2 / 4 + abs(n - 16) / 16
        return value + {"a": 0.0, "b": 0.5, "c": 1.0}[kind]


@contextlib.contextmanager
def fresh_database(host: str, port: int, prefix: str = "oa_throughput") -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards (even with connections left open); yields
    its SQLAlchemy URL. The database tests use it too."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{host}:{port}/{name}"
    finally:
        with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _warm_up(sampler: str, seed: int) -> None:
    """Take every code path of the sampler once, in memory, before the clock starts.

    Samplers import their libraries lazily, per phase (RandomForestSampler: SciPy's Sobol at
    the second trial, scikit-learn at the first model fit): a few trials from an empty history
    for the start-up phase, then a few on top of ``WARMUP_HISTORY`` random trials for the model
    phase (several, because some samplers interleave random trials).
    """
    study = optuna.create_study(sampler=make_sampler(sampler, seed))
    study.optimize(Objective(), n_trials=WARMUP_ASKS)
    study.sampler = optuna.samplers.RandomSampler(seed=seed)
    study.optimize(Objective(), n_trials=WARMUP_HISTORY)
    study.sampler = make_sampler(sampler, seed)
    study.optimize(Objective(), n_trials=WARMUP_ASKS)


def _worker(
    url: str,
    sampler: str,
    seed: int,
    sleep: float,
    total: int,
    claimed: Synchronized[int],
    barrier: Barrier,
) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    _warm_up(sampler, seed)
    study = optuna.load_study(
        study_name=STUDY,
        storage=optuna.storages.RDBStorage(url),
        sampler=make_sampler(sampler, seed),
    )

    def claim() -> bool:
        with claimed.get_lock():
            if claimed.value >= total:
                return False
            claimed.value += 1
            return True

    def next_or_stop(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if not claim():
            study.stop()

    barrier.wait(BARRIER_TIMEOUT)
    if claim():
        study.optimize(Objective(sleep), callbacks=[next_or_stop])


def run_one(
    host: str,
    port: int,
    sampler: str,
    n_workers: int,
    seed: int,
    n_trials: int,
    sleep: float,
) -> dict[str, Any]:
    """One fresh database and study, ``n_workers`` processes, ``n_trials`` trials in all."""
    record: dict[str, Any] = {
        "sampler": sampler,
        "n_workers": n_workers,
        "seed": seed,
        "n_trials": n_trials,
        "sleep": sleep,
        "loadavg_1min": os.getloadavg()[0],
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with fresh_database(host, port) as url:
        storage = optuna.storages.RDBStorage(url)
        optuna.create_study(study_name=STUDY, storage=storage)
        ctx = multiprocessing.get_context("spawn")
        claimed = ctx.Value("i", 0)
        barrier = ctx.Barrier(n_workers)
        procs = [
            ctx.Process(
                target=_worker,
                args=(url, sampler, 1000 * seed + w, sleep, n_trials, claimed, barrier),
            )
            for w in range(n_workers)
        ]
        start = time.perf_counter()
        for p in procs:
            p.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for p in procs:
            p.join(max(1.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        record["process_time"] = time.perf_counter() - start
        trials = optuna.load_study(study_name=STUDY, storage=storage).get_trials(deepcopy=False)
        storage.engine.dispose()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    record["exit_codes"] = [p.exitcode for p in procs]
    record["n_complete"] = len(complete)
    record["n_failed"] = sum(t.state == TrialState.FAIL for t in trials)
    record["n_running_left"] = sum(t.state == TrialState.RUNNING for t in trials)
    wall = math.nan
    if complete:
        first = min(t.datetime_start for t in complete if t.datetime_start)
        last = max(t.datetime_complete for t in complete if t.datetime_complete)
        wall = (last - first).total_seconds()
        durations = [
            (t.datetime_complete - t.datetime_start).total_seconds()
            for t in complete
            if t.datetime_start and t.datetime_complete
        ]
        record["median_trial_seconds"] = float(np.median(durations))
    record["wall_time"] = wall
    record["trials_per_second"] = len(complete) / wall if wall > 0 else math.nan
    return record


def schedule(
    samplers: list[str], workers: list[int], n_seeds: int
) -> list[tuple[int, int, str, int]]:
    """``(seed, n_workers, sampler, position)`` in run order.

    Each (seed, worker count) runs all samplers back to back, so a ratio compares runs a few
    seconds apart. Odd seeds mirror the seed before them, worker counts and samplers in
    reverse order, so a linear drift in machine load cancels over each pair; each pair (and
    each worker count) rotates the sampler order by a different amount.
    """
    out = []
    k = len(samplers)
    step = max(1, math.ceil(k / max(1, math.ceil(n_seeds / 2))))  # spread the pairs' rotations
    for seed in range(n_seeds):
        counts = workers if seed % 2 == 0 else workers[::-1]
        for n in counts:
            shift = ((seed // 2) * step + workers.index(n)) % k
            order = samplers[shift:] + samplers[:shift]
            if seed % 2:
                order.reverse()
            out += [(seed, n, name, pos) for pos, name in enumerate(order)]
    return out


def run(
    out_dir: Path,
    samplers: list[str],
    workers: list[int],
    n_seeds: int,
    n_trials: int,
    sleep: float,
    host: str,
    port: int,
) -> list[dict[str, Any]]:
    """Run the schedule, appending each record to ``out_dir/throughput.jsonl`` as it ends."""
    # Read by each worker interpreter at start-up: one process per worker must not start a BLAS
    # or torch thread per core on top of the other workers.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    plan = schedule(samplers, workers, n_seeds)
    records = []
    with (out_dir / THROUGHPUT_FILE).open("a") as f:
        for i, (seed, n, name, position) in enumerate(plan):
            rec = run_one(host, port, name, n, seed, n_trials, sleep)
            rec.update(run=run_id, position=position, cpu_count=os.cpu_count())
            f.write(json.dumps(rec) + "\n")
            f.flush()
            records.append(rec)
            print(
                f"[{i + 1}/{len(plan)}] seed {seed} {name} x{n}: "
                f"{rec['trials_per_second']:.2f} trials/s, exit codes {rec['exit_codes']}",
                flush=True,
            )
    return records


def is_ok(rec: dict[str, Any]) -> bool:
    return bool(
        rec["exit_codes"] == [0] * rec["n_workers"]
        and rec["n_complete"] == rec["n_trials"]
        and rec["n_failed"] == 0
        and rec["n_running_left"] == 0
        and rec["trials_per_second"] > 0
    )


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def summarise(records: list[dict[str, Any]]) -> str:
    """Markdown: trials/s, speed-up over 1 worker, and ratios to the baselines in the same run.

    A ratio is computed within one repeat of one invocation (``run``, ``seed``) and the median
    over repeats is shown; runs whose workers failed or whose study is short of trials are
    left out and counted.
    """
    good = [r for r in records if is_ok(r)]
    tps: dict[tuple[str, int, str, int], float] = {
        (r["run"], r["seed"], r["sampler"], r["n_workers"]): r["trials_per_second"] for r in good
    }
    present = {r["sampler"] for r in good}
    samplers = [s for s in DEFAULT_SAMPLERS if s in present]
    samplers += sorted(present - set(samplers))
    workers = sorted({r["n_workers"] for r in good})

    def ratios(sampler: str, n: int, other: str, m: int) -> list[float]:
        return [
            v / tps[(run, seed, other, m)]
            for (run, seed, s, k), v in tps.items()
            if s == sampler and k == n and (run, seed, other, m) in tps
        ]

    speed_rows, ratio_rows = [], []
    for s in samplers:
        speed, versus = [s], [s]
        for n in workers:
            values = [v for (_, _, ss, k), v in tps.items() if ss == s and k == n]
            if not values:
                speed.append("-")
                versus.append("-")
                continue
            cell = f"{_median(values):.1f}"
            if n != 1:
                up = _median(ratios(s, n, s, 1))
                cell += f" ({up:.2f}x)" if math.isfinite(up) else ""
            speed.append(cell + f" [{len(values)}]")
            base = [_median(ratios(s, n, b, n)) for b in BASELINES]
            versus.append(" / ".join(f"{x:.2f}x" if math.isfinite(x) else "-" for x in base))
        speed_rows.append(speed)
        ratio_rows.append(versus)
    header = ["sampler"] + [f"{n} worker{'s' if n > 1 else ''}" for n in workers]
    n_trials = ", ".join(str(x) for x in sorted({r["n_trials"] for r in records}))
    sleeps = ", ".join(f"{x:g}" for x in sorted({r["sleep"] for r in records}))
    cores = ", ".join(str(x) for x in sorted({r.get("cpu_count") or 0 for r in records}))
    lines = [
        f"{n_trials} trials per run shared by the workers, each run on a fresh PostgreSQL "
        f"database; the objective sleeps {sleeps} s per trial (0: the figures are sampler + "
        f"storage overhead); {cores} cores, shared with the database server.\n",
        "Trials per second (median over repeats; in parentheses the speed-up over 1 worker; "
        "in brackets the number of repeats):\n",
        table(speed_rows, header),
        "",
        "Ratio of trials per second to RandomSampler / TPESampler at the same worker count:\n",
        table(ratio_rows, header),
        "",
        "Ratios are within-run: each compares runs of the same repeat of one invocation, a few "
        "seconds apart, and the median over repeats is shown; absolute trials/s depend on the "
        "machine's load. Trials/s = complete trials / (last `datetime_complete` - first "
        "`datetime_start`) from storage, after every worker has warmed up.",
    ]
    loads = [r["loadavg_1min"] for r in records if "loadavg_1min" in r]
    if loads:
        lines.append(
            f"\nOne-minute load average when a run started: median {_median(loads):.1f} "
            f"(from {min(loads):.1f} to {max(loads):.1f})."
        )
    bad = len(records) - len(good)
    if bad:
        lines.append(
            f"\n{bad} run(s) left out: a worker failed or hung, or the study is short of trials."
        )
    return "\n".join(lines) + "\n"
