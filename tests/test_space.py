from __future__ import annotations

import math
from typing import Any

from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
import pytest

from optuna_advanced._space import latest_search_space
from optuna_advanced._space import SearchSpace
from optuna_advanced._space import value_in_distribution

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def float_dists(draw: st.DrawFn) -> FloatDistribution:
    kind = draw(st.sampled_from(["plain", "log", "step", "single"]))
    if kind == "log":
        low = draw(st.floats(min_value=1e-8, max_value=1e3))
        high = low * draw(st.floats(min_value=1.0, max_value=1e8))
        return FloatDistribution(low, high, log=True)
    low = draw(finite)
    if kind == "single":
        return FloatDistribution(low, low)
    if kind == "step":
        step = draw(st.sampled_from([0.001, 0.1, 0.25, 0.5, 1.0, 3.0]))
        n = draw(st.integers(min_value=0, max_value=1000))
        return FloatDistribution(low, low + n * step, step=step)
    return FloatDistribution(low, low + draw(st.floats(min_value=0.0, max_value=1e6)))


@st.composite
def int_dists(draw: st.DrawFn) -> IntDistribution:
    if draw(st.booleans()):
        low = draw(st.integers(min_value=1, max_value=10**6))
        return IntDistribution(low, low + draw(st.integers(0, 10**6)), log=True)
    low = draw(st.integers(min_value=-(10**6), max_value=10**6))
    step = draw(st.integers(min_value=1, max_value=7))
    return IntDistribution(low, low + step * draw(st.integers(0, 1000)), step=step)


choice_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.text(alphabet="abcxyz", max_size=3),
)


@st.composite
def cat_dists(draw: st.DrawFn) -> CategoricalDistribution:
    choices = draw(st.lists(choice_values, min_size=1, max_size=6))
    # Optuna cannot tell 1 from True or 1.0 apart either (see CategoricalDistribution).
    keys = [(type(c) if not isinstance(c, (bool, int, float)) else float, c) for c in choices]
    assume(len(set(keys)) == len(keys))
    return CategoricalDistribution(choices)


any_dist = st.one_of(float_dists(), int_dists(), cat_dists())
any_space = st.dictionaries(
    st.text(alphabet="pqrs", min_size=1, max_size=4), any_dist, min_size=1, max_size=6
)


def _assert_inside(dist: BaseDistribution, value: Any) -> None:
    assert value_in_distribution(dist, value), (dist, value, type(value))


@given(dist=any_dist, u=st.floats(min_value=-0.5, max_value=1.5))
def test_any_row_decodes_inside_the_distribution(dist: BaseDistribution, u: float) -> None:
    space = SearchSpace({"p": dist})
    if isinstance(dist, CategoricalDistribution):
        u = u * len(dist.choices)
    value = space.decode(np.array([u]))["p"]
    _assert_inside(dist, value)


@given(dist=any_dist, u=st.floats(min_value=0.0, max_value=1.0))
def test_decode_is_a_fixed_point_of_encode(dist: BaseDistribution, u: float) -> None:
    space = SearchSpace({"p": dist})
    if isinstance(dist, CategoricalDistribution):
        u = u * (len(dist.choices) - 1)
    value = space.decode(np.array([u]))["p"]
    row = space.encode_params({"p": value})
    upper = len(dist.choices) - 1 if isinstance(dist, CategoricalDistribution) else 1.0
    assert 0.0 <= row[0] <= upper
    again = space.decode(row)["p"]
    if isinstance(value, float) and not isinstance(dist, CategoricalDistribution):
        assert again == pytest.approx(value, rel=1e-9, abs=1e-9)
    else:
        assert again is value or again == value


@given(dist=any_dist, data=st.data())
def test_values_from_optuna_round_trip(dist: BaseDistribution, data: st.DataObject) -> None:
    seed = data.draw(st.integers(0, 2**31 - 1))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask({"p": dist})
    value = trial.params["p"]
    space = SearchSpace({"p": dist})
    row = space.encode_params({"p": value})
    assert not np.isnan(row).any()
    if isinstance(dist, CategoricalDistribution):
        assert row[0] == dist.to_internal_repr(value)
    else:
        assert 0.0 <= row[0] <= 1.0
    decoded = space.decode(row)["p"]
    _assert_inside(dist, decoded)
    if isinstance(value, float) and not isinstance(dist, CategoricalDistribution):
        assert decoded == pytest.approx(value, rel=1e-9, abs=1e-9)
    else:
        assert decoded == value


