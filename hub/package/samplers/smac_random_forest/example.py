import optuna
import optunahub


module = optunahub.load_module("samplers/smac_random_forest")


def objective(trial: optuna.Trial) -> float:
    kind = trial.suggest_categorical("kind", ["svm", "tree"])
    if kind == "svm":
        return abs(trial.suggest_float("C", 1e-3, 1e3, log=True) - 10) / 10
    return abs(trial.suggest_int("depth", 1, 32) - 12) / 12


study = optuna.create_study(sampler=module.RandomForestSampler(seed=0))
study.optimize(objective, n_trials=40)
print(study.best_params)
