"""Every public constructor refuses a bad argument at once, in words that name it.

For each argument of each class, values of the wrong kind or outside what is allowed are
generated; the constructor must raise ``TypeError`` or ``ValueError`` whose message names the
argument. Valid values (the defaults, and a few others) must construct.
"""

from __future__ import annotations

from collections.abc import Callable
import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.distributions import FloatDistribution
import pytest

from optuna_advanced import AxSampler
from optuna_advanced import BOHBPruner
from optuna_advanced import BOHBSampler
from optuna_advanced import HyperoptSampler
from optuna_advanced import PopulationBasedTraining
from optuna_advanced import RandomForestSampler

# None is left out: it is a valid value of several arguments (seeds, optional counts).
NOT_A_NUMBER = st.one_of(st.text(max_size=3), st.lists(st.integers(), max_size=2))
NOT_AN_INT = st.one_of(
    NOT_A_NUMBER,
    st.booleans(),
    st.floats().filter(lambda x: not math.isfinite(x) or x != int(x)),
)
NOT_A_BOOL = st.one_of(st.integers(), st.text(max_size=3), st.none())
BAD_OPTIONAL_COUNT = st.one_of(st.integers(max_value=0), NOT_AN_INT)
BAD_SEED = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32), NOT_AN_INT)


def outside(low: float, high: float, *, low_open: bool = False) -> st.SearchStrategy[Any]:
    """Numbers outside [low, high] (or (low, high] with ``low_open``), NaN, and non-numbers."""
    below = st.floats(max_value=low, exclude_max=not low_open, allow_nan=False)
    above = st.floats(min_value=high, exclude_min=True, allow_nan=False)
    parts = [st.just(math.nan), st.none(), NOT_A_NUMBER]
    if math.isfinite(low):
        parts.append(below)
    if math.isfinite(high):
        parts.append(above)
    return st.one_of(*parts)


def ints_below(minimum: int) -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(max_value=minimum - 1), st.none(), NOT_AN_INT)


SPACE = {"h": FloatDistribution(0.0, 1.0)}


def _pbt(**kwargs: Any) -> PopulationBasedTraining:
    kwargs.setdefault("search_space", SPACE)
    return PopulationBasedTraining(optuna.create_study(), **kwargs)


#: class -> (factory(**kwargs), {argument: strategy of bad values})
CASES: dict[str, tuple[Callable[..., Any], dict[str, st.SearchStrategy[Any]]]] = {
    "BOHBSampler": (
        BOHBSampler,
        {
            "top_n_percent": outside(0, 100, low_open=True),
            "random_fraction": outside(0, 1),
            "num_samples": ints_below(1),
            "bandwidth_factor": outside(0, math.inf, low_open=True),
            "min_bandwidth": outside(0, math.inf, low_open=True),
            "min_points_in_model": BAD_OPTIONAL_COUNT,
            "consider_pending": NOT_A_BOOL,
            "adaptive_bandwidth": NOT_A_BOOL,
            "seed": BAD_SEED,
            "constraints_func": st.just(lambda t: [0.0]),
        },
    ),
    "RandomForestSampler": (
        RandomForestSampler,
        {
            "n_startup_trials": BAD_OPTIONAL_COUNT,
            "random_fraction": outside(0, 1),
            "n_trees": ints_below(1),
            "splitter": st.text(max_size=6).filter(lambda s: s not in ("random", "best")),
            "acquisition": st.text(max_size=6).filter(lambda s: s not in ("log_ei", "ei")),
            "n_random_candidates": ints_below(1),
            "n_local_starts": ints_below(0),
            "seed": BAD_SEED,
            "constraints_func": st.just(lambda t: [0.0]),
        },
    ),
    "HyperoptSampler": (
        HyperoptSampler,
        {
            "algo": st.text(max_size=6).filter(lambda s: s not in ("tpe", "anneal", "rand")),
            "seed": BAD_SEED,
            "search_space": st.one_of(
                st.just({"x": (0, 1)}), st.just({"x": "uniform"}), st.just([1, 2])
            ),
            "n_startup_jobs": ints_below(0),
            "gamma": outside(0, 1, low_open=True),
            "n_EI_candidates": ints_below(1),
            "prior_weight": outside(0, math.inf, low_open=True),
            "constraints_func": st.just(lambda t: [0.0]),
        },
    ),
    "AxSampler": (
        AxSampler,
        {
            "seed": BAD_SEED,
            "search_space": st.one_of(st.just({"x": (0, 1)}), st.just([1])),
            "generation_strategy": st.one_of(
                st.just({"methd": "fast"}),
                st.just({"method": "bayes"}),
                st.just([("method", "fast")]),
            ),
            "objective_thresholds": st.one_of(
                st.just([math.nan, 1.0]), st.just(["a", 1.0]), st.just([]), st.just(3.0)
            ),
            "quiet": NOT_A_BOOL,
            "constraints_func": st.just(lambda t: [0.0]),
        },
    ),
    "BOHBPruner": (
        BOHBPruner,
        {
            "min_resource": ints_below(1),
            "max_resource": st.one_of(st.integers(max_value=0), st.text(max_size=3)),
            "reduction_factor": ints_below(2),
            "bootstrap_count": ints_below(0),
        },
    ),
    "PopulationBasedTraining": (
        _pbt,
        {
            "population_size": ints_below(2),
            "perturbation_interval": ints_below(1),
            "search_space": st.one_of(st.just({"h": (0, 1)}), st.just([1])),
            "initial_params": st.one_of(
                st.just([{"zz": 0.5}]),
                st.just([{"h": 5.0}]),
                st.just([{"h": 0.5}] * 9),
                st.just({"h": 0.5}),
                st.just(["h"]),
            ),
            "quantile_fraction": outside(0, 0.5),
            "resample_probability": outside(0, 1),
            "perturbation_factors": st.one_of(
                st.just((1.2,)),
                st.just((0.8, 0.9)),
                st.just(()),
                st.just((1.2, -0.5)),
                st.just(("a", "b")),
                st.just(1.2),
            ),
            "explore": st.text(max_size=6).filter(lambda s: s not in ("perturb", "pb2")),
            "exploit": NOT_A_BOOL,
            "artifact_store": st.one_of(st.just(object()), st.just("path/to/store")),
            "delete_stale_checkpoints": NOT_A_BOOL,
            "max_retries": ints_below(0),
            "heartbeat_interval": outside(0, math.inf, low_open=True),
            "seed": BAD_SEED,
        },
    ),
}