@given(dist=st.one_of(float_dists(), int_dists()), x=finite)
def test_out_of_range_values_encode_to_nan(
    dist: FloatDistribution | IntDistribution, x: float
) -> None:
    space = SearchSpace({"p": dist})
    width = max(1.0, abs(dist.high - dist.low))
    outside = [dist.low - width, dist.high + width]
    for v in outside:
        assert math.isnan(space.encode_params({"p": v})[0])
    assert math.isnan(space.encode_params({"p": "not a number"})[0])
    assert math.isnan(space.encode_params({})[0])


@given(dist=st.one_of(float_dists(), int_dists()), a=finite, b=finite)
def test_encoding_is_monotone(
    dist: FloatDistribution | IntDistribution, a: float, b: float
) -> None:
    space = SearchSpace({"p": dist})
    lo, hi = float(dist.low), float(dist.high)
    va = lo + (hi - lo) * (abs(a) % 1.0)
    vb = lo + (hi - lo) * (abs(b) % 1.0)
    if isinstance(dist, IntDistribution):
        va, vb = float(round(va)), float(round(vb))
    ea, eb = space.encode_params({"p": va})[0], space.encode_params({"p": vb})[0]
    if va < vb:
        assert ea <= eb
    elif va > vb:
        assert ea >= eb


def test_log_scale_midpoint_is_geometric_mean() -> None:
    space = SearchSpace({"lr": FloatDistribution(1e-5, 1e-1, log=True)})
    assert space.decode(np.array([0.5]))["lr"] == pytest.approx(1e-3)
    assert space.encode_params({"lr": 1e-3})[0] == pytest.approx(0.5)


def test_integer_grid_cells_have_equal_width() -> None:
    space = SearchSpace({"n": IntDistribution(0, 3)})
    us = np.linspace(0, 1, 4001)
    values = [space.decode(np.array([u]))["n"] for u in us]
    counts = np.bincount(values)
    assert counts.tolist() == pytest.approx([1000] * 4, abs=2)


def test_stepped_float_decodes_on_grid() -> None:
    dist = FloatDistribution(-10.2, 10.2, step=0.1)
    space = SearchSpace({"x": dist})
    rng = np.random.default_rng(0)
    for u in rng.random(2000):
        _assert_inside(dist, space.decode(np.array([u]))["x"])
    assert space.decode(np.array([1.0]))["x"] == pytest.approx(10.2)
    assert space.decode(np.array([0.0]))["x"] == pytest.approx(-10.2)


@pytest.mark.parametrize(
    "dist",
    [
        CategoricalDistribution([1]),
        IntDistribution(1, 1),
        IntDistribution(1, 1, log=True),
        FloatDistribution(1.0, 1.0),
        FloatDistribution(1.0, 1.0, log=True),
        FloatDistribution(1.0, 1.0, step=1.0),
    ],
)
def test_single_value_distributions(dist: BaseDistribution) -> None:
    space = SearchSpace({"p": dist})
    assert space.is_single.tolist() == [True]
    for u in (0.0, 0.3, 1.0):
        assert space.decode(np.array([u]))["p"] == 1
    assert not math.isnan(space.encode_params({"p": 1})[0])


def test_mixed_type_choices_decode_to_the_objects() -> None:
    choices = (None, "relu", 3, 2.5, True)
    space = SearchSpace({"c": CategoricalDistribution(choices)})
    for i, choice in enumerate(choices):
        row = space.encode_params({"c": choice})
        assert row[0] == i
        assert space.decode(row)["c"] is choice


