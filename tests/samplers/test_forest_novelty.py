"""RandomForestSampler never proposes a configuration a trial already has while an unseen one
exists (finite spaces), and never repeats one on continuous spaces."""

from __future__ import annotations

import math

import optuna
import pytest

from optuna_advanced import RandomForestSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _configurations(study: optuna.Study) -> list[tuple[tuple[str, object], ...]]:
    return [tuple(sorted(t.params.items())) for t in study.trials]


@pytest.mark.parametrize("random_fraction", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_finite_space_is_exhausted_before_any_repeat(random_fraction: float, seed: int) -> None:
    # 4 x 3 x 2 = 24 configurations: Sobol points collide here, and so do random draws and
    # the model's picks once most of the space is seen.
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_int("x", 0, 3)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        f = trial.suggest_float("f", 0.0, 1.0, step=0.5)  # 0, 0.5, 1.0 -> with x: 3 values
        return (x - 2) ** 2 + (c == "b") + f

    sampler = RandomForestSampler(seed=seed, n_startup_trials=6, random_fraction=random_fraction)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=36)
    configurations = _configurations(study)
    assert len(set(configurations[:36])) == 36  # 4 x 3 x 3 = 36: every one exactly once


def test_a_log_integer_grid_is_exhausted_before_any_repeat() -> None:
    def objective(trial: optuna.Trial) -> float:
        n = trial.suggest_int("n", 1, 64, log=True)
        flag = trial.suggest_categorical("flag", [True, False])
        return abs(math.log2(n) - 3) + flag

    study = optuna.create_study(sampler=RandomForestSampler(seed=3, n_startup_trials=4))
    study.optimize(objective, n_trials=128)
    assert len(set(_configurations(study))) == 128


def test_continuous_and_mixed_spaces_get_no_exact_repeat() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -2.0, 2.0)
        y = trial.suggest_float("y", 1e-3, 1.0, log=True)
        k = trial.suggest_categorical("k", ["p", "q"])
        # A wide flat optimum: the model's best region is a plateau around the incumbent.
        return max(abs(x) - 0.5, 0.0) + max(math.log10(y) + 1.0, 0.0) + (k == "q")

    study = optuna.create_study(sampler=RandomForestSampler(seed=0, n_startup_trials=8))
    study.optimize(objective, n_trials=80)
    sources = [t.user_attrs.get("rf:source") for t in study.trials]
    assert sources.count("model") > 40
    assert len(set(_configurations(study))) == 80


def _asked_together(phase: str, seed: int, claims: bool, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Two trials sampled before either stores a parameter (two workers at the same moment),
    with two configurations left unseen: whether they got different ones."""
    from optuna_advanced.samplers._forest import sampler as module

    if not claims:
        monkeypatch.setattr(module, "clashes", lambda *args: False)
    grid = [(x, y) for x in range(3) for y in range(3)]
    fraction = 1.0 if phase == "random" else 0.0
    sampler = RandomForestSampler(seed=seed, n_startup_trials=2, random_fraction=fraction)
    study = optuna.create_study(sampler=sampler)
    for x, y in grid[:7]:
        study.enqueue_trial({"x": x, "y": y})
    study.optimize(lambda t: t.suggest_int("x", 0, 2) + 2 * t.suggest_int("y", 0, 2), 7)
    first, second = study.ask(), study.ask()
    # Optuna samples a trial's relative parameters at its first suggest and stores each as it
    # is suggested: two workers in sample_relative at once see neither pick.
    assert first.relative_params and second.relative_params
    picks = [(t.suggest_int("x", 0, 2), t.suggest_int("y", 0, 2)) for t in (first, second)]
    monkeypatch.undo()
    return picks[0] != picks[1] and not {*picks} & {*grid[:7]}


@pytest.mark.parametrize("phase", ["random", "model"])
def test_trials_asked_at_the_same_moment_get_different_configurations(
    phase: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every seed: the second ask sees the first's claim and takes the other configuration.
    assert all(_asked_together(phase, seed, True, monkeypatch) for seed in range(12))
    # Without claims the two picks coincide for some seeds (what two workers saw in CI).
    assert not all(_asked_together(phase, seed, False, monkeypatch) for seed in range(12))


def test_a_trial_halfway_through_its_suggestions_is_read_as_its_whole_pick() -> None:
    # The first worker has stored "x" of its pick when the second asks (what four workers on the
    # gRPC proxy hit in CI). Read as {"x": 2}, the half looked like a configuration with "y"
    # inactive: its claim was not checked (its parameters had been) and the second worker's
    # local search, started from it, picked {"x": ...} alone and drew "y" independently.
    grid = [(x, y) for x in range(3) for y in range(3)]
    for phase, fraction in (("random", 1.0), ("model", 0.0)):
        for seed in range(12):
            sampler = RandomForestSampler(seed=seed, n_startup_trials=2, random_fraction=fraction)
            study = optuna.create_study(sampler=sampler)
            for x, y in grid[:7]:
                study.enqueue_trial({"x": x, "y": y})
            study.optimize(lambda t: t.suggest_int("x", 0, 2) + 2 * t.suggest_int("y", 0, 2), 7)
            first = study.ask()
            first_x = first.suggest_int("x", 0, 2)
            second = study.ask()
            picks = [(second.suggest_int("x", 0, 2), second.suggest_int("y", 0, 2))]
            picks.append((first_x, first.suggest_int("y", 0, 2)))
            assert sorted(picks) == [(2, 1), (2, 2)], (phase, seed, picks)
            assert set(second.relative_params) == {"x", "y"}, (phase, seed)


def test_a_running_trial_is_read_with_its_enqueued_values_over_the_pick() -> None:
    from optuna_advanced.samplers._forest.claims import claimed_params

    sampler = RandomForestSampler(seed=0, n_startup_trials=2)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_int("x", 0, 9) + t.suggest_int("y", 0, 9), 6)
    picked = set()
    for x in range(10):
        study.enqueue_trial({"x": x})
        trial = study.ask()
        y = trial.suggest_int("y", 0, 9)  # the pick (x and y) is claimed here; x is enqueued
        frozen = study._storage.get_trial(trial._trial_id)
        picked.add(frozen.system_attrs["rf:claim"][1]["x"])
        assert claimed_params(sampler.namespace, frozen) == {"x": x, "y": y}
        study.tell(trial, trial.suggest_int("x", 0, 9) + y)
    assert picked != set(range(10))  # the claimed x differs from the enqueued one somewhere


def test_a_claim_is_a_system_attribute_and_digests_tell_types_apart() -> None:
    from optuna_advanced.samplers._forest.claims import digest

    study = optuna.create_study(sampler=RandomForestSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 3), 3)
    for t in study.trials[1:]:  # the first trial's parameters are drawn independently
        assert t.system_attrs["rf:claim"] == [digest(t.params), t.params]
    assert len({digest({"a": 1}), digest({"a": 1.0}), digest({"a": True}), digest({"b": 1})}) == 4
