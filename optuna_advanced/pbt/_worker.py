"""One process's share of a population: claim a ready segment, run it, create the next one.

Everything a worker knows it reads from the study at each turn (``Population``), so any number
of workers in any number of processes cooperate with no master:

1. *maintain*: fail segments whose worker stopped beating; create every segment that should
   exist and does not (a member's first, a retry of a failed one, the successor a dead worker
   did not create);
2. *claim*: move one WAITING segment to RUNNING (atomic in every Optuna storage);
3. *run*: call the objective with a :class:`Checkpoint`, tell the score, and create the
   member's next segment from the scheduler's decision (``_scheduler.next_segment``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import logging
import math
import random
import threading
import time
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._space import sample_prior
from optuna_advanced.pbt._arguments import check_first_segment
from optuna_advanced.pbt._checkpoint import Checkpoint
from optuna_advanced.pbt._checkpoint import remove_checkpoint
from optuna_advanced.pbt._explore import explorer
from optuna_advanced.pbt._heartbeat import Heartbeats
from optuna_advanced.pbt._population import Population
from optuna_advanced.pbt._population import Segment
from optuna_advanced.pbt._scheduler import Explore
from optuna_advanced.pbt._scheduler import next_segment
from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import CHECKPOINT
from optuna_advanced.pbt._schema import DUPLICATE_OF
from optuna_advanced.pbt._schema import ERROR
from optuna_advanced.pbt._schema import FAILED
from optuna_advanced.pbt._schema import NAN
from optuna_advanced.pbt._schema import SegmentAttrs

_logger = logging.getLogger(__name__)
Objective = Callable[[optuna.Trial, Checkpoint], float]


@dataclass(frozen=True)
class Settings:
    """What a worker needs of :class:`~optuna_advanced.PopulationBasedTraining`'s arguments."""

    study: optuna.Study
    population_size: int
    perturbation_interval: int
    n_steps: int
    search_space: Mapping[str, BaseDistribution] | None
    initial_params: Sequence[Mapping[str, Any]]
    quantile_fraction: float
    resample_probability: float
    perturbation_factors: tuple[float, ...]
    explore: Any  # "perturb", "pb2" or a callable
    exploit: bool
    artifact_store: Any
    delete_stale_checkpoints: bool
    max_retries: int
    heartbeat_interval: float
    seed: int | None
    burn_in_period: int = 0
    synch: bool = False

    @property
    def stale_after(self) -> float:
        return 3.0 * self.heartbeat_interval


