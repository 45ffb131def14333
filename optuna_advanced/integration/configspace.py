"""A ConfigSpace search space (what SMAC3 users write) as define-by-run Optuna code.

``suggest_configuration(trial, cs)`` walks the space's hyperparameters in ConfigSpace's own
(topological) order and suggests each one that is active given the values suggested before it,
so conditional hyperparameters appear only when their conditions hold, exactly as in
ConfigSpace's configurations. Any Optuna sampler then searches the space; the pack's
:class:`~optuna_advanced.RandomForestSampler` models it as SMAC3 would (inactive values imputed
out of range).

Mapping: ``UniformFloatHyperparameter`` -> ``suggest_float`` (log kept),
``UniformIntegerHyperparameter`` -> ``suggest_int`` (log kept), ``CategoricalHyperparameter``
and ``OrdinalHyperparameter`` -> ``suggest_categorical`` (an ordinal's order is not modelled),
``Constant`` -> its value (not a parameter). Normal and beta priors have no Optuna
counterpart: they are refused, not silently flattened. A configuration that a forbidden clause
excludes raises :class:`ForbiddenConfiguration` (a ``ValueError``): Optuna cannot exclude a
region ahead of sampling, so the trial fails (pass ``catch=(ForbiddenConfiguration,)`` to
``optimize`` to go on).
"""

from __future__ import annotations

from typing import Any

import optuna

from optuna_advanced._optional import import_optional

__all__ = ["ForbiddenConfiguration", "suggest_configuration"]


class ForbiddenConfiguration(ValueError):
    """The suggested configuration violates one of the space's forbidden clauses."""


def suggest_configuration(trial: optuna.Trial, configspace: Any) -> dict[str, Any]:
    """Suggest every active hyperparameter of ``configspace`` and return the configuration.

    Args:
        trial: The trial to suggest with.
        configspace: A ``ConfigSpace.ConfigurationSpace``.

    Returns:
        Hyperparameter name -> value, active ones only (as ``dict(Configuration)`` holds them).

    Example:
        >>> import optuna
        >>> from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float
        >>> from optuna_advanced import RandomForestSampler
        >>> from optuna_advanced.integration.configspace import suggest_configuration
        >>> cs = ConfigurationSpace(seed=0)
        >>> kind, c = Categorical("kind", ["svm", "tree"]), Float("C", (1e-3, 1e3), log=True)
        >>> cs.add([kind, c, EqualsCondition(c, kind, "svm")])
        >>> def objective(trial):
        ...     config = suggest_configuration(trial, cs)
        ...     return abs(config.get("C", 1e3) - 10.0)
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=RandomForestSampler(seed=0))
        >>> study.optimize(objective, n_trials=30)
        >>> study.best_params["kind"]
        'svm'
    """
    import_optional("ConfigSpace", needed_by="suggest_configuration", extra="configspace")
    from ConfigSpace import CategoricalHyperparameter
    from ConfigSpace import Constant
    from ConfigSpace import OrdinalHyperparameter
    from ConfigSpace import UniformFloatHyperparameter
    from ConfigSpace import UniformIntegerHyperparameter

    values: dict[str, Any] = {}
    for name in configspace.keys():
        conditions = configspace.parent_conditions_of.get(name, [])
        if not all(c.satisfied_by_value(values) for c in conditions):
            continue
        hp = configspace[name]
        if isinstance(hp, UniformFloatHyperparameter):
            values[name] = trial.suggest_float(name, hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, UniformIntegerHyperparameter):
            values[name] = trial.suggest_int(name, hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, CategoricalHyperparameter):
            values[name] = trial.suggest_categorical(name, list(hp.choices))
        elif isinstance(hp, OrdinalHyperparameter):
            values[name] = trial.suggest_categorical(name, list(hp.sequence))
        elif isinstance(hp, Constant):
            values[name] = hp.value
        else:
            raise TypeError(
                f"suggest_configuration: {name!r} is a {type(hp).__name__}; Optuna has no "
                "normal or beta priors: use a Uniform or Categorical hyperparameter."
            )
    for clause in configspace.forbidden_clauses:
        if clause.is_forbidden_value(values):
            raise ForbiddenConfiguration(f"{values} violates the forbidden clause {clause}.")
    return values
