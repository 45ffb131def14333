"""The smoke version of every suite runs end to end (this is what CI runs)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.contenders import contenders
from benchmarks.problems import problems
from benchmarks.runner import run_task
from benchmarks.runner import Task

SMOKE = {
    "sf": "random,tpe,cmaes,hyperopt-native,smac-native",  # GP: see overhead
    "mf": "random,tpe+hb,random+hb",
    "pbt": "random,tpe+hb",
    "overhead": "random,tpe,gp,cmaes",
}


@pytest.mark.slow
@pytest.mark.parametrize("suite", list(SMOKE))
def test_smoke_suite(suite: str, tmp_path: Path) -> None:
    args = ["run", "--suite", suite, "--smoke", "--seeds", "1", "--samplers", SMOKE[suite]]
    args += ["--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert records and all(r["error"] is None for r in records)
    assert {r["contender"] for r in records} == set(SMOKE[suite].split(","))
    report = (tmp_path / "report.md").read_text()
    assert f"## Suite `{suite}`" in report
    assert "python -m benchmarks run --suite" in report
    if suite != "overhead":
        assert (tmp_path / "plots" / f"{suite}.png").exists()
        for r in records:
            spent = sum(t[0] for t in r["trials"])
            unit = r["max_fidelity"] or 1
            assert r["budget"] <= spent < r["budget"] + unit  # stops once the budget is spent
    # A second invocation resumes: nothing is run again.
    before = (tmp_path / "results.jsonl").read_text()
    main(args)
    assert (tmp_path / "results.jsonl").read_text() == before


def test_hyperband_cost_is_counted_in_fidelity_units() -> None:
    problem = next(p for p in problems("mf") if p.name == "mlp_digits")
    record = run_task(Task(problem=problem, contender="random+hb", seed=0, budget=81))
    assert record["error"] is None
    pruned = [t for t in record["trials"] if t[3] == "P"]
    complete = [t for t in record["trials"] if t[3] == "C"]
    assert all(t[0] == 27 for t in complete)
    assert all(1 <= t[0] < 27 for t in pruned)
    assert sum(t[0] for t in record["trials"]) >= 81


def test_contenders_apply_where_they_should() -> None:
    known = contenders()
    svc = next(p for p in problems("sf") if p.name == "svc_digits")
    bbob = next(p for p in problems("sf") if p.name.startswith("bbob"))
    mlp = next(p for p in problems("mf") if p.name == "mlp_digits")
    assert not known["cmaes"].applies_to(svc) and known["cmaes"].applies_to(bbob)
    assert not known["hyperopt-native"].applies_to(svc)
    assert not known["tpe+hb"].applies_to(bbob) and known["tpe+hb"].applies_to(mlp)
    mfh3 = next(p for p in problems("mf") if p.name == "mfh3_good")
    for name in ("hpbandster-bohb", "dehb", "smac-mf"):  # multi-fidelity natives: mf only
        assert known[name].applies_to(mfh3) and not known[name].applies_to(bbob)
    assert not known["smac-native"].applies_to(mfh3)


@pytest.mark.slow
def test_parallel_workers_share_one_journal_study(tmp_path: Path) -> None:
    from benchmarks.parallel import summarise

    assert (
        main(
            [
                "parallel",
                "--problem",
                "mfh3_good",
                "--samplers",
                "BOHBSampler+hb",
                "--workers",
                "1,2",
                "--seeds",
                "1",
                "--seconds-per-unit",
                "0",
                "--budget",
                "400",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    runs = [json.loads(x) for x in (tmp_path / "parallel.jsonl").read_text().splitlines()]
    assert [r["n_workers"] for r in runs] == [1, 2]
    for r in runs:
        assert r["exit_codes"] == [0] * r["n_workers"]
        assert r["n_running_left"] == 0
        assert r["n_invalid_params"] == 0
        spent = sum(t[0] for t in r["trials"])
        assert 400 <= spent < 400 + r["n_workers"] * 100  # each worker may finish one trial
    assert "Speed-up of 2 workers over 1" in summarise(runs)
    assert "Parallel workers" in (tmp_path / "report.md").read_text()


def test_runs_are_reproducible_under_hyperband() -> None:
    problem = next(p for p in problems("mf") if p.name == "mfh3_good")
    task = Task(problem=problem, contender="BOHBSampler+hb", seed=0, budget=600)
    first, second = run_task(task), run_task(task)
    assert first["error"] is None and first["trials"] == second["trials"]
    assert any(t[3] == "P" for t in first["trials"])


@pytest.mark.slow
def test_peers_compares_bridges_and_forest_with_their_native_library(tmp_path: Path) -> None:
    args = ["peers", "--seeds", "1", "--hyperopt-trials", "25", "--ax-trials", "0"]
    args += ["--smac-trials", "12", "--window", "5", "--out", str(tmp_path)]
    assert main(args) == 0
    records = [json.loads(x) for x in (tmp_path / "peers.jsonl").read_text().splitlines()]
    by_peer = {r["bridge"]: r for r in records}
    assert set(by_peer) == {"hyperopt-tpe", "smac-hpo"}
    assert by_peer["hyperopt-tpe"]["n_same_points"] == 25  # the bridge replays fmin exactly
    for r in records:
        assert r["native_median_s"] > 0 and r["bridge_median_s"] > 0
    assert "Against native peers" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.multiprocess
def test_throughput_runs_workers_on_postgresql(tmp_path: Path) -> None:
    from tests.integration import databases

    with contextlib.ExitStack() as stack:
        server: tuple[str, int] | None = databases.POSTGRES
        if not databases.is_listening(*databases.POSTGRES):
            server = stack.enter_context(databases.local_postgres())
        if server is None:
            message = "PostgreSQL (127.0.0.1:5432) is not reachable and could not be started"
            if databases.required():
                pytest.fail(message + " (OPTUNA_ADVANCED_REQUIRE_DATABASES is set)")
            pytest.skip(message)
        host, port = server
        args = ["throughput", "--samplers", "optuna.RandomSampler,BOHBSampler"]
        args += ["--workers", "1,2", "--seeds", "1", "--trials", "8"]
        args += ["--postgres", f"{host}:{port}", "--out", str(tmp_path)]
        assert main(args) == 0
    records = [json.loads(x) for x in (tmp_path / "throughput.jsonl").read_text().splitlines()]
    assert sorted((r["sampler"], r["n_workers"]) for r in records) == [
        ("BOHBSampler", 1),
        ("BOHBSampler", 2),
        ("optuna.RandomSampler", 1),
        ("optuna.RandomSampler", 2),
    ]
    for r in records:
        assert r["exit_codes"] == [0] * r["n_workers"]
        assert r["n_complete"] == 8 and r["n_failed"] == 0 and r["n_running_left"] == 0
        assert r["wall_time"] > 0 and r["trials_per_second"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "## Throughput on PostgreSQL" in report
    assert "python -m benchmarks throughput" in report
    assert "| optuna.RandomSampler | 1.00x / - | 1.00x / - |" in report  # no TPE in this run
    assert "within-run" in report


def test_throughput_ratios_compare_runs_of_the_same_repeat() -> None:
    from benchmarks.throughput import schedule
    from benchmarks.throughput import summarise

    plan = schedule(["a", "b", "c"], [1, 2], 3)
    assert len(plan) == 18

    def order(seed: int, n: int) -> list[str]:
        return [name for s, m, name, _ in plan if s == seed and m == n]

    for n in (1, 2):
        assert order(1, n) == order(0, n)[::-1]  # a mirrored pair: linear drift cancels
        assert order(2, n) != order(0, n)  # the next pair is rotated
    assert [n for s, n, _, pos in plan if s == 1 and pos == 0] == [2, 1]

    def rec(run: str, seed: int, sampler: str, n: int, tps: float) -> dict[str, object]:
        return {
            "run": run,
            "seed": seed,
            "sampler": sampler,
            "n_workers": n,
            "n_trials": 10,
            "n_complete": 10,
            "n_failed": 0,
            "n_running_left": 0,
            "exit_codes": [0] * n,
            "sleep": 0.0,
            "cpu_count": 2,
            "trials_per_second": tps,
        }

    # Twice as fast as RandomSampler within each repeat, although the machine's speed (and so
    # every absolute figure) halves between the two repeats.
    records = [
        rec("r", 0, "optuna.RandomSampler", 1, 10.0),
        rec("r", 0, "BOHBSampler", 1, 20.0),
        rec("r", 1, "optuna.RandomSampler", 1, 5.0),
        rec("r", 1, "BOHBSampler", 1, 10.0),
        rec("r", 0, "optuna.RandomSampler", 2, 15.0),
        rec("r", 0, "BOHBSampler", 2, 30.0),
        rec("r", 1, "optuna.RandomSampler", 2, 7.5),
        rec("r", 1, "BOHBSampler", 2, 15.0),
    ]
    broken = rec("r", 2, "BOHBSampler", 2, 1.0)
    broken["exit_codes"] = [0, 1]
    text = summarise([*records, broken])
    assert "| BOHBSampler | 2.00x / - | 2.00x / - |" in text
    assert "| BOHBSampler | 15.0 [2] | 22.5 (1.50x) [2] |" in text
    assert "1 run(s) left out" in text
