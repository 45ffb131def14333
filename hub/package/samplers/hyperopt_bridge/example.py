import optuna
import optunahub


module = optunahub.load_module("samplers/hyperopt_bridge")
sampler = module.HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=10)
study = optuna.create_study(sampler=sampler)
study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=30)
print(study.best_params)
