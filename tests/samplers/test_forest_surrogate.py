"""The forest surrogate and the acquisition maximiser on their own (no Optuna)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy import stats

from optuna_advanced.samplers._forest.acquisition import expected_improvement
from optuna_advanced.samplers._forest.acquisition import Layout
from optuna_advanced.samplers._forest.acquisition import local_search
from optuna_advanced.samplers._forest.acquisition import log_expected_improvement
from optuna_advanced.samplers._forest.acquisition import maximise
from optuna_advanced.samplers._forest.acquisition import one_exchange_neighbours
from optuna_advanced.samplers._forest.surrogate import encode_features
from optuna_advanced.samplers._forest.surrogate import ForestSurrogate
from optuna_advanced.samplers._forest.surrogate import LogScaler
from optuna_advanced.samplers._forest.surrogate import VARIANCE_FLOOR


def test_log_scaler_matches_smacs_formula_and_inverts() -> None:
    y = np.array([3.0, 1.0, 7.0, 2.0, 10.0])
    scaler = LogScaler.fit(y)
    low = 1.0 - (np.percentile(y, 5) - 1.0) - 1e-10
    assert scaler.low == low and scaler.high == 10.0
    z = scaler.transform(y)
    np.testing.assert_allclose(z, np.log((y - low) / (10.0 - low)))
    np.testing.assert_allclose(scaler.inverse(z), y)
    assert np.all(np.isfinite(z)) and z.argmin() == 1


def test_log_expected_improvement_is_the_expectation_it_claims() -> None:
    # EI = E[max(exp(best) - exp(Z), 0)] for Z ~ N(mean, var): check by quadrature.
    for mean, var, best in [(0.0, 1.0, -0.5), (-2.0, 0.04, -1.9), (1.0, 2.0, 0.5)]:
        s = np.sqrt(var)
        expected, _ = integrate.quad(
            lambda z: max(np.exp(best) - np.exp(z), 0.0) * stats.norm.pdf(z, mean, s),
            mean - 12 * s,
            best,
        )
        got = log_expected_improvement(np.array([mean]), np.array([var]), best)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


def test_expected_improvement_is_the_expectation_it_claims() -> None:
    # EI = E[max(best - Z, 0)] for Z ~ N(mean, var): check by quadrature.
    for mean, var, best in [(0.0, 1.0, -0.5), (-2.0, 0.04, -1.9), (1.0, 2.0, 0.5)]:
        s = np.sqrt(var)
        expected, _ = integrate.quad(
            lambda z: max(best - z, 0.0) * stats.norm.pdf(z, mean, s),
            mean - 12 * s,
            best,
        )
        got = expected_improvement(np.array([mean]), np.array([var]), best)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
    # At the variance floor EI is the plain improvement, or nothing.
    floor = np.array([1e-10, 1e-10])
    np.testing.assert_allclose(expected_improvement(np.array([0.0, 2.0]), floor, 1.0), [1.0, 0.0])


def test_forest_mean_and_variance_come_from_the_trees() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((60, 2))
    y = 1.0 + (x[:, 0] - 0.3) ** 2 + 0.1 * x[:, 1]
    forest = ForestSurrogate(seed=0).fit(x, y)
    assert forest.scaler is not None
    mean, var = forest.predict(x)
    per_tree = np.stack([t.predict(x) for t in forest._trees])  # type: ignore[attr-defined]
    np.testing.assert_allclose(mean, per_tree.mean(axis=0))
    np.testing.assert_allclose(var, np.maximum(per_tree.var(axis=0), 1e-10))
    # Fully grown bootstrapped trees: close to the training data, uncertain away from it.
    assert np.corrcoef(forest.scaler.inverse(mean), y)[0, 1] > 0.9
    far = np.array([[0.3, 0.0], [0.95, 0.95]])
    assert forest.predict(far)[0][0] < forest.predict(far)[0][1]


def test_features_one_hot_categoricals_and_impute_inactive() -> None:
    x = np.array([[0.25, 2.0], [np.nan, 0.0], [0.5, np.nan]])
    f = encode_features(x, np.array([False, True]), np.array([0, 3]))
    np.testing.assert_array_equal(f, [[0.25, 0, 0, 1], [-1.0, 1, 0, 0], [0.5, 0, 0, 0]])


def test_neighbourhood_changes_one_active_column() -> None:
    layout = Layout(np.array([False, True, False]), np.array([0, 4, 5]))
    rows = np.array([[0.5, 1.0, 0.5], [0.2, 3.0, np.nan]])
    nb, owner, _ = one_exchange_neighbours(rows, layout, np.random.default_rng(0))
    for r, o in zip(nb, owner):
        changed = ~((r == rows[o]) | (np.isnan(r) & np.isnan(rows[o])))
        assert changed.sum() == 1
        assert not np.isnan(rows[o][changed]).any()  # inactive columns never move
    # Every other choice of the categorical, for each row.
    assert sorted(nb[(owner == 0) & (nb[:, 1] != 1.0)][:, 1]) == [0.0, 2.0, 3.0]
    # On the 5-level grid a move is at least one cell.
    grid = nb[(owner == 0) & (nb[:, 2] != 0.5)][:, 2]
    assert len(grid) == 4 and np.all(np.abs(grid - 0.5) >= 0.2 - 1e-12)


def test_local_search_climbs_to_the_optimum_and_maximise_prefers_new_points() -> None:
    layout = Layout(np.array([False, False]), np.array([0, 0]))

    def acq(x: np.ndarray) -> np.ndarray:
        return -((x[:, 0] - 0.7) ** 2) - (x[:, 1] - 0.2) ** 2

    rng = np.random.default_rng(1)
    ends, values = local_search(
        np.array([[0.1, 0.9], [0.9, 0.9]]), acq, layout, lambda r: r, rng, max_steps=400
    )
    np.testing.assert_allclose(ends, [[0.7, 0.2], [0.7, 0.2]], atol=0.03)
    evaluated = np.array([[0.7, 0.2]])
    row, _ = maximise(acq, evaluated, rng.random((500, 2)), layout, lambda r: r, rng)
    assert not np.array_equal(row, evaluated[0])
    assert acq(row[None, :])[0] > -0.01


@pytest.mark.parametrize("splitter", ["random", "best"])
def test_fit_is_scikit_learns_forest_tree_for_tree(splitter: str) -> None:
    """The direct tree fits reproduce scikit-learn's forests exactly (same seeds, bootstrap):
    ExtraTreesRegressor(bootstrap=True) for random splits, RandomForestRegressor for best."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    x = rng.random((60, 5))
    x[:, 4] = np.round(x[:, 4] * 3)  # a discrete column, so ties in splits happen
    costs = np.exp(3 * x[:, 0]) + x[:, 1] + rng.normal(0, 0.1, 60)
    ours = ForestSurrogate(n_trees=10, splitter=splitter, seed=123).fit(x, costs)
    assert ours.scaler is not None
    cls = ExtraTreesRegressor if splitter == "random" else RandomForestRegressor
    forest = cls(
        n_estimators=10,
        bootstrap=True,
        max_features=1.0,
        max_depth=2**20,
        random_state=123,
        n_jobs=1,
    ).fit(x, ours.scaler.transform(costs))
    grid = rng.random((500, 5))
    expected = np.stack([t.predict(grid.astype(np.float32)) for t in forest.estimators_])
    mean, var = ours.predict(grid)
    np.testing.assert_array_equal(mean, expected.mean(axis=0))
    np.testing.assert_array_equal(var, np.maximum(expected.var(axis=0), VARIANCE_FLOOR))


def test_random_splits_give_a_finer_mean_and_more_disagreement_between_observations() -> None:
    """Best-threshold trees all cut at the midpoints between observations, so their mean is a
    staircase with steps at the same few places and the trees agree on wide plateaus; random
    thresholds put steps anywhere between, and the trees disagree more there."""
    rng = np.random.default_rng(1)
    x = np.sort(rng.random(15))[:, None] * 0.6
    costs = (x[:, 0] - 0.3) ** 2 + 0.01
    grid = np.linspace(0.0, 0.6, 2001)[:, None]
    levels, spread = {}, {}
    for splitter in ("random", "best"):
        forest = ForestSurrogate(n_trees=10, splitter=splitter, seed=0).fit(x, costs)
        mean, var = forest.predict(grid)
        levels[splitter], spread[splitter] = len(np.unique(mean)), float(var.mean())
    assert levels["random"] > 2 * levels["best"]
    assert spread["random"] > 2 * spread["best"]


def test_unknown_splitter_is_rejected() -> None:
    with pytest.raises(ValueError, match="splitter"):
        ForestSurrogate(splitter="median")
