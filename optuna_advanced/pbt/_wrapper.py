"""``PopulationBasedTraining``: PBT and PB2 on a plain Optuna study, with no master process."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import logging
import math
import os
import random
import threading
import time
from typing import Any
from typing import Literal

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._space import SearchSpace
from optuna_advanced.pbt._checkpoint import ATTRS
from optuna_advanced.pbt._checkpoint import Checkpoint
from optuna_advanced.pbt._checkpoint import remove_checkpoint
from optuna_advanced.pbt._explore import perturb
from optuna_advanced.pbt._explore import sample_value
from optuna_advanced.pbt._population import choose_exploit_source
from optuna_advanced.pbt._population import Population
from optuna_advanced.pbt._population import Segment

_logger = logging.getLogger(__name__)
Objective = Callable[[optuna.Trial, Checkpoint], float]
CONFIG_ATTR = "pbt:config"


class PopulationBasedTraining:
    """Population Based Training (and PB2) on an Optuna study.

    Jaderberg et al., "Population Based Training of Neural Networks", arXiv:1711.09846 (2017);
    Parker-Holder et al., "Provably Efficient Online Hyperparameter Optimization with
    Population-Based Bandits", NeurIPS 2020 (``explore="pb2"``).

    A population of ``population_size`` members trains for ``n_steps`` steps each. Training is
    cut into *segments* of ``perturbation_interval`` steps, and every segment is one Optuna
    trial: its parameters are the hyperparameters used for those steps, its intermediate values
    are reported at the member's global step, its value is the score at the segment's end, and
    its user attributes (``pbt:member``, ``pbt:generation``, ``pbt:parent``, ``pbt:exploited``,
    ``pbt:perturbation``, ...) record the lineage. When a segment ends, the member is *ready*:
    if its score is in the bottom ``quantile_fraction`` of the population's latest scores it
    *exploits* a member drawn from the top quantile (copies its checkpoint and hyperparameters)
    and *explores* (perturbs them, or asks PB2's GP bandit); otherwise it continues as it was.

    Everything is derived from the study's storage, so any number of processes on any machines
    can call :meth:`optimize` on the same study (any Optuna storage) with a shared artifact
    store: each claims the next ready segment atomically (Optuna's WAITING -> RUNNING
    transition), a member never runs on two workers at once, a segment whose worker died (no
    heartbeat for ``3 * heartbeat_interval`` seconds) or whose objective raised is retried from
    the same checkpoint, up to ``max_retries`` times.

    The objective takes the trial and a :class:`~optuna_advanced.pbt.Checkpoint`: it suggests
    its hyperparameters as usual (they come back fixed to the member's values), restores the
    state it is given, trains for ``checkpoint.steps``, saves its state and returns the score.

    Explore keeps every value inside its distribution (see ``optuna_advanced.pbt._explore``);
    ``explore="pb2"`` chooses numeric hyperparameters with a GP-UCB bandit on the population's
    reward changes (see ``optuna_advanced.pbt._pb2``) and explores categorical ones as PBT does.

    A diverged segment (NaN value) is stored with the worst value (``inf`` when minimising) and
    ``pbt:nan`` set, so it is the first to be replaced. An objective that raises
    :class:`optuna.TrialPruned` stops its member for good.

    Args:
        study: A single-objective study; every worker passes the same one.
        population_size: Number of members.
        perturbation_interval: Steps per segment (between exploit/explore decisions).
        search_space: Hyperparameters that explore may change, with their distributions
            (Ray Tune's ``hyperparam_mutations``); members' first values are drawn from them.
            ``None``: every parameter the objective suggests is explored, its first value drawn
            by the study's sampler, and its distribution taken from the trial.
        initial_params: Starting hyperparameters of the first members (member ``i`` gets
            ``initial_params[i]``); the others start from draws as above.
        quantile_fraction: Fraction of members in the bottom (and top) quantile.
        resample_probability: Probability that explore redraws a value from its prior.
        perturbation_factors: Factors continuous values are multiplied by.
        explore: ``"perturb"`` (PBT) or ``"pb2"``.
        exploit: ``False`` runs the same population without exploit and explore (every member
            keeps its hyperparameters: a baseline).
        artifact_store: Where checkpoints go; any Optuna ``ArtifactStore``. Default: a
            ``FileSystemArtifactStore`` in ``./pbt_checkpoints`` (use a shared one when workers
            run on several machines).
        delete_stale_checkpoints: Delete checkpoints no member can restore any more: not the
            latest of a member, not restored by a waiting or running segment, not the best
            segment's, and superseded for longer than the heartbeat timeout.
        max_retries: Retries of a failed segment before its member is given up.
        heartbeat_interval: Seconds between a running segment's heartbeats (``pbt:heartbeat``).
        seed: Seed for initial values and exploit/explore decisions (each decision is seeded
            by the seed and the trial it follows, so every process makes the same one).

    Example:
        >>> import optuna
        >>> import tempfile
        >>> from optuna.artifacts import FileSystemArtifactStore
        >>> from optuna_advanced import PopulationBasedTraining
        >>> def objective(trial, checkpoint):
        ...     h = trial.suggest_float("h", 0.0, 1.0)
        ...     theta = float(checkpoint.load_bytes() or b"0.9")
        ...     for step in checkpoint.steps:
        ...         theta -= 0.1 * h * theta
        ...         trial.report(theta**2, step)
        ...     checkpoint.save_bytes(str(theta).encode())
        ...     return theta**2
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study()
        >>> pbt = PopulationBasedTraining(
        ...     study, population_size=4, perturbation_interval=5, seed=0,
        ...     search_space={"h": optuna.distributions.FloatDistribution(0.0, 1.0)},
        ...     artifact_store=FileSystemArtifactStore(tempfile.mkdtemp()),
        ... )
        >>> pbt.optimize(objective, n_steps=20)
        >>> len(study.trials)  # 4 members x 4 segments
        16
        >>> study.best_value < 0.1
        True
    """

    def __init__(
        self,
        study: optuna.Study,
        *,
        population_size: int = 8,
        perturbation_interval: int = 5,
        search_space: Mapping[str, BaseDistribution] | None = None,
        initial_params: Sequence[Mapping[str, Any]] = (),
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        explore: Literal["perturb", "pb2"] = "perturb",
        exploit: bool = True,
        artifact_store: Any = None,
        delete_stale_checkpoints: bool = True,
        max_retries: int = 3,
        heartbeat_interval: float = 10.0,
        seed: int | None = None,
    ) -> None:
        if len(study.directions) != 1:
            raise ValueError("PopulationBasedTraining needs a single-objective study.")
        if population_size < 1 or perturbation_interval < 1:
            raise ValueError("population_size and perturbation_interval must be >= 1.")
        if not 0.0 <= quantile_fraction <= 0.5:
            raise ValueError(f"quantile_fraction must be in [0, 0.5], got {quantile_fraction}.")
        if not 0.0 <= resample_probability <= 1.0:
            raise ValueError("resample_probability must be in [0, 1].")
        if explore not in ("perturb", "pb2"):
            raise ValueError(f"explore must be 'perturb' or 'pb2', got {explore!r}.")
        self.study = study
        self.population_size = population_size
        self.perturbation_interval = perturbation_interval
        self.search_space = dict(search_space) if search_space is not None else None
        if len(initial_params) > population_size:
            raise ValueError("More initial_params than members.")
        self.initial_params = [dict(p) for p in initial_params]
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.perturbation_factors = tuple(perturbation_factors)
        self.explore = explore
        self.exploit = exploit
        self._artifact_store = artifact_store
        self.delete_stale_checkpoints = delete_stale_checkpoints
        self.max_retries = max_retries
        self.heartbeat_interval = heartbeat_interval
        self.seed = seed
        self._n_steps: int | None = None
        self._deleted: set[str] = set()

    # ------------------------------------------------------------------ public API

    @property
    def artifact_store(self) -> Any:
        if self._artifact_store is None:
            from optuna.artifacts import FileSystemArtifactStore

            os.makedirs("pbt_checkpoints", exist_ok=True)
            self._artifact_store = FileSystemArtifactStore("pbt_checkpoints")
        return self._artifact_store

    def optimize(
        self,
        objective: Objective,
        n_steps: int,
        *,
        n_jobs: int = 1,
        timeout: float | None = None,
        catch: tuple[type[Exception], ...] = (),
        show_progress_bar: bool = False,
    ) -> None:
        """Train the population until every member reached ``n_steps`` (or ``timeout``).

        Args:
            objective: ``objective(trial, checkpoint) -> score`` (see the class docstring).
            n_steps: Global step every member trains to.
            n_jobs: Worker threads in this process (``-1``: one per CPU). Run more processes
                on the same study to train in parallel beyond one process.
            timeout: Seconds after which this call stops claiming segments.
            catch: Exceptions from the objective that fail the segment (it is retried)
                without stopping this worker; any other exception is re-raised after the
                segment is failed.
            show_progress_bar: Show the population's progress in steps.
        """
        if n_steps < 1:
            raise ValueError("n_steps must be >= 1.")
        self._n_steps = n_steps
        self._check_config()
        deadline = None if timeout is None else time.monotonic() + timeout
        n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
        bar = self._progress_bar() if show_progress_bar else None
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self._work(objective, deadline, catch, bar)
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)

        self._heartbeats = _Heartbeats(self.study._storage, self.heartbeat_interval)
        try:
            if n_jobs == 1:
                self._work(objective, deadline, catch, bar)
            else:
                threads = [threading.Thread(target=work, daemon=True) for _ in range(n_jobs)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        finally:
            self._heartbeats.close()
            if bar is not None:
                bar.close()
        if errors:
            raise errors[0]

    def population(self) -> Population:
        """The population as stored now (members' chains, scores, pending segments)."""
        if self._n_steps is None:
            config = self.study.user_attrs.get(CONFIG_ATTR)
            if config is None:
                raise RuntimeError("Nothing has been trained yet: call optimize first.")
            self._n_steps = int(config["n_steps"])
        return Population(
            self.study.get_trials(deepcopy=False),
            self.study.direction,
            self.population_size,
            self._n_steps,
        )

    @property
    def best_trial(self) -> FrozenTrial:
        """The best segment that reached ``n_steps`` (the best fully trained member)."""
        population = self.population()
        finished = [
            s for s in population.segments if s.score is not None and s.end_step >= self._steps
        ]
        if not finished:
            raise ValueError("No member has finished training yet.")
        return max(finished, key=lambda s: s.score or -math.inf).trial

    def load_checkpoint(self, trial: FrozenTrial) -> bytes:
        """The checkpoint a segment saved (e.g. ``pbt.load_checkpoint(pbt.best_trial)``)."""
        artifact_id = ATTRS.read(trial.user_attrs, "checkpoint", None)
        if artifact_id is None:
            raise ValueError(f"Trial {trial.number} saved no checkpoint.")
        with self.artifact_store.open_reader(artifact_id) as reader:
            return bytes(reader.read())

    # ------------------------------------------------------------------ worker loop

    @property
    def _steps(self) -> int:
        assert self._n_steps is not None
        return self._n_steps

    @property
    def _stale_after(self) -> float:
        return 3.0 * self.heartbeat_interval

    def _check_config(self) -> None:
        config = {
            "population_size": self.population_size,
            "perturbation_interval": self.perturbation_interval,
            "n_steps": self._steps,
            "explore": self.explore if self.exploit else "none",
            "quantile_fraction": self.quantile_fraction,
        }
        stored = self.study.user_attrs.get(CONFIG_ATTR)
        if stored is None:
            self.study.set_user_attr(CONFIG_ATTR, config)
        elif any(stored.get(k) != v for k, v in config.items()):
            raise ValueError(
                f"This study's population was configured as {stored}; this worker has {config}."
            )

    def _work(
        self,
        objective: Objective,
        deadline: float | None,
        catch: tuple[type[Exception], ...],
        bar: Any,
    ) -> None:
        idle = 0
        while deadline is None or time.monotonic() < deadline:
            population = self.population()
            if population.all_finished(self.max_retries):
                return
            self._maintain(population)
            frozen = self._claim()
            if frozen is None:
                idle += 1
                time.sleep(min(1.0, 0.05 * idle) * (0.5 + random.random()))
                continue
            idle = 0
            segment = self._run_if_winner(frozen, population, objective, catch)
            if segment is not None and bar is not None:
                bar.update(segment.end_step - segment.start_step)

    def _maintain(self, population: Population) -> None:
        """Fail dead workers' segments; create every segment that should exist and does not."""
        now = time.time()
        for segment in population.stale(now, self._stale_after):
            _logger.warning(
                f"Trial {segment.number} (member {segment.member}) has had no heartbeat for "
                f"{self._stale_after:.0f} s; failing it so that it is retried."
            )
            _fail(self.study, segment.trial._trial_id, "stale")
        for member in range(self.population_size):
            frontier = population.frontier(member)
            if frontier is None:
                self._enqueue_first(member)
                continue
            winner = population.winner(member, frontier)
            if winner is None:
                attempts = population.attempts(member, frontier)
                if len(attempts) <= self.max_retries:
                    self._enqueue_retry(attempts[-1])
                continue
            if (
                winner.state == TrialState.COMPLETE
                and winner.end_step < self._steps
                and winner.trial.datetime_complete is not None
                and now - winner.trial.datetime_complete.timestamp() > self.heartbeat_interval
            ):
                # Its worker died between finishing it and creating the successor.
                self._enqueue_successor(winner.number)

    def _claim(self) -> FrozenTrial | None:
        storage = self.study._storage
        waiting = storage.get_all_trials(
            self.study._study_id, deepcopy=False, states=(TrialState.WAITING,)
        )
        for trial in waiting:
            if ATTRS.read(trial.user_attrs, "member", None) is None:
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
        # created, so a snapshot that holds the claimed one can tell whether it is the winner
        # (a sibling failing since then only makes us abandon a segment whose retry exists).
        if frozen.number not in population.by_number:
            population = self.population()
        segment = population.by_number[frozen.number]
        winner = population.winner(segment.member, segment.generation)
        if winner is not None and winner.number != segment.number:
            try:
                ATTRS.write(
                    self.study._storage, frozen._trial_id, "duplicate_of", winner.number, user=True
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
            artifact_store=self.artifact_store,
            restore_id=segment.attr("restore"),
            restored_from=segment.attr("restore_from"),
            member=segment.member,
            generation=segment.generation,
            start_step=segment.start_step,
            end_step=segment.end_step,
        )
        self._heartbeats.add(trial._trial_id)
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
            ATTRS.write(storage, trial._trial_id, "error", repr(exc)[:1000], user=True)
            _fail(self.study, trial._trial_id, None)
            if not isinstance(exc, catch):
                raise
            return
        finally:
            self._heartbeats.remove(trial._trial_id)
        value = float(value)
        if math.isnan(value):
            ATTRS.write(storage, trial._trial_id, "nan", True, user=True)
            value = math.inf if self.study.direction == StudyDirection.MINIMIZE else -math.inf
        if checkpoint.saved_id is None and segment.end_step < self._steps:
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
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, *key])

    def _enqueue(self, params: dict[str, Any], attrs: dict[str, Any]) -> None:
        self.study.enqueue_trial(params, user_attrs={ATTRS.key(k): v for k, v in attrs.items()})

    def _enqueue_first(self, member: int) -> None:
        params: dict[str, Any] = {}
        if self.search_space is not None:
            rng = self._rng(member, 0)
            params = {name: sample_value(d, rng) for name, d in self.search_space.items()}
        if member < len(self.initial_params):
            params.update(self.initial_params[member])
        self._enqueue(
            params,
            {
                "member": member,
                "generation": 0,
                "start_step": 0,
                "end_step": min(self.perturbation_interval, self._steps),
                "parent": None,
                "exploited": None,
                "perturbation": None,
                "restore": None,
                "restore_from": None,
                "attempt": 0,
            },
        )

    def _enqueue_retry(self, failed: Segment) -> None:
        attrs = {
            name: failed.attr(name)
            for name in (
                "member",
                "generation",
                "start_step",
                "end_step",
                "parent",
                "exploited",
                "perturbation",
                "restore",
                "restore_from",
            )
        }
        attrs["attempt"] = int(failed.attr("attempt", 0)) + 1
        attrs["retry_of"] = failed.number
        params = failed.trial.system_attrs.get("fixed_params", failed.trial.params)
        self._enqueue(dict(params), attrs)

    def _enqueue_successor(self, number: int) -> None:
        population = self.population()
        done = population.by_number[number]
        if done.end_step >= self._steps or done.state != TrialState.COMPLETE:
            return
        if population.frontier(done.member) != done.generation:
            return  # a successor already exists
        rng = self._rng(number, 1)
        source = None
        if self.exploit:
            source = choose_exploit_source(population, done.member, self.quantile_fraction, rng)
        base = source or done
        params = dict(base.trial.params)
        perturbation = None
        if source is not None:
            params, perturbation = self._explore_params(params, base, population, rng)
        start = base.end_step
        self._enqueue(
            params,
            {
                "member": done.member,
                "generation": done.generation + 1,
                "start_step": start,
                "end_step": min(start + self.perturbation_interval, self._steps),
                "parent": done.number,
                "exploited": None if source is None else source.number,
                "perturbation": perturbation,
                "restore": base.attr("checkpoint"),
                "restore_from": base.number,
                "attempt": 0,
            },
        )
        if self.delete_stale_checkpoints and number % self.population_size == 0:
            # About once per generation. The segment just created restores a member's
            # latest checkpoint, which is kept anyway.
            self._delete_stale_checkpoints(population)

    def _mutable(self, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self.search_space is not None:
            return {k: d for k, d in self.search_space.items() if k in trial.params}
        return dict(trial.distributions)

    def _explore_params(
        self,
        params: dict[str, Any],
        base: Segment,
        population: Population,
        rng: np.random.Generator,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        mutable = self._mutable(base.trial)
        kwargs = {
            "resample_probability": self.resample_probability,
            "factors": self.perturbation_factors,
        }
        if self.explore == "perturb":
            return perturb(params, mutable, rng, **kwargs)  # type: ignore[arg-type]
        numeric = {k: d for k, d in mutable.items() if not isinstance(d, CategoricalDistribution)}
        others = {k: d for k, d in mutable.items() if k not in numeric}
        new, how = perturb(params, others, rng, **kwargs)  # type: ignore[arg-type]
        if numeric:
            new.update(self._pb2(numeric, base, population, rng))
            how.update({k: "pb2" for k in numeric})
        return new, how

    def _pb2(
        self,
        numeric: dict[str, BaseDistribution],
        base: Segment,
        population: Population,
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        """PB2: the UCB-best numeric hyperparameters for a member continuing from ``base``."""
        space = SearchSpace(numeric)
        rows, times, rewards, deltas = [], [], [], []
        for s in population.segments:
            if s.score is None or not math.isfinite(s.score):
                continue
            before = population.by_number.get(s.attr("restore_from"))
            if before is None or before.score is None or not math.isfinite(before.score):
                continue
            row = space.encode_params(s.trial.params)
            if np.isnan(row).any():
                continue
            with np.errstate(over="ignore"):  # ±1e308 scores: the difference overflows
                delta = (s.score - before.score) / max(1, s.end_step - s.start_step)
            if not math.isfinite(delta):
                continue
            rows.append(row)
            times.append(s.end_step / self.perturbation_interval)
            rewards.append(before.score)
            deltas.append(delta)
        pending = [space.encode_params(s.trial.params) for s in population.pending()]
        pending_h = np.array([p for p in pending if not np.isnan(p).any()]).reshape(-1, len(space))
        assert base.score is not None
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        from optuna_advanced.pbt import _pb2  # scipy.linalg/optimize: imported on first use

        with threadpool_limits(1):  # BLAS threads only slow down these small matrices
            point = _pb2.suggest(
                np.array(times),
                np.array(rewards),
                np.array(rows).reshape(-1, len(space)),
                np.array(deltas),
                t_now=base.end_step / self.perturbation_interval,
                reward_now=base.score,
                pending_h=pending_h,
                rng=rng,
            )
        return space.decode(space.snap(point)[0])

    def _delete_stale_checkpoints(self, population: Population) -> None:
        keep: set[str] = set()
        for s in [population.latest_complete(m) for m in range(self.population_size)]:
            if s is not None and s.attr("checkpoint"):
                keep.add(s.attr("checkpoint"))
        for s in population.pending():
            if s.attr("restore"):
                keep.add(s.attr("restore"))
        scored = [s for s in population.segments if s.score is not None]
        if scored:
            best = max(scored, key=lambda s: s.score or -math.inf)
            keep.add(best.attr("checkpoint"))
        now = time.time()
        for s in population.segments:
            artifact_id = s.attr("checkpoint")
            if artifact_id is None or artifact_id in keep or artifact_id in self._deleted:
                continue
            if s.state != TrialState.COMPLETE:
                continue
            successor = population.winner(s.member, s.generation + 1)
            completed = None if successor is None else successor.trial.datetime_complete
            if completed is None or now - completed.timestamp() < self._stale_after:
                continue  # another worker may still be about to restore it
            remove_checkpoint(self.artifact_store, artifact_id)
            self._deleted.add(artifact_id)

    def _progress_bar(self) -> Any:
        from tqdm.auto import tqdm

        population = self.population()
        done = sum(
            s.end_step - s.start_step
            for s in population.segments
            if s.state == TrialState.COMPLETE
        )
        return tqdm(total=self.population_size * self._steps, initial=done, unit="step")


def _fail(study: optuna.Study, trial_id: int, reason: str | None) -> None:
    try:
        if reason is not None:
            ATTRS.write(study._storage, trial_id, "failed", reason, user=True)
        study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        pass


class _Heartbeats:
    """One daemon thread per ``optimize`` call writing ``pbt:heartbeat`` (wall-clock time) on
    every segment this process is running."""

    def __init__(self, storage: Any, interval: float) -> None:
        self._storage, self._interval = storage, interval
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def add(self, trial_id: int) -> None:
        self._beat(trial_id)
        with self._lock:
            self._running.add(trial_id)

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._running.discard(trial_id)

    def _beat(self, trial_id: int) -> None:
        try:
            ATTRS.write(self._storage, trial_id, "heartbeat", time.time(), user=True)
        except UpdateFinishedTrialError:
            self.remove(trial_id)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                running = list(self._running)
            for trial_id in running:
                self._beat(trial_id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
