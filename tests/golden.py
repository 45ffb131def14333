"""Recorded behaviour: what every sampler proposes, and what PBT decides, for fixed seeds.

``tests/test_golden.py`` replays each recording and compares it with the file in
``tests/data/golden.json``; a refactoring that must not change behaviour keeps them equal.
Regenerate (only when a behaviour change is intended, and say so in the commit) with::

    python -m tests.golden --write [--only NAME ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import json
import math
from pathlib import Path
import tempfile
from typing import Any
from typing import Literal

import numpy as np
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

import optuna_advanced
from optuna_advanced import PopulationBasedTraining
from optuna_advanced.pbt import Checkpoint
from optuna_advanced.testing.conformance import mixed_objective

GOLDEN = Path(__file__).parent / "data" / "golden.json"


def _curve(trial: optuna.Trial) -> float:
    """A conditional mixed space with learning curves over steps 1..9 (for pruning)."""
    value = mixed_objective(trial)
    for step in range(1, 10):
        trial.report(value * (1 + 1 / step), step)
        if step < 9 and trial.should_prune():
            raise optuna.TrialPruned()
    return value


def _two(trial: optuna.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0, 1)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    n = trial.suggest_int("n", 1, 5)
    return (x - 0.2) ** 2 + n * (kind == "a"), (x - 0.8) ** 2 + (kind == "b")


def _study_points(
    sampler: optuna.samplers.BaseSampler,
    objective: Callable[[optuna.Trial], Any],
    n_trials: int,
    *,
    pruner: optuna.pruners.BasePruner | None = None,
    directions: list[Literal["minimize", "maximize"]] | None = None,
) -> list[dict[str, Any]]:
    study = optuna.create_study(
        sampler=sampler,
        pruner=pruner,
        directions=directions,
        study_name="golden",
    )
    study.optimize(objective, n_trials=n_trials)
    return [{"params": t.params, "state": t.state.name} for t in study.trials]


def _samplers() -> dict[str, Callable[[], list[dict[str, Any]]]]:
    oa = optuna_advanced
    hyperband = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9)
    return {
        "BOHBSampler/mixed": lambda: _study_points(oa.BOHBSampler(seed=1), mixed_objective, 60),
        "BOHBSampler/hyperband": lambda: _study_points(
            oa.BOHBSampler(seed=2), _curve, 60, pruner=hyperband
        ),
        "BOHBSampler/bohb-pruner": lambda: _study_points(
            oa.BOHBSampler(seed=3),
            _curve,
            60,
            pruner=oa.BOHBPruner(min_resource=1, max_resource=9),
        ),
        "RandomForestSampler/mixed": lambda: _study_points(
            oa.RandomForestSampler(seed=1, n_startup_trials=10), mixed_objective, 30
        ),
        "RandomForestSampler/pruned": lambda: _study_points(
            oa.RandomForestSampler(seed=2, n_startup_trials=8),
            _curve,
            25,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3),
        ),
        "RandomForestSampler/multi": lambda: _study_points(
            oa.RandomForestSampler(seed=3, n_startup_trials=6),
            _two,
            15,
            directions=["minimize", "minimize"],
        ),
        "HyperoptSampler(tpe)/mixed": lambda: _study_points(
            oa.HyperoptSampler(algo="tpe", seed=1, n_startup_jobs=8), mixed_objective, 30
        ),
        "HyperoptSampler(anneal)/mixed": lambda: _study_points(
            oa.HyperoptSampler(algo="anneal", seed=1), mixed_objective, 20
        ),
        "HyperoptSampler(tpe)/pruned": lambda: _study_points(
            oa.HyperoptSampler(algo="tpe", seed=2, n_startup_jobs=5),
            _curve,
            20,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3),
        ),
        "AxSampler(sobol)/mixed": lambda: _study_points(
            oa.AxSampler(seed=1, generation_strategy={"method": "random_search"}),
            mixed_objective,
            12,
        ),
        "AxSampler/mixed": lambda: _study_points(oa.AxSampler(seed=3), mixed_objective, 9),
        "AxSampler(sobol)/multi": lambda: _study_points(
            oa.AxSampler(seed=2, generation_strategy={"method": "random_search"}),
            _two,
            8,
            directions=["minimize", "minimize"],
        ),
    }


def _pbt_objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
    """PBT's toy problem with an integer and a categorical hyperparameter as well."""
    h0 = trial.suggest_float("h0", 0.0, 1.0)
    h1 = trial.suggest_float("h1", 1e-3, 1.0, log=True)
    k = trial.suggest_int("k", 1, 6)
    mode = trial.suggest_categorical("mode", ["a", "b", "c"])
    data = checkpoint.load_bytes()
    theta = json.loads(data) if data else [0.9, 0.9]
    scale = {"a": 1.0, "b": 0.9, "c": 0.8}[mode] * (1 + 0.05 * k)
    for step in checkpoint.steps:
        theta = [theta[0] - 0.03 * h0 * scale * theta[0], theta[1] - 0.03 * h1 * theta[1]]
        trial.report(1.2 - theta[0] ** 2 - theta[1] ** 2, step)
    checkpoint.save_bytes(json.dumps(theta).encode())
    return 1.2 - theta[0] ** 2 - theta[1] ** 2


