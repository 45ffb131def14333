"""PBT's decision (optuna_advanced.pbt._scheduler) on its own: plain data in, a decision out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optuna_advanced.pbt._scheduler import Decision
from optuna_advanced.pbt._scheduler import exploit_source
from optuna_advanced.pbt._scheduler import next_segment
from optuna_advanced.pbt._scheduler import Standing


def standings(scores: list[float], end_step: int = 8) -> dict[int, Standing]:
    return {
        m: Standing(m, 100 + m, score, end_step, {"h": float(m)}) for m, score in enumerate(scores)
    }


def double(
    params: Mapping[str, Any], source: Standing, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, str]]:
    return {"h": 2 * params["h"]}, {"h": "*2"}


def decide(scores: list[float], member: int, **kwargs: Any) -> Decision:
    table = standings(scores)
    options: dict[str, Any] = {
        "n_steps": 20,
        "interval": 4,
        "quantile_fraction": 0.25,
        "explore": double,
        "rng": np.random.default_rng(0),
    }
    options.update(kwargs)
    return next_segment(table[member], table, **options)


def test_a_member_of_the_top_continues_with_its_own_state() -> None:
    decision = decide([1.0, 2.0, 3.0, 4.0], member=3)
    assert decision == Decision(103, None, {"h": 3.0}, None, 8, 12)


def test_the_worst_member_copies_the_best_and_explores() -> None:
    decision = decide([1.0, 2.0, 3.0, 4.0], member=0)
    assert decision.exploited == decision.source == 103
    assert decision.params == {"h": 6.0} and decision.perturbation == {"h": "*2"}
    assert (decision.start_step, decision.end_step) == (8, 12)


def test_the_last_segment_is_cut_at_n_steps() -> None:
    assert decide([1.0, 2.0, 3.0, 4.0], member=3, n_steps=10).end_step == 10


def test_without_explore_nobody_exploits() -> None:
    assert decide([1.0, 2.0, 3.0, 4.0], member=0, explore=None).exploited is None


def test_quantiles_hold_at_most_half_the_population() -> None:
    rng = np.random.default_rng(0)
    table = standings([1.0, 2.0])
    assert exploit_source(0, table, 0.5, 20, rng) == table[1]
    assert exploit_source(1, table, 0.5, 20, rng) is None
    assert exploit_source(0, standings([1.0]), 0.5, 20, rng) is None


def test_finished_members_are_not_copied() -> None:
    table = standings([1.0, 2.0, 3.0, 4.0])
    table[3] = Standing(3, 103, 4.0, 20, {"h": 3.0})  # trained to n_steps
    assert exploit_source(0, table, 0.25, 20, np.random.default_rng(0)) is None


def test_the_same_rng_gives_the_same_decision() -> None:
    scores = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    decisions = {
        decide(scores, member=0, rng=np.random.default_rng(seed)).source for seed in range(20)
    }
    assert decisions == {106, 107}  # the top quarter: members 6 and 7
    assert decide(scores, member=0, rng=np.random.default_rng(3)) == decide(
        scores, member=0, rng=np.random.default_rng(3)
    )


def test_on_a_plateau_all_but_the_top_quantile_explore_from_their_own_hyperparameters() -> None:
    for key in range(10):
        decisions = [decide([0.0, 0.0, 0.0, 0.0], m, tie_key=key) for m in range(4)]
        keepers = [m for m, d in enumerate(decisions) if d.perturbation is None]
        assert len(keepers) == 1  # the top quarter of the shared random order
        keeper = keepers[0]
        assert decisions[keeper] == Decision(100 + keeper, None, {"h": float(keeper)}, None, 8, 12)
        for member, decision in enumerate(decisions):
            if member == keeper:
                continue
            assert decision.exploited is None  # nobody is better to copy
            assert decision.source == 100 + member
            assert decision.params == {"h": 2.0 * member}
            assert decision.perturbation == {"h": "*2"}
            assert (decision.start_step, decision.end_step) == (8, 12)
    # Every member is the keeper for some key (no member is kept for ever).
    assert {
        next(m for m in range(4) if decide([0.0] * 4, m, tie_key=key).perturbation is None)
        for key in range(40)
    } == set(range(4))
    # Diverged members (-inf) tie as well; one member ahead breaks the plateau.
    assert sum(decide([-np.inf] * 4, m).perturbation == {"h": "*2"} for m in range(4)) == 3
    partial = [decide([0.0, 0.0, 0.0, 1.0], m) for m in range(4)]
    assert [d.exploited for d in partial] == [103, 103, 103, None]  # tied at the worst: all
    assert partial[3].perturbation is None
    # Members with the same hyperparameters and score have converged: the usual exploit.
    converged = {m: Standing(m, 100 + m, 0.5, 8, {"h": 1.0}) for m in range(4)}
    moved = [
        next_segment(
            converged[m],
            converged,
            n_steps=20,
            interval=4,
            quantile_fraction=0.25,
            explore=double,
            rng=np.random.default_rng(0),
        )
        for m in range(4)
    ]
    assert sum(d.perturbation is not None for d in moved) == 1  # only the bottom one explores
    # Burn-in and exploit=False still hold on a plateau.
    assert decide([0.0] * 4, 0, burn_in=10).perturbation is None
    assert decide([0.0] * 4, 0, explore=None).perturbation is None


def test_members_tied_at_the_worst_score_all_exploit_and_copy_only_better_ones() -> None:
    # Five of eight diverged (the worst score, more than the bottom quarter's two members).
    scores = [-np.inf, 0.1, -np.inf, 0.5, -np.inf, -np.inf, 0.2, -np.inf]
    for seed in range(10):
        decisions = [decide(scores, m, rng=np.random.default_rng(seed)) for m in range(8)]
        exploiters = [m for m, d in enumerate(decisions) if d.exploited is not None]
        assert exploiters == [0, 2, 4, 5, 7]
        # The top quarter (members 3 and 6), never a diverged member.
        assert {decisions[m].exploited for m in exploiters} <= {103, 106}
    # Ties elsewhere are broken at random as before: the worst member and one of the tied.
    middle = [1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0]
    for seed in range(10):
        decisions = [decide(middle, m, rng=np.random.default_rng(seed)) for m in range(8)]
        exploiters = [m for m, d in enumerate(decisions) if d.exploited is not None]
        assert exploiters[0] == 0 and len(exploiters) == 2
