"""`make demo`: a real tuning job on scikit-learn data, stored in an embedded SQLite study.

An ``SGDClassifier`` is trained epoch by epoch (``partial_fit``) on the digits data that
scikit-learn ships; each epoch's validation accuracy is reported to Optuna, Hyperband stops
poor configurations early, and BOHB (``optuna_advanced.BOHBSampler``) chooses what to try next
from per-budget models of good and bad configurations. The search space is conditional:
``l1_ratio`` exists only for the elastic-net penalty and ``eta0`` only for the schedules that
use it.

Beside it, on the same epoch budget, seed and Hyperband rungs, Optuna's own TPE with its
``HyperbandPruner`` tunes the same model, and the script prints both side by side. The studies
land in ``optuna_advanced_demo.db``; open them with the ``optuna-dashboard`` command the script
prints at the end.
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
BASELINE_STUDY_NAME = "optuna_advanced_demo_tpe_hyperband"


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


def run(
    storage: str,
    study_name: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    objective: Any,
    budget: int,
) -> tuple[optuna.Study, float]:
    """Tune until ``budget`` epochs are trained in all; returns the study and its wall time."""
    # A fresh study on every run, so the dashboard shows exactly this run.
    if study_name in optuna.get_all_study_names(storage=storage):
        optuna.delete_study(study_name=study_name, storage=storage)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
    )
    study.set_user_attr("optuna_advanced_version", optuna_advanced.__version__)
    study.set_user_attr("dataset", "sklearn.datasets.load_digits (30% validation split)")
    study.set_user_attr("epoch_budget", budget)

    def stop_at_budget(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if _epochs(study.trials) >= budget:
            study.stop()

    start = time.perf_counter()
    study.optimize(objective, callbacks=[stop_at_budget])
    return study, time.perf_counter() - start


def _epochs(trials: list[optuna.trial.FrozenTrial]) -> int:
    return sum(len(t.intermediate_values) for t in trials)


def _epochs_to_best(study: optuna.Study) -> int:
    """Epochs trained in all when the study's final best accuracy was first reached."""
    best = study.best_value
    spent = 0
    for t in study.trials:
        spent += len(t.intermediate_values)
        if t.value is not None and t.state == optuna.trial.TrialState.COMPLETE:
            if t.value >= best:
                return spent
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="sqlite:///optuna_advanced_demo.db")
    parser.add_argument(
        "--epochs", type=int, default=1200, help="training epochs each method may spend"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_data(args.seed)
    objective = make_objective(data, args.seed)
    # The same budget, seed and Hyperband rungs for both; only the sampler and the bracket
    # order differ (BOHBPruner fills the cheapest bracket first so BOHB's models start early).
    rungs = {"min_resource": 1, "max_resource": MAX_EPOCHS, "reduction_factor": 3}
    bohb, bohb_time = run(
        args.storage,
        STUDY_NAME,
        optuna_advanced.BOHBSampler(seed=args.seed),
        optuna_advanced.BOHBPruner(**rungs),
        objective,
        args.epochs,
    )
    baseline, baseline_time = run(
        args.storage,
        BASELINE_STUDY_NAME,
        optuna.samplers.TPESampler(seed=args.seed),
        optuna.pruners.HyperbandPruner(**rungs),
        objective,
        args.epochs,
    )
    figures = ""
    try:
        from optuna_advanced import dashboard

        dashboard.publish(bohb)
        figures = " (the BOHB study also shows how BOHB chose each trial)"
    except ImportError:  # the dashboard extra is not installed
        pass

    print(f"optuna_advanced {optuna_advanced.__version__} demo: SGDClassifier on load_digits")
    print(f"  each method may train {args.epochs} epochs in all; seed {args.seed}")
    rows = [
        ("", "BOHB + BOHBPruner", "TPE + HyperbandPruner"),
        ("trials", *(str(len(s.trials)) for s in (bohb, baseline))),
        (
            "complete / pruned",
            *(
                f"{sum(t.state.name == 'COMPLETE' for t in s.trials)} / "
                f"{sum(t.state.name == 'PRUNED' for t in s.trials)}"
                for s in (bohb, baseline)
            ),
        ),
        ("epochs trained", *(str(_epochs(s.trials)) for s in (bohb, baseline))),
        ("best validation accuracy", *(f"{s.best_value:.4f}" for s in (bohb, baseline))),
        ("epochs to reach it", *(str(_epochs_to_best(s)) for s in (bohb, baseline))),
        ("wall time", f"{bohb_time:.1f} s", f"{baseline_time:.1f} s"),
    ]
    for name, left, right in rows:
        print(f"  {name:26s}{left:>20s}{right:>24s}")
    sources = [t.user_attrs.get("bohb:source") for t in bohb.trials]
    print(
        "  BOHB's picks: "
        + ", ".join(f"{sources.count(s)} {s}" for s in ("model", "random", "startup"))
    )
    print("  best BOHB configuration:")
    for name, value in bohb.best_params.items():
        print(f"    {name} = {value!r}")
    print(f"Inspect both studies in optuna-dashboard{figures}:")
    print(f"  .venv/bin/optuna-dashboard {args.storage}")


if __name__ == "__main__":
    main()
