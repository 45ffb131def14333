"""The multi-fidelity native peers run through the runner with our budget accounting."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
import pytest

from benchmarks.contenders import contenders
from benchmarks.mf_natives import BUDGET_ATTR
from benchmarks.mf_natives import budget_step
from benchmarks.mf_natives import BudgetPruner
from benchmarks.problems import Problem
from benchmarks.problems import problems
from benchmarks.problems.base import suggest_all
from benchmarks.runner import run_task
from benchmarks.runner import Task

NATIVES = ["hpbandster-bohb", "dehb", "smac-mf"]
MAX_FIDELITY = 10  # eta 3 from 1: budgets 10/9, 10/3 and 10, run to steps 2, 4 and 10
BUDGET = 15 * MAX_FIDELITY  # enough for every tool to use its model after its first configs


class Bowl:
    """A cheap multi-fidelity objective: a quadratic plus a bias that shrinks with the step."""

    max_fidelity = MAX_FIDELITY
    space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-1.0, 1.0),
        "y": FloatDistribution(1e-3, 1.0, log=True),
    }

    def __init__(self, seed: int, steps: tuple[int, ...] = tuple(range(1, MAX_FIDELITY + 1))):
        self._steps = steps

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        value = float("nan")
        for step in self._steps:
            value = (params["x"] - 0.3) ** 2 + params["y"] + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value


def _problem(**kwargs: Any) -> Problem:
    return Problem(
        name="bowl",
        suite="mf",
        build=Bowl,
        kwargs=kwargs,
        budget=BUDGET,
        max_fidelity=MAX_FIDELITY,
    )


def _run(contender: str, seed: int = 0, budget: int = BUDGET, **kwargs: Any) -> dict[str, Any]:
    task = Task(problem=_problem(**kwargs), contender=contender, seed=seed, budget=budget)
    record = run_task(task)
    assert record["error"] is None, record["error"]
    return record


@pytest.mark.slow
@pytest.mark.parametrize("contender", NATIVES)
def test_native_runs_on_the_runners_budget_and_reproduces(contender: str) -> None:
    trials = _run(contender)["trials"]
    spent = sum(t[0] for t in trials)
    assert BUDGET <= spent < BUDGET + MAX_FIDELITY  # stops once the budget is spent
    assert {t[0] for t in trials} == {2, 4, 10}  # every trial stopped at a rounded-up budget
    assert all(t[3] == ("C" if t[0] == MAX_FIDELITY else "P") for t in trials)
    assert all(t[1] is not None for t in trials)
    # The same seed gives the same run (SMAC3 across processes only with a fixed
    # PYTHONHASHSEED, which the runner sets; within this process the hash seed is fixed).
    again = _run(contender)["trials"]
    assert [(t[0], t[1]) for t in again] == [(t[0], t[1]) for t in trials]
    # The seed reaches the tool: another seed starts elsewhere.
    other = _run(contender, seed=1, budget=2 * MAX_FIDELITY)["trials"]
    assert [t[1] for t in other] != [t[1] for t in trials[: len(other)]]


@pytest.mark.slow
def test_sparse_reports_stop_at_the_first_report_past_the_budget() -> None:
    # Like hgb_digits: a trial whose budget falls between two reports pays the later one.
    trials = _run("dehb", steps=(1, 3, 9, 10))["trials"]
    assert {t[0] for t in trials} == {3, 9, 10}
    assert all(t[3] == ("C" if t[0] == MAX_FIDELITY else "P") for t in trials)


@pytest.mark.slow
def test_full_budget_on_a_real_problem_reaches_full_fidelity() -> None:
    problem = next(p for p in problems("mf") if p.name == "mfh3_good")
    assert problem.max_fidelity == 100
    record = run_task(Task(problem=problem, contender="dehb", seed=0, budget=700))
    assert record["error"] is None, record["error"]
    trials = record["trials"]
    # DEHB's first bracket: 81 x 2, 27 x 4, 9 x 12, 3 x 34 and one at 100 (580 units).
    assert {t[0] for t in trials} >= {2, 4, 12, 34, 100}
    complete = [t for t in trials if t[3] == "C"]
    assert complete and all(t[0] == 100 and t[2] is not None for t in complete)


def test_pruner_stops_only_trials_with_a_budget_below_the_max_fidelity() -> None:
    pruner = BudgetPruner(max_fidelity=10)
    study = optuna.create_study(pruner=pruner)
    decisions: dict[str, list[bool]] = {}

    def objective(trial: optuna.Trial) -> float:
        key = str(trial.user_attrs.get(BUDGET_ATTR))
        decisions[key] = []
        for step in range(1, 11):
            trial.report(float(step), step)
            decisions[key].append(trial.should_prune())
        return 0.0

    study.enqueue_trial({}, user_attrs={BUDGET_ATTR: 4})
    study.enqueue_trial({}, user_attrs={BUDGET_ATTR: 10})
    study.optimize(objective, n_trials=3)
    assert decisions["4"][:9] == [False] * 3 + [True] * 6  # the objective stops at step 4
    assert decisions["10"] == [False] * 10  # full fidelity completes
    assert decisions["None"] == [False] * 10  # no budget attribute: never pruned


def test_budgets_round_up_to_whole_steps() -> None:
    # Budgets of max fidelity 100 round up; float noise around a whole step does not.
    expected = {100 / 81: 2, 100 / 27: 4, 100 / 9: 12, 1.0000000000000002: 1, 2.9999999999: 3}
    assert {budget: budget_step(budget) for budget in expected} == expected


def test_mf_natives_apply_to_mf_problems_with_static_spaces() -> None:
    known = contenders()
    bowl = _problem()
    dynamic = Problem(name="d", suite="mf", build=Bowl, budget=1, static_space=False)
    bbob = next(p for p in problems("sf") if p.name.startswith("bbob"))
    for name in NATIVES:
        assert known[name].applies_to(bowl)
        assert not known[name].applies_to(dynamic)
        assert not known[name].applies_to(bbob)
        assert isinstance(known[name].pruner(bowl), BudgetPruner)
    assert not known["smac-native"].applies_to(bowl)
