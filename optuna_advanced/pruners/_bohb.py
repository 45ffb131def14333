"""BOHBPruner: Hyperband whose brackets take trials in HpBandSter's order, not at random."""

from __future__ import annotations

import optuna
from optuna.pruners import HyperbandPruner
from optuna.trial import FrozenTrial

from optuna_advanced._checks import check_int


class BOHBPruner(HyperbandPruner):
    """Hyperband that fills its brackets in turn, most aggressive first, as BOHB does.

    Optuna's ``HyperbandPruner`` assigns each trial to a bracket by hashing the study name and
    the trial number, in proportion to the brackets' sizes. Early trials then land in any
    bracket, including the one that trains every configuration to ``max_resource``; those
    trials are chosen before any model exists, so most of the first budget goes to random
    configurations at full fidelity.

    BOHB (Falkner et al., 2018, Alg. 1 with Hyperband's outer loop) and HpBandSter run the
    brackets of one Hyperband iteration in turn, from the one with the most configurations at
    ``min_resource`` down to the one with a few at ``max_resource``. This pruner does the
    same, asynchronously: trial numbers are cut into cycles of the brackets' total size, and
    inside a cycle the first ``n_0`` numbers go to bracket 0 (most aggressive), the next
    ``n_1`` to bracket 1, and so on. The sizes are Hyperband's (``ceil((s_max + 1) / (s + 1) *
    eta**s)``, exactly as in ``HyperbandPruner``), so every bracket receives the same share of
    trials as before; only the order changes. Consequences:

    - the first trials are cheap, so ``BOHBSampler`` has a model at the lowest budget after a
      handful of steps, and the expensive brackets of each cycle are sampled by a model;
    - the assignment depends only on the trial number, which Optuna's storages hand out
      without gaps or repeats, so any number of processes agree on it with no shared state;
    - within a bracket, promotions follow ``SuccessiveHalvingPruner`` (asynchronous: a trial
      continues if it is in the top ``1 / reduction_factor`` of its rung so far).

    Measured on the benchmark suite's ``mf`` problems (see ``benchmarks/results/report.md``).
    With a sampler other than ``BOHBSampler`` it behaves as a Hyperband with a different but
    equally sized bracket assignment.

    Args:
        min_resource: Budget of the first rung (as in ``HyperbandPruner``).
        max_resource: Budget at which trials complete, or ``"auto"``.
        reduction_factor: ``eta``: each rung keeps the top ``1 / eta`` of trials.
        bootstrap_count: Trials a rung must hold before any is promoted.

    Example:
        >>> import optuna
        >>> import optuna_advanced
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -5, 5)
        ...     for step in range(1, 28):
        ...         trial.report((x - 1) ** 2 + 1 / step, step)
        ...         if trial.should_prune():
        ...             raise optuna.TrialPruned()
        ...     return (x - 1) ** 2
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(
        ...     sampler=optuna_advanced.BOHBSampler(seed=0),
        ...     pruner=optuna_advanced.BOHBPruner(min_resource=1, max_resource=27),
        ... )
        >>> study.optimize(objective, n_trials=30)
        >>> study.best_value < 1.0
        True
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
    ) -> None:
        me = "BOHBPruner"
        check_int(me, "min_resource", min_resource, minimum=1)
        if max_resource != "auto":
            try:
                check_int(me, "max_resource", max_resource, minimum=min_resource)
            except (TypeError, ValueError) as exc:
                raise type(exc)(str(exc).replace(", got", " (min_resource) or 'auto', got"))
        check_int(me, "reduction_factor", reduction_factor, minimum=2)
        check_int(me, "bootstrap_count", bootstrap_count, minimum=0)
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            bootstrap_count=bootstrap_count,
        )

    def _get_bracket_id(self, study: optuna.study.Study, trial: FrozenTrial) -> int:
        if self._n_brackets is None or not self._trial_allocation_budgets:
            return 0
        position = trial.number % self._total_trial_allocation_budget
        for bracket_id, size in enumerate(self._trial_allocation_budgets):
            if position < size:
                return bracket_id
            position -= size
        raise AssertionError("bracket sizes sum to the cycle length")  # pragma: no cover
