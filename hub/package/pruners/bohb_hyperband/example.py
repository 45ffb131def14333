import optuna
import optunahub


module = optunahub.load_module("pruners/bohb_hyperband")


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    for epoch in range(1, 28):
        trial.report((x - 1) ** 2 + 1 / epoch, epoch)
        if epoch < 27 and trial.should_prune():
            raise optuna.TrialPruned()
    return (x - 1) ** 2


pruner = module.BOHBPruner(min_resource=1, max_resource=27, reduction_factor=3)
study = optuna.create_study(pruner=pruner)
study.optimize(objective, n_trials=40)
print(study.best_params)
