"""Time per suggestion of the pack's samplers against their native peer, in the same process.

- ``hyperopt-tpe``: HyperoptSampler vs ``hyperopt.fmin``'s ``tpe.suggest`` call;
- ``ax-default``: AxSampler vs ``Client.get_next_trials(max_trials=1)``;
- ``smac-hpo``: RandomForestSampler vs SMAC3's HPO facade ``ask()`` + ``tell()``.

Both sides run one after the other on the same problem, seed and number of trials. The bridges
propose the same points as their native library (the record says how many matched); the forest
sampler is a re-implementation, so its points differ. The pack's side is timed as
``study.ask()`` (rebuilding the history from storage included) plus ``study.tell()``.

The figure reported is the median over the last ``window`` suggestions (the history then holds
``n_trials - window`` to ``n_trials - 1`` points), as the ratio bridge / native.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
import time
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.configspace import plain_params
from benchmarks.configspace import to_configspace

PEERS_FILE = "peers.jsonl"

# A mixed space like a small model's: continuous, log, integer and categorical.
SPACE: dict[str, BaseDistribution] = {
    "x0": FloatDistribution(-5.0, 5.0),
    "x1": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-5, 1.0, log=True),
    "n": IntDistribution(1, 64),
    "kind": CategoricalDistribution(["a", "b", "c"]),
}
# Ax: continuous parameters only, so a BoTorch suggestion takes about a second, not ten
# (mixed spaces make Ax enumerate or relax the categorical; both sides would pay the same).
AX_SPACE: dict[str, BaseDistribution] = {
    "x0": FloatDistribution(-5.0, 5.0),
    "x1": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-5, 1.0, log=True),
    "x2": FloatDistribution(0.0, 1.0),
}


def loss(p: dict[str, Any]) -> float:
    value = (p["x0"] - 1.0) ** 2 + (p["x1"] + 0.5) ** 2 + (math.log10(p["lr"]) + 3.0) ** 2 / 4
    value += abs(p.get("n", 16) - 16) / 16 + {"a": 0.0, "b": 0.5, "c": 1.0}[p.get("kind", "a")]
    return float(value + (p.get("x2", 0.3) - 0.3) ** 2)


def _objective(space: dict[str, BaseDistribution]) -> Any:
    def objective(trial: optuna.Trial) -> float:
        return loss({name: trial._suggest(name, d) for name, d in space.items()})

    return objective


def _optuna_side(
    sampler: optuna.samplers.BaseSampler, space: Any, n: int
) -> tuple[list[float], list[dict[str, Any]]]:
    study = optuna.create_study(sampler=sampler)
    objective = _objective(space)
    times: list[float] = []
    points: list[dict[str, Any]] = []
    for _ in range(n):
        start = time.perf_counter()
        trial = study.ask()
        for name, d in space.items():
            trial._suggest(name, d)
        elapsed = time.perf_counter() - start
        value = objective(trial)  # the values were fixed above; this only reads them
        start = time.perf_counter()
        study.tell(trial, value)
        times.append(elapsed + time.perf_counter() - start)
        points.append(dict(trial.params))
    return times, points


def hyperopt_record(seed: int, n_trials: int, window: int) -> dict[str, Any]:
    import hyperopt
    from hyperopt import tpe

    from optuna_advanced import HyperoptSampler
    from optuna_advanced.samplers import hyperopt_space

    native_times: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = tpe.suggest(*args, **kwargs)
        native_times.append(time.perf_counter() - start)
        return out

    space = hyperopt_space(SPACE)
    trials = hyperopt.Trials()
    hyperopt.fmin(
        lambda p: loss(_from_hyperopt(p)),
        space,
        algo=timed,
        max_evals=n_trials,
        rstate=np.random.default_rng(seed),
        trials=trials,
        show_progressbar=False,
    )
    native_points = [
        _from_hyperopt({k: v[0] for k, v in t["misc"]["vals"].items()}) for t in trials.trials
    ]
    ours, points = _optuna_side(
        HyperoptSampler(algo="tpe", seed=seed, search_space=SPACE), SPACE, n_trials
    )
    return _record(
        "hyperopt-tpe", seed, n_trials, window, native_times, ours, native_points, points
    )


def _from_hyperopt(raw: dict[str, Any]) -> dict[str, Any]:
    from optuna_advanced.samplers import hyperopt_params

    return hyperopt_params(SPACE, raw)


def ax_record(seed: int, n_trials: int, window: int) -> dict[str, Any]:
    from ax import Client

    from optuna_advanced import AxSampler
    from optuna_advanced.samplers import ax_parameters
    from optuna_advanced.samplers import quiet_ax

    native_times: list[float] = []
    native_points: list[dict[str, Any]] = []
    with quiet_ax():
        client = Client(random_seed=seed)
        client.configure_experiment(parameters=ax_parameters(AX_SPACE))
        client.configure_optimization(objective="-objective")
        for _ in range(n_trials):
            start = time.perf_counter()
            ((index, params),) = client.get_next_trials(max_trials=1).items()
            native_times.append(time.perf_counter() - start)
            native_points.append(dict(params))
            client.complete_trial(trial_index=index, raw_data={"objective": loss(dict(params))})
    ours, points = _optuna_side(AxSampler(seed=seed, search_space=AX_SPACE), AX_SPACE, n_trials)
    return _record("ax-default", seed, n_trials, window, native_times, ours, native_points, points)


def smac_record(seed: int, n_trials: int, window: int) -> dict[str, Any]:
    import tempfile

    from smac import HyperparameterOptimizationFacade
    from smac import Scenario
    from smac.runhistory.dataclasses import TrialValue

    from optuna_advanced import RandomForestSampler

    cs = to_configspace(SPACE, seed)
    native_times: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        scenario = Scenario(
            cs, deterministic=True, n_trials=n_trials, seed=seed, output_directory=Path(out)
        )
        smac = HyperparameterOptimizationFacade(
            scenario, target_function=lambda config, seed=0: 0.0, overwrite=True, logging_level=40
        )
        for _ in range(n_trials):
            start = time.perf_counter()
            info = smac.ask()
            elapsed = time.perf_counter() - start
            value = loss(plain_params(info.config))
            start = time.perf_counter()
            smac.tell(info, TrialValue(cost=value))
            native_times.append(elapsed + time.perf_counter() - start)
    ours, _ = _optuna_side(RandomForestSampler(seed=seed), SPACE, n_trials)
    return _record("smac-hpo", seed, n_trials, window, native_times, ours, [], [])


def _record(
    bridge: str,
    seed: int,
    n_trials: int,
    window: int,
    native: list[float],
    ours: list[float],
    native_points: list[dict[str, Any]],
    points: list[dict[str, Any]],
) -> dict[str, Any]:
    same = sum(_close(a, b) for a, b in zip(native_points, points))
    return {
        "bridge": bridge,
        "seed": seed,
        "n_trials": n_trials,
        "window": window,
        "native_median_s": float(np.median(native[-window:])),
        "bridge_median_s": float(np.median(ours[-window:])),
        # The mean is the amortised cost: SMAC3 retrains and maximises only every few asks
        # and serves the others from a list, so its median hides most of its work.
        "native_mean_s": float(np.mean(native[-window:])),
        "bridge_mean_s": float(np.mean(ours[-window:])),
        "native_total_s": float(np.sum(native)),
        "bridge_total_s": float(np.sum(ours)),
        "n_same_points": same,
    }


def _close(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        if isinstance(a[k], float):
            if not math.isclose(a[k], b[k], rel_tol=1e-12, abs_tol=1e-12):
                return False
        elif a[k] != b[k]:
            return False
    return True


def run(
    out: Path,
    seeds: int,
    hyperopt_trials: int,
    ax_trials: int,
    smac_trials: int,
    window: int,
) -> list[dict[str, Any]]:
    records = []
    jobs = []
    if hyperopt_trials:
        jobs.append(functools.partial(hyperopt_record, n_trials=hyperopt_trials, window=window))
    if smac_trials:
        jobs.append(functools.partial(smac_record, n_trials=smac_trials, window=window))
    if ax_trials:
        jobs.append(functools.partial(ax_record, n_trials=ax_trials, window=min(window, 10)))
    for job in jobs:
        for seed in range(seeds):
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            records.append(job(seed))
    out.mkdir(parents=True, exist_ok=True)
    with (out / PEERS_FILE).open("a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return records


def summarise(records: list[dict[str, Any]]) -> str:
    """Markdown table: median time per suggestion, native vs ours, and the ratio."""
    lines = [
        "| peer | trials | seeds | native per suggestion | ours per suggestion | ratio | "
        "same points as native | ratio of means |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["bridge"], r["n_trials"]), []).append(r)
    for (bridge, n), recs in sorted(groups.items()):
        native = float(np.median([r["native_median_s"] for r in recs]))
        ours = float(np.median([r["bridge_median_s"] for r in recs]))
        same = sum(r["n_same_points"] for r in recs)
        same_text = f"{same} of {n * len(recs)}" if bridge != "smac-hpo" else "n/a (own code)"
        means = [r for r in recs if "native_mean_s" in r]
        mean_text = "-"
        if means:
            native_mean = float(np.median([r["native_mean_s"] for r in means]))
            ours_mean = float(np.median([r["bridge_mean_s"] for r in means]))
            mean_text = (
                f"{ours_mean / native_mean:.2f}x ({ours_mean * 1e3:.1f} / "
                f"{native_mean * 1e3:.1f} ms)"
            )
        lines.append(
            f"| {bridge} | {n} | {len(recs)} | {native * 1e3:.1f} ms | {ours * 1e3:.1f} ms | "
            f"{ours / native:.2f}x | {same_text} | {mean_text} |"
        )
    lines.append(
        "\nTimes are medians over the last suggestions of each run (history of about "
        "`trials` points), then the median over seeds; both sides ran in the same process. "
        "The ratio of means compares the mean time over the same suggestions (the amortised "
        "cost per trial; ours / native, median over seeds); it is what a study of that many "
        "trials pays, since SMAC3 does most of its work on one ask in several."
    )
    return "\n".join(lines) + "\n"
