"""PB2's GP bandit (optuna_advanced.pbt._bandit) on its own, without Optuna."""

from __future__ import annotations

import numpy as np

from optuna_advanced.pbt import _bandit


def test_gp_fits_and_forgets_old_observations() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((40, 1))
    t = np.repeat(np.arange(10.0), 4)
    y = np.sin(6 * x[:, 0])
    y = (y - y.mean()) / y.std()
    gp = _bandit.TimeVaryingGP().fit(t, x, y)
    mean, std = gp.predict(t, x)
    assert np.corrcoef(mean, y)[0, 1] > 0.95
    assert np.all(std < 1.0)
    # Far in the future the model has forgotten (more uncertain) unless eps is ~0.
    _, std_future = gp.predict(np.full(40, 200.0), x)
    assert np.all(std_future >= std - 1e-9)


def _data(rng: np.random.Generator, n: int = 30) -> tuple[np.ndarray, ...]:
    h = rng.random((n, 2))
    t = np.arange(n, dtype=float) / 4
    reward = rng.random(n)
    delta = -((h[:, 0] - 0.8) ** 2) - (h[:, 1] - 0.3) ** 2 + 0.01 * rng.normal(size=n)
    return t, reward, h, delta


def test_suggest_goes_where_the_reward_grows() -> None:
    rng = np.random.default_rng(1)
    t, reward, h, delta = _data(rng)
    picks = np.array(
        [
            _bandit.suggest(
                t,
                reward,
                h,
                delta,
                t_now=8.0,
                reward_now=0.5,
                pending_h=np.empty((0, 2)),
                rng=np.random.default_rng(seed),
            )
            for seed in range(5)
        ]
    )
    assert np.all(picks >= 0) and np.all(picks <= 1)
    assert np.linalg.norm(picks.mean(axis=0) - [0.8, 0.3]) < 0.25


def test_pending_members_push_the_next_pick_away() -> None:
    # Few observations: the bonus for uncertainty matters, and pending members remove it.
    rng = np.random.default_rng(2)
    t, reward, h, delta = _data(rng, n=6)
    kwargs = dict(t_now=8.0, reward_now=0.5, rng=np.random.default_rng(0))
    first = _bandit.suggest(t, reward, h, delta, pending_h=np.empty((0, 2)), **kwargs)  # type: ignore[arg-type]
    kwargs["rng"] = np.random.default_rng(0)
    crowded = np.repeat(first[None, :], 3, axis=0)
    second = _bandit.suggest(t, reward, h, delta, pending_h=crowded, **kwargs)  # type: ignore[arg-type]
    assert np.linalg.norm(second - first) > 0.05


def test_too_little_data_gives_a_random_point() -> None:
    point = _bandit.suggest(
        np.array([1.0]),
        np.array([0.0]),
        np.array([[0.5]]),
        np.array([0.1]),
        t_now=2.0,
        reward_now=0.0,
        pending_h=np.empty((0, 1)),
        rng=np.random.default_rng(0),
    )
    assert point.shape == (1,) and 0 <= point[0] <= 1
