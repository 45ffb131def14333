"""What Ray Tune's PBT users rely on, in PopulationBasedTraining: ties broken at random (a
plateau is left), stopped members count, an honest progress bar, synchronous mode, burn-in,
custom explore, mutation lists, steps in a unit of the objective's choosing, the exploit log and
the replay of a found schedule."""

from __future__ import annotations

from collections import Counter
import json
from pathlib import Path
import re
from typing import Any

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
import pytest

from optuna_advanced.pbt import Checkpoint
from optuna_advanced.pbt import perturbations
from optuna_advanced.pbt import replay
from optuna_advanced.pbt import schedule
from optuna_advanced.pbt._scheduler import exploit_source
from optuna_advanced.pbt._scheduler import Standing
from tests.pbt.test_wrapper import attrs
from tests.pbt.test_wrapper import check_chains
from tests.pbt.test_wrapper import make
from tests.pbt.test_wrapper import toy

LR = {"lr": FloatDistribution(1e-3, 10.0, log=True)}


def plateau(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
    """A safeguarded optimiser on x**2 from x=1: a step whose learning rate is above 1 would
    increase the loss and is skipped, so while every learning rate is too high every score
    (how far x has come down) is exactly 0: a plateau."""
    lr = trial.suggest_float("lr", 1e-3, 10.0, log=True)
    data = checkpoint.load_bytes()
    x = float(data) if data else 1.0
    score = 0.0
    for step in checkpoint.steps:
        if lr < 1.0:
            x = x * (1.0 - lr)
        score = 1.0 - abs(x)
        trial.report(score, step)
    checkpoint.save_bytes(repr(x).encode())
    return score


def test_ties_are_broken_at_random_and_reproducibly() -> None:
    standings = {m: Standing(m, 10 + m, 0.0, 4, {"lr": 5.0}) for m in range(8)}
    sources: Counter[int] = Counter()
    exploiters = set()
    for seed in range(200):
        rngs = [np.random.default_rng([seed, m]) for m in range(8)]  # one per decision
        round_ = [exploit_source(m, standings, 0.25, 40, rngs[m], tie_key=seed) for m in range(8)]
        # Every decision of a round sees the same order: exactly the bottom quarter exploits.
        assert sum(source is not None for source in round_) == 2
        for member, source in enumerate(round_):
            if source is not None:
                sources[source.member] += 1
                exploiters.add(member)
    # On a plateau every member is sometimes copied and sometimes copies.
    assert set(sources) == set(range(8)) and exploiters == set(range(8))
    # The order also changes from round to round (the standings' segments), the key fixed.
    later = {m: Standing(m, 20 + m, 0.0, 8, {"lr": 5.0}) for m in range(8)}
    bottoms = {
        tuple(m for m in range(8) if exploit_source(m, table, 0.25, 40, rng(0), tie_key=1))
        for table in (standings, later)
    }
    assert len(bottoms) == 2
    again = [exploit_source(m, standings, 0.25, 40, rng(7), tie_key=7) for m in range(8)]
    assert again == [exploit_source(m, standings, 0.25, 40, rng(7), tie_key=7) for m in range(8)]


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("seed", range(5))
def test_a_population_on_a_plateau_leaves_it(tmp_path: Path, seed: int) -> None:
    """Every member starts on the plateau (score exactly 0); with PBT's defaults the population
    leaves it, most members by the end."""
    pbt = make(
        tmp_path,
        population_size=8,
        perturbation_interval=2,
        search_space=LR,
        initial_params=[{"lr": 2.0 + m} for m in range(8)],  # every step is skipped
        seed=seed,
    )
    pbt.optimize(plateau, n_steps=40)
    assert pbt.best_trial.value is not None and pbt.best_trial.value > 0
    final = [
        t.value for t in pbt.study.trials if t.value is not None and attrs(t)["end_step"] == 40
    ]
    assert sum(v > 0 for v in final) >= 6  # most members left the plateau


def test_best_trial_counts_members_their_objective_stopped(tmp_path: Path) -> None:
    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        h = trial.suggest_float("h0", 0.0, 1.0)
        trial.suggest_float("h1", 0.0, 1.0)
        member = checkpoint.member
        for step in checkpoint.steps:
            trial.report(100.0 + member + step, step)
            if member == 3 and step >= 6:
                raise optuna.TrialPruned()  # stopped at 109, better than anyone at the end
        checkpoint.save_bytes(b"x")
        return 100.0 + h + checkpoint.end_step * 0

    pbt = make(tmp_path, population_size=4, exploit=False)
    pbt.optimize(objective, n_steps=12)
    best = pbt.best_trial
    assert attrs(best)["member"] == 3 and best.value == 109.0


def test_progress_bar_never_overruns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pbt = make(tmp_path, population_size=4, quantile_fraction=0.5)
    pbt.optimize(toy, n_steps=24, show_progress_bar=True)
    assert perturbations(pbt.study), "the run must exploit for the test to mean something"
    counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+)", capsys.readouterr().err)]
    assert counts and all(a <= b == 96 for a, b in counts)
    assert counts[-1] == (96, 96)


