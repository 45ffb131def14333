"""BOHB's KDE against statsmodels' KDEMultivariate (what HpBandSter uses) and its proposal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import truncnorm

from optuna_advanced.samplers._bohb.kde import impute_inactive
from optuna_advanced.samplers._bohb.kde import normal_reference_bandwidth
from optuna_advanced.samplers._bohb.kde import ProductKDE
from optuna_advanced.samplers._bohb.kde import propose

sm = pytest.importorskip("statsmodels.api")


def _data(seed: int, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = np.column_stack(
        [rng.uniform(size=n), rng.beta(2, 5, size=n), rng.integers(0, 3, size=n).astype(float)]
    )
    return data, np.array([0, 0, 3])


@pytest.mark.parametrize("seed", range(5))
def test_bandwidth_matches_statsmodels_normal_reference(seed: int) -> None:
    data, _ = _data(seed)
    ref = sm.nonparametric.KDEMultivariate(data=data[:, :2], var_type="cc", bw="normal_reference")
    np.testing.assert_allclose(normal_reference_bandwidth(data[:, :2]), ref.bw, rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_density_matches_statsmodels_mixed_kernel(seed: int) -> None:
    data, levels = _data(seed)
    kde = ProductKDE(data, levels, min_bandwidth=1e-3)
    ref = sm.nonparametric.KDEMultivariate(data=data, var_type="ccu", bw=kde.bandwidth)
    points, _ = _data(seed + 100, n=20)
    np.testing.assert_allclose(np.exp(kde.log_pdf(points)), ref.pdf(points), rtol=1e-9)


def test_density_integrates_to_one_over_the_space() -> None:
    data, levels = _data(0, n=8)
    kde = ProductKDE(data, levels, min_bandwidth=1e-3)
    grid = np.linspace(-1.5, 2.5, 401)
    xx, yy = np.meshgrid(grid, grid)
    total = 0.0
    for c in range(3):
        pts = np.column_stack([xx.ravel(), yy.ravel(), np.full(xx.size, float(c))])
        total += np.exp(kde.log_pdf(pts)).sum() * (grid[1] - grid[0]) ** 2
    assert total == pytest.approx(1.0, abs=1e-3)


def test_bandwidth_floor_and_categorical_cap() -> None:
    constant = np.array([[0.5, 0.0], [0.5, 2.0], [0.5, 1.0], [0.5, 0.0]])
    kde = ProductKDE(constant, np.array([0, 3]), min_bandwidth=1e-3)
    assert kde.bandwidth[0] == 1e-3  # zero spread: floored
    assert kde.bandwidth[1] <= 2 / 3  # capped at the uniform kernel
    # With the cap, the observed choice is never less likely than an unobserved one.
    observed = np.exp(kde.log_pdf(np.array([[0.5, 0.0]])))
    unobserved = np.exp(kde.log_pdf(np.array([[0.5, 1.0]])))
    assert observed >= unobserved


def test_impute_copies_active_values_or_draws_uniformly() -> None:
    rng = np.random.RandomState(0)
    data = np.array([[0.1, np.nan, np.nan], [0.2, 2.0, np.nan], [np.nan, 1.0, np.nan]])
    out = impute_inactive(data, np.array([0, 3, 0]), rng)
    assert not np.isnan(out).any()
    assert out[2, 0] in (0.1, 0.2)
    assert out[0, 1] in (1.0, 2.0)
    assert ((0 <= out[:, 2]) & (out[:, 2] <= 1)).all()
    np.testing.assert_array_equal(out[~np.isnan(data)], data[~np.isnan(data)])


def test_propose_stays_in_the_unit_cube_and_prefers_the_good_region() -> None:
    rng = np.random.RandomState(0)
    good = ProductKDE(rng.normal(0.2, 0.03, (10, 2)).clip(0, 1), np.array([0, 0]), 1e-3)
    bad = ProductKDE(rng.uniform(0.4, 1.0, (30, 2)), np.array([0, 0]), 1e-3)
    picks = np.array([propose(good, bad, rng, 64, 3.0)[0] for _ in range(50)])
    assert ((0 <= picks) & (picks <= 1)).all()
    assert np.median(picks, axis=0).max() < 0.3
    _, score = propose(good, bad, rng, 64, 3.0)
    assert score > 0  # l(x) > g(x) at the chosen point


def test_candidate_spread_follows_bandwidth_factor() -> None:
    # Good points all at 0.5 (bandwidth floored at 0.05): with factor 3, numeric candidates
    # are a normal of scale 0.15 around 0.5 truncated to [0, 1].
    good = ProductKDE(np.array([[0.5], [0.5]]), np.array([0]), min_bandwidth=0.05)
    rng = np.random.RandomState(1)
    draws = [propose(good, good, rng, 1, 3.0)[0][0] for _ in range(1000)]
    expected = truncnorm.std(-0.5 / 0.15, 0.5 / 0.15, loc=0.5, scale=0.15)
    assert np.std(draws) == pytest.approx(expected, rel=0.1)
    assert np.mean(draws) == pytest.approx(0.5, abs=0.02)