_PBT_SPACE = {
    "h0": FloatDistribution(0.0, 1.0),
    "h1": FloatDistribution(1e-3, 1.0, log=True),
    "k": IntDistribution(1, 6),
    "mode": CategoricalDistribution(["a", "b", "c"]),
}


def _pbt(explore: str, seed: int) -> list[dict[str, Any]]:
    study = optuna.create_study(direction="maximize", study_name="golden-pbt")
    with tempfile.TemporaryDirectory() as tmp:
        pbt = PopulationBasedTraining(
            study,
            population_size=6,
            perturbation_interval=4,
            search_space=_PBT_SPACE,
            initial_params=[{"h0": 0.5, "mode": "b"}],
            explore=explore,  # type: ignore[arg-type]
            artifact_store=FileSystemArtifactStore(tmp),
            seed=seed,
        )
        pbt.optimize(_pbt_objective, n_steps=40)
    out = []
    for t in study.trials:
        attrs = {k: v for k, v in t.user_attrs.items() if k.startswith("pbt:")}
        keep = ("member", "generation", "start_step", "end_step", "parent", "exploited")
        out.append(
            {
                "params": t.params,
                "state": t.state.name,
                "value": t.value,
                **{k: attrs.get(f"pbt:{k}") for k in (*keep, "perturbation")},
            }
        )
    return out


def recordings() -> dict[str, Callable[[], list[dict[str, Any]]]]:
    """Name -> a function that replays one recording."""
    out = _samplers()
    out["PopulationBasedTraining/perturb"] = lambda: _pbt("perturb", 0)
    out["PopulationBasedTraining/pb2"] = lambda: _pbt("pb2", 1)
    return out


def plain(value: Any) -> Any:
    """JSON's view of a recording (tuples become lists, exact float text kept)."""
    return json.loads(json.dumps(value))


def same(a: Any, b: Any, rel: float = 0.0) -> bool:
    """Equal, with floats equal up to ``rel`` relative (and NaN == NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        close = math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-9)
        return a == b or close or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b))
    return bool(a == b) and type(a) is type(b)


#: Floats match the recordings up to this relative difference: NumPy's exp and log round the
#: last bit differently on different CPUs' vector units (AVX-512 or not; HyperoptSampler's
#: log-uniform draws moved by one unit in the last place between two machines of this kind).
#: PB2's explore fits a GP by L-BFGS, whose floats move further with the BLAS and the CPU
#: (1.7e-4 relative on one machine against another, every decision the same).
REL_TOLERANCE = {"PopulationBasedTraining/pb2": 1e-3}
DEFAULT_REL_TOLERANCE = 1e-12


#: Recordings exact only up to the trial where another library's numerical optimiser takes
#: over (BoTorch's acquisition optimisation, from AxSampler's 6th trial): its floats move with
#: library versions and BLAS, and the history with them. Later trials are compared by their
#: parameter names and state.
EXACT_UNTIL = {"AxSampler/mixed": 5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite tests/data/golden.json")
    parser.add_argument("--only", nargs="*", help="only these recordings (others kept as stored)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    np.seterr(all="ignore")
    chosen = {n: r for n, r in recordings().items() if not args.only or n in args.only}
    result = {name: plain(run()) for name, run in chosen.items()}
    if args.write:
        GOLDEN.parent.mkdir(exist_ok=True)
        stored = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        stored.update(result)
        GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
    else:
        stored = json.loads(GOLDEN.read_text())
        for name in result:
            print(name, "same" if same(result[name], stored.get(name)) else "DIFFERENT")


if __name__ == "__main__":
    main()
