"""PBT's decision for a member whose segment just ended: continue, or exploit and explore.

A pure function of the population's standings (no storage, no Optuna objects), so it can be read
and tested on its own; the worker gathers the standings from storage and writes the decision
back as the member's next segment.

Jaderberg et al. (2017), Sec. 3: when a member is *ready*, *exploit* replaces it by a better
member (here truncation selection: a member in the bottom ``quantile_fraction`` copies one drawn
uniformly from the top ``quantile_fraction``), then *explore* changes the copied
hyperparameters (random perturbation, or PB2's bandit: the ``explore`` callable). On a plateau
(every member scores exactly the same with different hyperparameters, e.g. every learning rate
diverges) no member is better to copy: the members outside the top quantile explore from their
own hyperparameters, and the top quantile keeps its state (equal scores are not always bad
ones: a validation error counted on a few hundred examples ties often).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Standing:
    """A member's latest finished segment, as the scheduler sees it.

    Attributes:
        member: The member.
        segment: The segment's trial number.
        score: Its value, sign-flipped so that larger is better (a diverged member: ``-inf``).
        end_step: The global step it reached.
        params: Its hyperparameters.
    """

    member: int
    segment: int
    score: float
    end_step: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    """The member's next segment.

    Attributes:
        source: The segment it starts from: its checkpoint is restored and its hyperparameters
            are the starting point (the member's own last segment when it continues).
        exploited: ``source`` when the member exploited another one, else ``None``.
        params: The hyperparameters of the next segment.
        perturbation: How explore changed each one (``None`` when the member continues).
        start_step: Global step the next segment starts from (the source's end step).
        end_step: Global step it trains to.
    """

    source: int
    exploited: int | None
    params: dict[str, Any]
    perturbation: dict[str, str] | None
    start_step: int
    end_step: int


#: ``explore(params, source, rng) -> (new params, how each changed)``.
Explore = Callable[[Mapping[str, Any], Standing, np.random.Generator], tuple[dict[str, Any], Any]]


def ranked(standings: Mapping[int, Standing], tie_key: int = 0) -> list[int]:
    """The members, worst first, by their latest score (whatever step they are at, as in the
    paper's asynchronous setting and Ray Tune).

    Equal scores are ordered at random, by draws keyed by ``tie_key`` (the run's seed) and the
    standings' segments: every decision that sees the same standings, in any process, ranks the
    members the same, so in a round of decisions exactly the bottom quantile exploits. (Draws of
    each decision's own generator would send a random number of the tied: none in a third of
    the rounds of four members.) A fixed order would rank the same member best for ever on a
    plateau (every score equal, say 0 while every learning rate diverges): it would never be
    exploited, never explored, and be the source of most copies.
    """
    scores = {m: standings[m].score for m in standings}
    if len(set(scores.values())) == len(scores):
        return sorted(scores, key=lambda m: scores[m])
    key = [tie_key, *sorted(standings[m].segment for m in scores)]
    draws = dict(zip(sorted(scores), np.random.default_rng(key).random(len(scores))))
    return sorted(scores, key=lambda m: (scores[m], draws[m]))


def _quantile_size(n_members: int, quantile_fraction: float) -> int:
    return min(math.ceil(n_members * quantile_fraction), n_members // 2)


def exploit_source(
    member: int,
    standings: Mapping[int, Standing],
    quantile_fraction: float,
    n_steps: int,
    rng: np.random.Generator,
    tie_key: int = 0,
) -> Standing | None:
    """PBT's truncation selection: whom ``member`` should copy, or ``None`` to continue.

    A member in the bottom ``quantile_fraction`` of :func:`ranked` copies a member drawn
    uniformly (from ``rng``) from the top ``quantile_fraction`` (each quantile holds
    ``ceil(n * quantile_fraction)`` members, at most half of them). Members of the top quantile
    that have already finished training are not copied: the copy would end at once, untrained.
    When more members tie at the worst score than the bottom quantile holds, and some member is
    better, all of the tied exploit, copying only better members.
    """
    if member not in standings or len(standings) < 2:
        return None
    order = ranked(standings, tie_key)
    n_quantile = _quantile_size(len(order), quantile_fraction)
    if n_quantile == 0:
        return None
    scores = {m: standings[m].score for m in order}
    bottom, top = order[:n_quantile], order[-n_quantile:]
    worst = scores[order[0]]
    if scores[order[n_quantile]] == worst < scores[order[-1]]:
        # More members tie at the worst score than the bottom quantile holds (diverged runs
        # all reporting the worst value, say): all of them exploit, and copy only members
        # that are better. The tie-break would send a few and leave the rest diverged.
        bottom = [m for m in order if scores[m] == worst]
        top = [m for m in top if scores[m] > worst]
    if member not in bottom:
        return None
    top = [m for m in top if standings[m].end_step < n_steps]
    if not top:
        return None
    return standings[top[int(rng.integers(len(top)))]]


def on_plateau(standings: Mapping[int, Standing]) -> bool:
    """Whether the members stand on a plateau: at least two, all scoring exactly the same
    although their hyperparameters differ. (Members that share their hyperparameters and
    score the same have converged, e.g. copies of one member at the bounds of the space:
    they are not moved away by exploring all at once.)"""
    if len(standings) < 2 or len({s.score for s in standings.values()}) > 1:
        return False
    return len({tuple(sorted(s.params.items())) for s in standings.values()}) > 1


def next_segment(
    done: Standing,
    standings: Mapping[int, Standing],
    *,
    n_steps: int,
    interval: int,
    quantile_fraction: float,
    explore: Explore | None,
    rng: np.random.Generator,
    burn_in: int = 0,
    tie_key: int = 0,
) -> Decision:
    """The next segment of ``done.member``, whose segment ``done`` just ended.

    Args:
        done: The member's finished segment.
        standings: Every member's latest finished segment (``done`` included).
        n_steps: Global step every member trains to.
        interval: Steps per segment.
        quantile_fraction: Size of the bottom and top quantiles.
        explore: How exploited hyperparameters change; ``None`` turns exploit off (every
            member continues with its own hyperparameters).
        rng: Random generator of this decision (exploit draw first, explore after).
        burn_in: No exploit before a member has reached this step (Ray Tune's
            ``burn_in_period``): early scores often rank configurations wrongly.
        tie_key: Keys the order of equal scores (:func:`ranked`); the run's seed.
    """
    source = None
    if explore is not None and done.end_step >= burn_in:
        if on_plateau(standings):
            # Every member scores the same: no one is better to copy, and waiting for the one
            # member the tie-break puts at the bottom to explore leaves the plateau slowly.
            # Every member outside the top quantile explores from its own hyperparameters;
            # the top keeps its state, which may be as good as any (if every member explored
            # at once, one bad proposal could take the whole population off a good plateau).
            order = ranked(standings, tie_key)
            if done.member not in order[-_quantile_size(len(order), quantile_fraction) :]:
                params, how = explore(dict(done.params), done, rng)
                end = min(done.end_step + interval, n_steps)
                return Decision(done.segment, None, params, how, done.end_step, end)
        else:
            source = exploit_source(
                done.member, standings, quantile_fraction, n_steps, rng, tie_key
            )
    if explore is None or source is None:
        start = done.end_step
        end = min(start + interval, n_steps)
        return Decision(done.segment, None, dict(done.params), None, start, end)
    params, how = explore(dict(source.params), source, rng)
    start = source.end_step
    end = min(start + interval, n_steps)
    return Decision(source.segment, source.segment, params, how, start, end)
