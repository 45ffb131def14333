"""Turn ``results.jsonl`` into Markdown tables and convergence plots.

The statistics (normalised regret, incumbents, ranks) are defined in ``benchmarks.stats``.
Ranks compare contenders on the same (problem, seed) at 100% of the budget.

A contender with fewer seeds than the others gets its own section instead of a row in the main
tables, and the runs of the others set those normalisers: its regret is below 0 where it beats
every other run's best.
"""

from __future__ import annotations

from collections import defaultdict
import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import axcost
from benchmarks import pbt_cost
from benchmarks import peers
from benchmarks import throughput
from benchmarks.parallel import summarise as summarise_parallel
from benchmarks.pbt_report import pbt_against_ray
from benchmarks.pbt_report import pbt_details
from benchmarks.runner import RESULTS_FILE
from benchmarks.stats import CHECKPOINTS
from benchmarks.stats import GRID
from benchmarks.stats import load
from benchmarks.stats import normalisers
from benchmarks.stats import ranks as rank_runs
from benchmarks.stats import read_jsonl
from benchmarks.stats import regrets
from benchmarks.stats import table


def _summary(at: dict[tuple[Any, ...], np.ndarray]) -> tuple[str, str]:
    """The overall table (sorted by final regret) and the per-problem table of ``at``."""
    contenders = sorted({c for _, c, _ in at})
    problems = sorted({p for p, _, _ in at})
    ranks = rank_runs({k: float(v[-1]) for k, v in at.items()})
    rows = []
    for c in contenders:
        mine = np.array([v for (p, cc, s), v in at.items() if cc == c])
        seeds = len({s for (p, cc, s) in at if cc == c})
        n_problems = len({p for (p, cc, s) in at if cc == c})
        rows.append(
            [c]
            + [f"{x:.3f}" for x in mine.mean(axis=0)]
            + [f"{np.mean(ranks[c]):.2f}" if ranks[c] else "-", str(seeds), str(n_problems)]
        )
    rows.sort(key=lambda r: float(r[3]))
    header = [
        "contender",
        "regret@25%",
        "regret@50%",
        "regret@100%",
        "mean rank",
        "seeds",
        "problems",
    ]
    per_problem = []
    for p in problems:
        cells = [p]
        for c in contenders:
            vals = [v[-1] for (pp, cc, s), v in at.items() if pp == p and cc == c]
            cells.append(f"{np.mean(vals):.3f}" if vals else "-")
        per_problem.append(cells)
    return table(rows, header), table(per_problem, ["problem"] + contenders)


def suite_report(records: list[dict[str, Any]], suite: str, plot_dir: Path | None) -> str:
    recs = [r for r in records if r["suite"] == suite]
    if suite == "overhead":
        return overhead_report(recs)
    good = [r for r in recs if r.get("error") is None and r.get("trials")]
    if not good:
        return f"## {suite}\n\nNo completed runs.\n"
    # A contender with fewer seeds than the others (a run still being accumulated) is kept out of
    # the main tables, whose means and ranks would otherwise mix different sets of runs, and is
    # compared in its own section with every contender on exactly its (problem, seed) pairs.
    # Nor does it move the normalisers of problems without a known optimum or reference: those
    # come from the other contenders' runs, so adding it leaves the main tables as they were.
    seeds: dict[str, set[int]] = defaultdict(set)
    for r in good:
        seeds[r["contender"]].add(r["seed"])
    most = max(len(s) for s in seeds.values())
    partial = sorted(c for c, s in seeds.items() if len(s) < most)
    norms = normalisers([r for r in good if r["contender"] not in partial])
    at = regrets(recs, CHECKPOINTS, norms)
    full = {k: v for k, v in at.items() if k[1] not in partial}
    overall, per_problem = _summary(full)
    out = [
        f"## Suite `{suite}`\n",
        overall,
        "",
        "Mean normalised regret at 100% of the budget, per problem:\n",
        per_problem,
        "",
    ]
    if suite == "sf":
        out += _by_family(full, focus="RandomForestSampler")
    if suite == "mf" and any(c == MF_FOCUS for _, c, _ in full):
        out += [
            f"`{MF_FOCUS}` run for run against each contender at 100% of the budget, on the "
            "problems and seeds both ran (Wilcoxon signed-rank test on the paired final "
            "regrets):\n",
            _paired(full, MF_FOCUS),
            "",
        ]
    for c in partial:
        pairs = {(p, s) for (p, cc, s) in at if cc == c}
        subset = {
            k: v
            for k, v in at.items()
            if (k[0], k[2]) in pairs and (k[1] == c or k[1] not in partial)
        }
        overall, per_problem = _summary(subset)
        out += [
            f"### `{c}` so far: {len(pairs)} runs (seed{'s' if len(seeds[c]) > 1 else ''} "
            f"{_seed_list(seeds[c])}), "
            "beside every contender on the same problems and seeds\n",
            overall,
            "",
            per_problem,
            "",
            f"`{c}` run for run against each contender at 100% of the budget (Wilcoxon "
            "signed-rank test on the paired final regrets):\n",
            _paired(subset, c),
            "",
        ]
    if suite == "pbt":
        out += [pbt_details(recs), "", pbt_against_ray(recs), ""]
    if plot_dir is not None:
        name = plot_suite(recs, suite, plot_dir, norms)
        out.append(f"![{suite} convergence](plots/{name})\n")
    return "\n".join(out)


