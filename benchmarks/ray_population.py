"""Ray Tune's own PBT and PB2 as contenders of the ``pbt`` suite (the ``bench`` extra with Ray).

``ray-pbt<P>`` and ``ray-pb2-<P>`` train the same trainer (``benchmarks.problems.pbt``), from the
same starting population (``population.initial_population``) for the same number of steps, with
Ray Tune's ``PopulationBasedTraining`` (its defaults: quantile 0.25, resample probability 0.25,
factors 1.2/0.8; ``hyperparam_mutations`` from the problem's space) or ``PB2`` (bounds from the
space). One Tune iteration trains ``interval`` steps and reports once, with a checkpoint, so
Ray's ``perturbation_interval`` is 1 iteration (Ray's per-report overhead is then paid as often
as ours per segment). A value Ray's explore moved outside the problem's space is clipped into it
before training: the space is the problem's domain (Ray itself does not clip). Every report
becomes one record (cost ``interval``; fully trained at the last step), written into the run's
Optuna study as a segment, so the report scores Ray's runs exactly as it scores ours. Ray's
scheduler draws with Python's ``random``, seeded per run. Every member runs at once (a fraction
of a CPU each), so Ray never pauses and restarts a trial for lack of resources.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
import random
import tempfile
from typing import Any

import numpy as np
import optuna
from optuna.distributions import FloatDistribution

from benchmarks.population import initial_population
from benchmarks.population import PopulationLoop


def ray_population_loop(population_size: int, method: str) -> PopulationLoop:
    """A loop training ``trainer`` with Ray Tune's PBT (``method="pbt"``) or PB2."""

    def loop(study: optuna.Study, trainer: Any, seed: int) -> None:
        import ray
        from ray import tune
        from ray.tune import Checkpoint as RayCheckpoint
        from ray.tune.schedulers import PopulationBasedTraining as RayPBT
        from ray.tune.schedulers.pb2 import PB2
        from ray.tune.search.basic_variant import BasicVariantGenerator

        interval = trainer.perturbation_interval
        max_steps = trainer.max_fidelity

        def trainable(config: dict[str, Any]) -> None:
            params = {
                k: min(d.high, max(d.low, float(config[k]))) for k, d in trainer.space.items()
            }
            checkpoint = tune.get_checkpoint()
            if checkpoint is not None:
                with checkpoint.as_directory() as folder:
                    data = Path(folder, "state.npz").read_bytes()
                    step = int(Path(folder, "step").read_text())
                state = trainer.loads(data)
            else:
                state, step = trainer.init_state(trainer._seed), 0
            while step < max_steps:
                n = min(interval, max_steps - step)
                state, value = trainer.train(state, params, n)
                step += n
                metrics = {"loss": float(value), "step": step, "steps": n}
                with tempfile.TemporaryDirectory() as folder:
                    Path(folder, "state.npz").write_bytes(trainer.dumps(state))
                    Path(folder, "step").write_text(str(step))
                    tune.report(metrics, checkpoint=RayCheckpoint.from_directory(folder))

        space = trainer.space
        random.seed(seed)
        np.random.seed(seed)
        if method == "pbt":
            scheduler: Any = RayPBT(
                time_attr="training_iteration",
                perturbation_interval=1,
                hyperparam_mutations={
                    k: tune.loguniform(d.low, d.high) if d.log else tune.uniform(d.low, d.high)
                    for k, d in space.items()
                },
            )
        else:
            scheduler = PB2(
                time_attr="training_iteration",
                perturbation_interval=1,
                hyperparam_bounds={k: [d.low, d.high] for k, d in space.items()},
            )
        starts = initial_population(trainer, population_size, seed)
        with tempfile.TemporaryDirectory() as storage:
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            try:
                tuner = tune.Tuner(
                    tune.with_resources(trainable, {"cpu": 2 / population_size}),
                    param_space={
                        k: tune.loguniform(d.low, d.high) if d.log else tune.uniform(d.low, d.high)
                        for k, d in space.items()
                    },
                    tune_config=tune.TuneConfig(
                        metric="loss",
                        mode="min",
                        scheduler=scheduler,
                        num_samples=population_size,
                        search_alg=BasicVariantGenerator(points_to_evaluate=starts),
                        reuse_actors=True,
                    ),
                    run_config=tune.RunConfig(
                        storage_path=storage,
                        stop={"training_iteration": math.ceil(max_steps / interval)},
                        verbose=0,
                    ),
                )
                grid = tuner.fit()
                for index in range(len(grid)):
                    frame = grid[index].metrics_dataframe
                    if frame is None:
                        continue
                    for _, row in frame.iterrows():
                        _record(study, trainer, row, index)
            finally:
                ray.shutdown()

    return loop


def _record(study: optuna.Study, trainer: Any, row: Any, member: int) -> None:
    """One report of a Ray trial as a segment of the run's study."""
    raw = {k: float(row[f"config/{k}"]) for k in trainer.space}
    params = {}
    for name, dist in trainer.space.items():
        assert isinstance(dist, FloatDistribution)
        params[name] = min(dist.high, max(dist.low, raw[name]))  # Ray may leave the bounds
    step = int(row["step"])
    steps = int(row["steps"])
    value = float(row["loss"])
    study.add_trial(
        optuna.trial.create_trial(
            params=params,
            distributions=dict(trainer.space),
            value=value if math.isfinite(value) else None,
            state=optuna.trial.TrialState.COMPLETE
            if math.isfinite(value)
            else optuna.trial.TrialState.FAIL,
            user_attrs={
                "pbt:member": member,
                "pbt:start_step": step - steps,
                "pbt:end_step": step,
                "ray:config": raw,
            },
        )
    )
