"""What every sampler of the pack shares, so each sampler module holds only its algorithm.

- **Seeds**: a sampler that derives its random streams from an integer seed resolves ``None``
  to a fresh one here (:func:`resolve_seed`), so every process and pickle sees the same number.
- **Search space**: the relative search space is the ``search_space`` given up front, else the
  define-by-run view of the study's history (:func:`optuna_advanced._space.latest_search_space`:
  every parameter seen, with its newest distribution), without single-value distributions
  (they have nothing to model) unless the algorithm wants them.
- **How a trial was chosen**: a user attribute ``<namespace>:<source_key>`` on every trial; a
  trial that never reached ``sample_relative`` (all its parameters new, e.g. the first one) gets
  the sampler's fallback label in ``after_trial``.
- **Single-objective algorithms** refuse a multi-objective study with one message.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
import random
from typing import Any
from typing import ClassVar

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._space import latest_search_space

__all__ = ["PackSampler", "resolve_seed"]


def resolve_seed(seed: int | None) -> int:
    """``seed``, or a fresh one from the operating system when it is ``None``."""
    return seed if seed is not None else random.SystemRandom().randrange(2**31)


class PackSampler(BaseSampler):
    """Base of the pack's samplers (see the module docstring).

    Class attributes a subclass sets:
        namespace: Its attribute namespace (``AttrNamespace("bohb")``).
        source_key: The attribute that says how a trial was chosen.
        fallback_source: Its value for a trial that never reached ``sample_relative``.
        single_objective: Multi-objective studies are refused.
        drop_single_values: Leave single-value distributions out of the relative space.

    Instance attribute: ``_search_space`` (``None``: define-by-run).
    """

    namespace: ClassVar[AttrNamespace]
    source_key: ClassVar[str] = "source"
    fallback_source: ClassVar[str]
    single_objective: ClassVar[bool] = False
    drop_single_values: ClassVar[bool] = True
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
        # A trial whose parameters were all new (the first one, say) never reached
        # sample_relative; say so, so that every trial carries its source.
        if self.namespace.key(self.source_key) not in trial.user_attrs:
            self._write(study, trial, {self.source_key: self.fallback_source})

    def _write(self, study: Study, trial: FrozenTrial, attrs: Mapping[str, Any]) -> None:
        """Write ``attrs`` as this sampler's user attributes of a running ``trial``."""
        for name, value in attrs.items():
            self.namespace.write(study._storage, trial._trial_id, name, value, user=True)

    def _check_objectives(self, study: Study) -> None:
        if self.single_objective and study._is_multi_objective():
            raise ValueError(
                f"{type(self).__name__} supports single-objective studies only; "
                "it cannot be used for multi-objective optimization."
            )