def test_conditional_trials_encode_missing_as_nan_and_decode_without_them() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "rbf"])
        if kind == "rbf":
            return trial.suggest_float("gamma", 1e-3, 1.0, log=True)
        return trial.suggest_int("degree", 1, 5)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=30)
    space = SearchSpace(latest_search_space(study.trials))
    assert space.names == ("degree", "gamma", "kind")
    x = space.encode_trials(study.trials)
    assert x.shape == (30, 3)
    for trial, row in zip(study.trials, x):
        assert set(np.array(space.names)[~np.isnan(row)]) == set(trial.params)
        decoded = space.decode(row)
        assert decoded.keys() == trial.params.keys()
        assert decoded["kind"] == trial.params["kind"]
        for name in decoded:
            if name != "kind":
                assert decoded[name] == pytest.approx(trial.params[name])


def test_latest_search_space_follows_the_newest_range() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 10), n_trials=5)
    study.optimize(lambda t: t.suggest_float("x", 20, 30), n_trials=5)
    dists = latest_search_space(study.trials)
    assert dists == {"x": FloatDistribution(20, 30)}
    x = SearchSpace(dists).encode_trials(study.trials)
    # Values from the old range are outside the current one: missing, not clipped.
    assert np.isnan(x[:5, 0]).all()
    assert not np.isnan(x[5:, 0]).any()


@settings(max_examples=50)
@given(
    dists=any_space,
    seed=st.integers(0, 2**31 - 1),
)
def test_uniform_samples_decode_inside_and_snap_is_idempotent(
    dists: dict[str, BaseDistribution], seed: int
) -> None:
    space = SearchSpace(dists)
    for rng in (np.random.default_rng(seed), np.random.RandomState(seed)):
        rows = space.sample_uniform(rng, 8)
        assert rows.shape == (8, len(space))
        for j in np.flatnonzero(space.is_categorical):
            assert set(rows[:, j]) <= set(range(space.n_levels[j]))
        for row in rows:
            for name, value in space.decode(row).items():
                _assert_inside(dists[name], value)
        snapped = space.snap(rows)
        np.testing.assert_allclose(space.snap(snapped), snapped, rtol=1e-9, atol=1e-12)


def test_categorical_uniform_sampling_is_balanced() -> None:
    space = SearchSpace({"c": CategoricalDistribution(["a", "b", "c"])})
    rows = space.sample_uniform(np.random.default_rng(0), 30000)
    counts = np.bincount(rows[:, 0].astype(int))
    assert counts.min() > 9500


def test_unsupported_distribution_is_rejected() -> None:
    class Odd(BaseDistribution):
        def to_external_repr(self, v: float) -> Any:
            return v

        def to_internal_repr(self, v: Any) -> float:
            return float(v)

        def single(self) -> bool:
            return False

        def _contains(self, v: float) -> bool:
            return True

    with pytest.raises(TypeError):
        SearchSpace({"o": Odd()})
    with pytest.raises(ValueError):
        SearchSpace({"x": FloatDistribution(0, 1)}).decode(np.zeros(2))


def test_large_magnitude_small_step_stays_on_grid() -> None:
    # Found by hypothesis: here Optuna's own ``_contains`` rejects ``high`` by rounding error.
    dist = FloatDistribution(131072.0, 131072.001, step=0.001)
    space = SearchSpace({"x": dist})
    for u in (0.0, 0.49, 0.51, 1.0):
        _assert_inside(dist, space.decode(np.array([u]))["x"])
    assert space.decode(np.array([1.0]))["x"] == 131072.001


