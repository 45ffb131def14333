"""Many workers on one study: wall time to spend a fidelity budget with 1 vs N processes.

Each worker is a separate process attached to one ``JournalStorage`` file (nothing else is
shared), runs trials of a multi-fidelity problem with its own sampler seed, and stops once the
study as a whole has consumed the budget. Training cost is simulated by sleeping
``seconds_per_unit`` per fidelity step (on 2 cores a CPU-bound objective cannot show more than
a 2x speed-up, while real training jobs mostly wait on data, GPUs or other machines), so the
measurement is about the algorithm's behaviour under parallelism: does it keep its regret with
more workers, and how much sooner does it finish?
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
import tempfile
import time
from typing import Any

import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from benchmarks.contenders import contenders
from benchmarks.problems import problems
from benchmarks.runner import record_trial
from benchmarks.runner import trial_cost
from benchmarks.stats import regrets
from optuna_advanced.testing import value_in_distribution

PARALLEL_FILE = "parallel.jsonl"


class _Timed:
    """Sleep ``seconds_per_unit`` at every reported step: simulated training time."""

    def __init__(self, objective: Any, seconds_per_unit: float) -> None:
        self._objective = objective
        self._seconds = seconds_per_unit

    def __call__(self, trial: optuna.Trial) -> float:
        original = trial.report

        def report(value: float, step: int) -> None:
            time.sleep(self._seconds)
            original(value, step)

        trial.report = report  # type: ignore[method-assign]
        return float(self._objective(trial))


def _worker(
    path: str,
    problem_name: str,
    contender: str,
    seed: int,
    worker: int,
    seconds: float,
    budget: int,
) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    problem = next(p for p in problems("mf") if p.name == problem_name)
    entry = contenders()[contender]
    assert entry.sampler is not None
    storage = JournalStorage(JournalFileBackend(path))
    study = optuna.load_study(
        study_name="parallel",
        storage=storage,
        sampler=entry.sampler(1000 * seed + worker),  # one stream per worker
        pruner=entry.pruner(problem),
    )
    objective = _Timed(problem.objective(seed), seconds)
    while True:
        spent = sum(trial_cost(t, problem.max_fidelity) for t in study.get_trials(deepcopy=False))
        if spent >= budget:
            return
        study.optimize(objective, n_trials=1)


def run_parallel(
    problem_name: str,
    contender: str,
    seed: int,
    n_workers: int,
    seconds: float,
    budget: int | None = None,
) -> dict[str, Any]:
    problem = next(p for p in problems("mf") if p.name == problem_name)
    budget = budget or problem.budget
    objective = problem.objective(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "journal.log")
        storage = JournalStorage(JournalFileBackend(path))
        optuna.create_study(study_name="parallel", storage=storage)
        ctx = multiprocessing.get_context("spawn")
        start = time.time()
        procs = [
            ctx.Process(
                target=_worker,
                args=(path, problem_name, contender, seed, w, seconds, budget),
            )
            for w in range(n_workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        wall = time.time() - start
        trials = optuna.load_study(study_name="parallel", storage=storage).trials
    done = [(t.datetime_complete.timestamp(), t) for t in trials if t.datetime_complete]
    done.sort(key=lambda pair: pair[0])
    return {
        "problem": problem_name,
        "contender": contender,
        "seed": seed,
        "n_workers": n_workers,
        "budget": budget,
        "max_fidelity": problem.max_fidelity,
        "optimum": getattr(objective, "optimum", None),
        "reference": getattr(objective, "reference", None),
        "wall_time": wall,
        "exit_codes": [p.exitcode for p in procs],
        "n_trials": len(trials),
        "n_running_left": sum(t.state == TrialState.RUNNING for t in trials),
        "n_invalid_params": sum(
            not value_in_distribution(t.distributions[k], v)
            for t in trials
            for k, v in t.params.items()
        ),
        "trials": [record_trial(t, problem.max_fidelity) for _, t in done],
        "finish_times": [stamp - start for stamp, _ in done],
    }


def summarise(records: list[dict[str, Any]]) -> str:
    """Markdown: final regret and wall time per worker count, and the speed-up."""
    rows = []
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["problem"], r["contender"], r["n_workers"]), []).append(r)
    walls = {}
    for (problem, contender, n), recs in sorted(groups.items()):
        tagged = [dict(r, suite="mf", contender=f"{contender}@{n}") for r in recs]
        at = regrets(tagged, [1.0])
        final = [float(v[0]) for v in at.values()]
        wall = float(np.median([r["wall_time"] for r in recs]))
        walls[(problem, contender, n)] = wall
        ok = all(
            r["exit_codes"] == [0] * n
            and r["n_running_left"] == 0
            and r.get("n_invalid_params", 0) == 0
            for r in recs
        )
        rows.append(
            f"| {problem} | {contender} | {n} | {len(recs)} | {np.mean(final):.3f} | "
            f"{wall:.1f} s | {'yes' if ok else 'NO'} |"
        )
    lines = [
        "| problem | contender | workers | seeds | mean regret@100% | median wall time | "
        "workers ok, none left running, all params valid |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    for (problem, contender, n), wall in walls.items():
        if n > 1 and (problem, contender, 1) in walls:
            speedup = walls[(problem, contender, 1)] / wall
            lines.append(
                f"Speed-up of {n} workers over 1 on {problem} ({contender}): {speedup:.2f}x"
            )
    return "\n".join(lines) + "\n"


def write(records: list[dict[str, Any]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / PARALLEL_FILE).open("a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
