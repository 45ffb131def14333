"""Expected improvement on a log-cost model and SMAC's local-and-sorted-random-search maximiser.

No Optuna import: rows live in the shared encoding (numeric columns in [0, 1], categorical
columns hold choice codes); the caller passes the column layout and a ``snap`` function that maps
rows onto values the space can take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_INACTIVE = -7.0  # a NaN stand-in for row keys: outside every column's encoding

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Snap = Callable[[np.ndarray], np.ndarray]
#: Snaps single cells: ``(values, columns) -> values`` (``SearchSpace.snap_cells``).
SnapCells = Callable[[np.ndarray, np.ndarray], np.ndarray]


def expected_improvement(
    mean: np.ndarray, var: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """Plain EI of the modelled quantity: ``E[max(best - z, 0)]`` for ``z ~ N(mean, var)``.

    On the log-scaled model this is the expected improvement of the log cost, so a relative
    improvement counts the same at every cost level (SMAC3's ``EI(log=False)``).
    """
    from scipy.special import ndtr  # here, not at import: `import optuna_advanced` stays fast

    s = np.sqrt(var)
    u = (best - mean - xi) / s
    ei = s * (u * ndtr(u) + np.exp(-0.5 * u * u) / np.sqrt(2.0 * np.pi))
    return np.asarray(np.maximum(ei, 0.0))


def log_expected_improvement(
    mean: np.ndarray, var: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """EI of the cost ``exp(z)`` when the model predicts ``z ~ N(mean, var)`` (log space).

    SMAC3's ``EI(log=True)`` (Hutter, Hoos & Leyton-Brown, 2011, Sec. 4.3): with ``v = (best -
    mean - xi) / s``, ``EI = exp(best) * Phi(v) - exp(mean + s**2 / 2) * Phi(v - s)``, i.e.
    ``E[max(exp(best) - exp(z), 0)]``. ``best`` is the lowest log-scaled cost observed.
    """
    from scipy.special import ndtr

    s = np.sqrt(var)
    v = (best - mean - xi) / s
    ei = np.exp(best) * ndtr(v) - np.exp(0.5 * var + mean) * ndtr(v - s)
    return np.asarray(np.maximum(ei, 0.0))


def row_keys(rows: np.ndarray) -> set[bytes]:
    """Hashable keys of snapped rows (inactive columns compare equal to each other)."""
    return {r.tobytes() for r in np.nan_to_num(np.asarray(rows, dtype=float), nan=_INACTIVE)}


def key(row: np.ndarray) -> bytes:
    """The key of one snapped row, as :func:`row_keys` gives it."""
    return bytes(np.nan_to_num(np.asarray(row, dtype=float), nan=_INACTIVE).tobytes())


@dataclass(frozen=True)
class Layout:
    """Column layout: which columns are categorical and how many values each takes."""

    is_categorical: np.ndarray
    n_levels: np.ndarray
    #: Columns where every value in [0, 1] is a value of its own (continuous ranges): a move
    #: there needs no snapping. ``None``: snap every move.
    continuous: np.ndarray | None = None


def one_exchange_neighbours(
    rows: np.ndarray,
    layout: Layout,
    rng: np.random.Generator,
    n_numeric: int = 4,
    stdev: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ConfigSpace's one-exchange neighbourhood of every row, all at once.

    Each neighbour changes one active column: a numeric column gets ``n_numeric`` Gaussian
    moves of ``stdev`` in the unit cube (clipped; on a grid, a move that lands back on the same
    cell is replaced by the adjacent cell), a categorical column every other choice. Returns
    the neighbours, the index of the row each came from and the column each changed, ordered
    by column, then row, then move (the Gaussian moves are drawn in that order).
    """
    n, d = rows.shape
    levels = np.asarray(layout.n_levels, dtype=np.int64)
    # How many neighbours each (row, column) gives, and which column and row each one changes.
    per_cell = np.where(layout.is_categorical, np.maximum(levels - 1, 0), n_numeric)
    count = np.where(np.isnan(rows), 0, per_cell)
    column, owner = np.nonzero(count.T)  # column-major: column, then row
    repeats = count[owner, column]
    column, owner = np.repeat(column, repeats), np.repeat(owner, repeats)
    if len(owner) == 0:
        return np.empty((0, d)), np.empty(0, dtype=int), np.empty(0, dtype=int)
    # The neighbour's index within its (row, column) group: 0 .. repeats - 1.
    within = np.arange(len(owner)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    neighbours = rows[owner]
    moved = rows[owner, column]
    categorical = layout.is_categorical[column]
    k = levels[column]
    numeric = ~categorical
    moves = rng.normal(0.0, stdev, size=int(numeric.sum()))
    cell = 1.0 / np.maximum(k[numeric], 1)
    on_grid = k[numeric] > 1  # a grid: at least one cell away
    moves = np.where(on_grid & (np.abs(moves) < cell), np.sign(moves + 1e-300) * cell, moves)
    moved[numeric] = np.clip(moved[numeric] + moves, 0.0, 1.0)
    moved[categorical] = (moved[categorical] + within[categorical] + 1) % k[categorical]
    neighbours[np.arange(len(owner)), column] = moved
    return neighbours, owner, column


def local_search(
    starts: np.ndarray,
    acquisition: Callable[[np.ndarray], np.ndarray],
    layout: Layout,
    snap: Snap,
    rng: np.random.Generator,
    max_steps: int = 100,
    n_plateau_walks: int = 10,
    snap_cells: SnapCells | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-exchange local search from every start at once (SMAC3's ``LocalSearch``).

    Each step moves every unfinished search to its best neighbour if that improves its
    acquisition value; a search whose best neighbour ties may walk the plateau for up to
    ``n_plateau_walks`` steps; a search stops when no neighbour is at least as good. Returns the
    end points and their acquisition values. With ``snap_cells``, a neighbour is snapped by its
    one moved cell (the same rows, at a fraction of the cost).
    """
    current = snap(starts)
    values = acquisition(current)
    needs_snap = None if layout.continuous is None else ~layout.is_categorical & ~layout.continuous
    running = np.ones(len(current), dtype=bool)
    plateau = np.zeros(len(current), dtype=int)
    for _ in range(max_steps):
        if not running.any():
            break
        ids = np.flatnonzero(running)
        neighbours, owner, column = one_exchange_neighbours(current[ids], layout, rng)
        if len(neighbours) == 0:
            break
        # The rows are snapped already; only a move on a grid (or any column, without a
        # layout that says which are continuous) can leave the values the space takes.
        if needs_snap is None:
            neighbours = snap(neighbours)
        else:
            moved_off = np.flatnonzero(needs_snap[column])
            if len(moved_off) and snap_cells is not None:  # the one moved cell of each
                at = column[moved_off]
                neighbours[moved_off, at] = snap_cells(neighbours[moved_off, at], at)
            elif len(moved_off):
                neighbours[moved_off] = snap(neighbours[moved_off])
        scores = acquisition(neighbours)
        # Each search's best neighbour (the first one among equals): sort by search, then by
        # score descending, then by position, and take the head of each search's run.
        order = np.lexsort((np.arange(len(scores)), -scores, owner))
        heads = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        best_score = np.full(len(ids), -np.inf)
        best_row = np.zeros(len(ids), dtype=int)
        best_score[owner[heads]], best_row[owner[heads]] = scores[heads], heads
        better = best_score > values[ids]
        tie = ~better & (best_score == values[ids]) & (plateau[ids] < n_plateau_walks)
        move = better | tie
        current[ids[move]] = neighbours[best_row[move]]
        values[ids[better]] = best_score[better]
        plateau[ids[better]] = 0
        plateau[ids[tie]] += 1
        running[ids[~move]] = False
    return current, values


def maximise(
    acquisition: Callable[[np.ndarray], np.ndarray],
    evaluated: np.ndarray,
    random_rows: np.ndarray,
    layout: Layout,
    snap: Snap,
    rng: np.random.Generator,
    n_local_starts: int = 10,
    seen: set[bytes] | None = None,
    snap_cells: SnapCells | None = None,
) -> tuple[np.ndarray, float]:
    """SMAC3's ``LocalAndSortedRandomSearch``: the best of a sorted random sample and of local
    searches started from the best evaluated and the best random configurations.

    Args:
        acquisition: Higher is better; takes snapped rows.
        evaluated: Rows of the configurations already evaluated (inactive values NaN).
        random_rows: The random sample (SMAC: 10,000 configurations).
        n_local_starts: Local searches from the best evaluated rows, and as many from the best
            random rows.
        seen: :func:`row_keys` of the configurations not to propose again while another
            candidate is new; ``None``: those of ``evaluated``.
        snap_cells: See :func:`local_search`.
    """
    random_rows = snap(random_rows)
    random_scores = acquisition(random_rows)
    top_random = random_rows[np.argsort(-random_scores, kind="stable")[:n_local_starts]]
    starts = [top_random]
    ev = snap(evaluated) if len(evaluated) else evaluated
    if len(evaluated):
        top_evaluated = ev[np.argsort(-acquisition(ev), kind="stable")[:n_local_starts]]
        starts.insert(0, top_evaluated)
    local_rows, local_scores = local_search(
        np.vstack(starts), acquisition, layout, snap, rng, snap_cells=snap_cells
    )
    rows = np.vstack([local_rows, random_rows])
    scores = np.concatenate([local_scores, random_scores])
    order = np.argsort(-scores, kind="stable")  # the best first; among equals, the first
    # Prefer configurations not evaluated yet: an exact repeat teaches the model nothing.
    if seen is None:
        seen = row_keys(ev)
    for i in order:
        if key(rows[i]) not in seen:
            return rows[i], float(scores[i])
    return rows[order[0]], float(scores[order[0]])
