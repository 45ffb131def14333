"""The population as stored: every member's chain of segments, read from a study's trials.

Each worker reads this view from storage (incrementally: a finished trial never changes), so
any number of processes on any machine agree on it. A *segment* is one Optuna trial that
trains one member from ``start_step`` to ``end_step``; its user attributes (``pbt:*``) say
which member and generation it is, which trial it continues (``parent``) or copied
(``exploited``), and which checkpoint it restores.

Duplicates: two workers may create the same segment (same member and generation) at the same
moment, since storages have no compare-and-swap on attributes. The rule that makes this safe is
that the lowest-numbered segment that has not failed wins; a worker that claims any other one
abandons it before running it (it is marked FAIL with ``pbt:duplicate_of``). Claiming itself is
atomic (a WAITING -> RUNNING transition, as Optuna's ``enqueue_trial`` queue does), so a
segment, and therefore a member, never runs on two workers at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
import math
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.storages import InMemoryStorage
from optuna.storages import JournalStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced.pbt._scheduler import Standing
from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import DUPLICATE_OF
from optuna_advanced.pbt._schema import HEARTBEAT
from optuna_advanced.pbt._schema import SegmentAttrs

_DUPLICATE = ATTRS.key(DUPLICATE_OF)


class Segment:
    """One trial of a member's chain (a plain slotted class: thousands are built per ask)."""

    __slots__ = ("trial", "number", "state", "info", "score")

    def __init__(self, trial: FrozenTrial, info: SegmentAttrs, score: float | None) -> None:
        self.trial = trial
        self.number: int = trial.number
        self.state: TrialState = trial.state
        self.info = info
        # The value, sign-flipped so that larger is better (a diverged member is -inf); None
        # until the segment is COMPLETE.
        self.score = score

    @property
    def member(self) -> int:
        return self.info.member

    @property
    def generation(self) -> int:
        return self.info.generation

    @property
    def start_step(self) -> int:
        return self.info.start_step

    @property
    def end_step(self) -> int:
        return self.info.end_step

    @property
    def params(self) -> dict[str, Any]:
        """The hyperparameters it trains with: the ones it was created with (Optuna's fixed
        parameters, which it suggests when it runs), so known before it has suggested any."""
        return dict(self.trial.system_attrs.get("fixed_params", self.trial.params))

    def attr(self, name: str, default: Any = None) -> Any:
        """A status attribute (``optuna_advanced.pbt._schema.STATUS``)."""
        return ATTRS.read(self.trial.user_attrs, name, default)

    def standing(self) -> Standing:
        assert self.score is not None
        return Standing(self.member, self.number, self.score, self.end_step, self.trial.params)


