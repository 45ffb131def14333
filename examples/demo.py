"""`make demo`: a real tuning job on scikit-learn data, stored in an embedded SQLite study.

An ``SGDClassifier`` is trained epoch by epoch (``partial_fit``) on the digits data that
scikit-learn ships; each epoch's validation accuracy is reported to Optuna, Hyperband stops
poor configurations early, and BOHB (``optuna_advanced.BOHBSampler``) chooses what to try next
from per-budget models of good and bad configurations. The search space is conditional:
``l1_ratio`` exists only for the elastic-net penalty and ``eta0`` only for the schedules that
use it.

The study lands in ``optuna_advanced_demo.db``; open it with the ``optuna-dashboard`` command the
script prints at the end.
"""

from __future__ import annotations

import argparse
import time
from typing import Any
import warnings

import numpy as np
import optuna
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import optuna_advanced

MAX_EPOCHS = 27
STUDY_NAME = "optuna_advanced_demo"


def load_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=0.3, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_valid), y_train, y_valid


def make_objective(data: tuple[np.ndarray, ...], seed: int) -> Any:
    x_train, x_valid, y_train, y_valid = data
    classes = np.unique(y_train)

    def objective(trial: optuna.Trial) -> float:
        loss = trial.suggest_categorical("loss", ["hinge", "log_loss", "modified_huber"])
        penalty = trial.suggest_categorical("penalty", ["l2", "l1", "elasticnet"])
        params: dict[str, Any] = {
            "loss": loss,
            "penalty": penalty,
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        }
        if penalty == "elasticnet":
            params["l1_ratio"] = trial.suggest_float("l1_ratio", 0.0, 1.0)
        schedule = trial.suggest_categorical(
            "learning_rate", ["optimal", "invscaling", "adaptive"]
        )
        params["learning_rate"] = schedule
        if schedule != "optimal":
            params["eta0"] = trial.suggest_float("eta0", 1e-4, 1.0, log=True)
        model = SGDClassifier(**params, random_state=seed)
        accuracy = 0.0
        for epoch in range(1, MAX_EPOCHS + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.partial_fit(x_train, y_train, classes=classes)
            accuracy = float(model.score(x_valid, y_valid))
            trial.report(accuracy, epoch)
            # The last epoch is also a rung; pruning there would only relabel a fully trained
            # trial, so it is not asked.
            if epoch < MAX_EPOCHS and trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    return objective


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="sqlite:///optuna_advanced_demo.db")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # A fresh study on every run, so the dashboard shows exactly this run.
    if STUDY_NAME in optuna.get_all_study_names(storage=args.storage):
        optuna.delete_study(study_name=STUDY_NAME, storage=args.storage)
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        direction="maximize",
        sampler=optuna_advanced.BOHBSampler(seed=args.seed),
        # Hyperband's rungs, brackets filled cheapest first so BOHB's models start early.
        pruner=optuna_advanced.BOHBPruner(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3
        ),
    )
    study.set_user_attr("optuna_advanced_version", optuna_advanced.__version__)
    study.set_user_attr("dataset", "sklearn.datasets.load_digits (30% validation split)")

    start = time.perf_counter()
    study.optimize(make_objective(load_data(args.seed), args.seed), n_trials=args.n_trials)
    elapsed = time.perf_counter() - start

    states = [t.state for t in study.trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    epochs = sum(len(t.intermediate_values) for t in study.trials)
    print(f"optuna_advanced {optuna_advanced.__version__} demo: SGDClassifier on load_digits")
    print(f"  trials: {len(states)} ({complete} complete, {pruned} pruned by Hyperband)")
    sources = [t.user_attrs.get("bohb:source") for t in study.trials]
    print(
        "  BOHB picks: "
        + ", ".join(f"{sources.count(s)} {s}" for s in ("model", "random", "startup"))
    )
    print(f"  epochs trained: {epochs} of {len(states) * MAX_EPOCHS} without pruning")
    print(f"  best validation accuracy: {study.best_value:.4f} (trial {study.best_trial.number})")
    for name, value in study.best_params.items():
        print(f"    {name} = {value!r}")
    print(f"  wall time: {elapsed:.1f} s")
    print("Inspect the study (params, learning curves, pruning) in optuna-dashboard:")
    print(f"  .venv/bin/optuna-dashboard {args.storage}")


if __name__ == "__main__":
    main()