PARAMS = [(cls, arg) for cls, (_, args) in CASES.items() for arg in args]


@pytest.mark.parametrize(("cls", "arg"), PARAMS, ids=[f"{c}-{a}" for c, a in PARAMS])
@settings(max_examples=15)
@given(data=st.data())
def test_a_bad_argument_is_refused_by_name(cls: str, arg: str, data: st.DataObject) -> None:
    factory, args = CASES[cls]
    value = data.draw(args[arg], label=arg)
    if cls == "BOHBPruner" and arg == "max_resource":
        kwargs: dict[str, Any] = {"min_resource": 1, arg: value}
    else:
        kwargs = {arg: value}
    with pytest.raises((TypeError, ValueError)) as info:
        factory(**kwargs)
    assert arg in str(info.value), str(info.value)


@pytest.mark.parametrize("cls", sorted(CASES))
def test_defaults_construct(cls: str) -> None:
    CASES[cls][0]()


def test_good_values_construct(tmp_path: Path) -> None:
    BOHBSampler(top_n_percent=50, random_fraction=0, min_points_in_model=3, seed=2**32 - 1)
    RandomForestSampler(n_startup_trials=None, n_local_starts=0, splitter="best", seed=0)
    HyperoptSampler(algo="anneal", avg_best_idx=1.5, search_space=SPACE)
    AxSampler(generation_strategy={"method": "random_search"}, objective_thresholds=[1, 2.5])
    BOHBPruner(min_resource=2, max_resource=2, reduction_factor=2)
    _pbt(
        population_size=2,
        initial_params=[{"h": 1.0}],
        perturbation_factors=(2.0, 0.5, 1.0),
        artifact_store=FileSystemArtifactStore(str(tmp_path)),
        quantile_fraction=0.5,
    )


def test_pbt_optimize_arguments(tmp_path: Path) -> None:
    pbt = _pbt(artifact_store=FileSystemArtifactStore(str(tmp_path)))
    with pytest.raises(TypeError, match=r"two arguments, \(trial, checkpoint\)"):
        pbt.optimize(lambda trial: 0.0, n_steps=4)  # type: ignore[arg-type, misc]
    for bad in ({"n_steps": 0}, {"n_steps": 2.5}, {"n_jobs": 0}, {"timeout": -1.0}):
        kwargs: dict[str, Any] = {"n_steps": 4, **bad}
        with pytest.raises((TypeError, ValueError), match=next(iter(bad))):
            pbt.optimize(lambda trial, checkpoint: 0.0, **kwargs)
    with pytest.raises(TypeError, match="catch"):
        pbt.optimize(lambda trial, checkpoint: 0.0, n_steps=4, catch=ValueError)  # type: ignore[arg-type]
