from __future__ import annotations

from collections import Counter

import optuna
from optuna.trial import TrialState
import pytest

from optuna_advanced import BOHBPruner
from optuna_advanced import BOHBSampler
from tests.samplers.test_bohb import curve_objective


@pytest.fixture(autouse=True)
def _quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _brackets(pruner: optuna.pruners.HyperbandPruner, n: int) -> list[int]:
    study = optuna.create_study(study_name="brackets", pruner=pruner)
    study.optimize(curve_objective, n_trials=n)
    return [pruner._get_bracket_id(study, t) for t in study.trials]


def test_brackets_fill_in_turn_most_aggressive_first() -> None:
    pruner = BOHBPruner(min_resource=1, max_resource=27, reduction_factor=3)
    brackets = _brackets(pruner, 60)
    sizes = pruner._trial_allocation_budgets
    assert sizes == [27, 12, 6, 4]  # Hyperband's n_s for R=27, eta=3: ceil(4 * 3**s / (s + 1))
    cycle = [b for b, size in enumerate(sizes) for _ in range(size)]
    assert brackets == (cycle * 2)[:60]


def test_same_bracket_shares_as_optunas_hyperband() -> None:
    ours = Counter(_brackets(BOHBPruner(min_resource=1, max_resource=27), 98))
    theirs = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27)
    _brackets(theirs, 1)
    assert ours == {b: 2 * size for b, size in enumerate(theirs._trial_allocation_budgets)}


def test_first_trials_are_cheap_so_models_start_earlier() -> None:
    # Steps spent before BOHB's first model-based trial, summed over seeds: HpBandSter's order
    # (cheap bracket first) reaches a model with less budget than a random bracket order.
    def steps_before_first_model(pruner: optuna.pruners.BasePruner, seed: int) -> int:
        study = optuna.create_study(
            study_name=f"s{seed}", sampler=BOHBSampler(seed=seed), pruner=pruner
        )
        study.optimize(curve_objective, n_trials=60)
        steps = 0
        for t in study.trials:
            if t.user_attrs.get("bohb:source") == "model":
                return steps
            steps += len(t.intermediate_values)
        return steps

    ours = sum(steps_before_first_model(BOHBPruner(max_resource=27), s) for s in range(4))
    theirs = sum(
        steps_before_first_model(optuna.pruners.HyperbandPruner(max_resource=27), s)
        for s in range(4)
    )
    assert ours < theirs


def test_with_bohb_sampler_every_trial_is_valid_and_some_are_pruned() -> None:
    best: dict[str, list[float]] = {"bohb": [], "random": []}
    for seed in range(6):
        for name, sampler in (
            ("bohb", BOHBSampler(seed=seed)),
            ("random", optuna.samplers.RandomSampler(seed=seed)),
        ):
            study = optuna.create_study(sampler=sampler, pruner=BOHBPruner(max_resource=27))
            study.optimize(curve_objective, n_trials=50)
            states = Counter(t.state for t in study.trials)
            assert states[TrialState.PRUNED] > 10 and states[TrialState.COMPLETE] > 5
            best[name].append(study.best_value)
    assert sum(best["bohb"]) / 6 < 1.0 < sum(best["random"]) / 6


def test_auto_max_resource() -> None:
    # With max_resource="auto" Hyperband waits for a completed trial to size its brackets.
    pruner = BOHBPruner()
    study = optuna.create_study(pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(curve_objective, n_trials=20)
    assert pruner._max_resource == 28
    assert any(t.state == TrialState.PRUNED for t in study.trials)