# The recommended multi-fidelity pairing, compared run for run in ``mf``.
MF_FOCUS = "BOHBSampler+bohb"

# Families reported together as well as one by one (``sf``).
SF_GROUPS = {
    "bbob + hpolib + svc (the suite before issue 19)": ("bbob", "hpolib", "svc"),
    "mixed + cat + cond (structured spaces)": ("mixed", "cat", "cond"),
}


def _by_family(at: dict[tuple[Any, ...], np.ndarray], focus: str) -> list[str]:
    """Per family (a problem name's prefix): the contenders that ran every problem of it, and
    ``focus`` run for run against each of them."""
    out = ["### By family\n"]
    families = sorted({p.split("_")[0] for p, _, _ in at})
    groups = [(f"`{f}`", (f,)) for f in families] + [
        (name, members)
        for name, members in SF_GROUPS.items()
        if sum(f in families for f in members) > 1
    ]
    for label, members in groups:
        problems = {p for p, _, _ in at if p.split("_")[0] in members}
        runs = {p: {(c, s) for pp, c, s in at if pp == p} for p in problems}
        seeds = {p: {s for _, s in r} for p, r in runs.items()}
        complete = {
            c for _, c, _ in at if all({(c, s) for s in seeds[p]} <= runs[p] for p in problems)
        }
        subset = {k: v for k, v in at.items() if k[0] in problems and k[1] in complete}
        overall, _ = _summary(subset)
        out += [f"Family {label} ({len(problems)} problems):\n", overall, ""]
        if focus in complete and len(complete) > 1:
            out += [
                f"`{focus}` run for run in family {label} (Wilcoxon signed-rank test on the "
                "paired final regrets):\n",
                _paired(subset, focus),
                "",
            ]
    return out


def _paired(at: dict[tuple[Any, ...], np.ndarray], contender: str) -> str:
    """``contender`` against each other contender on their shared (problem, seed) pairs."""
    from scipy.stats import wilcoxon

    mine = {(p, s): v[-1] for (p, c, s), v in at.items() if c == contender}
    rows = []
    for other in sorted({c for _, c, _ in at} - {contender}):
        theirs = {(p, s): v[-1] for (p, c, s), v in at.items() if c == other and (p, s) in mine}
        keys = sorted(theirs)
        a = np.array([mine[k] for k in keys])
        b = np.array([theirs[k] for k in keys])
        diff = a - b
        p_value = wilcoxon(a, b).pvalue if np.any(diff != 0) else 1.0
        problems = sorted({p for p, _ in keys})
        lower_on = sum(
            np.mean([mine[k] for k in keys if k[0] == p])
            < np.mean([theirs[k] for k in keys if k[0] == p])
            for p in problems
        )
        rows.append(
            [
                other,
                str(len(keys)),
                str(int((diff < 0).sum())),
                str(int((diff > 0).sum())),
                f"{p_value:.2g}",
                f"{lower_on} of {len(problems)}",
            ]
        )
    return table(
        rows,
        [
            "against",
            "runs",
            f"{contender} lower",
            f"{contender} higher",
            "Wilcoxon p",
            "problems with a lower mean",
        ],
    )


def _seed_list(seeds: set[int]) -> str:
    ordered = sorted(seeds)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))


def overhead_report(recs: list[dict[str, Any]]) -> str:
    ok = [r for r in recs if r.get("error") is None and "seconds_per_ask" in r]
    if not ok:
        return "## Suite `overhead`\n\nNo completed runs.\n"
    sizes = sorted({r["budget"] for r in ok})
    contenders = sorted({r["contender"] for r in ok})
    med: dict[tuple[str, int], float] = {}
    mem: dict[tuple[str, int], float] = {}
    for c in contenders:
        for n in sizes:
            xs = [r for r in ok if r["contender"] == c and r["budget"] == n]
            if xs:
                med[(c, n)] = float(np.median([r["seconds_per_ask"] for r in xs]))
                mem[(c, n)] = float(np.max([r["peak_mib"] for r in xs]))
    rows = []
    for c in contenders:
        row = [c]
        for n in sizes:
            if (c, n) not in med:
                row.append("-")
                continue
            ratio = med[(c, n)] / med[("tpe", n)] if ("tpe", n) in med else math.nan
            row.append(f"{1e3 * med[(c, n)]:.1f} ms ({ratio:.2f}x TPE, {mem[(c, n)]:.1f} MiB)")
        rows.append(row)
    header = ["contender"] + [f"after {n} trials" for n in sizes]
    return "\n".join(
        [
            "## Suite `overhead`\n",
            "Median seconds per ask+tell (objective excluded), ratio to TPE in the same run, "
            "peak Python allocations:\n",
            table(rows, header),
            "",
        ]
    )


