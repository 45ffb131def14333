"""PBT's explore step keeps every value inside its distribution and moves it as documented."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
import pytest

from optuna_advanced._space import nearest_value
from optuna_advanced._space import sample_prior
from optuna_advanced._space import value_in_distribution
from optuna_advanced.pbt._explore import perturb


@st.composite
def distributions(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["float", "log", "step", "int", "intlog", "intstep", "cat"]))
    if kind == "cat":
        return CategoricalDistribution(
            draw(st.lists(st.integers(), min_size=1, max_size=5, unique=True))
        )
    low = (
        draw(st.floats(0.001, 100.0)) if kind in ("log", "intlog") else draw(st.floats(-100, 100))
    )
    width = draw(st.floats(0.0, 1000.0))
    if kind == "float":
        return FloatDistribution(low, low + width)
    if kind == "log":
        return FloatDistribution(low, low + width, log=True)
    if kind == "step":
        step = draw(st.floats(0.01, 10.0))
        n = draw(st.integers(0, 50))
        return FloatDistribution(low, low + n * step, step=step)
    ilow = int(np.ceil(low)) if kind == "intlog" else int(low)
    ilow = max(ilow, 1) if kind == "intlog" else ilow
    if kind == "intstep":
        step = draw(st.integers(1, 7))
        return IntDistribution(ilow, ilow + step * draw(st.integers(0, 20)), step=step)
    return IntDistribution(ilow, ilow + int(width), log=kind == "intlog")


@settings(max_examples=300, deadline=None)
@given(dist=distributions(), seed=st.integers(0, 2**32 - 1), p=st.sampled_from([0.0, 0.25, 1.0]))
def test_perturbed_and_resampled_values_stay_inside(dist: object, seed: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    value = sample_prior(dist, rng)  # type: ignore[arg-type]
    assert value_in_distribution(dist, value)  # type: ignore[arg-type]
    for _ in range(5):  # a chain of explores, as a member goes through many
        new, how = perturb({"x": value}, {"x": dist}, rng, resample_probability=p)  # type: ignore[dict-item]
        assert value_in_distribution(dist, new["x"]), (dist, value, new, how)  # type: ignore[arg-type]
        assert type(new["x"]) is type(value) or isinstance(dist, CategoricalDistribution)
        value = new["x"]


def test_floats_are_multiplied_by_a_factor_then_clipped() -> None:
    dist = FloatDistribution(0.0, 1.0)
    seen = set()
    for seed in range(40):
        new, how = perturb(
            {"x": 0.5}, {"x": dist}, np.random.default_rng(seed), resample_probability=0.0
        )
        seen.add((round(new["x"], 12), how["x"]))
    assert seen == {(0.6, "*1.2"), (0.4, "*0.8")}
    new, _ = perturb(
        {"x": 0.95},
        {"x": dist},
        np.random.default_rng(1),
        resample_probability=0.0,
        factors=(1.2,),
    )
    assert new["x"] == 1.0  # clipped, where Ray Tune would give 1.14


def test_integers_always_move_and_stay_integers() -> None:
    dist = IntDistribution(1, 10)
    up, _ = perturb(
        {"n": 1}, {"n": dist}, np.random.default_rng(0), resample_probability=0.0, factors=(1.2,)
    )
    down, _ = perturb(
        {"n": 3}, {"n": dist}, np.random.default_rng(0), resample_probability=0.0, factors=(0.8,)
    )
    assert up["n"] == 2 and down["n"] == 2  # int(1 * 1.2) == 1 would have frozen it
    assert type(up["n"]) is int


def test_zero_float_is_not_stuck() -> None:
    dist = FloatDistribution(0.0, 1.0)
    new, _ = perturb(
        {"x": 0.0}, {"x": dist}, np.random.default_rng(0), resample_probability=0.0, factors=(1.2,)
    )
    assert new["x"] == pytest.approx(0.02)


def test_categoricals_move_to_a_neighbour_reflecting_at_the_ends() -> None:
    dist = CategoricalDistribution(["a", "b", "c", "d"])
    for seed in range(20):
        rng = np.random.default_rng(seed)
        new, how = perturb({"c": "b"}, {"c": dist}, rng, resample_probability=0.0)
        assert new["c"] in ("a", "c") and how["c"] in ("+1", "-1")
        new, _ = perturb({"c": "a"}, {"c": dist}, rng, resample_probability=0.0)
        assert new["c"] == "b"


def test_resample_probability_is_respected_and_other_params_kept() -> None:
    dist = FloatDistribution(0.0, 1.0)
    rng = np.random.default_rng(0)
    hows = [perturb({"x": 0.5, "keep": "me"}, {"x": dist}, rng)[1]["x"] for _ in range(2000)]
    assert abs(hows.count("resample") / 2000 - 0.25) < 0.03
    new, how = perturb({"x": 0.5, "keep": "me"}, {"x": dist}, rng)
    assert new["keep"] == "me" and set(how) == {"x"}


def test_log_prior_is_log_uniform() -> None:
    dist = FloatDistribution(1e-4, 1.0, log=True)
    rng = np.random.default_rng(0)
    draws = np.log10([sample_prior(dist, rng) for _ in range(4000)])
    assert abs(np.mean(draws < -2) - 0.5) < 0.03


def test_nearest_value_snaps_to_the_step() -> None:
    assert nearest_value(FloatDistribution(0.0, 1.0, step=0.25), 0.3) == 0.25
    assert nearest_value(IntDistribution(0, 10, step=2), 9.4) == 10
    assert nearest_value(IntDistribution(0, 10, step=3), 11) == 9
