"""Never propose a configuration twice while an unseen one exists.

A repeat teaches the forest nothing (a deterministic objective gives the same value), so every
path of the sampler (Sobol start-up, random interleaving, the model's pick) ends here: a row
whose snapped parameters match a trial already in the study (finished or running) is replaced
by an unseen one: a uniform draw, or, when draws keep landing on seen configurations (a small
finite space nearly exhausted), a uniform pick among every configuration not yet seen.

Rows are compared after :meth:`SearchSpace.snap`, which maps every row to the one row of the
values it decodes to, and keyed by ``acquisition.row_keys`` (inactive columns compare equal).
"""

from __future__ import annotations

import math

import numpy as np

from optuna_advanced._space import nearest_value
from optuna_advanced._space import SearchSpace
from optuna_advanced.samplers._forest.acquisition import key

_DRAWS = 64  # uniform draws tried before enumerating
_ENUMERATION_LIMIT = 65_536  # finite spaces up to this size are enumerated when draws fail


def fresh_row(
    space: SearchSpace, row: np.ndarray, seen: set[bytes], rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """``row`` snapped if it is unseen, else an unseen row; and whether ``row`` was replaced.

    Returns ``row`` itself when the space holds nothing unseen.
    """
    snapped = space.snap(row[None, :])[0]
    if key(snapped) not in seen:
        return snapped, False
    draws = space.snap(space.sample_uniform(rng, _DRAWS))
    for candidate in draws:
        if key(candidate) not in seen:
            return candidate, True
    unseen = _unseen_configurations(space, seen)
    if unseen is not None and len(unseen):
        return unseen[rng.integers(len(unseen))], True
    return snapped, False


def _unseen_configurations(space: SearchSpace, seen: set[bytes]) -> np.ndarray | None:
    """Every configuration of a finite space not in ``seen`` (``None``: not finite or too big)."""
    discrete = space.is_categorical | (space.n_levels > 0) | space.is_single
    if not discrete.all():
        return None
    sizes = [int(n) if n > 0 else 1 for n in space.n_levels]
    if math.prod(sizes) > _ENUMERATION_LIMIT:
        return None
    # Each column's codes: choice indices, or the encodings of the grid's values.
    axes = []
    for j, (name, dist) in enumerate(space.distributions.items()):
        if space.is_categorical[j]:
            axes.append(np.arange(sizes[j], dtype=float))
        else:
            low, step = getattr(dist, "low", 0), getattr(dist, "step", None) or 0
            values = [nearest_value(dist, low + k * step) for k in range(sizes[j])]
            axes.append(space.encode_many([{name: v} for v in values])[:, j])
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(space))
    grid = space.snap(grid)
    mask = np.array([key(r) not in seen for r in grid], dtype=bool)
    unseen: np.ndarray = grid[mask]
    return unseen
