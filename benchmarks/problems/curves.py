"""A tabular multi-fidelity problem: learning curves of real models, computed once and stored.

``tab_sgd_digits``: scikit-learn's ``SGDClassifier`` trained with ``partial_fit``, one epoch per
step for 40 epochs, on the digits split (``benchmarks.problems.base.digits_split``); the value
is the validation error after each epoch. The grid (:data:`GRID`, 420 configurations) is the
search space: three categorical parameters, and ``log10_alpha`` and ``log10_eta0`` as float
ranges with ``step=1`` (a value off the grid, e.g. from a native tool that ignores the step, is
snapped to the nearest grid point). The optimum is the best tabulated final error and the
reference the median over the grid.

The table (``data/tab_sgd_digits.npz``) holds the number of misclassified validation samples
per configuration and epoch, as a ``uint16`` array shaped like the grid plus the epochs; it is
written by ``python -m benchmarks.tabulate_curves`` (see that module for the exact command).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution

from benchmarks.problems.base import suggest_all

DATA_DIR = Path(__file__).resolve().parent / "data"
TABLE_PATH = DATA_DIR / "tab_sgd_digits.npz"
N_EPOCHS = 40

#: Every axis of the grid, in the table's order; numeric axes are exponents of ten.
GRID: dict[str, tuple[Any, ...]] = {
    "loss": ("hinge", "log_loss", "modified_huber"),
    "learning_rate": ("constant", "invscaling"),
    "average": ("off", "on"),
    "log10_alpha": (-7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0),
    "log10_eta0": (-4.0, -3.0, -2.0, -1.0, 0.0),
}


def grid_space() -> dict[str, BaseDistribution]:
    """The Optuna space whose values are exactly the grid's."""
    space: dict[str, BaseDistribution] = {}
    for name, values in GRID.items():
        if isinstance(values[0], str):
            space[name] = CategoricalDistribution(list(values))
        else:
            space[name] = FloatDistribution(min(values), max(values), step=1.0)
    return space


def grid_index(params: dict[str, Any]) -> tuple[int, ...]:
    """The table index of a configuration (numeric values snapped to the nearest grid point)."""
    index = []
    for name, values in GRID.items():
        value = params[name]
        if isinstance(values[0], str):
            index.append(values.index(value))
        else:
            index.append(int(np.argmin(np.abs(np.asarray(values) - float(value)))))
    return tuple(index)


@lru_cache(maxsize=2)
def load_table(path: Path = TABLE_PATH) -> np.ndarray:
    """Validation error per grid point and epoch, shaped ``(*grid sizes, epochs)``.

    Checks that the stored axes are :data:`GRID`'s, in the same order.
    """
    with np.load(path, allow_pickle=False) as data:
        for name, values in GRID.items():
            stored = data[f"axis_{name}"].tolist()
            if stored != list(values):
                raise ValueError(f"{path}: axis {name} is {stored}, expected {list(values)}")
        errors = np.asarray(data["errors"], dtype=float) / int(data["n_valid"])
    expected = (*(len(v) for v in GRID.values()), N_EPOCHS)
    if errors.shape != expected:
        raise ValueError(f"{path}: table shaped {errors.shape}, expected {expected}")
    return errors


class TabularSGDDigits:
    """Looks up the tabulated curve of the suggested grid point (noise-free, instantaneous)."""

    max_fidelity = N_EPOCHS

    def __init__(self, seed: int) -> None:
        self._table = load_table()
        self.space = grid_space()
        finals = self._table[..., -1]
        self.optimum = float(finals.min())
        self.reference = float(np.median(finals))

    def curve(self, params: dict[str, Any]) -> np.ndarray:
        return np.asarray(self._table[grid_index(params)])

    def __call__(self, trial: optuna.Trial) -> float:
        curve = self.curve(suggest_all(trial, self.space))
        value = float("nan")
        for epoch in range(1, self.max_fidelity + 1):
            value = float(curve[epoch - 1])
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value
