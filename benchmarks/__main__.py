"""Command line: ``python -m benchmarks run|parallel|peers|throughput ...`` and ``report DIR``.

Examples:
    python -m benchmarks run --suite sf --seeds 10 --out benchmarks/results/latest
    python -m benchmarks run --suite mf --samplers random+hb,tpe+hb --seeds 10 --out DIR
    python -m benchmarks run --suite sf --smoke --out /tmp/smoke     # seconds, for CI
    python -m benchmarks throughput --workers 1,2,4,8 --seeds 3 --out DIR   # PostgreSQL, 20 min
    python -m benchmarks report benchmarks/results/latest
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import datetime
import importlib.metadata
from pathlib import Path
import shlex
import sys

from benchmarks.contenders import contenders
from benchmarks.contenders import DEFAULTS
from benchmarks.problems import Problem
from benchmarks.problems import problems
from benchmarks.report import write_report
from benchmarks.runner import run_tasks
from benchmarks.runner import Task

SUITES = ("sf", "mf", "pbt", "overhead")
_VERSIONED = (
    "optuna",
    "optuna-advanced",
    "numpy",
    "scikit-learn",
    "hyperopt",
    "smac",
    "ax-platform",
)


def suite_problems(suite: str) -> list[Problem]:
    if suite == "overhead":
        from benchmarks.overhead import problems as overhead_problems

        return overhead_problems()
    return problems(suite)


def _smoke(probs: list[Problem]) -> list[Problem]:
    """A tenth of every budget, and in ``sf``/``mf`` one problem per family.

    Budgets keep at least 15 trials (``sf``), five full-fidelity trials' worth (``mf``,
    ``pbt``) or 10 history trials (``overhead``), so model-based samplers leave their start-up
    phase.
    """
    seen: set[str] = set()
    out = []
    for p in probs:
        family = p.name.split("_")[0]
        if p.suite in ("sf", "mf"):
            if family in seen:
                continue
            seen.add(family)
        if p.suite == "overhead":
            floor = 10
        else:
            floor = 5 * p.max_fidelity if p.max_fidelity else 15
        out.append(replace(p, budget=max(floor, p.budget // 10)))
    return out


def _record_command(out: Path, argv: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    versions = []
    for dist in _VERSIONED:
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python -m benchmarks " + shlex.join(argv)
    with (out / "commands.txt").open("a") as f:
        f.write(f"{cmd}    # {stamp}; {' '.join(versions)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line (the tests check every documented command against it)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite (resumes into an existing DIR)")
    run.add_argument("--suite", choices=SUITES, required=True)
    run.add_argument("--samplers", help="comma-separated contenders (default: the suite's)")
    run.add_argument("--problems", help="comma-separated substrings of problem names")
    run.add_argument("--seeds", type=int, default=10)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--jobs", type=int, default=2, help="worker processes (one run each)")
    run.add_argument("--smoke", action="store_true", help="one problem per family, 10%% budget")
    run.add_argument("--no-progress", action="store_true")
    par = sub.add_parser("parallel", help="1 vs N worker processes on one JournalStorage")
    par.add_argument("--problem", default="mfh3_good")
    par.add_argument("--samplers", default="BOHBSampler+hb")
    par.add_argument("--workers", default="1,4")
    par.add_argument("--seeds", type=int, default=5)
    par.add_argument("--seconds-per-unit", type=float, default=0.01)
    par.add_argument("--budget", type=int, help="fidelity units (default: the problem's)")
    par.add_argument("--out", type=Path, required=True)
    bri = sub.add_parser("peers", help="time per ask: our samplers vs their native peer")
    bri.add_argument("--seeds", type=int, default=3)
    bri.add_argument("--hyperopt-trials", type=int, default=300, help="0 skips Hyperopt")
    bri.add_argument("--ax-trials", type=int, default=30, help="0 skips Ax")
    bri.add_argument("--smac-trials", type=int, default=300, help="0 skips SMAC")
    bri.add_argument("--window", type=int, default=20)
    bri.add_argument("--out", type=Path, required=True)
    thr = sub.add_parser(
        "throughput", help="trials/s per sampler, 1 to N workers on one PostgreSQL study"
    )
    thr.add_argument(
        "--samplers",
        help="comma-separated registry names (default: RandomSampler, TPESampler and the pack's)",
    )
    thr.add_argument("--workers", default="1,2,4,8")
    thr.add_argument("--seeds", type=int, default=3, help="repeats (sampler seeds differ)")
    thr.add_argument("--trials", type=int, default=60, help="trials per run, over all workers")
    thr.add_argument("--sleep", type=float, default=0.0, help="seconds of work per trial")
    thr.add_argument(
        "--postgres",
        default="127.0.0.1:5432",
        help="HOST:PORT, trust auth as user postgres; each run creates and drops a database",
    )
    thr.add_argument("--out", type=Path, required=True)
    axc = sub.add_parser("axcost", help="seconds per AxSampler ask by history size and dimension")
    axc.add_argument("--kinds", default="float,mixed", help="float and/or mixed spaces")
    axc.add_argument("--dims", default="2,5,10")
    axc.add_argument("--trials", default="10,25,50", help="history sizes")
    axc.add_argument("--repeats", type=int, default=3)
    axc.add_argument("--seed", type=int, default=0)
    axc.add_argument("--out", type=Path, required=True)
    pbc = sub.add_parser("pbtcost", help="PBT's own cost per member step by storage and size")
    pbc.add_argument("--storages", default="memory,journal,sqlite")
    pbc.add_argument("--segments", default="200,2000", help="study sizes, in segments")
    pbc.add_argument("--population", type=int, default=8)
    pbc.add_argument("--interval", type=int, default=4, help="steps per segment")
    pbc.add_argument("--seed", type=int, default=0)
    pbc.add_argument("--repeats", type=int, default=3)
    pbc.add_argument("--out", type=Path, required=True)
    report = sub.add_parser("report", help="write DIR/report.md and DIR/plots/")
    report.add_argument("dir", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.command == "report":
        path = write_report(args.dir)
        print(path.read_text())
        return 0

    if args.command == "peers":
        from benchmarks import peers

        _record_command(args.out, sys.argv[1:] if argv is None else argv)
        recs = peers.run(
            args.out,
            args.seeds,
            args.hyperopt_trials,
            args.ax_trials,
            args.smac_trials,
            args.window,
        )
        print(peers.summarise(recs))
        write_report(args.out)
        return 0

    if args.command == "axcost":
        from benchmarks import axcost

        _record_command(args.out, sys.argv[1:] if argv is None else argv)
        recs = axcost.run(
            args.out,
            args.kinds.split(","),
            [int(d) for d in args.dims.split(",")],
            [int(n) for n in args.trials.split(",")],
            args.seed,
            args.repeats,
        )
        print(axcost.summarise(recs))
        write_report(args.out)
        return 0

    if args.command == "pbtcost":
        from benchmarks import pbt_cost

        _record_command(args.out, sys.argv[1:] if argv is None else argv)
        recs = pbt_cost.run(
            args.out,
            args.storages.split(","),
            [int(n) for n in args.segments.split(",")],
            args.population,
            args.interval,
            args.seed,
            args.repeats,
        )
        print(pbt_cost.summarise(recs))
        write_report(args.out)
        return 0

    if args.command == "parallel":
        from benchmarks import parallel

        _record_command(args.out, sys.argv[1:] if argv is None else argv)
        records = [
            parallel.run_parallel(
                args.problem, name, seed, int(n), args.seconds_per_unit, args.budget
            )
            for name in args.samplers.split(",")
            for n in args.workers.split(",")
            for seed in range(args.seeds)
        ]
        parallel.write(records, args.out)
        print(parallel.summarise(records))
        write_report(args.out)
        return 0

    if args.command == "throughput":
        from benchmarks import throughput

        names = args.samplers.split(",") if args.samplers else list(throughput.DEFAULT_SAMPLERS)
        unknown = [n for n in names if n not in throughput.DEFAULT_SAMPLERS]
        if unknown:
            parser.error(f"unknown samplers {unknown}; known: {list(throughput.DEFAULT_SAMPLERS)}")
        host, _, port = args.postgres.rpartition(":")
        _record_command(args.out, sys.argv[1:] if argv is None else argv)
        records = throughput.run(
            args.out,
            names,
            [int(n) for n in args.workers.split(",")],
            args.seeds,
            args.trials,
            args.sleep,
            host,
            int(port),
        )
        print(throughput.summarise(records))
        write_report(args.out)
        return 0 if all(throughput.is_ok(r) for r in records) else 1

    known = contenders()
    names = args.samplers.split(",") if args.samplers else DEFAULTS[args.suite]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown contenders {unknown}; known: {sorted(known)}")
    probs = suite_problems(args.suite)
    if args.problems:
        wanted = args.problems.split(",")
        probs = [p for p in probs if any(w in p.name for w in wanted)]
    if args.smoke:
        probs = _smoke(probs)
    tasks = [
        Task(problem=p, contender=name, seed=seed, budget=p.budget)
        for p in probs
        for name in names
        if args.suite == "overhead" or known[name].applies_to(p)
        for seed in range(args.seeds)
    ]
    _record_command(args.out, sys.argv[1:] if argv is None else argv)
    n_failed = run_tasks(tasks, args.out, jobs=args.jobs, progress=not args.no_progress)
    write_report(args.out)
    print(f"{len(tasks)} runs in {args.out}; {n_failed} failed; report: {args.out / 'report.md'}")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
