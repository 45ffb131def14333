import json
import tempfile
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.distributions import FloatDistribution
import optunahub


module = optunahub.load_module("functions/population_based_training")


def objective(trial: optuna.Trial, checkpoint: Any) -> float:
    h = [trial.suggest_float("h0", 0, 1), trial.suggest_float("h1", 0, 1)]
    data = checkpoint.load_bytes()
    theta = json.loads(data) if data else [0.9, 0.9]
    for step in checkpoint.steps:
        theta = [t - 0.02 * hi * t for t, hi in zip(theta, h)]
        trial.report(1.2 - sum(t * t for t in theta), step)
    checkpoint.save_bytes(json.dumps(theta).encode())
    return 1.2 - sum(t * t for t in theta)


pbt = module.PopulationBasedTraining(
    optuna.create_study(direction="maximize"),
    population_size=4,
    perturbation_interval=4,
    search_space={"h0": FloatDistribution(0, 1), "h1": FloatDistribution(0, 1)},
    artifact_store=FileSystemArtifactStore(tempfile.mkdtemp()),
    seed=0,
)
pbt.optimize(objective, n_steps=40)
print(pbt.best_trial.value)
