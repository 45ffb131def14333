"""What one AxSampler ask costs, as a function of the history's size and the number of
parameters (Ax's default strategy: a BoTorch ask once the Sobol start-up is over).

For each kind of space (``float``: ``d`` floats; ``mixed``: half floats, a quarter integers
in 1..64, a quarter categoricals of 3 choices), number of parameters ``d`` and history size
``n``, a study is filled with ``n`` uniformly random trials (enqueued, so Ax is not asked for
them) of a quadratic objective; then ``repeats`` asks are timed, each followed by its tell. One
thread for torch, as in the ``sf`` runs; absolute seconds depend on the machine and its load, so
the report also gives each cell's ratio to the smallest one of the same run.
"""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.stats import table

AXCOST_FILE = "axcost.jsonl"


def _space(kind: str, d: int) -> dict[str, BaseDistribution]:
    if kind == "float":
        return {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(d)}
    n_int = n_cat = d // 4
    space: dict[str, BaseDistribution] = {
        f"x{i}": FloatDistribution(0.0, 1.0) for i in range(d - n_int - n_cat)
    }
    space.update({f"i{i}": IntDistribution(1, 64) for i in range(n_int)})
    space.update({f"c{i}": CategoricalDistribution(["a", "b", "c"]) for i in range(n_cat)})
    return space


def measure(kind: str, d: int, n: int, seed: int, repeats: int) -> dict[str, Any]:
    import torch

    from optuna_advanced import AxSampler

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = _space(kind, d)
    sampler = optuna.samplers.RandomSampler(seed=seed)

    def value(params: dict[str, Any]) -> float:
        return float(
            sum(
                (v - 0.3) ** 2 if isinstance(v, float) else (v != "a" if isinstance(v, str) else v)
                for v in params.values()
            )
        )

    history = optuna.create_study(sampler=sampler)
    study = optuna.create_study(sampler=AxSampler(seed=seed, search_space=space))
    for _ in range(n):
        trial = history.ask(space)
        study.enqueue_trial(trial.params)
        trial = study.ask(space)
        study.tell(trial, value(trial.params))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        trial = study.ask(space)
        study.tell(trial, value(trial.params))
        seconds.append(time.perf_counter() - start)
    node = study.trials[-1].user_attrs.get("ax:generation_node")
    return {"kind": kind, "d": d, "n": n, "seed": seed, "seconds": seconds, "node": node}


def run(
    out: Path, kinds: list[str], dims: list[int], sizes: list[int], seed: int, repeats: int
) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for kind in kinds:
        for d in dims:
            for n in sizes:
                rec = measure(kind, d, n, seed, repeats)
                records.append(rec)
                with (out / AXCOST_FILE).open("a") as f:
                    f.write(json.dumps(rec) + "\n")
    return records


def summarise(records: list[dict[str, Any]]) -> str:
    keys = sorted({(r.get("kind", "float"), r["d"]) for r in records})
    sizes = sorted({r["n"] for r in records})
    median = {
        (r.get("kind", "float"), r["d"], r["n"]): float(np.median(r["seconds"])) for r in records
    }
    base = min(median.values())
    rows = [
        [f"{d} parameters ({kind})"]
        + [
            f"{median[(kind, d, n)]:.1f} s ({median[(kind, d, n)] / base:.1f}x)"
            if (kind, d, n) in median
            else "-"
            for n in sizes
        ]
        for kind, d in keys
    ]
    nodes = sorted({str(r["node"]) for r in records})
    return (
        "Median seconds per AxSampler ask + tell (Ax's default strategy, generation node "
        f"{', '.join(nodes)}; in parentheses the ratio to the cheapest cell of the run):\n\n"
        + table(rows, ["", *(f"{n} trials" for n in sizes)])
        + "\n"
    )
