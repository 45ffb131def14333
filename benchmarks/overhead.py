"""The ``overhead`` suite: what one ``ask()`` + ``tell()`` costs a sampler, objective excluded.

A study over a 10-dimensional mixed space (6 floats, two of them log-scaled and one stepped,
2 ints, 2 categoricals) is filled with ``n`` finished trials (random parameters, a smooth
objective), then the sampler serves one unmeasured warm-up trial and ``n_asks`` more; we time
each ``ask`` + suggestions + ``tell``, then record the peak of Python allocations over a few
more asks (``tracemalloc``, switched on only for those: it slows allocation-heavy code several
times; memory held by native libraries such as torch is not counted). Report speed
as a ratio to TPE measured in the same run: absolute timings on shared machines are noisy.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from typing import Any
import warnings

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.contenders import contenders
from benchmarks.problems import Problem

SIZES = (100, 300, 1000)
SPACE: dict[str, BaseDistribution] = {
    "f0": FloatDistribution(-5.0, 5.0),
    "f1": FloatDistribution(-5.0, 5.0),
    "f2": FloatDistribution(0.0, 1.0),
    "f3": FloatDistribution(0.0, 1.0, step=0.05),
    "f4": FloatDistribution(1e-5, 1.0, log=True),
    "f5": FloatDistribution(1e-3, 1e3, log=True),
    "i0": IntDistribution(1, 100),
    "i1": IntDistribution(1, 1024, log=True),
    "c0": CategoricalDistribution(["a", "b", "c"]),
    "c1": CategoricalDistribution([None, 1, 2.5, "x", True]),
}


def _value(params: dict[str, Any]) -> float:
    numeric = [params[k] for k in ("f0", "f1", "f2", "f3")]
    value = sum(v * v for v in numeric)
    value += (math.log10(params["f4"]) + 2) ** 2 + (math.log10(params["f5"]) - 1) ** 2
    value += abs(params["i0"] - 30) / 10 + abs(math.log2(params["i1"]) - 5)
    value += {"a": 0.0, "b": 0.5, "c": 1.0}[params["c0"]] + (params["c1"] is None)
    return float(value)


def measure(
    contender: str, n_trials: int, seed: int, n_asks: int = 5, n_memory_asks: int = 3
) -> dict[str, Any]:
    """Seconds per ask+tell (median of ``n_asks``) after ``n_trials`` finished trials, then
    the peak MiB of Python allocations over ``n_memory_asks`` further asks."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    entry = contenders()[contender]
    assert entry.sampler is not None, "overhead is measured for Optuna samplers only"
    rng = np.random.default_rng(seed)
    history = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(n_trials):
        trial = history.ask(SPACE)
        history.tell(trial, _value(trial.params) + float(rng.normal(0.0, 0.1)))
    study = optuna.create_study(sampler=entry.sampler(seed))
    study.add_trials(history.trials)
    # One warm-up ask, unmeasured: samplers import their libraries (torch, cmaes, scipy) lazily
    # on first use, which is neither per-ask time nor steady-state memory.
    warm = study.ask(SPACE)
    study.tell(warm, _value(warm.params))
    times = []
    for _ in range(n_asks):
        start = time.perf_counter()
        trial = study.ask(SPACE)
        study.tell(trial, _value(trial.params))
        times.append(time.perf_counter() - start)
    # Memory in a separate pass: tracemalloc hooks every allocation, which slowed the asks of
    # allocation-heavy samplers up to 7x when both were measured at once.
    tracemalloc.start()
    for _ in range(n_memory_asks):
        trial = study.ask(SPACE)
        study.tell(trial, _value(trial.params))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds_per_ask": float(np.median(times)),
        "seconds_all": times,
        "peak_mib": peak / 2**20,
    }


def problems() -> list[Problem]:
    """One pseudo-problem per history size; ``budget`` is the number of finished trials."""
    return [Problem(name=f"mixed10d_n{n}", suite="overhead", build=None, budget=n) for n in SIZES]
