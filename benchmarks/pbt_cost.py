"""What PopulationBasedTraining itself costs per member step, by storage and study size.

The objective does no training (it reports and saves a tiny checkpoint), so the time between one
segment's end and the next one's start is PBT's own work: reading the population, deciding,
creating the next segment, claiming it, saving the checkpoint. One worker, population ``P``,
``perturbation_interval`` steps per segment; the figure is the median time per segment over the
last 100 segments of the run, divided by the interval (seconds per member step), for runs that
end at 200 and at 2000 segments, so that growth with the study's size shows.
"""

from __future__ import annotations

import json
from pathlib import Path
import tempfile
import time
from typing import Any

import numpy as np
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.distributions import FloatDistribution

from benchmarks.stats import table
from optuna_advanced import PopulationBasedTraining
from optuna_advanced.pbt import Checkpoint

PBTCOST_FILE = "pbtcost.jsonl"
STORAGES = ("memory", "journal", "sqlite")


def _storage(kind: str, where: Path) -> Any:
    if kind == "memory":
        return None
    if kind == "journal":
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(str(where / "journal.log")))
    if kind == "sqlite":
        return f"sqlite:///{where / 'study.db'}"
    raise ValueError(kind)


def measure(
    kind: str, n_segments: int, population: int, interval: int, seed: int
) -> dict[str, Any]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    starts: list[float] = []
    ends: list[float] = []

    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        starts.append(time.perf_counter())
        h = trial.suggest_float("h", 0.0, 1.0)
        data = checkpoint.load_bytes()
        x = float(data) if data else 1.0
        for step in checkpoint.steps:
            x *= 1.0 - 0.01 * h
            trial.report(x, step)
        checkpoint.save_bytes(repr(x).encode())
        ends.append(time.perf_counter())
        return x

    n_steps = n_segments * interval // population
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        study = optuna.create_study(storage=_storage(kind, where))
        pbt = PopulationBasedTraining(
            study,
            population_size=population,
            perturbation_interval=interval,
            search_space={"h": FloatDistribution(0.0, 1.0)},
            artifact_store=FileSystemArtifactStore(str(where)),
            seed=seed,
            publish_figures=False,
        )
        start = time.perf_counter()
        pbt.optimize(objective, n_steps=n_steps)
        wall = time.perf_counter() - start
        n_trials = len(study.trials)
    # The gap from one segment's end to the next one's end: PBT's work plus the objective's
    # (whose Optuna calls and checkpoint I/O go through PBT too); and from one segment's end to
    # the next one's start: PBT's work alone (read, decide, create, claim).
    per_segment = np.diff(np.asarray(ends))[-100:]
    inside = (np.asarray(ends) - np.asarray(starts))[-100:]
    between = (np.asarray(starts[1:]) - np.asarray(ends[:-1]))[-100:]
    return {
        "storage": kind,
        "segments": n_segments,
        "population": population,
        "interval": interval,
        "seed": seed,
        "n_trials": n_trials,
        "wall_s": wall,
        "seconds_per_segment": float(np.median(per_segment)),
        "objective_seconds_per_segment": float(np.median(inside)),
        "seconds_per_member_step": float(np.median(per_segment)) / interval,
        "between_seconds_per_member_step": float(np.median(between)) / interval,
    }


def run(
    out: Path,
    storages: list[str],
    sizes: list[int],
    population: int,
    interval: int,
    seed: int,
    repeats: int = 1,
) -> list[dict[str, Any]]:
    """Each (storage, size) ``repeats`` times, interleaved (the sizes of one repeat run back to
    back, so a slow spell of a shared machine hits both sizes alike)."""
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for repeat in range(repeats):
        for kind in storages:
            for n in sizes:
                rec = measure(kind, n, population, interval, seed + repeat)
                rec["repeat"] = repeat
                records.append(rec)
                with (out / PBTCOST_FILE).open("a") as f:
                    f.write(json.dumps(rec) + "\n")
    return records


def summarise(records: list[dict[str, Any]]) -> str:
    sizes = sorted({r["segments"] for r in records})
    kinds = [k for k in STORAGES if any(r["storage"] == k for r in records)]
    rows = []
    repeats = 0
    for key, label in (
        ("seconds_per_member_step", "all of it"),
        ("between_seconds_per_member_step", "between segments"),
    ):
        by_cell: dict[tuple[str, int], list[float]] = {}
        for r in records:
            if key in r:
                by_cell.setdefault((r["storage"], r["segments"]), []).append(r[key] * 1e3)
        cell = {k: float(np.median(v)) for k, v in by_cell.items()}
        repeats = max([repeats, *(len(v) for v in by_cell.values())])
        for kind in kinds:
            row = [kind, label]
            row += [f"{cell[(kind, n)]:.2f} ms" if (kind, n) in cell else "-" for n in sizes]
            if (kind, sizes[0]) in cell and (kind, sizes[-1]) in cell:
                row.append(f"{cell[(kind, sizes[-1])] / cell[(kind, sizes[0])]:.2f}x")
            rows.append(row)
    setup = {(r["population"], r["interval"]) for r in records}
    text = ", ".join(f"population {p}, {i} steps per segment" for p, i in sorted(setup))
    header = ["storage", "what", *(f"at {n} segments" for n in sizes), "growth"]
    return (
        f"PBT's own cost per member step ({text}; median over the last 100 segments of a run "
        f"with a no-op objective, then the median of {repeats} repeat(s); one worker). "
        "*All of it*: from one segment's end to the next one's end, so it includes what the "
        "objective does through PBT and Optuna (load and save the checkpoint in a "
        "`FileSystemArtifactStore`, suggest, report each step). *Between segments*: from one "
        "segment's end to the next one's start (read the population, decide, create and claim "
        "the next segment):\n\n" + table(rows, header) + "\n"
    )
