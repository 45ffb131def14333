"""The population's lineage as a table, and a plot of it (matplotlib, optional)."""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.trial import TrialState

from optuna_advanced._optional import import_optional
from optuna_advanced.pbt._schema import SegmentAttrs


def lineage(study: optuna.Study) -> list[dict[str, Any]]:
    """One row per segment that counts (duplicates left out), in trial order.

    Each row holds ``number``, ``state``, ``member``, ``generation``, ``start_step``,
    ``end_step``, ``value``, ``params``, ``parent`` (the member's previous segment),
    ``exploited`` (the segment it copied, if any) and ``perturbation``; it reads only user
    attributes, so it works on any study written by :class:`PopulationBasedTraining`, with or
    without the worker objects.
    """
    rows = []
    for trial in study.get_trials(deepcopy=False):
        info = SegmentAttrs.read(trial.user_attrs)
        if info is None:
            continue
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "member": info.member,
                "generation": info.generation,
                "start_step": info.start_step,
                "end_step": info.end_step,
                "value": trial.value if trial.state == TrialState.COMPLETE else None,
                "params": dict(trial.params),
                "parent": info.parent,
                "exploited": info.exploited,
                "perturbation": info.perturbation,
            }
        )
    return rows


def plot_lineage(study: optuna.Study, *, ax: Any = None, annotate: bool = False) -> Any:
    """Draw every member's score over global steps, with exploit edges.

    Each member is one colour; a solid line follows its segments' intermediate values. At an
    exploit, a dashed grey arrow jumps from where the member was to the end of the segment it
    copied, where a dot marks the exploit and the member's line continues. Needs matplotlib
    (``pip install 'optuna-advanced[plot]'``).

    Args:
        study: A study trained by :class:`PopulationBasedTraining`.
        ax: A matplotlib ``Axes`` to draw on (a new figure when ``None``).
        annotate: Write each exploit's perturbation next to its dot.

    Returns:
        The matplotlib ``Axes``.
    """
    plt = import_optional("matplotlib.pyplot", needed_by="plot_lineage", extra="plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    rows = lineage(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    members = sorted({row["member"] for row in rows})
    colours = plt.get_cmap("tab10" if len(members) <= 10 else "tab20")
    by_number = {row["number"]: row for row in rows}
    for row in sorted(rows, key=lambda r: (r["member"], r["generation"])):
        colour = colours(members.index(row["member"]) % colours.N)
        curve = sorted(trials[row["number"]].intermediate_values.items())
        source = by_number.get(row["exploited"]) if row["exploited"] is not None else None
        start = _end_point(trials, by_number.get(row["exploited"] or row["parent"] or -1))
        if start is not None and curve:
            curve = [start, *curve]
        if curve:
            steps, values = zip(*curve)
            label = f"member {row['member']}" if row["generation"] == 0 else None
            ax.plot(steps, values, color=colour, lw=1.2, label=label)
        if source is not None and start is not None:
            # The jump: from where the member was to the copied member's checkpoint.
            before = _end_point(trials, by_number.get(row["parent"]))
            if before is not None:
                ax.annotate(
                    "",
                    xy=start,
                    xytext=before,
                    arrowprops={"arrowstyle": "->", "color": "0.5", "ls": "--", "lw": 0.8},
                )
            ax.plot(*start, "o", color=colour, ms=4)
            if annotate and row["perturbation"]:
                text = ", ".join(f"{k}{v}" for k, v in row["perturbation"].items())
                ax.annotate(text, start, fontsize=6, color=colour)
    direction = study.direction.name.lower()
    ax.set_xlabel("global step")
    ax.set_ylabel(f"score ({direction})")
    ax.set_title(f"PBT lineage: {len(members)} members, {len(rows)} segments")
    if members:
        ax.legend(fontsize=7, ncol=2)
    return ax


def _end_point(trials: dict[int, Any], row: dict[str, Any] | None) -> tuple[int, float] | None:
    if row is None:
        return None
    values = trials[row["number"]].intermediate_values
    if not values:
        return None
    step = max(values)
    return step, values[step]


def lineage_figures(study: optuna.Study) -> dict[str, Any]:
    """Two plotly figures of a population, by graph id (for optuna-dashboard's study page).

    - ``oa-pbt-curves``: every member's score over global steps, one line per member through
      its segments' intermediate values; a dashed grey segment marks each exploit (from where
      the member was to the end of the segment it copied).
    - ``oa-pbt-lineage``: the lineage graph, one node per segment at (end step, member),
      solid edges from a segment to its successor, dashed ones from an exploited segment to the
      member that copied it; hovering a node shows its hyperparameters and perturbation.
    """
    from optuna_advanced._figures import graph_objects

    go = graph_objects()
    rows = lineage(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    by_number = {row["number"]: row for row in rows}
    members = sorted({row["member"] for row in rows})
    direction = study.direction.name.lower()

    curves = go.Figure()
    for member in members:
        chain = sorted((r for r in rows if r["member"] == member), key=lambda r: r["generation"])
        steps: list[float | None] = []
        values: list[float | None] = []
        for row in chain:
            points = sorted(trials[row["number"]].intermediate_values.items())
            if row["exploited"] is not None:
                steps.append(None)  # a break in the member's line at an exploit
                values.append(None)
            steps += [s for s, _ in points]
            values += [v for _, v in points]
        curves.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=f"member {member}"))
    jump_x: list[float | None] = []
    jump_y: list[float | None] = []
    for row in rows:
        if row["exploited"] is None:
            continue
        before = _end_point(trials, by_number.get(row["parent"]))
        after = _end_point(trials, by_number.get(row["exploited"]))
        if before is not None and after is not None:
            jump_x += [before[0], after[0], None]
            jump_y += [before[1], after[1], None]
    curves.add_trace(
        go.Scatter(
            x=jump_x,
            y=jump_y,
            mode="lines",
            name="exploit",
            line={"dash": "dash", "color": "grey", "width": 1},
        )
    )
    curves.update_layout(
        title=f"PBT: score of each member by step ({direction})",
        xaxis_title="global step",
        yaxis_title="score",
    )

    lineage_graph = go.Figure()
    for kind, dash in (("parent", "solid"), ("exploited", "dash")):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for row in rows:
            source = by_number.get(row[kind]) if row[kind] is not None else None
            if source is None:
                continue
            xs += [source["end_step"], row["end_step"], None]
            ys += [source["member"], row["member"], None]
        lineage_graph.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="continues" if kind == "parent" else "copies (exploit)",
                line={"dash": dash, "width": 1},
            )
        )
    lineage_graph.add_trace(
        go.Scatter(
            x=[row["end_step"] for row in rows],
            y=[row["member"] for row in rows],
            mode="markers",
            name="segment",
            marker={
                "color": [math.nan if r["value"] is None else r["value"] for r in rows],
                "colorscale": "Viridis",
            },
            text=[
                f"trial {r['number']}: {r['params']}"
                + (f"<br>perturbation {r['perturbation']}" if r["perturbation"] else "")
                for r in rows
            ],
            hoverinfo="text",
        )
    )
    lineage_graph.update_layout(
        title="PBT lineage: segments by member and step",
        xaxis_title="global step (end of segment)",
        yaxis_title="member",
    )
    return {"oa-pbt-curves": curves, "oa-pbt-lineage": lineage_graph}
