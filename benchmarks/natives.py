"""Native peers: other libraries' own loops, evaluated through the same Optuna objective.

Each loop asks its library for a configuration, evaluates it as an enqueued trial of the run's
Optuna study (so cost, records and the true-value attribute are exactly as for Optuna
samplers), and tells the library the result, until ``done()``. Static spaces (the
objective's ``space`` attribute) are supported by all; SMAC3 also takes a conditional problem's
``configspace(seed)``. Libraries are imported lazily: they are the
optional ``bench`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
import math
from pathlib import Path
import tempfile
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from benchmarks.configspace import plain_params
from benchmarks.configspace import to_configspace

Done = Callable[[], bool]


def evaluate(study: optuna.Study, objective: Any, params: dict[str, Any]) -> float:
    """Evaluate ``params`` as the study's next trial; failed or pruned trials count as +inf."""
    study.enqueue_trial(params, skip_if_exists=False)
    study.optimize(objective, n_trials=1, catch=(Exception,))
    trial = study.trials[-1]
    if trial.state != TrialState.COMPLETE or trial.value is None or math.isnan(trial.value):
        return math.inf
    return float(trial.value)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def static_space(objective: Any) -> dict[str, BaseDistribution]:
    space = getattr(objective, "space", None)
    if space is None:
        raise ValueError("native peers need a problem with a static `space`")
    return dict(space)


def hyperopt_loop(study: optuna.Study, objective: Any, seed: int, budget: int, done: Done) -> None:
    from hyperopt import fmin
    from hyperopt import hp
    from hyperopt import STATUS_OK
    from hyperopt import tpe
    from hyperopt import Trials
    from hyperopt.pyll import scope

    space: dict[str, Any] = {}
    for name, dist in static_space(objective).items():
        if isinstance(dist, CategoricalDistribution):
            space[name] = hp.choice(name, list(dist.choices))
        elif isinstance(dist, IntDistribution):
            if dist.log:
                space[name] = scope.int(
                    hp.qloguniform(name, math.log(dist.low), math.log(dist.high), 1)
                )
            else:
                space[name] = scope.int(hp.quniform(name, dist.low, dist.high, dist.step))
        elif isinstance(dist, FloatDistribution):
            if dist.log:
                space[name] = hp.loguniform(name, math.log(dist.low), math.log(dist.high))
            else:
                space[name] = hp.uniform(name, dist.low, dist.high)

    def fn(params: dict[str, Any]) -> dict[str, Any]:
        clean = {k: _plain(v) for k, v in params.items()}
        return {"loss": evaluate(study, objective, clean), "status": STATUS_OK}

    fmin(
        fn,
        space,
        algo=tpe.suggest,
        max_evals=budget,
        trials=Trials(),
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )


def smac_loop(study: optuna.Study, objective: Any, seed: int, budget: int, done: Done) -> None:
    from smac import HyperparameterOptimizationFacade
    from smac import Scenario
    from smac.runhistory.dataclasses import TrialValue

    # A conditional problem gives its space with ConfigSpace conditions; inactive parameters
    # are left out of the configuration, and the define-by-run objective never asks for them.
    if hasattr(objective, "configspace"):
        cs = objective.configspace(seed)
    else:
        cs = to_configspace(static_space(objective), seed)
    with tempfile.TemporaryDirectory() as out:
        scenario = Scenario(
            cs, deterministic=True, n_trials=budget, seed=seed, output_directory=Path(out)
        )
        smac = HyperparameterOptimizationFacade(
            scenario, target_function=lambda config, seed=0: 0.0, overwrite=True, logging_level=40
        )
        while not done():
            info = smac.ask()
            value = evaluate(study, objective, plain_params(info.config))
            smac.tell(info, TrialValue(cost=value if math.isfinite(value) else 1e12))


def ax_loop(study: optuna.Study, objective: Any, seed: int, budget: int, done: Done) -> None:
    from ax import ChoiceParameterConfig
    from ax import Client
    from ax import RangeParameterConfig

    parameters: list[Any] = []
    for name, dist in static_space(objective).items():
        if isinstance(dist, CategoricalDistribution):
            parameters.append(
                ChoiceParameterConfig(
                    name=name, parameter_type="str", values=[str(c) for c in dist.choices]
                )
            )
        elif isinstance(dist, (IntDistribution, FloatDistribution)):
            parameters.append(
                RangeParameterConfig(
                    name=name,
                    parameter_type="int" if isinstance(dist, IntDistribution) else "float",
                    bounds=(dist.low, dist.high),
                    scaling="log" if dist.log else "linear",
                )
            )
    client = Client(random_seed=seed)
    client.configure_experiment(parameters=parameters)
    client.configure_optimization(objective="-loss")
    while not done():
        for index, params in client.get_next_trials(max_trials=1).items():
            value = evaluate(study, objective, dict(params))
            if math.isfinite(value):
                client.complete_trial(trial_index=index, raw_data={"loss": value})
            else:
                client.mark_trial_failed(trial_index=index)
