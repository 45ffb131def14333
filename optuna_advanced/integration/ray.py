"""Ray Tune's ``OptunaSearch``, handing the pack's samplers the budgets that schedulers stop at.

Ray Tune (2.60) does not pass a searcher the result on which a scheduler (ASHA, Hyperband) or a
stopper stops a trial: it calls ``on_trial_complete`` with it, and Ray's ``OptunaSearch`` tells
that value as the trial's final one without reporting it at its iteration. A trial ASHA stops
at iteration 1 then has no intermediate values, and ``BOHBSampler`` takes its iteration-1 loss
for a fully trained value. This ``OptunaSearch`` reports that last result at its iteration
first, so per-budget models see every budget; with ``max_resource`` it also tells a trial that
stopped before ``max_resource`` iterations as PRUNED (its value the last one reported), as an
Optuna pruner would have.
"""

from __future__ import annotations

from typing import Any

from optuna.trial import TrialState

from optuna_advanced._checks import check_int
from optuna_advanced._optional import import_optional

import_optional("ray.tune.search.optuna", needed_by="optuna_advanced.integration.ray", extra="ray")
from ray.tune.search.optuna import OptunaSearch as _RayOptunaSearch  # noqa: E402

__all__ = ["OptunaSearch"]


class OptunaSearch(_RayOptunaSearch):
    """``ray.tune.search.optuna.OptunaSearch`` that records the budget a scheduler stopped at.

    Use it instead of Ray's whenever a scheduler or stopper ends trials early and the sampler
    models budgets (``BOHBSampler``), or whenever the study should show stopped trials as
    PRUNED. Everything else is Ray's class (same arguments, same pickling).

    Args:
        *args: Ray's ``OptunaSearch`` arguments (``space``, ``metric``, ``mode``,
            ``sampler``, ...).
        max_resource: Iterations (``training_iteration``) of a fully trained trial, e.g.
            ASHA's ``max_t``. A trial that ends before it is told PRUNED. ``None``: every
            ended trial is COMPLETE, as in Ray's class.
        **kwargs: Ray's ``OptunaSearch`` keyword arguments.

    Example:
        >>> from optuna.distributions import FloatDistribution
        >>> from optuna_advanced import BOHBSampler
        >>> from optuna_advanced.integration.ray import OptunaSearch
        >>> searcher = OptunaSearch(
        ...     space={"x": FloatDistribution(-5.0, 5.0)},
        ...     metric="loss",
        ...     mode="min",
        ...     sampler=BOHBSampler(seed=0),
        ...     max_resource=9,
        ... )
        >>> config = searcher.suggest("trial-1")
        >>> searcher.on_trial_result("trial-1", {"loss": 2.0, "training_iteration": 1})
        >>> searcher.on_trial_complete("trial-1", {"loss": 1.5, "training_iteration": 3})
        >>> trial = searcher._ot_study.trials[0]
        >>> trial.state.name, trial.intermediate_values
        ('PRUNED', {1: 2.0, 3: 1.5})
    """

    def __init__(self, *args: Any, max_resource: int | None = None, **kwargs: Any) -> None:
        check_int("OptunaSearch", "max_resource", max_resource, minimum=1, none=True)
        super().__init__(*args, **kwargs)
        self._max_resource = max_resource

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        ot_trial = self._ot_trials.get(trial_id)
        single = not isinstance(self.metric, list)
        if result and not error and ot_trial is not None and single:
            if trial_id not in self._completed_trials:
                value = result.get(self.metric)
                step = result.get("training_iteration")
                if value is not None and step is not None:
                    stored = ot_trial.storage.get_trial(ot_trial._trial_id)
                    if step not in stored.intermediate_values:
                        ot_trial.report(value, step)
                    if self._max_resource is not None and step < self._max_resource:
                        assert self._ot_study is not None
                        self._ot_study.tell(ot_trial, state=TrialState.PRUNED)
                        self._completed_trials.add(trial_id)
                        return
        super().on_trial_complete(trial_id, result=result, error=error)
