"""Expected improvement on a log-cost model and SMAC's local-and-sorted-random-search maximiser.

No Optuna import: rows live in the shared encoding (numeric columns in [0, 1], categorical
columns hold choice codes); the caller passes the column layout and a ``snap`` function that maps
rows onto values the space can take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Snap = Callable[[np.ndarray], np.ndarray]


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


@dataclass(frozen=True)
class Layout:
    """Column layout: which columns are categorical and how many values each takes."""

    is_categorical: np.ndarray
    n_levels: np.ndarray


def one_exchange_neighbours(
    rows: np.ndarray,
    layout: Layout,
    rng: np.random.Generator,
    n_numeric: int = 4,
    stdev: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """ConfigSpace's one-exchange neighbourhood of every row, all at once.

    Each neighbour changes one active column: a numeric column gets ``n_numeric`` Gaussian
    moves of ``stdev`` in the unit cube (clipped; on a grid, a move that lands back on the same
    cell is replaced by the adjacent cell), a categorical column every other choice. Returns
    the neighbours and the index of the row each came from.
    """
    n, d = rows.shape
    blocks, owners = [], []
    for j in range(d):
        active = ~np.isnan(rows[:, j])
        if not active.any():
            continue
        base = rows[active]
        idx = np.flatnonzero(active)
        if layout.is_categorical[j]:
            k = int(layout.n_levels[j])
            if k < 2:
                continue
            shifts = np.arange(1, k)
            nb = np.repeat(base, k - 1, axis=0)
            nb[:, j] = (np.repeat(base[:, j], k - 1) + np.tile(shifts, len(base))) % k
            blocks.append(nb)
            owners.append(np.repeat(idx, k - 1))
        else:
            nb = np.repeat(base, n_numeric, axis=0)
            moves = rng.normal(0.0, stdev, size=len(nb))
            levels = int(layout.n_levels[j])
            if levels > 1:  # a grid: at least one cell away
                cell = 1.0 / levels
                moves = np.where(np.abs(moves) < cell, np.sign(moves + 1e-300) * cell, moves)
            nb[:, j] = np.clip(nb[:, j] + moves, 0.0, 1.0)
            blocks.append(nb)
            owners.append(np.repeat(idx, n_numeric))
    if not blocks:
        return np.empty((0, d)), np.empty(0, dtype=int)
    return np.vstack(blocks), np.concatenate(owners)


def local_search(
    starts: np.ndarray,
    acquisition: Callable[[np.ndarray], np.ndarray],
    layout: Layout,
    snap: Snap,
    rng: np.random.Generator,
    max_steps: int = 100,
    n_plateau_walks: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-exchange local search from every start at once (SMAC3's ``LocalSearch``).

    Each step moves every unfinished search to its best neighbour if that improves its
    acquisition value; a search whose best neighbour ties may walk the plateau for up to
    ``n_plateau_walks`` steps; a search stops when no neighbour is at least as good. Returns the
    end points and their acquisition values.
    """
    current = snap(starts)
    values = acquisition(current)
    running = np.ones(len(current), dtype=bool)
    plateau = np.zeros(len(current), dtype=int)
    for _ in range(max_steps):
        if not running.any():
            break
        ids = np.flatnonzero(running)
        neighbours, owner = one_exchange_neighbours(current[ids], layout, rng)
        if len(neighbours) == 0:
            break
        neighbours = snap(neighbours)
        scores = acquisition(neighbours)
        # Each search's best neighbour (the first one among equals): sort by search, then by
        # score descending, then by position, and take the head of each search's run.
        order = np.lexsort((np.arange(len(scores)), -scores, owner))
        heads = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        best_score = np.full(len(ids), -np.inf)
        best_row = np.zeros(len(ids), dtype=int)
        best_score[owner[heads]], best_row[owner[heads]] = scores[heads], heads
        for k, row_id in enumerate(ids):
            if best_score[k] > values[row_id]:
                current[row_id], values[row_id] = neighbours[best_row[k]], best_score[k]
                plateau[row_id] = 0
            elif best_score[k] == values[row_id] and plateau[row_id] < n_plateau_walks:
                current[row_id] = neighbours[best_row[k]]
                plateau[row_id] += 1
            else:
                running[row_id] = False
    return current, values


def maximise(
    acquisition: Callable[[np.ndarray], np.ndarray],
    evaluated: np.ndarray,
    random_rows: np.ndarray,
    layout: Layout,
    snap: Snap,
    rng: np.random.Generator,
    n_local_starts: int = 10,
) -> tuple[np.ndarray, float]:
    """SMAC3's ``LocalAndSortedRandomSearch``: the best of a sorted random sample and of local
    searches started from the best evaluated and the best random configurations.

    Args:
        acquisition: Higher is better; takes snapped rows.
        evaluated: Rows of the configurations already evaluated (inactive values NaN).
        random_rows: The random sample (SMAC: 10,000 configurations).
        n_local_starts: Local searches from the best evaluated rows, and as many from the best
            random rows.
    """
    random_rows = snap(random_rows)
    random_scores = acquisition(random_rows)
    top_random = random_rows[np.argsort(-random_scores, kind="stable")[:n_local_starts]]
    starts = [top_random]
    if len(evaluated):
        ev = snap(evaluated)
        top_evaluated = ev[np.argsort(-acquisition(ev), kind="stable")[:n_local_starts]]
        starts.insert(0, top_evaluated)
    local_rows, local_scores = local_search(np.vstack(starts), acquisition, layout, snap, rng)
    rows = np.vstack([local_rows, random_rows])
    scores = np.concatenate([local_scores, random_scores])
    # Prefer configurations not evaluated yet: an exact repeat teaches the model nothing.
    if len(evaluated):
        seen = {r.tobytes() for r in np.nan_to_num(snap(evaluated), nan=-7.0)}
        fresh = np.array([r.tobytes() not in seen for r in np.nan_to_num(rows, nan=-7.0)])
        if fresh.any():
            rows, scores = rows[fresh], scores[fresh]
    best = int(np.argmax(scores))
    return rows[best], float(scores[best])