def test_synchronous_mode_decides_a_generation_at_once(tmp_path: Path) -> None:
    pbt = make(tmp_path, population_size=4, synch=True, quantile_fraction=0.5)
    pbt.optimize(toy, n_steps=20, n_jobs=2)
    check_chains(pbt.study, 4, 20, 4)
    trials = [t for t in pbt.study.trials if "duplicate_of" not in attrs(t)]
    by_generation: dict[int, list[optuna.trial.FrozenTrial]] = {}
    for t in trials:
        by_generation.setdefault(attrs(t)["generation"], []).append(t)
    for generation in range(1, max(by_generation)):
        earlier, later = by_generation[generation - 1], by_generation[generation]
        last_done = max(t.datetime_complete for t in earlier)  # type: ignore[type-var]
        assert all(t.datetime_start >= last_done for t in later)  # type: ignore[operator]
        assert {attrs(t)["start_step"] for t in later} == {4 * generation}
    assert perturbations(pbt.study)


def test_burn_in_delays_the_first_exploit(tmp_path: Path) -> None:
    pbt = make(tmp_path, population_size=4, burn_in_period=12, quantile_fraction=0.5)
    pbt.optimize(toy, n_steps=32)
    trials = pbt.study.trials
    reached = [
        attrs(trials[attrs(trials[row["trial"]])["parent"]])["end_step"]
        for row in perturbations(pbt.study)
    ]
    assert reached and min(reached) >= 12  # no member exploited before it reached step 12


