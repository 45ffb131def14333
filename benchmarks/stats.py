"""Regret statistics shared by every report of the benchmark suite (no other benchmark import).

Normalised regret of a run after spending a fraction ``q`` of its budget:

    (true value of the incumbent - optimum) / (reference - optimum)

The incumbent is the complete trial (for ``mf``/``pbt``: trained to full fidelity) with the
best observed value among those finished within ``q * budget``; its noise-free true value is
what counts. ``optimum`` is the problem's known optimum, else the best true value any run of
the report found; ``reference`` is the problem's median over random configurations, else the
median of all runs' first complete trials. A run with no incumbent yet scores 1 ("no better
than typical"). Ranks compare contenders on the same (problem, seed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
import contextlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINTS = (0.25, 0.5, 1.0)
GRID = np.linspace(0.02, 1.0, 50)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON records of a file, one per line (a torn last line is skipped)."""
    records = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            if line.strip():
                records.append(json.loads(line))
    return records


def load(path: Path) -> list[dict[str, Any]]:
    """The run records of a ``results.jsonl``, one per (suite, problem, contender, seed)."""
    records = read_jsonl(path)
    # A resumed run may hold a failed attempt and a later success: keep the last good one.
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in records:
        key = (rec["suite"], rec["problem"], rec["contender"], rec["seed"])
        if rec.get("error") is None or key not in latest:
            latest[key] = rec
    return list(latest.values())


def incumbent_curve(record: dict[str, Any], fractions: Iterable[float]) -> list[float | None]:
    """True value of the incumbent after each budget fraction (``None``: no incumbent yet)."""
    budget = record["budget"]
    spent = 0.0
    best_observed = math.inf
    best_true: float | None = None
    events = []
    for cost, observed, true, state in record["trials"]:
        spent += cost
        if state == "C" and observed is not None and true is not None and observed < best_observed:
            best_observed, best_true = observed, true
        events.append((spent, best_true))
    out: list[float | None] = []
    for q in fractions:
        limit = q * budget + 1e-9
        current = None
        for spent_at, value in events:
            if spent_at > limit:
                break
            current = value
        out.append(current)
    return out


def normalisers(records: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        if rec.get("error") is None and rec.get("trials"):
            by_problem[rec["problem"]].append(rec)
    out = {}
    for problem, recs in by_problem.items():
        optimum = recs[0].get("optimum")
        if optimum is None:
            trues = [t[2] for r in recs for t in r["trials"] if t[2] is not None]
            optimum = min(trues) if trues else 0.0
        reference = recs[0].get("reference")
        if reference is None:
            firsts = [next((t[2] for t in r["trials"] if t[2] is not None), None) for r in recs]
            reference = float(np.median([f for f in firsts if f is not None]))
        if reference - optimum <= 0:
            reference = optimum + 1.0
        out[problem] = (float(optimum), float(reference))
    return out


def regrets(
    records: list[dict[str, Any]],
    fractions: Iterable[float],
    norms: dict[str, tuple[float, float]] | None = None,
) -> dict[tuple[Any, ...], np.ndarray]:
    """Normalised regret per (problem, contender, seed) at each fraction.

    ``norms`` (problem -> (optimum, reference)) defaults to the normalisers of ``records``.
    """
    norms = normalisers(records) if norms is None else norms
    out = {}
    for rec in records:
        if rec.get("error") is not None or not rec.get("trials"):
            continue
        optimum, reference = norms[rec["problem"]]
        curve = incumbent_curve(rec, fractions)
        out[(rec["problem"], rec["contender"], rec["seed"])] = np.array(
            [1.0 if v is None else (v - optimum) / (reference - optimum) for v in curve]
        )
    return out


def ranks(final: dict[tuple[Any, ...], float]) -> dict[str, list[float]]:
    from scipy.stats import rankdata

    groups: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for (problem, contender, seed), value in final.items():
        groups[(problem, seed)][contender] = value
    ranks: dict[str, list[float]] = defaultdict(list)
    for scores in groups.values():
        if len(scores) < 2:
            continue
        names = sorted(scores)
        for name, rank in zip(names, rankdata([scores[n] for n in names])):
            ranks[name].append(float(rank))
    return ranks


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