class Worker:
    """The worker loop of one ``optimize`` call (shared by its threads).

    Args:
        settings: The population's settings.
        deleted: Checkpoints this process already deleted (kept by the caller across calls).
    """

    def __init__(self, settings: Settings, deleted: set[str]) -> None:
        self.s = settings
        self.study = settings.study
        self._deleted = deleted
        self.heartbeats = Heartbeats(self.study._storage, settings.heartbeat_interval)
        self._local = threading.local()  # a Population per thread, kept up to date
        self._candidates: dict[int, Segment] = {}  # checkpoints that may become stale
        self._candidates_lock = threading.Lock()

    def population(self) -> Population:
        """This thread's view of the population, refreshed from storage."""
        population = getattr(self._local, "population", None)
        if population is None:
            s = self.s
            population = Population(self.study.direction, s.population_size, s.n_steps)
            self._local.population = population
        return population.refresh_from(self.study._storage, self.study._study_id)

    def work(
        self,
        objective: Objective,
        deadline: float | None,
        catch: tuple[type[Exception], ...],
        bar: Any,
    ) -> None:
        idle = 0
        while deadline is None or time.monotonic() < deadline:
            population = self.population()
            if population.all_finished(self.s.max_retries):
                return
            self._maintain(population)
            self._decide_deferred(population, force=False)
            frozen = self._claim(population)
            if frozen is None and self._decide_deferred(population, force=True):
                continue
            if frozen is None:
                idle += 1
                time.sleep(min(1.0, 0.05 * idle) * (0.5 + random.random()))
                continue
            idle = 0
            segment = self._run_if_winner(frozen, population, objective, catch)
            if segment is not None and bar is not None:
                # The steps the members have reached (an exploit jumps a member to the step of
                # the segment it copies), so the bar never overruns its total.
                population = self.population()
                bar.n = sum(population.progress(m) for m in range(self.s.population_size))
                bar.refresh()

    def close(self) -> None:
        self.heartbeats.close()

    # ------------------------------------------------------------------ the loop's steps

    def _maintain(self, population: Population) -> None:
        """Fail dead workers' segments; create every segment that should exist and does not."""
        now = time.time()
        stale_after = self.s.stale_after
        for segment in population.stale(now, stale_after):
            _logger.warning(
                f"Trial {segment.number} (member {segment.member}) has had no heartbeat for "
                f"{stale_after:.0f} s; failing it so that it is retried."
            )
            _fail(self.study, segment.trial._trial_id, "stale")
        for member in range(self.s.population_size):
            frontier = population.frontier(member)
            if frontier is None:
                self._enqueue_first(member)
                continue
            winner = population.winner(member, frontier)
            if winner is None:
                attempts = population.attempts(member, frontier)
                if len(attempts) <= self.s.max_retries:
                    failed = attempts[-1]
                    self._enqueue(failed.params, failed.info.retry(failed.number))
                continue
            if (
                winner.state == TrialState.COMPLETE
                and winner.end_step < self.s.n_steps
                and winner.trial.datetime_complete is not None
                and now - winner.trial.datetime_complete.timestamp() > self.s.heartbeat_interval
            ):
                # Its worker died between finishing it and creating the successor.
                self._enqueue_successor(winner.number)

    def _claim(self, population: Population) -> FrozenTrial | None:
        """Move the lowest-numbered WAITING segment to RUNNING (atomic in every storage): one
        this thread's population knows, else any in the study (another worker's)."""
        storage = self.study._storage
        known = [s.trial for s in population.pending() if s.state == TrialState.WAITING]
        for candidates in (known, None):
            if candidates is None:
                candidates = storage.get_all_trials(
                    self.study._study_id, deepcopy=False, states=(TrialState.WAITING,)
                )
            for trial in candidates:
                if SegmentAttrs.read(trial.user_attrs) is None:
                    continue
                try:
                    if storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                        return storage.get_trial(trial._trial_id)
                except UpdateFinishedTrialError:
                    continue
        return None

    def _run_if_winner(
        self,
        frozen: FrozenTrial,
        population: Population,
        objective: Objective,
        catch: tuple[type[Exception], ...],
    ) -> Segment | None:
        # Every segment numbered below the claimed one existed when the claimed one was
        # created, so a snapshot read after the claim can tell whether it is the winner (a
        # sibling failing since then only makes us abandon a segment whose retry exists).
        population = self.population()
        segment = population.by_number[frozen.number]
        winner = population.winner(segment.member, segment.generation)
        if winner is not None and winner.number != segment.number:
            try:
                ATTRS.write(
                    self.study._storage, frozen._trial_id, DUPLICATE_OF, winner.number, user=True
                )
            except UpdateFinishedTrialError:
                return None  # already abandoned (a storage without row locks let two claim it)
            _fail(self.study, frozen._trial_id, None)
            return None
        self._run(segment, objective, catch)
        return segment

    def _run(
        self, segment: Segment, objective: Objective, catch: tuple[type[Exception], ...]
    ) -> None:
        storage = self.study._storage
        trial = optuna.Trial(self.study, segment.trial._trial_id)
        checkpoint = Checkpoint(
            trial=trial,
            artifact_store=self.s.artifact_store,
            restore_id=segment.info.restore,
            restored_from=segment.info.restore_from,
            member=segment.member,
            generation=segment.generation,
            start_step=segment.start_step,
            end_step=segment.end_step,
        )
        self.heartbeats.add(trial._trial_id)
        try:
            value = objective(trial, checkpoint)
        except optuna.TrialPruned:
            self.study.tell(trial, state=TrialState.PRUNED)
            return
        except UpdateFinishedTrialError:
            # Another worker failed this segment as stale (our heartbeats were late) and its
            # retry has taken over: stop quietly, as a worker whose lease expired.
            _logger.warning(f"Segment trial {trial.number} was taken over by a retry; dropped.")
            return
        except Exception as exc:
            _logger.warning(f"Segment trial {trial.number} failed ({exc!r}); it will be retried.")
            ATTRS.write(storage, trial._trial_id, ERROR, repr(exc)[:1000], user=True)
            _fail(self.study, trial._trial_id, None)
            if not isinstance(exc, catch):
                raise
            return
        finally:
            self.heartbeats.remove(trial._trial_id)
        if segment.generation == 0 and segment.member < len(self.s.initial_params):
            frozen = self.study._storage.get_trial(trial._trial_id)
            try:
                check_first_segment(self.s.initial_params[segment.member], frozen, segment.member)
            except ValueError as exc:
                ATTRS.write(storage, trial._trial_id, ERROR, str(exc)[:1000], user=True)
                _fail(self.study, trial._trial_id, None)
                raise
        value = float(value)
        if math.isnan(value):
            ATTRS.write(storage, trial._trial_id, NAN, True, user=True)
            value = math.inf if self.study.direction == StudyDirection.MINIMIZE else -math.inf
        if checkpoint.saved_id is None and segment.end_step < self.s.n_steps:
            _logger.warning(
                f"Trial {trial.number} saved no checkpoint: member {segment.member}'s next "
                "segment will start from scratch."
            )
        try:
            self.study.tell(trial, value)
        except UpdateFinishedTrialError:  # failed as stale meanwhile: its retry takes over
            return
        self._enqueue_successor(trial.number)

    # ------------------------------------------------------------------ segments

    def _rng(self, *key: int) -> np.random.Generator:
        if self.s.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.s.seed, *key])

    def _enqueue(self, params: dict[str, Any], info: SegmentAttrs) -> None:
        # What study.enqueue_trial does, keeping the new trial's id to show it to this
        # thread's population at once (it is then claimed without scanning the study).
        template = optuna.trial.create_trial(
            state=TrialState.WAITING,
            system_attrs={"fixed_params": params},
            user_attrs=info.user_attrs(),
        )
        storage = self.study._storage
        trial_id = storage.create_new_trial(self.study._study_id, template_trial=template)
        population = getattr(self._local, "population", None)
        if population is not None:
            population.refresh_trial(storage.get_trial(trial_id))

    def _enqueue_first(self, member: int) -> None:
        params: dict[str, Any] = {}
        if self.s.search_space is not None:
            rng = self._rng(member, 0)
            params = {name: sample_prior(d, rng) for name, d in self.s.search_space.items()}
        if member < len(self.s.initial_params):
            params.update(self.s.initial_params[member])
        end = min(self.s.perturbation_interval, self.s.n_steps)
        self._enqueue(params, SegmentAttrs(member=member, start_step=0, end_step=end))

    def _enqueue_successor(self, number: int) -> None:
        population = self.population()
        done = population.by_number[number]
        if done.end_step >= self.s.n_steps or done.state != TrialState.COMPLETE:
            return
        if population.frontier(done.member) != done.generation:
            return  # a successor already exists
        if not self.s.synch:
            if population.lagging_step(self.s.max_retries) >= done.end_step:
                self._decide(population, done)  # no member is behind it
        elif self._round_complete(population, done.end_step):
            # Synchronous PBT: every member decides now, on the same standings.
            for member in range(self.s.population_size):
                latest = population.latest_complete(member)
                if (
                    latest is not None
                    and latest.end_step == done.end_step
                    and population.frontier(member) == latest.generation
                ):
                    self._decide(population, latest)
        if self.s.delete_stale_checkpoints and number % self.s.population_size == 0:
            # About once per generation. The segment just created restores a member's
            # latest checkpoint, which is kept anyway.
            self._delete_stale_checkpoints(population)

    def _decide_deferred(self, population: Population, *, force: bool) -> bool:
        """Decide the members whose decision waited for members behind them and need not any
        more, or, with ``force`` (nothing else to run), the one furthest behind. Whether one
        was (see :meth:`Population.lagging_step`: asynchronous PBT compares at one step)."""
        if self.s.synch:
            return False
        undecided = population.undecided()
        if not undecided:
            return False
        lagging = population.lagging_step(self.s.max_retries)
        decided = False
        for latest in undecided:
            if (force and not decided) or lagging >= latest.end_step:
                self._decide(population, latest)
                decided = True
        return decided

    def _round_complete(self, population: Population, step: int) -> bool:
        """Whether every member still training has finished its segment ending at ``step``."""
        for member in range(self.s.population_size):
            if population.is_done(member) or population.is_dead(member, self.s.max_retries):
                continue
            latest = population.latest_complete(member)
            if latest is None or latest.end_step < step:
                return False
            if population.frontier(member) != latest.generation:
                return False  # its next segment exists already (or it is being retried)
        return True

    def _decide(self, population: Population, done: Segment) -> None:
        """Create the successor of ``done`` from the scheduler's decision."""
        decision = next_segment(
            done.standing(),
            population.standings(),
            n_steps=self.s.n_steps,
            interval=self.s.perturbation_interval,
            quantile_fraction=self.s.quantile_fraction,
            explore=self._explorer(population) if self.s.exploit else None,
            rng=self._rng(done.number, 1),
            burn_in=self.s.burn_in_period,
            tie_key=0 if self.s.seed is None else self.s.seed,
        )
        source = population.by_number[decision.source]
        info = SegmentAttrs(
            member=done.member,
            generation=done.generation + 1,
            start_step=decision.start_step,
            end_step=decision.end_step,
            parent=done.number,
            exploited=decision.exploited,
            perturbation=decision.perturbation,
            restore=source.attr(CHECKPOINT),
            restore_from=source.number,
        )
        self._enqueue(decision.params, info)

    def _explorer(self, population: Population) -> Explore:
        s = self.s
        return explorer(
            population,
            s.search_space,
            s.explore,
            s.resample_probability,
            s.perturbation_factors,
            s.perturbation_interval,
        )

    def _delete_stale_checkpoints(self, population: Population) -> None:
        now = time.time()
        if now - getattr(self._local, "last_cleanup", 0.0) < self.s.stale_after / 3:
            return  # nothing becomes deletable faster than that
        self._local.last_cleanup = now
        seen = getattr(self._local, "seen_scored", 0)  # of this thread's population's log
        with self._candidates_lock:
            for s in population.scored_log[seen:]:
                self._candidates[s.number] = s
            candidates = list(self._candidates.values())
        self._local.seen_scored = len(population.scored_log)
        keep: set[str] = set()
        for latest in [population.latest_complete(m) for m in range(self.s.population_size)]:
            if latest is not None and latest.attr(CHECKPOINT):
                keep.add(latest.attr(CHECKPOINT))
        for s in population.pending():
            if s.info.restore:
                keep.add(s.info.restore)
        if population.best is not None:
            keep.add(population.best.attr(CHECKPOINT))
        now = time.time()
        for s in candidates:
            artifact_id = s.attr(CHECKPOINT)
            if artifact_id is None or artifact_id in self._deleted:
                self._candidates.pop(s.number, None)
                continue
            if artifact_id in keep:
                continue
            successor = population.winner(s.member, s.generation + 1)
            completed = None if successor is None else successor.trial.datetime_complete
            if completed is None or now - completed.timestamp() < self.s.stale_after:
                continue  # another worker may still be about to restore it
            remove_checkpoint(self.s.artifact_store, artifact_id)
            self._deleted.add(artifact_id)
            self._candidates.pop(s.number, None)


def _fail(study: optuna.Study, trial_id: int, reason: str | None) -> None:
    try:
        if reason is not None:
            ATTRS.write(study._storage, trial_id, FAILED, reason, user=True)
        study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        pass
