"""PopulationBasedTraining's argument checks: every mistake is refused at construction or at
``optimize``, in words that name the argument, not later in someone else's words."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import inspect
import math
import numbers
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution

from optuna_advanced._checks import check_bool
from optuna_advanced._checks import check_choice
from optuna_advanced._checks import check_distributions
from optuna_advanced._checks import check_int
from optuna_advanced._checks import check_number
from optuna_advanced._checks import check_seed
from optuna_advanced._space import value_in_distribution

_ME = "PopulationBasedTraining"


def check_arguments(
    study: Any,
    *,
    population_size: Any,
    perturbation_interval: Any,
    search_space: Any,
    initial_params: Any,
    quantile_fraction: Any,
    resample_probability: Any,
    perturbation_factors: Any,
    explore: Any,
    exploit: Any,
    burn_in_period: Any,
    synch: Any,
    artifact_store: Any,
    delete_stale_checkpoints: Any,
    max_retries: Any,
    heartbeat_interval: Any,
    seed: Any,
    publish_figures: Any,
) -> None:
    """Refuse what the constructor cannot work with (see the class docstring for each)."""
    if not isinstance(study, optuna.Study):
        raise TypeError(f"{_ME}: study must be an optuna.Study, got {study!r}.")
    if len(study.directions) != 1:
        raise ValueError(f"{_ME} needs a single-objective study, got {len(study.directions)}.")
    check_int(_ME, "population_size", population_size, minimum=2)
    check_int(_ME, "perturbation_interval", perturbation_interval, minimum=1)
    check_distributions(_ME, "search_space", search_space)
    _check_initial_params(initial_params, population_size, search_space)
    check_number(_ME, "quantile_fraction", quantile_fraction, low=0, high=0.5)
    check_number(_ME, "resample_probability", resample_probability, low=0, high=1)
    _check_factors(perturbation_factors)
    if not callable(explore):
        check_choice(_ME, "explore", explore, ("perturb", "pb2"))
    check_bool(_ME, "exploit", exploit)
    check_int(_ME, "burn_in_period", burn_in_period, minimum=0)
    check_bool(_ME, "synch", synch)
    if artifact_store is not None and not all(
        callable(getattr(artifact_store, m, None)) for m in ("open_reader", "write", "remove")
    ):
        raise TypeError(
            f"{_ME}: artifact_store must be an Optuna artifact store (open_reader, write, "
            f"remove; e.g. optuna.artifacts.FileSystemArtifactStore) or None, got "
            f"{artifact_store!r}."
        )
    check_bool(_ME, "delete_stale_checkpoints", delete_stale_checkpoints)
    check_int(_ME, "max_retries", max_retries, minimum=0)
    check_number(_ME, "heartbeat_interval", heartbeat_interval, low=0, low_open=True)
    check_seed(_ME, seed)
    check_bool(_ME, "publish_figures", publish_figures)


def _check_initial_params(
    initial_params: Any, population_size: int, search_space: Mapping[str, Any] | None
) -> None:
    if isinstance(initial_params, (str, Mapping)) or not isinstance(initial_params, Sequence):
        raise TypeError(
            f"{_ME}: initial_params must be a sequence of parameter dicts (member i starts "
            f"from initial_params[i]), got {initial_params!r}."
        )
    if len(initial_params) > population_size:
        raise ValueError(
            f"{_ME}: initial_params has {len(initial_params)} entries for "
            f"population_size={population_size} members."
        )
    for i, params in enumerate(initial_params):
        if not isinstance(params, Mapping):
            raise TypeError(f"{_ME}: initial_params[{i}] must be a dict, got {params!r}.")
        if search_space is None:
            continue  # checked against the objective's distributions after the first segment
        for name, value in params.items():
            if name not in search_space:
                raise ValueError(
                    f"{_ME}: initial_params[{i}] names {name!r}, which is not in search_space "
                    f"({sorted(search_space)})."
                )
            if not value_in_distribution(search_space[name], value):
                raise ValueError(
                    f"{_ME}: initial_params[{i}][{name!r}] = {value!r} is not a value of "
                    f"{search_space[name]!r}."
                )


def _check_factors(factors: Any) -> None:
    ok = (
        isinstance(factors, Sequence)
        and not isinstance(factors, str)
        and all(
            isinstance(f, numbers.Real) and not isinstance(f, bool) and 0 < float(f) < math.inf
            for f in factors
        )
    )
    if not ok or not (any(f > 1 for f in factors) and any(f < 1 for f in factors)):
        raise ValueError(
            f"{_ME}: perturbation_factors must be positive numbers with at least one above 1 "
            f"and one below 1, so explore can move both ways (e.g. (1.2, 0.8)); got "
            f"{factors!r}."
        )


def check_optimize(
    objective: Callable[..., Any], n_steps: Any, n_jobs: Any, timeout: Any, catch: Any
) -> None:
    """Refuse what ``optimize`` cannot work with."""
    if not callable(objective):
        raise TypeError(f"{_ME}.optimize: objective must be callable, got {objective!r}.")
    try:
        inspect.signature(objective).bind(None, None)
    except TypeError:
        raise TypeError(
            f"{_ME}.optimize: objective must take two arguments, (trial, checkpoint): the "
            "checkpoint gives the segment's steps and its state (see the class docstring); "
            f"{objective!r} does not accept them."
        ) from None
    except ValueError:
        pass  # no signature (a builtin): find out when it is called
    check_int(_ME, "n_steps", n_steps, minimum=1)
    if n_jobs != -1:
        check_int(_ME, "n_jobs", n_jobs, minimum=1)
    if timeout is not None:
        check_number(_ME, "timeout", timeout, low=0, low_open=True)
    if not isinstance(catch, tuple) or not all(
        isinstance(c, type) and issubclass(c, Exception) for c in catch
    ):
        raise TypeError(f"{_ME}: catch must be a tuple of exception classes, got {catch!r}.")


def check_first_segment(
    params: Mapping[str, Any], trial: optuna.trial.FrozenTrial, member: int
) -> None:
    """Without ``search_space``: the member's ``initial_params`` against what the objective
    suggested in its first segment."""
    for name, value in params.items():
        if name not in trial.distributions:
            raise ValueError(
                f"{_ME}: initial_params[{member}] names {name!r}, which the objective does not "
                f"suggest (it suggests {sorted(trial.distributions)})."
            )
        if not value_in_distribution(trial.distributions[name], value):
            raise ValueError(
                f"{_ME}: initial_params[{member}][{name!r}] = {value!r} is not a value of the "
                f"objective's {trial.distributions[name]!r}."
            )


def as_distributions(search_space: Any) -> Any:
    """``search_space`` with every list of values turned into a ``CategoricalDistribution`` of
    them (Ray Tune's mutation lists: explore moves to a neighbouring value, or resamples one);
    anything else is left for the checks (a tuple such as ``(0, 1)`` is refused: it reads like
    a range)."""
    if not isinstance(search_space, Mapping):
        return search_space
    return {
        name: CategoricalDistribution(list(value)) if isinstance(value, list) and value else value
        for name, value in search_space.items()
    }
