"""The population as stored: every member's chain of segments, read from a study's trials.

Nothing here is kept between calls: each worker rebuilds this view from storage, so any number
of processes on any machine agree on it. A *segment* is one Optuna trial that trains one member
from ``start_step`` to ``end_step``; its user attributes (``pbt:*``) say which member and
generation it is, which trial it continues (``parent``) or copied (``exploited``), and which
checkpoint it restores.

Duplicates: two workers may create the same segment (same member and generation) at the same
moment, since storages have no compare-and-swap on attributes. The rule that makes this safe is
that the lowest-numbered segment that has not failed wins; a worker that claims any other one
abandons it before running it (it is marked FAIL with ``pbt:duplicate_of``). Claiming itself is
atomic (a WAITING -> RUNNING transition, as Optuna's ``enqueue_trial`` queue does), so a
segment, and therefore a member, never runs on two workers at once.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced.pbt._checkpoint import ATTRS

# Small integers, never chunked: read directly, this runs for every trial at every decision.
_MEMBER, _GENERATION = ATTRS.key("member"), ATTRS.key("generation")
_START, _END, _DUPLICATE = (
    ATTRS.key("start_step"),
    ATTRS.key("end_step"),
    ATTRS.key("duplicate_of"),
)


class Segment:
    """One trial of a member's chain (a plain slotted class: thousands are built per ask)."""

    __slots__ = (
        "trial",
        "number",
        "state",
        "member",
        "generation",
        "start_step",
        "end_step",
        "score",
    )

    def __init__(
        self,
        trial: FrozenTrial,
        member: int,
        generation: int,
        start_step: int,
        end_step: int,
        score: float | None,
    ) -> None:
        self.trial = trial
        self.number: int = trial.number
        self.state: TrialState = trial.state
        self.member = member
        self.generation = generation
        self.start_step = start_step
        self.end_step = end_step
        # The value, sign-flipped so that larger is better (a diverged member is -inf); None
        # until the segment is COMPLETE.
        self.score = score

    def attr(self, name: str, default: Any = None) -> Any:
        return ATTRS.read(self.trial.user_attrs, name, default)


class Population:
    """A snapshot of the population, built from a study's trials.

    Args:
        trials: All trials of the study (other trials are ignored).
        direction: The study's direction.
        population_size: Number of members.
        n_steps: Global step every member trains to.
    """

    def __init__(
        self,
        trials: Sequence[FrozenTrial],
        direction: StudyDirection,
        population_size: int,
        n_steps: int,
    ) -> None:
        self.population_size = population_size
        self.n_steps = n_steps
        sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
        self.segments: list[Segment] = []
        for trial in trials:
            attrs = trial.user_attrs
            member = attrs.get(_MEMBER)
            if member is None or attrs.get(_DUPLICATE) is not None:
                continue
            value = trial.value if trial.state == TrialState.COMPLETE else None
            score = sign * value if value is not None and not math.isnan(value) else None
            self.segments.append(
                Segment(
                    trial=trial,
                    member=int(member),
                    generation=int(attrs[_GENERATION]),
                    start_step=int(attrs[_START]),
                    end_step=int(attrs[_END]),
                    score=score,
                )
            )
        self.segments.sort(key=lambda s: s.number)
        self.by_number = {s.number: s for s in self.segments}
        self._chains: dict[int, dict[int, list[Segment]]] = {}
        for s in self.segments:
            self._chains.setdefault(s.member, {}).setdefault(s.generation, []).append(s)

    def winner(self, member: int, generation: int) -> Segment | None:
        """The segment that counts for ``(member, generation)``: lowest number, not failed."""
        for s in self._chains.get(member, {}).get(generation, []):
            if s.state != TrialState.FAIL:
                return s
        return None

    def attempts(self, member: int, generation: int) -> list[Segment]:
        """Every segment created for ``(member, generation)``, oldest first."""
        return list(self._chains.get(member, {}).get(generation, []))

    def frontier(self, member: int) -> int | None:
        """The member's highest generation, or ``None`` before its first segment exists."""
        chain = self._chains.get(member)
        return max(chain) if chain else None

    def latest_complete(self, member: int) -> Segment | None:
        """The member's most recent finished segment (its current score and checkpoint)."""
        chain = self._chains.get(member, {})
        for generation in sorted(chain, reverse=True):
            winner = self.winner(member, generation)
            if winner is not None and winner.state == TrialState.COMPLETE:
                return winner
        return None

    def chain(self, member: int) -> list[Segment]:
        """The member's winning segments in generation order."""
        out = []
        for generation in sorted(self._chains.get(member, {})):
            winner = self.winner(member, generation)
            if winner is not None:
                out.append(winner)
        return out

    def is_done(self, member: int) -> bool:
        latest = self.latest_complete(member)
        if latest is None:
            return False
        if latest.end_step >= self.n_steps:
            return True
        # A member whose objective stopped it (TrialPruned) ends there.
        frontier = self.frontier(member)
        winner = self.winner(member, frontier) if frontier is not None else None
        return winner is not None and winner.state == TrialState.PRUNED

    def is_dead(self, member: int, max_retries: int) -> bool:
        """Whether the member's next segment failed more than ``max_retries`` times."""
        frontier = self.frontier(member)
        if frontier is None or self.winner(member, frontier) is not None:
            return False
        return len(self.attempts(member, frontier)) > max_retries

    def all_finished(self, max_retries: int) -> bool:
        return all(
            self.is_done(m) or self.is_dead(m, max_retries) for m in range(self.population_size)
        )

    def scores(self) -> dict[int, Segment]:
        """Each member's latest finished segment that has a score."""
        out = {}
        for m in range(self.population_size):
            latest = self.latest_complete(m)
            if latest is not None and latest.score is not None:
                out[m] = latest
        return out

    def stale(self, now: float, stale_after: float) -> list[Segment]:
        """RUNNING segments whose worker has not beaten its heartbeat for ``stale_after`` s."""
        out = []
        for s in self.segments:
            if s.state != TrialState.RUNNING:
                continue
            beat = s.attr("heartbeat")
            if beat is None and s.trial.datetime_start is not None:
                beat = s.trial.datetime_start.timestamp()
            if beat is not None and now - float(beat) > stale_after:
                out.append(s)
        return out

    def pending(self) -> list[Segment]:
        return [s for s in self.segments if s.state in (TrialState.RUNNING, TrialState.WAITING)]


def choose_exploit_source(
    population: Population,
    member: int,
    quantile_fraction: float,
    rng: np.random.Generator,
) -> Segment | None:
    """PBT's truncation selection: the segment ``member`` should copy, or ``None`` to continue.

    Members are ranked by their latest score (whatever step they are at, as in the paper's
    asynchronous setting and Ray Tune). A member in the bottom ``quantile_fraction`` copies a
    member drawn uniformly from the top ``quantile_fraction`` (each quantile holds
    ``ceil(n * quantile_fraction)`` members, at most half of them). Members of the top
    quantile that have already finished training are not copied.
    """
    scored = population.scores()
    if member not in scored or len(scored) < 2:
        return None
    ranked = sorted(scored, key=lambda m: (scored[m].score, -m))  # worst first; ties: by member
    n_quantile = min(math.ceil(len(ranked) * quantile_fraction), len(ranked) // 2)
    if n_quantile == 0 or member not in ranked[:n_quantile]:
        return None
    # A finished member is ranked but not copied: the copy would end at once, untrained.
    top = [m for m in ranked[-n_quantile:] if scored[m].end_step < population.n_steps]
    if not top:
        return None
    return scored[top[int(rng.integers(len(top)))]]