def plot_suite(
    recs: list[dict[str, Any]],
    suite: str,
    plot_dir: Path,
    norms: dict[str, tuple[float, float]] | None = None,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = regrets(recs, GRID, norms)
    problems = sorted({p for p, _, _ in curves})
    contenders = sorted({c for _, c, _ in curves})
    n_cols = min(4, len(problems))
    n_rows = math.ceil(len(problems) / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 3 * n_rows), squeeze=False)
    # Ten distinct colours, then black and darker tones for an eleventh contender onwards.
    palette: list[Any] = [plt.get_cmap("tab10")(i) for i in range(10)]
    palette += ["black", "#7f7f00", "#004c6d", "#6d004c"]
    seeds = {c: len({s for (_, cc, s) in curves if cc == c}) for c in contenders}
    most = max(seeds.values())
    for ax, problem in zip(axes.flat, problems):
        for i, c in enumerate(contenders):
            ys = np.array([v for (p, cc, s), v in curves.items() if p == problem and cc == c])
            if len(ys) == 0:
                continue
            ys = np.maximum(ys, 1e-6)
            q1, med, q3 = np.percentile(ys, [25, 50, 75], axis=0)
            # A contender with fewer seeds (still accumulating) is dashed and says how many.
            partial = seeds[c] < most
            label = f"{c} ({seeds[c]} seed{'s' if seeds[c] > 1 else ''})" if partial else c
            color = palette[i % len(palette)]
            ax.plot(GRID, med, label=label, color=color, linestyle="--" if partial else "-")
            ax.fill_between(GRID, q1, q3, color=color, alpha=0.15)
        ax.set_yscale("log")
        ax.set_title(problem, fontsize=9)
        ax.set_xlabel("fraction of budget", fontsize=8)
        ax.set_ylabel("normalised regret", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(problems) :]:
        ax.axis("off")
    legend: dict[str, Any] = {}  # every contender once, even one missing from a panel
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    labels = sorted(legend, key=lambda label: contenders.index(label.split(" (")[0]))
    handles = [legend[label] for label in labels]
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8)
    fig.suptitle(f"Suite {suite}: median and quartiles over seeds", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    plot_dir.mkdir(parents=True, exist_ok=True)
    name = f"{suite}.png"
    fig.savefig(plot_dir / name, dpi=90)
    plt.close(fig)
    return name


def write_report(out_dir: Path) -> Path:
    results = out_dir / RESULTS_FILE
    records = load(results) if results.exists() else []
    suites = [s for s in ("sf", "mf", "pbt", "overhead") if any(r["suite"] == s for r in records)]
    errors = [r for r in records if r.get("error") is not None]
    parts = ["# Benchmark report\n"]
    commands = out_dir / "commands.txt"
    if commands.exists():
        parts += ["Produced by:\n", "```", commands.read_text().strip(), "```\n"]
    parts += [suite_report(records, s, out_dir / "plots") for s in suites]
    parallel_path = out_dir / "parallel.jsonl"
    if parallel_path.exists():
        parts += [
            "## Parallel workers (JournalStorage, simulated training time)\n",
            summarise_parallel(read_jsonl(parallel_path)),
        ]
    peers_path = out_dir / "peers.jsonl"
    if peers_path.exists():
        parts += [
            "## Against native peers (time per suggestion, same run)\n",
            peers.summarise(read_jsonl(peers_path)),
        ]
    axcost_path = out_dir / axcost.AXCOST_FILE
    if axcost_path.exists():
        parts += [
            "## AxSampler: seconds per ask by history size and dimension\n",
            axcost.summarise(read_jsonl(axcost_path)),
        ]
    pbtcost_path = out_dir / pbt_cost.PBTCOST_FILE
    if pbtcost_path.exists():
        parts += [
            "## PopulationBasedTraining: its own cost per member step\n",
            pbt_cost.summarise(read_jsonl(pbtcost_path)),
        ]
    throughput_path = out_dir / "throughput.jsonl"
    if throughput_path.exists():
        parts += [
            "## Throughput on PostgreSQL (trials per second, 1 to 8 workers)\n",
            throughput.summarise(read_jsonl(throughput_path)),
        ]
    if errors:
        parts.append(f"{len(errors)} run(s) ended in an error and are left out.\n")
    report = out_dir / "report.md"
    report.write_text("\n".join(parts))
    return report