def test_custom_explore_is_used_and_kept_in_bounds(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def explore(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        calls.append(dict(params))
        return {"h0": params["h0"] * 10.0, "h1": float(rng.uniform(-1.0, 0.5))}

    pbt = make(tmp_path, population_size=4, explore=explore, quantile_fraction=0.5)
    pbt.optimize(toy, n_steps=24)
    log = perturbations(pbt.study)
    assert calls and len(log) == len(calls)
    assert all(row["how"] == {"h0": "custom", "h1": "custom"} for row in log)
    assert all(0.0 <= row["after"]["h0"] <= 1.0 and row["after"]["h1"] <= 0.5 for row in log)
    assert pbt.study.user_attrs["pbt:config"]["explore"] == "custom"


def test_mutation_lists_move_to_a_neighbouring_value(tmp_path: Path) -> None:
    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        width = trial.suggest_categorical("width", [16, 32, 64, 128])
        h = [trial.suggest_float("h0", 0.0, 1.0), trial.suggest_float("h1", 0.0, 1.0)]
        value = -abs(width - 64) / 64 + sum(h) + checkpoint.end_step / 100
        for step in checkpoint.steps:
            trial.report(value, step)
        checkpoint.save_bytes(b"x")
        return value

    space = {
        "width": [16, 32, 64, 128],
        "h0": FloatDistribution(0, 1),
        "h1": FloatDistribution(0, 1),
    }
    pbt = make(tmp_path, population_size=4, search_space=space, quantile_fraction=0.5)
    pbt.optimize(objective, n_steps=24)
    order = [16, 32, 64, 128]
    moves = [row for row in perturbations(pbt.study) if row["how"]["width"] != "resample"]
    assert moves
    for row in moves:
        source = pbt.study.trials[row["copied"]].params["width"]
        assert abs(order.index(row["after"]["width"]) - order.index(source)) == 1


def test_steps_in_a_unit_of_the_objective_s_choosing(tmp_path: Path) -> None:
    """Steps may be samples (or milliseconds, tokens...): the objective trains in its own
    increments until the segment's ``end_step`` and reports at the samples it has seen."""
    batch = 96

    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        h = [trial.suggest_float("h0", 0.0, 1.0), trial.suggest_float("h1", 0.0, 1.0)]
        data = checkpoint.load_bytes()
        seen, theta = json.loads(data) if data else (0, [0.9, 0.9])
        seen = max(seen, checkpoint.start_step)
        while seen < checkpoint.end_step:
            seen += batch
            theta = [t - 0.0002 * batch * hi * t for t, hi in zip(theta, h)]
            trial.report(1.2 - sum(t * t for t in theta), seen)
        checkpoint.save_bytes(json.dumps([seen, theta]).encode())
        return 1.2 - sum(t * t for t in theta)

    pbt = make(tmp_path, population_size=4, perturbation_interval=1000)
    pbt.optimize(objective, n_steps=8000)
    ends = [attrs(t)["end_step"] for t in pbt.study.trials]
    assert max(ends) == 8000 and all(end % 1000 == 0 for end in ends)
    assert pbt.best_trial.value is not None and pbt.best_trial.value > 1.0


def test_replay_trains_a_fresh_member_on_the_found_schedule(tmp_path: Path) -> None:
    pbt = make(tmp_path / "pbt", population_size=6, quantile_fraction=0.34, seed=1)
    pbt.optimize(toy, n_steps=40)
    best = pbt.best_trial
    steps = schedule(pbt.study, best)
    assert steps[0]["start_step"] == 0 and steps[-1]["end_step"] == 40
    assert all(a["end_step"] == b["start_step"] for a, b in zip(steps, steps[1:]))
    assert len({json.dumps(s["params"], sort_keys=True) for s in steps}) > 1  # it changed
    fresh = optuna.create_study(direction="maximize")
    from optuna.artifacts import FileSystemArtifactStore

    (tmp_path / "replay").mkdir()
    last = replay(
        toy, steps, fresh, artifact_store=FileSystemArtifactStore(str(tmp_path / "replay"))
    )
    # The toy is deterministic: the same schedule from scratch reaches the same model.
    assert last.value == pytest.approx(best.value, abs=1e-12)
    assert len(fresh.trials) == len(steps)


def test_one_worker_compares_members_at_one_step_and_exploits_every_generation(
    tmp_path: Path,
) -> None:
    # One worker, four members: deciding a member's next segment as soon as its segment ends
    # would rank it (a step ahead) against the others' older scores, so it would almost never
    # be in the bottom quantile (one exploit in 40 segments on this problem). Decisions wait
    # until no member is behind, as long as there is other work.
    study = optuna.create_study(direction="maximize")
    pbt = make(tmp_path, study, population_size=4, perturbation_interval=4)
    pbt.optimize(toy, n_steps=40)
    check_chains(study, 4, 40, 4)
    segments = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # The bottom quantile (one member of four) copies someone in most generations (deciding at
    # once: in 2 of the 9).
    exploits = Counter(
        attrs(t)["start_step"] for t in segments if attrs(t)["exploited"] is not None
    )
    assert len(exploits) >= 8, exploits
