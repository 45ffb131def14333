"""Benchmark problems by suite: ``sf`` (single fidelity), ``mf`` (multi-fidelity), ``pbt``."""

from __future__ import annotations

from benchmarks.problems import mf
from benchmarks.problems import pbt
from benchmarks.problems import sf
from benchmarks.problems import sf_structured
from benchmarks.problems.base import Problem
from benchmarks.problems.base import TRUE_VALUE_ATTR

__all__ = ["Problem", "TRUE_VALUE_ATTR", "problems"]


def problems(suite: str) -> list[Problem]:
    """Every problem of ``suite``."""
    by_suite = {
        "sf": lambda: sf.problems() + sf_structured.problems(),
        "mf": mf.problems,
        "pbt": pbt.problems,
    }
    if suite not in by_suite:
        raise ValueError(f"Unknown suite {suite!r}; choose from {sorted(by_suite)}.")
    return by_suite[suite]()
