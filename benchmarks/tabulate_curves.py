"""Tabulate the learning curves of ``tab_sgd_digits`` (``benchmarks.problems.curves``).

Trains scikit-learn's ``SGDClassifier`` at every point of ``curves.GRID`` (420 configurations)
with ``partial_fit``, one epoch at a time for 40 epochs, on the fixed digits split, and stores
the number of misclassified validation samples after each epoch. A step that overflows (a
diverging rate) ends the curve at the error of predicting the most frequent class. Every
model is seeded (``random_state=0``), so the table is reproducible for a given scikit-learn.

The table in the repository was written, in about two minutes of CPU (run under ``nice -n 10``
beside a benchmark), from the repository's root by::

    python -m benchmarks.tabulate_curves --out benchmarks/problems/data/tab_sgd_digits.npz
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
import time
from typing import Any
import warnings

import numpy as np

from benchmarks.problems.base import digits_split
from benchmarks.problems.curves import GRID
from benchmarks.problems.curves import N_EPOCHS
from benchmarks.problems.curves import TABLE_PATH


def train_curve(config: dict[str, Any], n_epochs: int) -> np.ndarray:
    """Misclassified validation samples after each of ``n_epochs`` epochs."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    x_train, x_valid, y_train, y_valid = digits_split()
    chance = len(y_valid) - int(np.bincount(y_valid).max())
    model = SGDClassifier(
        loss=str(config["loss"]),
        alpha=10.0 ** float(config["log10_alpha"]),
        learning_rate=str(config["learning_rate"]),
        eta0=10.0 ** float(config["log10_eta0"]),
        average=config["average"] == "on",
        random_state=0,
    )
    errors = np.full(n_epochs, chance, dtype=np.uint16)
    for epoch in range(n_epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                model.partial_fit(x_train, y_train, classes=np.arange(10))
                predicted = model.predict(x_valid)
            except ValueError:  # "Floating-point under-/overflow": diverged
                break
        errors[epoch] = int(np.sum(predicted != y_valid))
    return errors


def tabulate(n_epochs: int = N_EPOCHS) -> dict[str, np.ndarray]:
    import sklearn

    names = list(GRID)
    shape = tuple(len(v) for v in GRID.values())
    errors = np.zeros((*shape, n_epochs), dtype=np.uint16)
    for index in itertools.product(*(range(n) for n in shape)):
        config = {name: GRID[name][i] for name, i in zip(names, index)}
        errors[index] = train_curve(config, n_epochs)
    n_valid = len(digits_split()[3])
    meta = {"model": "SGDClassifier", "data": "digits_split", "sklearn": sklearn.__version__}
    out = {"errors": errors, "n_valid": np.array(n_valid), "meta": np.array(json.dumps(meta))}
    for name, values in GRID.items():
        out[f"axis_{name}"] = np.array(values)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tabulate_curves")
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    parser.add_argument("--epochs", type=int, default=N_EPOCHS)
    args = parser.parse_args(argv)
    start, cpu = time.perf_counter(), time.process_time()
    table = tabulate(args.epochs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **table)  # type: ignore[arg-type]
    print(
        f"{table['errors'].shape} -> {args.out} ({args.out.stat().st_size} bytes) in "
        f"{time.perf_counter() - start:.0f} s ({time.process_time() - cpu:.0f} s CPU)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
