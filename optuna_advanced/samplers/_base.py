"""What every sampler of the pack shares, so each sampler module holds only its algorithm.

- **Seeds**: a sampler that derives its random streams from an integer seed resolves ``None``
  to a fresh one here (:func:`resolve_seed`), so every process and pickle sees the same number.
- **Search space**: the relative search space is the ``search_space`` given up front, else the
  define-by-run view of the study's history (:func:`optuna_advanced._space.latest_search_space`:
  every parameter seen, with its newest distribution), without single-value distributions
  (they have nothing to model) unless the algorithm wants them.
- **How a trial was chosen**: a user attribute ``<namespace>:source`` on every trial, one of
  ``"startup"`` (before the model: a start-up design or prior draws), ``"random"`` (a random
  pick while a model exists), ``"model"`` and ``"enqueued"`` (every value came from
  ``study.enqueue_trial``); a trial that never reached ``sample_relative`` (all its parameters
  new, e.g. the first one) gets the sampler's fallback label in ``after_trial``.
- **Single-objective algorithms** refuse a multi-objective study with one message.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
import logging
import random
from typing import Any
from typing import ClassVar
import warnings

from optuna.distributions import BaseDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._space import latest_search_space

__all__ = ["PackSampler", "refuse_constraints_func", "resolve_seed"]

_logger = logging.getLogger(__name__)


def resolve_seed(seed: int | None) -> int:
    """``seed``, or a fresh one from the operating system when it is ``None``."""
    return seed if seed is not None else random.SystemRandom().randrange(2**31)


def refuse_constraints_func(owner: str, constraints_func: Any, *, supported: bool = True) -> None:
    """Samplers of the pack read constraints from the trials; say so to TPESampler's users."""
    if constraints_func is None:
        return
    if supported:
        raise TypeError(
            f"{owner} takes no constraints_func: in Optuna 5 the objective reports its "
            "constraints with trial.set_constraint(name, value) (feasible when <= 0), and "
            f"{owner} reads them from the trials."
        )
    raise TypeError(
        f"{owner} takes no constraints_func and does not model constraints; "
        "RandomForestSampler and AxSampler do (report them with trial.set_constraint)."
    )


class PackSampler(BaseSampler):
    """Base of the pack's samplers (see the module docstring).

    Class attributes a subclass sets:
        namespace: Its attribute namespace (``AttrNamespace("bohb")``).
        fallback_source: Its value for a trial that never reached ``sample_relative``.
        single_objective: Multi-objective studies are refused.
        drop_single_values: Leave single-value distributions out of the relative space.
        models_constraints: The model uses ``trial.set_constraint``; if not, the first
            constrained trial draws a warning (once per sampler).

    Instance attribute: ``_search_space`` (``None``: define-by-run).
    """

    namespace: ClassVar[AttrNamespace]
    fallback_source: ClassVar[str]
    single_objective: ClassVar[bool] = False
    drop_single_values: ClassVar[bool] = True
    models_constraints: ClassVar[bool] = True
    _search_space: dict[str, BaseDistribution] | None = None

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        self._check_objectives(study)
        if self._search_space is not None:
            space: Mapping[str, BaseDistribution] = self._search_space
        else:
            space = self._history_space(study._get_trials(deepcopy=False, use_cache=True), trial)
        if not self.drop_single_values:
            return dict(space)
        return {name: d for name, d in space.items() if not d.single()}

    def _history_space(
        self, trials: Iterable[FrozenTrial], trial: FrozenTrial
    ) -> Mapping[str, BaseDistribution]:
        """The modelled space when none was given: the define-by-run union of the history."""
        return latest_search_space(t for t in trials if t.number != trial.number)

    def _history(
        self,
        study: Study,
        trial: FrozenTrial,
        *,
        states: Sequence[TrialState] | None = None,
        fresh: bool = True,
    ) -> list[FrozenTrial]:
        """Every other trial of the study (``states`` only, if given).

        ``fresh`` reads storage now (RUNNING trials of other workers as they are this moment),
        as Optuna's TPE and GP samplers do for their pending points; otherwise the study's
        cache, refreshed once per ask, is enough.
        """
        trials = study._get_trials(deepcopy=False, states=states, use_cache=not fresh)
        return [t for t in trials if t.number != trial.number]

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        fixed = trial.system_attrs.get("fixed_params")
        if fixed is not None and trial.params and set(trial.params) <= set(fixed):
            # Every value came from enqueue_trial: the user chose it, not the sampler.
            self._write(study, trial, {"source": "enqueued"})
        elif self.namespace.key("source") not in trial.user_attrs:
            # A trial whose parameters were all new (the first one, say) never reached
            # sample_relative; say so, so that every trial carries its source.
            self._write(study, trial, self._fallback_attrs())
        if trial.constraints and not self.models_constraints:
            self._warn_constraints_ignored()

    def _fallback_attrs(self) -> dict[str, Any]:
        """The attributes of a trial that never reached ``sample_relative``."""
        return {"source": self.fallback_source}

    def _note_independent(self, study: Study, trial: FrozenTrial, name: str) -> None:
        """Add ``name`` to the trial's ``<namespace>:independent``: drawn alone, from its prior
        (a parameter outside the modelled space)."""
        try:
            self.namespace.append(study._storage, trial._trial_id, "independent", name, user=True)
        except UpdateFinishedTrialError:
            pass  # failed by another worker meanwhile (see _write)

    def _warn_constraints_ignored(self) -> None:
        if getattr(self, "_warned_constraints", False):
            return
        self._warned_constraints = True
        warnings.warn(
            f"{type(self).__name__} ignores the constraints set with trial.set_constraint: "
            "its model sees only the objective value. RandomForestSampler and AxSampler "
            "model constraints.",
            UserWarning,
            stacklevel=2,
        )

    def _write(self, study: Study, trial: FrozenTrial, attrs: Mapping[str, Any]) -> None:
        """Write ``attrs`` as this sampler's user attributes of a running ``trial``.

        A trial that another worker has meanwhile failed (its heartbeat looked stale) can no
        longer be written; that is not this worker's error, so it is skipped: Optuna's own
        ``tell`` reports the finished trial.
        """
        try:
            for name, value in attrs.items():
                self.namespace.write(study._storage, trial._trial_id, name, value, user=True)
        except UpdateFinishedTrialError:
            _logger.debug(f"Trial {trial.number} finished elsewhere; its attributes are not set.")

    def _check_objectives(self, study: Study) -> None:
        if self.single_objective and study._is_multi_objective():
            raise ValueError(
                f"{type(self).__name__} supports single-objective studies only; "
                "it cannot be used for multi-objective optimization."
            )
