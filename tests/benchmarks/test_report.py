from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.report import write_report
from benchmarks.runner import completed_keys
from benchmarks.stats import incumbent_curve
from benchmarks.stats import load
from benchmarks.stats import regrets


def _rec(contender: str, seed: int, trials: list[list[Any]], **kw: Any) -> dict[str, Any]:
    base = {
        "suite": "mf",
        "problem": "p",
        "contender": contender,
        "seed": seed,
        "budget": 100,
        "max_fidelity": 10,
        "optimum": 0.0,
        "reference": 10.0,
        "error": None,
        "trials": trials,
    }
    base.update(kw)
    return base


def test_incumbent_is_best_observed_complete_trial_scored_by_true_value() -> None:
    trials: list[list[Any]] = [
        [10, 5.0, 6.0, "C"],  # spent 10
        [3, 0.5, None, "P"],  # pruned: better observed value, but never an incumbent
        [10, 4.0, 8.0, "C"],  # spent 23: better observed, worse true (noise)
        [10, 7.0, 1.0, "C"],  # spent 33: worse observed: not chosen
        [50, 1.0, 2.0, "C"],  # spent 83
    ]
    curve = incumbent_curve(_rec("a", 0, trials), [0.05, 0.1, 0.25, 0.5, 1.0])
    assert curve == [None, 6.0, 8.0, 8.0, 2.0]


def test_normalised_regret_uses_known_optimum_and_reference() -> None:
    recs = [_rec("a", 0, [[10, 5.0, 5.0, "C"]]), _rec("b", 0, [[100, 1.0, 1.0, "C"]])]
    at = regrets(recs, [0.1, 1.0])
    np.testing.assert_allclose(at[("p", "a", 0)], [0.5, 0.5])
    np.testing.assert_allclose(at[("p", "b", 0)], [1.0, 0.1])  # nothing finished at 10%: 1


def test_unknown_optimum_falls_back_to_best_found() -> None:
    recs = [
        _rec("a", 0, [[10, 5.0, 5.0, "C"]], optimum=None, reference=None),
        _rec("b", 0, [[10, 3.0, 3.0, "C"]], optimum=None, reference=None),
    ]
    at = regrets(recs, [1.0])
    # optimum = 3 (best found), reference = median of first complete values = 4
    assert at[("p", "b", 0)][0] == pytest.approx(0.0)
    assert at[("p", "a", 0)][0] == pytest.approx(2.0)


def test_resume_skips_only_successful_runs_and_report_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    good = _rec("a", 0, [[100, 1.0, 1.0, "C"]])
    failed = _rec("b", 0, [], error="boom")
    path.write_text(json.dumps(good) + "\n" + json.dumps(failed) + "\n" + '{"cut sho')
    assert completed_keys(path) == {("mf", "p", "a", 0)}
    retried = _rec("b", 0, [[100, 2.0, 2.0, "C"]])
    with path.open("a") as f:
        f.write("\n" + json.dumps(retried) + "\n")
    records = load(path)
    assert {(r["contender"], r["error"]) for r in records} == {("a", None), ("b", None)}
    report = write_report(tmp_path).read_text()
    assert "| a |" in report and "| b |" in report
    assert (tmp_path / "plots" / "mf.png").stat().st_size > 1000


