"""The ``pbt`` suite's own tables: final values and training spent, and our PBT and PB2
against Ray Tune's run for run."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.stats import table


def pbt_details(recs: list[dict[str, Any]]) -> str:
    """Final values and training steps spent, per problem and contender (the ``pbt`` suite).

    A population has no fully trained member before its end, so PBT contenders score regret 1
    at 25% and 50% of the budget by construction; what matters is the end. ``spent`` is the
    training steps used, in units of one configuration trained to the end.
    """
    rows = []
    for p in sorted({r["problem"] for r in recs}):
        for c in sorted({r["contender"] for r in recs if r["problem"] == p}):
            best, spent = [], []
            for r in recs:
                if r["problem"] != p or r["contender"] != c or r.get("error"):
                    continue
                full = [t[2] for t in r["trials"] if t[3] == "C" and t[2] is not None]
                if full:
                    best.append(min(full))
                spent.append(sum(t[0] for t in r["trials"]) / r["max_fidelity"])
            if not best:
                continue
            values = np.array(best)
            error = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else math.nan
            cell = f"{values.mean():.4f} ± {error:.4f}"
            extra = "-"
            if p == "pbt_toy":  # regret 1.2 - Q: report Q and how often Q >= 1.19
                extra = f"Q = {1.2 - values.mean():.4f}, Q >= 1.19 in {np.sum(values <= 0.01)}"
                extra += f"/{len(values)}"
            rows.append([p, c, cell, extra, f"{np.mean(spent):.2f}", str(len(values))])
    return "\n".join(
        [
            "Best fully trained value at the end (mean ± standard error over seeds; lower is "
            "better), and training spent in units of one configuration trained to the end. "
            "PBT contenders have no fully trained member before the end, hence their regret "
            "of 1 at 25% and 50%. Ray Tune's runs are recorded from each trial's "
            "`metrics_dataframe`, which keeps only the reports since the trial's latest "
            "exploit: their `spent` and their regret before 100% undercount and mean nothing; "
            "their final values are complete (every trial's last report is kept).\n",
            table(rows, ["problem", "contender", "final value", "toy: Q", "spent", "seeds"]),
        ]
    )


def _final_values(recs: list[dict[str, Any]]) -> dict[tuple[str, str, int], float]:
    """Best fully trained true value of each (problem, contender, seed) run."""
    out = {}
    for r in recs:
        if r.get("error"):
            continue
        full = [t[2] for t in r["trials"] if t[3] == "C" and t[2] is not None]
        if full:
            out[(r["problem"], r["contender"], r["seed"])] = float(min(full))
    return out


def pbt_against_ray(recs: list[dict[str, Any]]) -> str:
    """Our PBT and PB2 against Ray Tune's, run for run (same problem, seed, starting population
    and population size), per problem.

    ``worse than no PBT`` counts the seeds on which a contender ended worse than ``pbt<P>-none``
    (the same starting members trained to the end with fixed hyperparameters, best one taken):
    the runs where exploit and explore hurt.
    """
    from scipy.stats import wilcoxon

    final = _final_values(recs)
    problems = sorted({p for p, _, _ in final})
    rows = []
    for p in problems:
        for size in (4, 8):
            none = {s: v for (pp, c, s), v in final.items() if pp == p and c == f"pbt{size}-none"}
            for ours, ray in (
                (f"pbt{size}", f"ray-pbt{size}"),
                (f"pb2-{size}", f"ray-pb2-{size}"),
                (f"pbt{size}", f"ray-pb2-{size}"),
            ):
                a = {s: v for (pp, c, s), v in final.items() if pp == p and c == ours}
                b = {s: v for (pp, c, s), v in final.items() if pp == p and c == ray}
                seeds = sorted(set(a) & set(b))
                if not seeds:
                    continue
                x = np.array([a[s] for s in seeds])
                y = np.array([b[s] for s in seeds])
                diff = x - y
                p_value = wilcoxon(x, y).pvalue if np.count_nonzero(diff) > 0 else 1.0

                def worse(values: dict[int, float]) -> str:
                    shared = [s for s in seeds if s in none]
                    if not shared:
                        return "-"
                    return f"{sum(values[s] > none[s] for s in shared)}/{len(shared)}"

                rows.append(
                    [
                        p,
                        f"{ours} vs {ray}",
                        f"{np.median(x):.4g}",
                        f"{np.median(y):.4g}",
                        f"{int((diff < 0).sum())}-{int((diff > 0).sum())}",
                        f"{p_value:.2g}",
                        worse(a),
                        worse(b),
                        str(len(seeds)),
                    ]
                )
    if not rows:
        return ""
    return "\n".join(
        [
            _against_ray_table(rows),
            "",
            "Wall time per member step on `pbt_toy` (whose training step costs microseconds, so "
            "this is each scheduler's own cost, start-up included; medians over seeds, in-memory "
            "study for ours, one process each):\n",
            _wall_per_step(recs),
        ]
    )


def _wall_per_step(recs: list[dict[str, Any]]) -> str:
    rows = []
    for c in sorted({r["contender"] for r in recs if r["problem"] == "pbt_toy"}):
        digits = "".join(ch for ch in c.split("-")[-1] if ch.isdigit())
        if not c.startswith(("pbt", "pb2", "ray-")) or not digits:
            continue
        walls = [
            r["wall_time"] / (int(digits) * r["max_fidelity"])
            for r in recs
            if r["problem"] == "pbt_toy" and r["contender"] == c and not r.get("error")
        ]
        if walls:
            rows.append([c, f"{1e3 * float(np.median(walls)):.2f} ms", str(len(walls))])
    return table(rows, ["contender", "wall time per member step", "runs"])


def _against_ray_table(rows: list[list[str]]) -> str:
    return "\n".join(
        [
            "### Against Ray Tune's PBT and PB2\n",
            "Same problem, seed, starting population, population size and steps; best fully "
            "trained value at the end (lower is better), medians over seeds; wins-losses of "
            "ours run for run; Wilcoxon signed-rank test on the pairs; seeds where the "
            "contender ended worse than the same population without exploit and explore "
            "(`pbt<P>-none`).\n",
            table(
                rows,
                [
                    "problem",
                    "ours vs Ray",
                    "ours (median)",
                    "Ray (median)",
                    "ours won-lost",
                    "Wilcoxon p",
                    "ours worse than no PBT",
                    "Ray worse than no PBT",
                    "seeds",
                ],
            ),
        ]
    )
