"""AxSampler: Ax's generation strategies (Sobol, then BoTorch) inside Optuna studies.

At each ask the bridge rebuilds an Ax ``Client`` from the study's storage (parameters from the
Optuna distributions, objectives from the study's directions, outcome constraints from
``trial.set_constraint``), attaches the history and asks Ax for one trial. The ``Client`` is
never the source of truth, so any number of processes can share the study.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
import datetime
import inspect
import math
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import RandomSampler
from optuna.search_space import intersection_search_space
from optuna.study import Study
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._checks import check_bool
from optuna_advanced._checks import check_distributions
from optuna_advanced._checks import check_seed
from optuna_advanced._space import value_in_distribution
from optuna_advanced.samplers._ax.parameters import n_points
from optuna_advanced.samplers._ax.parameters import Parameter
from optuna_advanced.samplers._ax.parameters import tried
from optuna_advanced.samplers._ax.quiet import import_ax
from optuna_advanced.samplers._ax.quiet import quiet_ax
from optuna_advanced.samplers._base import PackSampler
from optuna_advanced.samplers._base import refuse_constraints_func
from optuna_advanced.samplers._base import resolve_seed

_SAMPLING_WINDOW = 30.0  # seconds: a RUNNING trial without parameters is "being sampled"
_MAX_SKIP = 4
_STARTUP_NODES = ("CenterOfSearchSpace", "Sobol")


def _objective_names(n: int) -> list[str]:
    return ["objective"] if n == 1 else [f"objective_{i}" for i in range(n)]


def _constraint_metric(i: int) -> str:
    return f"constraint_{i}"


class AxSampler(PackSampler):
    """Ax's Bayesian optimisation (Sobol start, then BoTorch) as an Optuna sampler.

    Built on Ax 1.x's ``Client``. At each ask the sampler builds a ``Client`` with
    ``random_seed=seed``, configures it from the study (parameters from the distributions,
    ``"-objective"`` for a minimised objective, one metric per objective of a multi-objective
    study, and ``"constraint_i <= 0"`` outcome constraints once trials have called Optuna 5's
    ``trial.set_constraint``), attaches the history and calls ``get_next_trials(max_trials=1)``.
    With the same seed and history the suggestion is the one a native ``Client`` driven with
    the same ``attach_trial``/``complete_trial`` calls makes (tested).

    History, translated into Ax's trial statuses:

    - COMPLETE: ``complete_trial`` with its value(s) and constraint values.
    - FAIL (and COMPLETE with a non-finite value): ``mark_trial_failed``.
    - PRUNED: the last intermediate value is attached at its step and the trial is marked
      ``EARLY_STOPPED``, which is how Ax records trials its own early stopping ends (their data
      is used, as in Ax). Without any intermediate value: ``ABANDONED``.
    - RUNNING (other workers, with every modelled parameter set): left RUNNING, so Ax treats
      them as pending points and new suggestions move away from them. A RUNNING trial that
      started earlier but has no stored parameters yet (it is being sampled at this moment by
      another thread or process) cannot be attached: the sampler asks Ax for one extra point
      per such trial and takes the last, so simultaneous asks do not get the same point.

    Ax decides which generation step to use from the experiment's trials. A ``Client`` whose
    trials were all attached starts at its first node and moves only one node per call, so
    before generating the sampler lets the strategy move as far as the attached history
    allows (Sobol's ``MinTrials`` counts attached trials too): a rebuilt ``Client`` then
    generates from the same node as one that ran since the start.

    Search space: ``search_space`` if given; otherwise the parameters every finished trial
    shares with the same distribution (Optuna's intersection search space), since Ax models a
    fixed space. Parameters outside it are drawn uniformly at random (recorded in
    ``ax:independent``); the first trial of a define-by-run study is therefore random, not Ax's
    centre point: pass ``search_space`` to get Ax's exact sequence.

    Pruned and failed trials never stop the study. Ax's default strategy waits after its
    initial Sobol points until enough of them have *completed* (``DataRequiredError``); pruned
    trials never complete, so when Ax would wait, the sampler asks the same strategy again with
    ``allow_exceeding_initialization_budget=True`` (Ax's own option): Sobol goes on until enough
    trials have completed, then BoTorch takes over.

    Each trial records ``ax:source`` (``"startup"`` for Ax's centre and Sobol points,
    ``"model"`` for BoTorch, ``"random"`` for ``method="random_search"`` and for the fallbacks
    below, ``"enqueued"``) and ``ax:generation_node``: the Ax node that chose it
    (``"CenterOfSearchSpace"``, ``"Sobol"``, ``"MBM"``, ...), or, when Ax has nothing to
    propose, ``"random:space-exhausted"`` (every point of a finite space already tried),
    ``"random:ax-paused"`` (Ax's strategy waits for pending trials) or
    ``"random:ax-needs-data"``; such trials are drawn uniformly at random instead of failing.

    Args:
        seed: ``Client(random_seed=...)``. ``None`` picks one.
        search_space: Optional fixed space, modelled from the first trial on.
        generation_strategy: Keyword arguments for ``Client.configure_generation_strategy``
            (for example ``{"method": "random_search"}`` or ``{"initialization_budget": 8}``);
            Ax's default strategy otherwise. Checked at construction.
        objective_thresholds: Multi-objective studies: one reference value per objective
            (the worst value still of interest, e.g. ``[1.0, 0.5]``), passed to Ax as its
            objective thresholds; ``None`` lets Ax infer them (it warns at each BoTorch ask).
        quiet: Silence Ax's INFO logging (at import, and one line per attached trial).
        constraints_func: Not taken (``TypeError``): constraints come from
            ``trial.set_constraint``, see above.

    Example:
        >>> import optuna
        >>> import optuna_advanced
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(
        ...     sampler=optuna_advanced.AxSampler(
        ...         seed=0, generation_strategy={"method": "random_search"}
        ...     )
        ... )
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=8)
        >>> len(study.trials)
        8
    """

    namespace = AttrNamespace("ax")
    fallback_source = "random"

    def __init__(
        self,
        *,
        seed: int | None = None,
        search_space: Mapping[str, BaseDistribution] | None = None,
        generation_strategy: Mapping[str, Any] | None = None,
        objective_thresholds: Sequence[float] | None = None,
        quiet: bool = True,
        constraints_func: None = None,
    ) -> None:
        me = "AxSampler"
        refuse_constraints_func(me, constraints_func)
        check_seed(me, seed)
        check_distributions(me, "search_space", search_space)
        check_bool(me, "quiet", quiet)
        import_ax(quiet)
        self._seed = resolve_seed(seed)
        self._search_space = dict(search_space) if search_space is not None else None
        self._generation_strategy = _checked_strategy(generation_strategy, quiet)
        self._objective_thresholds = _checked_thresholds(objective_thresholds)
        self._quiet = quiet
        self._random = RandomSampler(seed=self._seed)

    def reseed_rng(self) -> None:
        self._seed = resolve_seed(None)
        self._random.reseed_rng()

    # -- Optuna's sampler interface ------------------------------------------------------------

    def _history_space(
        self, trials: Iterable[FrozenTrial], trial: FrozenTrial
    ) -> Mapping[str, BaseDistribution]:
        # Ax models a fixed space: the parameters every finished trial shares.
        return intersection_search_space(list(trials), include_pruned=True)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        params = [Parameter(name, d) for name, d in search_space.items()]
        history = self._history(study, trial)
        # Trials started before this one whose parameters are not stored yet (another thread or
        # process is sampling them right now) cannot be attached as pending; skip one Ax point
        # for each, so that concurrent asks on the same history get distinct points.
        # Only trials started in the last _SAMPLING_WINDOW seconds count (a trial left RUNNING
        # without parameters by a crashed worker must not inflate every later ask), at most
        # _MAX_SKIP of them, and never more than the unseen points of a finite space allow.
        now = datetime.datetime.now()
        n_skip = sum(
            1
            for t in history
            if t.state == TrialState.RUNNING
            and t.number < trial.number
            and not all(p.name in t.params for p in params)
            and t.datetime_start is not None
            and (now - t.datetime_start).total_seconds() < _SAMPLING_WINDOW
        )
        unseen = n_points(params) - len(tried(params, history))
        n_skip = int(max(0, min(n_skip, _MAX_SKIP, unseen - 1)))
        suggestion, node = self.suggest(params, history, study.directions, n_skip=n_skip)
        self._write(study, trial, {"source": self._source(node), "generation_node": node})
        if suggestion is None:
            return {}  # Optuna draws every parameter with sample_independent
        return suggestion

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._note_independent(study, trial, param_name)
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # -- the bridge ----------------------------------------------------------------------------

    def _fallback_attrs(self) -> dict[str, Any]:
        return {"source": "random", "generation_node": "random:new-parameters"}

    def _source(self, node: str) -> str:
        if node.startswith("random") or self._generation_strategy.get("method") == "random_search":
            return "random"
        return "startup" if node in _STARTUP_NODES else "model"

    def suggest(
        self,
        params: list[Parameter],
        history: list[FrozenTrial],
        directions: Sequence[StudyDirection],
        n_skip: int = 0,
        exceed: bool = False,
    ) -> tuple[dict[str, Any] | None, str]:
        """Rebuild the ``Client`` from ``history`` and return Ax's next point and its node.

        Returns ``(None, reason)`` when Ax cannot propose a new point: every point of a finite
        space has been tried (Ax deduplicates, and would search 10,000 random draws for a
        new one before failing), or its strategy paused generation because too many trials
        are pending. Optuna then samples those parameters at random.
        """
        if n_points(params) <= len(tried(params, history)):
            return None, "random:space-exhausted"
        from ax.exceptions.core import DataRequiredError
        from ax.exceptions.core import SearchSpaceExhausted
        from ax.exceptions.generation_strategy import MaxParallelismReachedException

        with quiet_ax(self._quiet):
            client, _ = self.build_client(params, history, directions, exceed=exceed)
            gs = client._generation_strategy_or_choose()
            gs.experiment = client._experiment
            # Private on purpose: see the class docstring (a rebuilt Client must reach the node
            # that an uninterrupted one would be at).
            gs._maybe_transition_to_next_node(raise_data_required_error=False)
            try:
                new = client.get_next_trials(max_trials=n_skip + 1)
            except SearchSpaceExhausted:
                if n_skip == 0:
                    return None, "random:space-exhausted"
                return self.suggest(params, history, directions, n_skip=0, exceed=exceed)
            except DataRequiredError:
                # Waiting for completed trials that pruned ones will never be: go on with the
                # initial design (see the class docstring), or draw at random if that waits too.
                if exceed or "allow_exceeding_initialization_budget" in self._generation_strategy:
                    return None, "random:ax-needs-data"
                return self.suggest(params, history, directions, n_skip=n_skip, exceed=True)
            except MaxParallelismReachedException:
                new = {}
            if not new:
                return None, "random:ax-paused"
            index = max(new)  # the last point: the earlier ones are for the skipped trials
            values = new[index]
            node = client._experiment.trials[index].generator_runs[0]._generation_node_name
        return {p.name: p.from_ax(values[p.name]) for p in params}, str(node)

    def build_client(
        self,
        params: list[Parameter],
        history: list[FrozenTrial],
        directions: Sequence[StudyDirection],
        exceed: bool = False,
    ) -> tuple[Any, dict[int, int]]:
        """An Ax ``Client`` holding ``history``; returns it and Optuna number -> Ax index.

        ``exceed``: let the initial design go beyond its budget while Ax waits for data.
        """
        from ax import Client

        objectives = _objective_names(len(directions))
        constraint_keys = sorted({k for t in history for k in t.constraints})
        constraints = [f"{_constraint_metric(i)} <= 0" for i in range(len(constraint_keys))]
        if self._objective_thresholds is not None:
            if len(directions) < 2 or len(self._objective_thresholds) != len(directions):
                raise ValueError(
                    f"AxSampler: objective_thresholds has {len(self._objective_thresholds)} "
                    f"values; a study of {len(directions)} objective(s) needs one per "
                    "objective, and only multi-objective studies take them."
                )
            for name, d, value in zip(objectives, directions, self._objective_thresholds):
                op = "<=" if d == StudyDirection.MINIMIZE else ">="
                constraints.append(f"{name} {op} {value!r}")
        client = Client(random_seed=self._seed)
        client.configure_experiment(parameters=[p.config() for p in params])
        client.configure_optimization(
            objective=", ".join(
                ("-" if d == StudyDirection.MINIMIZE else "") + name
                for name, d in zip(objectives, directions)
            ),
            outcome_constraints=constraints or None,
        )
        strategy = dict(self._generation_strategy)
        if exceed:
            strategy["allow_exceeding_initialization_budget"] = True
        if strategy:
            client.configure_generation_strategy(**strategy)
        index_of: dict[int, int] = {}
        for t in sorted(history, key=lambda t: t.number):
            if t.state == TrialState.WAITING:
                continue
            values = {}
            for p in params:
                if p.name not in t.params or not value_in_distribution(p.dist, t.params[p.name]):
                    break
                values[p.name] = p.to_ax(t.params[p.name])
            else:
                index = client.attach_trial(parameters=values)
                index_of[t.number] = index
                _record(client, index, t, objectives, constraint_keys)
        return client, index_of


def _record(
    client: Any,
    index: int,
    trial: FrozenTrial,
    objectives: list[str],
    constraint_keys: list[str],
) -> None:
    """Translate one Optuna trial's outcome into Ax calls (see AxSampler's docstring)."""
    if trial.state == TrialState.RUNNING:
        return
    constraints = {
        _constraint_metric(i): float(trial.constraints[k])
        for i, k in enumerate(constraint_keys)
        if k in trial.constraints
    }
    if trial.state == TrialState.COMPLETE:
        values = trial.values or []
        if len(values) == len(objectives) and all(math.isfinite(v) for v in values):
            raw = dict(zip(objectives, map(float, values)))
            client.complete_trial(trial_index=index, raw_data={**raw, **constraints})
            return
    if trial.state == TrialState.PRUNED and trial.intermediate_values and len(objectives) == 1:
        step = max(trial.intermediate_values)
        value = trial.intermediate_values[step]
        if math.isfinite(value):
            client.attach_data(
                trial_index=index, raw_data={objectives[0]: float(value)}, progression=step
            )
            client.mark_trial_early_stopped(trial_index=index)
            return
    if trial.state == TrialState.PRUNED:
        client.mark_trial_abandoned(trial_index=index)
        return
    client.mark_trial_failed(trial_index=index)


def _checked_strategy(strategy: Mapping[str, Any] | None, quiet: bool) -> dict[str, Any]:
    """``generation_strategy`` as a dict, after Ax accepted it on a throwaway ``Client``."""
    if strategy is None:
        return {}
    if not isinstance(strategy, Mapping):
        raise TypeError(
            "AxSampler: generation_strategy must be a mapping of keyword arguments for "
            f"Client.configure_generation_strategy, got {strategy!r}."
        )
    from ax import Client
    from ax import RangeParameterConfig

    accepted = set(inspect.signature(Client.configure_generation_strategy).parameters) - {"self"}
    unknown = sorted(set(strategy) - accepted)
    if unknown:
        raise TypeError(
            f"AxSampler: generation_strategy has unknown keys {unknown}; "
            f"Client.configure_generation_strategy accepts {sorted(accepted)}."
        )
    with quiet_ax(quiet):
        client = Client(random_seed=0)
        client.configure_experiment(
            parameters=[RangeParameterConfig(name="x", bounds=(0.0, 1.0), parameter_type="float")]
        )
        client.configure_optimization(objective="-objective")
        try:
            client.configure_generation_strategy(**strategy)
            client._generation_strategy_or_choose()
        except Exception as exc:
            raise ValueError(
                f"AxSampler: Ax refused generation_strategy={dict(strategy)!r}: {exc}"
            ) from exc
    return dict(strategy)


def _checked_thresholds(thresholds: Sequence[float] | None) -> list[float] | None:
    if thresholds is None:
        return None
    values = list(thresholds) if isinstance(thresholds, Sequence) else None
    if not values or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in values
    ):
        raise ValueError(
            "AxSampler: objective_thresholds must be a sequence of finite numbers, one per "
            f"objective, or None; got {thresholds!r}."
        )
    return [float(v) for v in values]
