"""Saving study-level figures into a study for optuna-dashboard (plotly, optuna-dashboard: the
``dashboard`` extra, imported only here and only when a figure is saved)."""

from __future__ import annotations

from collections.abc import Mapping
import importlib.util
from types import ModuleType
from typing import Any

import optuna

from optuna_advanced._optional import import_optional

__all__ = ["available", "graph_objects", "save"]


def available() -> bool:
    """Whether plotly and optuna-dashboard are installed (figures can be saved)."""
    return all(importlib.util.find_spec(m) is not None for m in ("plotly", "optuna_dashboard"))


def graph_objects() -> ModuleType:
    """``plotly.graph_objects``, or an ImportError naming the extra."""
    return import_optional(
        "plotly.graph_objects", needed_by="optuna_advanced.dashboard", extra="dashboard"
    )


def save(study: optuna.Study, figures: Mapping[str, Any]) -> list[str]:
    """Save each ``id -> figure`` into ``study`` (an existing id is overwritten); returns the ids.

    optuna-dashboard shows them on the study's page, under "Plots"/custom figures.
    """
    dashboard = import_optional(
        "optuna_dashboard", needed_by="optuna_advanced.dashboard", extra="dashboard"
    )
    for graph_id, figure in figures.items():
        dashboard.save_plotly_graph_object(study, figure, graph_object_id=graph_id)
    return list(figures)