def _rows_anywhere(space: SearchSpace, rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows anywhere: outside the cube, categorical codes out of range, inactive (NaN) cells."""
    rows = rng.uniform(-0.3, 1.3, size=(n, len(space)))
    for j in np.flatnonzero(space.is_categorical):
        rows[:, j] = rng.uniform(-1, space.n_levels[j] + 1, size=n)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    return rows


@settings(max_examples=80)
@given(
    dists=any_space,
    seed=st.integers(0, 2**31 - 1),
)
def test_snapped_rows_decode_to_the_same_parameters(
    dists: dict[str, BaseDistribution], seed: int
) -> None:
    space = SearchSpace(dists)
    rows = _rows_anywhere(space, np.random.default_rng(seed), 16)
    snapped = space.snap(rows)
    for row, snapped_row in zip(rows, snapped):
        assert space.decode(snapped_row) == space.decode(row)
    # Discrete columns land exactly where decoding and encoding each row would put them.
    discrete = space.is_categorical | (space.n_levels > 0)
    expected = np.array([space.encode_params(space.decode(r)) for r in rows])
    np.testing.assert_allclose(snapped[:, discrete], expected[:, discrete], rtol=1e-9, atol=1e-12)


@given(
    dists=any_space,
    seed=st.integers(0, 2**31 - 1),
)
def test_snap_of_all_columns_at_once_equals_snap_column_by_column(
    dists: dict[str, BaseDistribution], seed: int
) -> None:
    space = SearchSpace(dists)
    rows = _rows_anywhere(space, np.random.default_rng(seed), 32)
    np.testing.assert_array_equal(space.snap(rows), space.snap_by_column(rows))


@given(
    dists=any_space,
    seed=st.integers(0, 2**31 - 1),
)
def test_snapping_single_cells_equals_snapping_their_rows(
    dists: dict[str, BaseDistribution], seed: int
) -> None:
    space = SearchSpace(dists)
    rng = np.random.default_rng(seed)
    rows = np.nan_to_num(_rows_anywhere(space, rng, 32), nan=0.5)  # moved cells are active
    columns = rng.integers(len(space), size=len(rows))
    cells = rows[np.arange(len(rows)), columns]
    expected = space.snap(rows)[np.arange(len(rows)), columns]
    np.testing.assert_array_equal(space.snap_cells(cells, columns), expected)


def test_toolbox_counts_values() -> None:
    from optuna_advanced._space import n_values

    assert n_values(CategoricalDistribution(["a", None, 1])) == 3
    assert n_values(IntDistribution(0, 10, step=2)) == 6
    assert n_values(IntDistribution(1, 2**62)) == 2**62
    assert n_values(FloatDistribution(0.0, 1.0, step=0.25)) == 5
    assert n_values(FloatDistribution(0.0, 1.0)) == math.inf
    assert n_values(FloatDistribution(0.5, 0.5)) == 1


def test_nearest_value_is_exact_for_huge_integers() -> None:
    from optuna_advanced._space import nearest_value

    dist = IntDistribution(1, 2**62)
    assert nearest_value(dist, 2**62 - 1) == 2**62 - 1  # a float would round it to 2**62
    assert nearest_value(dist, 2**70) == 2**62
    assert nearest_value(IntDistribution(0, 10, step=3), 11) == 9
    assert nearest_value(IntDistribution(0, 10, step=2), 9.4) == 10
    assert nearest_value(FloatDistribution(0.0, 1.0, step=0.25), 0.3) == 0.25
    assert nearest_value(CategoricalDistribution(["a", "b"]), "c") == "a"


@given(st.integers(0, 2**31), st.sampled_from(list(range(6))))
def test_prior_draws_are_values_of_the_distribution(seed: int, which: int) -> None:
    from optuna_advanced._space import sample_prior

    dist = [
        FloatDistribution(-1.0, 1.0),
        FloatDistribution(1e-5, 1.0, log=True),
        FloatDistribution(0.0, 1.0, step=0.1),
        IntDistribution(1, 1000, log=True),
        IntDistribution(-5, 5, step=5),
        CategoricalDistribution([None, True, "x"]),
    ][which]
    rng = np.random.default_rng(seed)
    assert value_in_distribution(dist, sample_prior(dist, rng))


def test_column_encoding_equals_row_encoding() -> None:
    space = SearchSpace(
        {
            "x": FloatDistribution(-1.0, 1.0),
            "lr": FloatDistribution(1e-5, 1.0, log=True),
            "n": IntDistribution(1, 9, step=2),
            "c": CategoricalDistribution(["a", 1, None, 2.5]),
        }
    )
    params: list[dict[str, Any]] = [
        {"x": 0.3, "lr": 1e-3, "n": 5, "c": None},
        {"x": 2.0, "n": 4, "c": "zz"},  # x out of range, lr absent, n off the grid, c unknown
        {"lr": 1.0, "c": 1},
        {},
    ]
    many = space.encode_many(params)
    for row, p in zip(many, params):
        np.testing.assert_array_equal(row, space.encode_params(p))
    assert np.isnan(many[1]).tolist() == [True, True, False, True]  # only ranges are checked