class Population:
    """The population as read from a study's trials, kept up to date incrementally.

    :meth:`refresh` takes the study's trials (Optuna hands them without copying) and looks at
    each one only until it has finished: a finished trial never changes again, so refreshing a
    study of thousands of segments costs a pass over the list plus the few trials that changed.
    One instance belongs to one thread (workers keep one per thread).

    Args:
        direction: The study's direction.
        population_size: Number of members.
        n_steps: Global step every member trains to.
    """

    def __init__(self, direction: StudyDirection, population_size: int, n_steps: int) -> None:
        self.population_size = population_size
        self.n_steps = n_steps
        self._sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
        self.by_number: dict[int, Segment] = {}
        self._chains: dict[int, dict[int, list[Segment]]] = {}
        self._finished: set[int] = set()  # trial ids never to look at again
        self._unfinished: dict[int, Segment] = {}  # by number
        self.scored: list[Segment] = []  # COMPLETE segments with a score, by number
        self.scored_log: list[Segment] = []  # the same, in the order they were seen
        self._top: dict[int, int] = {}  # each member's highest generation
        self.best: Segment | None = None  # the COMPLETE segment with the highest score
        self._open: set[int] = set()  # ids of trials last seen WAITING or RUNNING
        self._next_number = 0  # the lowest trial number never read

    @classmethod
    def of(cls, study: optuna.Study, population_size: int, n_steps: int) -> Population:
        """The population of ``study`` as stored now."""
        population = cls(study.direction, population_size, n_steps)
        population.refresh(study.get_trials(deepcopy=False))
        return population

    def refresh(self, trials: Sequence[FrozenTrial]) -> Population:
        """Bring the view up to date with ``trials`` (all of the study's); returns ``self``."""
        finished = self._finished
        for trial in trials:
            if trial._trial_id not in finished:
                self._update(trial)
        self._next_number = max(self._next_number, len(trials))
        return self

    def refresh_from(self, storage: BaseStorage, study_id: int) -> Population:
        """Bring the view up to date reading only what changed: the WAITING and RUNNING trials,
        the ones that have finished since the last refresh, and new ones; returns ``self``.

        A study of thousands of finished segments then costs no more to refresh than a new
        one: finished trials are never read twice, and on the in-process storages (memory,
        journal) the open ones are read by id."""
        if isinstance(storage, (InMemoryStorage, JournalStorage)):
            # Indexed in this process: reading the few open trials by id is cheaper than
            # filtering every trial of the study by state.
            active = [storage.get_trial(i) for i in self._open]
            active = [t for t in active if not t.state.is_finished()]
        else:  # a database: one query for every open trial beats one per trial
            active = storage.get_all_trials(
                study_id, deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING)
            )
        ids = {t._trial_id for t in active}
        still_open: set[int] = set()
        for trial in active:
            if trial._trial_id not in self._finished:  # else: not a segment (a user's trial)
                self._update(trial)
                still_open.add(trial._trial_id)
        for trial_id in self._open - ids:  # finished since the last refresh
            if trial_id not in self._finished:
                self._update(storage.get_trial(trial_id))
        while True:  # trials created (and perhaps finished) since the last refresh
            try:
                trial_id = storage.get_trial_id_from_study_id_trial_number(
                    study_id, self._next_number
                )
            except KeyError:
                break
            if trial_id not in ids and trial_id not in self._finished:
                trial = storage.get_trial(trial_id)
                self._update(trial)
                if not trial.state.is_finished():
                    still_open.add(trial_id)
            self._next_number += 1
        self._open = {i for i in still_open if i not in self._finished}
        return self

    def refresh_trial(self, trial: FrozenTrial) -> None:
        """Show the view one trial as it is now (one this process just created, say)."""
        if trial._trial_id not in self._finished:
            self._update(trial)
            if not trial.state.is_finished():
                self._open.add(trial._trial_id)

    def _update(self, trial: FrozenTrial) -> None:
        done = trial.state.is_finished()
        old = self.by_number.get(trial.number)
        info = old.info if old is not None else SegmentAttrs.read(trial.user_attrs)
        if info is None or _DUPLICATE in trial.user_attrs:
            # Not a segment, or a duplicate abandoned before it ran (see the module docstring).
            if old is not None:
                self._remove(old)
            if done or info is None:
                self._finished.add(trial._trial_id)
            return
        value = trial.value if trial.state == TrialState.COMPLETE else None
        score = self._sign * value if value is not None and not math.isnan(value) else None
        segment = Segment(trial, info, score)
        if old is not None:
            self._remove(old)
        self.by_number[segment.number] = segment
        generations = self._chains.setdefault(segment.member, {})
        self._top[segment.member] = max(self._top.get(segment.member, 0), segment.generation)
        bisect.insort(generations.setdefault(segment.generation, []), segment, key=_number)
        if done:
            self._finished.add(trial._trial_id)
            if score is not None:
                bisect.insort(self.scored, segment, key=_number)
                self.scored_log.append(segment)
                if self.best is None or score > (self.best.score or -math.inf):
                    self.best = segment
        else:
            self._unfinished[segment.number] = segment

    def _remove(self, segment: Segment) -> None:
        del self.by_number[segment.number]
        self._chains[segment.member][segment.generation].remove(segment)
        self._unfinished.pop(segment.number, None)

    @property
    def segments(self) -> list[Segment]:
        """Every segment, by trial number."""
        return [self.by_number[n] for n in sorted(self.by_number)]

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
        if not chain:
            return None
        top = self._top[member]  # an emptied generation (a removed duplicate) is skipped below
        while top >= 0 and not chain.get(top):
            top -= 1
        return top if top >= 0 else None

    def latest_complete(self, member: int) -> Segment | None:
        """The member's most recent finished segment (its current score and checkpoint)."""
        frontier = self.frontier(member)
        for generation in range(frontier if frontier is not None else -1, -1, -1):
            winner = self.winner(member, generation)  # usually the first or second one looked at
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
        return self.stopped(member) is not None

    def stopped(self, member: int) -> Segment | None:
        """The segment whose objective stopped ``member`` (``TrialPruned``), if any."""
        frontier = self.frontier(member)
        winner = self.winner(member, frontier) if frontier is not None else None
        return winner if winner is not None and winner.state == TrialState.PRUNED else None

    def final(self, member: int) -> tuple[Segment, float] | None:
        """Where ``member`` ended, if it has, and its score there: its segment that reached
        ``n_steps``, or, for a member its objective stopped, the better of the stopping
        segment (its last reported value) and its latest finished one."""
        latest = self.latest_complete(member)
        if latest is not None and latest.end_step >= self.n_steps and latest.score is not None:
            return latest, latest.score
        stopped = self.stopped(member)
        if stopped is None:
            return None
        candidates = [(latest, latest.score)] if latest and latest.score is not None else []
        value = stopped.trial.value  # Optuna's value of a pruned trial: its last report
        if value is not None and not math.isnan(value):
            candidates.append((stopped, self._sign * value))
        return max(candidates, key=lambda c: c[1], default=None)

    def progress(self, member: int) -> int:
        """Steps ``member`` has reached (``n_steps`` once it is done or stopped)."""
        if self.stopped(member) is not None:
            return self.n_steps
        latest = self.latest_complete(member)
        return 0 if latest is None else min(latest.end_step, self.n_steps)

    def position(self, member: int) -> int:
        """The step ``member`` trains from next: where its open segment starts, else where its
        latest finished segment ended (0 before any)."""
        frontier = self.frontier(member)
        if frontier is not None:
            open_ = self.winner(member, frontier)
            if open_ is not None and open_.state in (TrialState.WAITING, TrialState.RUNNING):
                return open_.start_step
        latest = self.latest_complete(member)
        return 0 if latest is None else latest.end_step

    def lagging_step(self, max_retries: int) -> int:
        """The lowest step a member still training trains from (:meth:`position`).

        Asynchronous PBT waits to decide a member's next segment while this is below the step
        the member reached, so that scores are compared at one step rather than a newer one
        against older ones (with fewer workers than members, that keeps the member just
        finished out of the bottom quantile for ever). It waits only while there is other
        work: a worker with nothing to run decides.
        """
        positions = [
            self.position(m)
            for m in range(self.population_size)
            if not self.is_done(m) and not self.is_dead(m, max_retries)
        ]
        return min(positions, default=self.n_steps)

    def undecided(self) -> list[Segment]:
        """Latest finished segments of members that still train and have no next segment yet,
        furthest behind first."""
        out = []
        for m in range(self.population_size):
            latest = self.latest_complete(m)
            if latest is None or latest.end_step >= self.n_steps:
                continue
            # A stopped, retried or already decided member has a later generation.
            if self.frontier(m) == latest.generation:
                out.append(latest)
        return sorted(out, key=lambda s: (s.end_step, s.member))

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

    def standings(self) -> dict[int, Standing]:
        """Each member's latest finished segment that has a score, for the scheduler."""
        out = {}
        for m in range(self.population_size):
            latest = self.latest_complete(m)
            if latest is not None and latest.score is not None:
                out[m] = latest.standing()
        return out

    def stale(self, now: float, stale_after: float) -> list[Segment]:
        """RUNNING segments whose worker has not beaten its heartbeat for ``stale_after`` s."""
        out = []
        for s in self._unfinished.values():
            if s.state != TrialState.RUNNING:
                continue
            beat = s.attr(HEARTBEAT)
            if beat is None and s.trial.datetime_start is not None:
                beat = s.trial.datetime_start.timestamp()
            if beat is not None and now - float(beat) > stale_after:
                out.append(s)
        return sorted(out, key=_number)

    def pending(self) -> list[Segment]:
        """RUNNING and WAITING segments, by number."""
        return [self._unfinished[n] for n in sorted(self._unfinished)]


def _number(segment: Segment) -> int:
    return segment.number
