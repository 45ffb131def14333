"""Run (problem, contender, seed) tasks in worker processes and append one JSON line per run.

Every run gets a fresh in-memory study, its own process (both cores are used, one run each,
with BLAS/torch threads pinned to 1 so runs do not fight over cores), and stops when it has
consumed its problem's budget: trials for ``sf``, fidelity units for ``mf`` and ``pbt`` (a trial
that reached step ``k`` consumed ``k``). Results already in the output file are skipped, so an
interrupted run resumes where it stopped; runs that ended in an error are retried.

A record holds, per trial in order, ``[cost, observed value, true value, state]`` with state
``"C"`` (complete), ``"P"`` (pruned) or ``"F"`` (failed); the true value is the noise-free one
(``bench:true``) or the observed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import json
import math
import multiprocessing
import os
from pathlib import Path
import time
import traceback
from typing import Any
import warnings

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from benchmarks.contenders import contenders
from benchmarks.problems import Problem
from benchmarks.problems import TRUE_VALUE_ATTR

RESULTS_FILE = "results.jsonl"
# Heavier contenders first, so the pool does not end with one long run on one core.
_WEIGHT = {"gp": 20, "ax-native": 100, "smac-native": 10, "cmaes": 2}
_STATE = {TrialState.COMPLETE: "C", TrialState.PRUNED: "P"}


@dataclass(frozen=True)
class Task:
    problem: Problem
    contender: str
    seed: int
    budget: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.problem.suite, self.problem.name, self.contender, self.seed)


def trial_cost(trial: FrozenTrial, max_fidelity: int | None) -> int:
    if max_fidelity is None:
        return 1
    if trial.intermediate_values:
        return max(trial.intermediate_values)
    return max_fidelity if trial.state == TrialState.COMPLETE else 0


def record_trial(trial: FrozenTrial, max_fidelity: int | None) -> list[Any]:
    value: float | None = trial.value
    if trial.state == TrialState.PRUNED and trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    complete = trial.state == TrialState.COMPLETE
    true = trial.user_attrs.get(TRUE_VALUE_ATTR, value) if complete else None
    return [
        trial_cost(trial, max_fidelity),
        _finite_or_none(value),
        _finite_or_none(true),
        _STATE.get(trial.state, "F"),
    ]


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def run_task(task: Task) -> dict[str, Any]:
    """Run one task to its budget; never raises (errors are recorded)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    problem, seed = task.problem, task.seed
    contender = contenders()[task.contender]
    record: dict[str, Any] = {
        "suite": problem.suite,
        "problem": problem.name,
        "contender": task.contender,
        "seed": seed,
        "budget": task.budget,
        "max_fidelity": problem.max_fidelity,
        "error": None,
    }
    start = time.perf_counter()
    try:
        if problem.suite == "overhead":
            from benchmarks.overhead import measure

            record.update(measure(task.contender, task.budget, seed))
            record["wall_time"] = time.perf_counter() - start
            return record
        objective = problem.objective(seed)
        record["optimum"] = getattr(objective, "optimum", None)
        record["reference"] = getattr(objective, "reference", None)
        sampler = contender.sampler(seed) if contender.sampler else None
        study = optuna.create_study(
            # HyperbandPruner assigns brackets by hashing the study name: a fixed name makes runs
            # reproducible and gives every contender the same brackets on a (problem, seed).
            study_name=f"{problem.name}-seed{seed}",
            sampler=sampler or optuna.samplers.RandomSampler(seed=seed),
            pruner=contender.pruner(problem) or optuna.pruners.NopPruner(),
        )
        consumed = 0

        def done() -> bool:
            nonlocal consumed
            consumed = sum(
                trial_cost(t, problem.max_fidelity) for t in study.get_trials(deepcopy=False)
            )
            return consumed >= task.budget

        if contender.population is not None:
            from benchmarks.population import record_segment

            assert problem.max_fidelity is not None
            contender.population(study, objective, seed)
            record["trials"] = [record_segment(t, problem.max_fidelity) for t in study.trials]
        elif contender.native is not None:
            contender.native(study, objective, seed, task.budget, done)
        else:
            while not done():
                study.optimize(objective, n_trials=1, catch=(Exception,))
        if "trials" not in record:
            record["trials"] = [record_trial(t, problem.max_fidelity) for t in study.trials]
    except Exception:
        record["error"] = traceback.format_exc(limit=5)
    record["wall_time"] = time.perf_counter() - start
    return record


def completed_keys(path: Path) -> set[tuple[str, str, str, int]]:
    keys: set[tuple[str, str, str, int]] = set()
    if not path.exists():
        return keys
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interruption
        if rec.get("error") is None:
            keys.add((rec["suite"], rec["problem"], rec["contender"], rec["seed"]))
    return keys


def run_tasks(tasks: Iterable[Task], out_dir: Path, jobs: int, progress: bool = True) -> int:
    """Run the tasks not yet in ``out_dir``; return the number of runs that failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS_FILE
    done = completed_keys(path)
    todo = [t for t in tasks if t.key not in done]
    todo.sort(key=lambda t: -_WEIGHT.get(t.contender, 1) * t.budget)
    # Read by every worker interpreter at start-up (torch included, so workers need not import
    # it): SMAC3 is reproducible only with a fixed hash seed, and one process per run must not
    # start a thread per core.
    for var, value in {
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }.items():
        os.environ.setdefault(var, value)
    n_failed = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"{len(done)} done before, running", unit="run")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=jobs, maxtasksperchild=1) as pool:
        with path.open("a") as f:
            for record in pool.imap_unordered(run_task, todo):
                f.write(json.dumps(record) + "\n")
                f.flush()
                if record["error"] is not None:
                    n_failed += 1
                    print(
                        f"\n{record['problem']} / {record['contender']} failed:\n{record['error']}"
                    )
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return n_failed
