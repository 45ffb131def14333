import optuna
import optunahub


module = optunahub.load_module("samplers/ax_bridge")
sampler = module.AxSampler(seed=0, generation_strategy={"method": "random_search"})
study = optuna.create_study(sampler=sampler)
study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=8)
print(study.best_params)