def test_contender_with_fewer_seeds_is_compared_on_its_own_runs(tmp_path: Path) -> None:
    # a and b have seeds 0 and 1; c (still accumulating) only seed 0, where it beats both.
    values = {("a", 0): 4.0, ("a", 1): 2.0, ("b", 0): 6.0, ("b", 1): 8.0, ("c", 0): 1.0}
    recs = [
        _rec(c, s, [[100, v, v, "C"]], suite="sf", problem="p", budget=100, max_fidelity=None)
        for (c, s), v in values.items()
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    report = write_report(tmp_path).read_text()
    main, partial = report.split("### `c` so far: 1 runs (seed 0)")
    # The main table: a and b over both seeds, ranks unaffected by c.
    assert "| a | 1.000 | 1.000 | 0.300 | 1.00 | 2 | 1 |" in main
    assert "| b | 1.000 | 1.000 | 0.700 | 2.00 | 2 | 1 |" in main
    assert "| c |" not in main
    # Its own section: every contender on seed 0 only.
    assert "| c | 1.000 | 1.000 | 0.100 | 1.00 | 1 | 1 |" in partial
    assert "| a | 1.000 | 1.000 | 0.400 | 2.00 | 1 | 1 |" in partial
    assert "| b | 1.000 | 1.000 | 0.600 | 3.00 | 1 | 1 |" in partial
    assert "| p | 0.400 | 0.600 | 0.100 |" in partial
    # And run for run: lower than a and b in their one shared run.
    assert "| a | 1 | 1 | 0 |" in partial and "| b | 1 | 1 | 0 |" in partial


def test_contender_with_fewer_seeds_leaves_the_main_tables_unchanged(tmp_path: Path) -> None:
    # Unknown optimum and reference: they come from the runs, but not from c's (still
    # accumulating), so adding c's run, with a new best value and first value, changes nothing.
    values = {("a", 0): 4.0, ("a", 1): 2.0, ("b", 0): 6.0, ("b", 1): 8.0}
    kw = {"suite": "sf", "problem": "p", "budget": 100, "max_fidelity": None}
    recs = [
        _rec(c, s, [[100, v, v, "C"]], optimum=None, reference=None, **kw)
        for (c, s), v in values.items()
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    before = write_report(tmp_path).read_text()
    extra = _rec("c", 0, [[100, 0.5, 0.5, "C"]], optimum=None, reference=None, **kw)
    with (tmp_path / "results.jsonl").open("a") as f:
        f.write(json.dumps(extra) + "\n")
    after = write_report(tmp_path).read_text()
    assert after.startswith(before.split("![sf convergence]")[0])
    # optimum 2 and reference 5 (median of the four first values) from a and b only
    assert "| c | 1.000 | 1.000 | -0.500 | 1.00 | 1 | 1 |" in after


def test_pbt_against_ray_pairs_runs_by_seed_and_counts_runs_worse_than_no_pbt() -> None:
    from benchmarks.pbt_report import pbt_against_ray

    def run(contender: str, seed: int, final: float) -> dict[str, Any]:
        # Two segments: a partial one, then the fully trained member's final value.
        trials: list[list[Any]] = [[5, 9.0, None, "P"], [5, final, final, "C"]]
        return _rec(contender, seed, trials, suite="pbt", problem="toy")

    recs = []
    for seed in range(6):
        recs.append(run("pbt4", seed, 1.0 + seed))  # ours: 1..6
        recs.append(run("ray-pbt4", seed, 2.0 + seed if seed < 5 else 0.5))  # wins 5, loses 1
        recs.append(run("pbt4-none", seed, 3.5))  # ours worse on seeds 3-5, Ray on 2-4
    recs.append(run("ray-pbt4", 99, 0.0))  # no pair: left out
    text = pbt_against_ray(recs)
    row = next(line for line in text.splitlines() if "pbt4 vs ray-pbt4" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "toy"
    assert cells[2] == "3.5"  # median of 1..6
    assert cells[3] == "3.5"  # median of 0.5, 2, 3, 4, 5, 6
    assert cells[4] == "5-1"
    assert 0.0 < float(cells[5]) < 1.0
    assert cells[6] == "3/6" and cells[7] == "3/6"
    assert cells[8] == "6"
    assert "pb2-4" not in text  # no PB2 runs: no PB2 rows


def test_pbtcost_measures_pbt_alone_and_with_the_objective(tmp_path: Path) -> None:
    from benchmarks import pbt_cost

    records = pbt_cost.run(tmp_path, ["memory"], [24, 48], population=4, interval=2, seed=0)
    assert [(r["storage"], r["segments"]) for r in records] == [("memory", 24), ("memory", 48)]
    for r in records:
        assert r["n_trials"] == r["segments"]
        # PBT's part alone is a part of the whole gap from one segment's end to the next's.
        assert 0 < r["between_seconds_per_member_step"] < r["seconds_per_member_step"]
    text = pbt_cost.summarise(records)
    rows = [line for line in text.splitlines() if line.startswith("| memory")]
    assert [row.split("|")[2].strip() for row in rows] == ["all of it", "between segments"]
    assert all(row.rstrip(" |").endswith("x") for row in rows)
