"""``PopulationBasedTraining``: PBT and PB2 on a plain Optuna study, with no master process."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import os
import threading
import time
from typing import Any
from typing import Literal

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

from optuna_advanced import _figures
from optuna_advanced.pbt._arguments import as_distributions
from optuna_advanced.pbt._arguments import check_arguments
from optuna_advanced.pbt._arguments import check_optimize
from optuna_advanced.pbt._explore import CustomExplore
from optuna_advanced.pbt._lineage import lineage_figures
from optuna_advanced.pbt._population import Population
from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import CHECKPOINT
from optuna_advanced.pbt._schema import PopulationConfig
from optuna_advanced.pbt._worker import Objective
from optuna_advanced.pbt._worker import Settings
from optuna_advanced.pbt._worker import Worker


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
        population_size: Number of members (at least 2: exploit copies another member).
        perturbation_interval: Steps per segment (between exploit/explore decisions).
        search_space: Hyperparameters that explore may change, with their distributions
            (Ray Tune's ``hyperparam_mutations``); members' first values are drawn from them. A
            list of values stands for a ``CategoricalDistribution`` of them (Ray's mutation
            lists: explore moves to a neighbouring value). ``None``: every parameter the
            objective suggests is explored, its first value drawn by the study's sampler, and
            its distribution taken from the trial.
        initial_params: Starting hyperparameters of the first members (member ``i`` gets
            ``initial_params[i]``); the others start from draws as above. Each value must be
            one of its distribution's (in ``search_space``, checked at construction;
            without it, against the objective's distribution when the member's first segment
            ends, which fails the segment and raises ``ValueError`` otherwise).
        quantile_fraction: Fraction of members in the bottom (and top) quantile.
        resample_probability: Probability that explore redraws a value from its prior.
        perturbation_factors: Factors continuous values are multiplied by (at least one above
            1 and one below 1).
        explore: ``"perturb"`` (PBT), ``"pb2"``, or a callable ``explore(params, rng) ->
            new params`` (Ray Tune's ``custom_explore_fn``; ``rng`` is the decision's seeded
            ``numpy.random.Generator``), whose values are brought back into their
            distributions.
        exploit: ``False`` runs the same population without exploit and explore (every member
            keeps its hyperparameters: a baseline).
        burn_in_period: No exploit before a member has reached this step (Ray Tune's
            ``burn_in_period``).
        synch: Synchronous PBT: a member's next segment is decided only when every member
            still training has finished the segment ending at the same step, and all decide
            on the same standings (Ray Tune's ``synch=True``, which may leave workers idle).
            Asynchronous by default: a member's decision waits only while another member
            still trains towards its step and a worker has other work, so scores are compared
            at one step without idle workers.
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
        publish_figures: When ``optimize`` ends, save the population's figures (members'
            score curves, lineage graph) into the study for optuna-dashboard's study page, if
            plotly and optuna-dashboard are installed (the ``dashboard`` extra).

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
        search_space: Mapping[str, BaseDistribution | Sequence[Any]] | None = None,
        initial_params: Sequence[Mapping[str, Any]] = (),
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        explore: Literal["perturb", "pb2"] | CustomExplore = "perturb",
        exploit: bool = True,
        burn_in_period: int = 0,
        synch: bool = False,
        artifact_store: Any = None,
        delete_stale_checkpoints: bool = True,
        max_retries: int = 3,
        heartbeat_interval: float = 10.0,
        seed: int | None = None,
        publish_figures: bool = True,
    ) -> None:
        search_space = as_distributions(search_space)
        check_arguments(
            study,
            population_size=population_size,
            perturbation_interval=perturbation_interval,
            search_space=search_space,
            initial_params=initial_params,
            quantile_fraction=quantile_fraction,
            resample_probability=resample_probability,
            perturbation_factors=perturbation_factors,
            explore=explore,
            exploit=exploit,
            burn_in_period=burn_in_period,
            synch=synch,
            artifact_store=artifact_store,
            delete_stale_checkpoints=delete_stale_checkpoints,
            max_retries=max_retries,
            heartbeat_interval=heartbeat_interval,
            seed=seed,
            publish_figures=publish_figures,
        )
        self.study = study
        self.population_size = population_size
        self.perturbation_interval = perturbation_interval
        self.search_space = dict(search_space) if search_space is not None else None
        self.initial_params = [dict(p) for p in initial_params]
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.perturbation_factors = tuple(perturbation_factors)
        self.explore = explore
        self.exploit = exploit
        self.burn_in_period = burn_in_period
        self.synch = synch
        self._artifact_store = artifact_store
        self.delete_stale_checkpoints = delete_stale_checkpoints
        self.max_retries = max_retries
        self.heartbeat_interval = heartbeat_interval
        self.seed = seed
        self.publish_figures = publish_figures
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
        check_optimize(objective, n_steps, n_jobs, timeout, catch)
        self._n_steps = n_steps
        self._check_config()
        deadline = None if timeout is None else time.monotonic() + timeout
        n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
        bar = self._progress_bar() if show_progress_bar else None
        errors: list[BaseException] = []

        worker = Worker(self._settings(), self._deleted)

        def work() -> None:
            try:
                worker.work(objective, deadline, catch, bar)
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)

        try:
            if n_jobs == 1:
                worker.work(objective, deadline, catch, bar)
            else:
                threads = [threading.Thread(target=work, daemon=True) for _ in range(n_jobs)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        finally:
            worker.close()
            if bar is not None:
                bar.close()
        if errors:
            raise errors[0]
        if self.publish_figures and _figures.available():
            _figures.save(self.study, lineage_figures(self.study))

    def population(self) -> Population:
        """The population as stored now (members' chains, scores, pending segments)."""
        if self._n_steps is None:
            config = PopulationConfig.stored(self.study.user_attrs)
            if config is None:
                raise RuntimeError("Nothing has been trained yet: call optimize first.")
            self._n_steps = int(config["n_steps"])
        return Population.of(self.study, self.population_size, self._n_steps)

    @property
    def best_trial(self) -> FrozenTrial:
        """The best member where it ended: the best of the segments that reached ``n_steps``
        and of the members the objective stopped (``TrialPruned``), each at the better of its
        stopping segment (its last reported value) and its latest finished segment."""
        population = self.population()
        ended = [population.final(m) for m in range(self.population_size)]
        scored = [e for e in ended if e is not None]
        if not scored:
            raise ValueError("No member has finished training yet.")
        return max(scored, key=lambda e: e[1])[0].trial

    def load_checkpoint(self, trial: FrozenTrial) -> bytes:
        """The checkpoint a segment saved (e.g. ``pbt.load_checkpoint(pbt.best_trial)``)."""
        artifact_id = ATTRS.read(trial.user_attrs, CHECKPOINT, None)
        if artifact_id is None:
            raise ValueError(f"Trial {trial.number} saved no checkpoint.")
        with self.artifact_store.open_reader(artifact_id) as reader:
            return bytes(reader.read())

    # ------------------------------------------------------------------ helpers

    @property
    def _steps(self) -> int:
        assert self._n_steps is not None
        return self._n_steps

    def _check_config(self) -> None:
        config = PopulationConfig(
            population_size=self.population_size,
            perturbation_interval=self.perturbation_interval,
            n_steps=self._steps,
            explore=(
                ("custom" if callable(self.explore) else self.explore) if self.exploit else "none"
            ),
            quantile_fraction=self.quantile_fraction,
            burn_in_period=self.burn_in_period,
            synch=self.synch,
        ).as_dict()
        stored = PopulationConfig.stored(self.study.user_attrs)
        defaults = PopulationConfig.defaults()
        if stored is None:
            self.study.set_user_attr(PopulationConfig.KEY, config)
        elif any(stored.get(k, defaults.get(k)) != v for k, v in config.items()):
            raise ValueError(
                f"This study's population was configured as {stored}; this worker has {config}."
            )

    def _settings(self) -> Settings:
        return Settings(
            study=self.study,
            population_size=self.population_size,
            perturbation_interval=self.perturbation_interval,
            n_steps=self._steps,
            search_space=self.search_space,
            initial_params=self.initial_params,
            quantile_fraction=self.quantile_fraction,
            resample_probability=self.resample_probability,
            perturbation_factors=self.perturbation_factors,
            explore=self.explore,
            exploit=self.exploit,
            artifact_store=self.artifact_store,
            delete_stale_checkpoints=self.delete_stale_checkpoints,
            max_retries=self.max_retries,
            heartbeat_interval=self.heartbeat_interval,
            seed=self.seed,
            burn_in_period=self.burn_in_period,
            synch=self.synch,
        )

    def _progress_bar(self) -> Any:
        from tqdm.auto import tqdm

        population = self.population()
        done = sum(population.progress(m) for m in range(self.population_size))
        return tqdm(total=self.population_size * self._steps, initial=done, unit="step")
