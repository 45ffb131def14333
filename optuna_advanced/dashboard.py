"""Study-level figures of how the pack chose each trial, for optuna-dashboard's study page.

optuna-dashboard shows one trial at a time; these figures show the whole study at once:

- every sampler of the pack (``oa-<namespace>-sources``): each trial's value by trial number,
  coloured by how it was chosen (``<namespace>:source``: startup, random, model, enqueued);
  for ``BOHBSampler`` a second panel shows which budget's model chose each model pick;
- ``RandomForestSampler`` (``oa-rf-predictions``): the forest's prediction for each model pick
  against the value observed, with the predicted standard deviation as error bars;
- ``PopulationBasedTraining`` (``oa-pbt-curves``, ``oa-pbt-lineage``): each member's score by
  global step, and the lineage graph (see :func:`optuna_advanced.pbt.lineage`).

:func:`publish` saves them into the study with ``optuna_dashboard.save_plotly_graph_object``
(ids as above, so publishing again replaces them); ``PopulationBasedTraining.optimize``
publishes its own figures when it ends. Needs the ``dashboard`` extra (plotly and
optuna-dashboard).

Example:
    >>> import optuna
    >>> import optuna_advanced
    >>> from optuna_advanced import dashboard
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna_advanced.BOHBSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=12)
    >>> dashboard.publish(study)
    ['oa-bohb-sources']
"""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._figures import graph_objects
from optuna_advanced._figures import save
from optuna_advanced.pbt._lineage import lineage_figures
from optuna_advanced.pbt._schema import ATTRS as PBT_ATTRS

__all__ = ["figures", "publish"]

NAMESPACES = ("bohb", "rf", "hyperopt", "ax")
SOURCES = ("startup", "random", "model", "enqueued")


def publish(study: optuna.Study) -> list[str]:
    """Save every figure :func:`figures` makes for ``study`` into it; returns their ids."""
    return save(study, figures(study))


def figures(study: optuna.Study) -> dict[str, Any]:
    """Graph id -> plotly figure, for each kind of trial the study holds (see the module)."""
    trials = study.get_trials(deepcopy=False)
    out: dict[str, Any] = {}
    if any(PBT_ATTRS.key("member") in t.user_attrs for t in trials):
        out.update(lineage_figures(study))
    for namespace in NAMESPACES:
        if any(f"{namespace}:source" in t.user_attrs for t in trials):
            out[f"oa-{namespace}-sources"] = _sources(study, trials, namespace)
    if any("rf:predicted_value" in t.user_attrs for t in trials):
        out["oa-rf-predictions"] = _forest_predictions(trials)
    return out


def _value(trial: FrozenTrial) -> float | None:
    """A trial's value: its final one, or for a pruned trial its last intermediate value."""
    if trial.state == TrialState.COMPLETE and trial.values is not None:
        return float(trial.values[0])
    if trial.state == TrialState.PRUNED and trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return None


def _sources(study: optuna.Study, trials: list[FrozenTrial], namespace: str) -> Any:
    go = graph_objects()
    from plotly.subplots import make_subplots

    bohb = namespace == "bohb"
    figure = make_subplots(
        rows=2 if bohb else 1,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.65, 0.35] if bohb else None,
        vertical_spacing=0.08,
    )
    key = f"{namespace}:source"
    for source in SOURCES:
        chosen = [t for t in trials if t.user_attrs.get(key) == source and _value(t) is not None]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[t.number for t in chosen],
                y=[_value(t) for t in chosen],
                mode="markers",
                name=source,
                marker={
                    "symbol": ["circle" if t.state == TrialState.COMPLETE else "x" for t in chosen]
                },
            ),
            row=1,
            col=1,
        )
    what = "value" if len(study.directions) == 1 else "objective 0"
    figure.update_yaxes(title_text=what, row=1, col=1)
    if bohb:
        picks = [t for t in trials if t.user_attrs.get("bohb:source") == "model"]
        figure.add_trace(
            go.Scatter(
                x=[t.number for t in picks],
                y=[str(t.user_attrs.get("bohb:model_budget")) for t in picks],
                mode="markers",
                name="model budget",
                marker={"color": "black", "size": 6},
            ),
            row=2,
            col=1,
        )
        figure.update_yaxes(title_text="model's budget", type="category", row=2, col=1)
    figure.update_xaxes(title_text="trial number", row=2 if bohb else 1, col=1)
    titles = {
        "bohb": "BOHB",
        "rf": "Random forest",
        "hyperopt": "Hyperopt",
        "ax": "Ax",
    }
    figure.update_layout(
        title=f"{titles[namespace]}: how each trial was chosen",
        legend={"orientation": "h", "y": -0.25},
        annotations=[
            {
                "text": "o complete, x pruned (its last value)",
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 1.02,
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"size": 10},
            }
        ],
    )
    return figure


def _forest_predictions(trials: list[FrozenTrial]) -> Any:
    go = graph_objects()
    picks = [
        t
        for t in trials
        if "rf:predicted_value" in t.user_attrs
        and t.state == TrialState.COMPLETE
        and t.values is not None
        and len(t.values) == 1
        and math.isfinite(t.values[0])
    ]
    predicted = [float(t.user_attrs["rf:predicted_value"]) for t in picks]
    observed = [float(t.values[0]) for t in picks if t.values is not None]
    std = [float(t.user_attrs.get("rf:predicted_std", 0.0)) for t in picks]
    figure = go.Figure(
        go.Scatter(
            x=predicted,
            y=observed,
            mode="markers",
            name="model picks",
            error_x={"type": "data", "array": std, "visible": True},
            text=[f"trial {t.number}" for t in picks],
        )
    )
    if predicted:
        low = min(predicted + observed)
        high = max(predicted + observed)
        figure.add_trace(
            go.Scatter(x=[low, high], y=[low, high], mode="lines", name="observed = predicted")
        )
    figure.update_layout(
        title="Random forest: predicted against observed (error bars: predicted std)",
        xaxis_title="predicted value",
        yaxis_title="observed value",
    )
    return figure
