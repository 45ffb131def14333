"""Multi-fidelity native peers: HpBandSter's BOHB, DEHB and SMAC3's Hyperband, run by the runner.

Each loop asks its library for a (configuration, budget) pair, evaluates it as a new enqueued
trial of the run's Optuna study, and tells the library the result, until ``done()``:

* ``hpbandster_loop``: HpBandSter's ``BOHB`` with its own Pyro nameserver and one worker thread,
  all on 127.0.0.1 (the nameserver takes a free port; the run id is unique per run). The worker
  evaluates; the master stops handing out jobs once ``done()`` is true.
* ``dehb_loop``: ``dehb.DEHB`` through ``ask``/``tell``, one worker, no Dask cluster.
* ``smac_mf_loop``: SMAC3's ``MultiFidelityFacade`` (Hyperband intensifier) through
  ``ask``/``tell``.

All three use eta = 3, min budget 1 and max budget the objective's ``max_fidelity`` (the budgets
of our Hyperband contenders), and the search space of the objective's ``space`` attribute.

Cost is counted exactly as for our Optuna contenders. These tools restart a configuration at
every budget, so every (configuration, budget b) is a new trial from step 1 that pays for its
steps again. Budget ``b`` is rounded up to an integer step and stored in the trial's user
attribute ``mf:budget``; :class:`BudgetPruner` stops the trial at the first reported step
``>= b`` (a pruned trial, cost that step) unless that step is the problem's max fidelity, where
the trial completes and becomes a candidate incumbent like any other full-fidelity trial. An
objective that reports only at some steps (``hgb_digits``: 1, 3, 9, 27) is stopped at its first
report ``>= b`` and pays that step. The tool is told the value at the last reported step, or
``FAILED_LOSS`` when the trial failed before reporting a finite value.

Seeding: the ConfigSpace space and each tool get the run's seed. HpBandSter's BOHB draws from
NumPy's global generator, which is seeded too (a run owns its worker process). SMAC3 is
reproducible only with a fixed ``PYTHONHASHSEED``, which the runner sets for its workers.
Libraries are imported lazily: they are the optional ``bench`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import math
import os
from pathlib import Path
import tempfile
from typing import Any
import uuid

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from benchmarks.configspace import plain_params
from benchmarks.configspace import to_configspace
from benchmarks.natives import static_space

Done = Callable[[], bool]
BUDGET_ATTR = "mf:budget"
FAILED_LOSS = 1e12
ETA = 3
_LOCALHOST = "127.0.0.1"


class BudgetPruner(BasePruner):
    """Prunes a trial once its reported step reaches its ``mf:budget`` user attribute.

    A trial without the attribute is never pruned, nor is one that reached ``max_fidelity``
    (it completes).
    """

    def __init__(self, max_fidelity: int) -> None:
        self._max_fidelity = max_fidelity

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        budget = trial.user_attrs.get(BUDGET_ATTR)
        step = trial.last_step
        if budget is None or step is None:
            return False
        return bool(budget <= step < self._max_fidelity)


def budget_step(budget: float) -> int:
    """The integer step a tool's budget is run to: rounded up, float noise ignored."""
    return max(1, math.ceil(round(budget, 6)))


def evaluate_at(study: optuna.Study, objective: Any, params: dict[str, Any], step: int) -> float:
    """Evaluate ``params`` from scratch up to ``step`` as the study's next trial.

    Returns the value at the last reported step (the final value if the objective reports
    nothing), or ``FAILED_LOSS``.
    """
    study.enqueue_trial(params, user_attrs={BUDGET_ATTR: step})
    study.optimize(objective, n_trials=1, catch=(Exception,))
    return _told_value(study.get_trials(deepcopy=False)[-1])


def _told_value(trial: FrozenTrial) -> float:
    value: float | None = None
    if trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    elif trial.state == TrialState.COMPLETE:
        value = trial.value
    if value is None or not math.isfinite(value):
        return FAILED_LOSS
    return float(value)


def _max_fidelity(objective: Any) -> int:
    max_fidelity = getattr(objective, "max_fidelity", None)
    if not isinstance(max_fidelity, int) or max_fidelity <= 1:
        raise ValueError("multi-fidelity peers need an objective with `max_fidelity` > 1")
    return max_fidelity


def dehb_loop(study: optuna.Study, objective: Any, seed: int, budget: int, done: Done) -> None:
    from dehb import DEHB
    from loguru import logger

    cs = to_configspace(static_space(objective), seed)
    with tempfile.TemporaryDirectory() as out:
        # DEHB reconfigures loguru (stdout and a log file in ``out``) and saves its state only
        # when asked to (save_freq="end" with ask/tell).
        optimizer = DEHB(
            cs=cs,
            min_fidelity=1,
            max_fidelity=_max_fidelity(objective),
            eta=ETA,
            n_workers=1,
            seed=seed,
            output_path=out,
            save_freq="end",
            log_level="ERROR",
        )
        try:
            while not done():
                job = optimizer.ask()
                step = budget_step(job["fidelity"])
                loss = evaluate_at(study, objective, plain_params(job["config"]), step)
                optimizer.tell(job, {"fitness": loss, "cost": float(step)})
        finally:
            logger.remove()  # DEHB's handlers replaced loguru's: this closes its log file


def smac_mf_loop(study: optuna.Study, objective: Any, seed: int, budget: int, done: Done) -> None:
    from smac import MultiFidelityFacade
    from smac import Scenario
    from smac.runhistory.dataclasses import TrialValue

    cs = to_configspace(static_space(objective), seed)
    with tempfile.TemporaryDirectory() as out:
        scenario = Scenario(
            cs,
            deterministic=True,
            n_trials=budget,  # every trial costs at least 1: never the limit
            min_budget=1,
            max_budget=_max_fidelity(objective),
            seed=seed,
            output_directory=Path(out),
        )
        smac = MultiFidelityFacade(
            scenario,
            target_function=lambda config, seed=0, budget=1.0: 0.0,
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=ETA),
            overwrite=True,
            logging_level=40,
        )
        while not done():
            info = smac.ask()
            assert info.budget is not None
            step = budget_step(info.budget)
            loss = evaluate_at(study, objective, plain_params(info.config), step)
            smac.tell(info, TrialValue(cost=loss))


def hpbandster_loop(
    study: optuna.Study, objective: Any, seed: int, budget: int, done: Done
) -> None:
    # Pyro4 reads these when imported; its default serializer hangs on NumPy 2 values.
    os.environ.setdefault("PYRO_SERIALIZER", "pickle")
    os.environ.setdefault("PYRO_SERIALIZERS_ACCEPTED", "pickle,serpent,json,marshal")
    from hpbandster.core.nameserver import NameServer
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB

    class StudyWorker(Worker):  # type: ignore[misc]
        def compute(self, config: dict[str, Any], budget: float, **kwargs: Any) -> dict[str, Any]:
            loss = evaluate_at(study, objective, plain_params(config), budget_step(budget))
            return {"loss": loss, "info": {}}

    class StoppingBOHB(BOHB):  # type: ignore[misc]
        # The master asks for active iterations only while no job runs: once the budget is
        # spent there are none, so it schedules nothing more and ``run`` returns.
        def active_iterations(self) -> list[int]:
            return [] if done() else list(super().active_iterations())

    np.random.seed(seed)  # BOHB's sampling and KDE draws use NumPy's global generator
    run_id = f"mf-native-{uuid.uuid4().hex}"
    nameserver = NameServer(run_id=run_id, host=_LOCALHOST, port=0)
    host, port = nameserver.start()
    try:
        # Without a logger of its own, a Worker sets the root logger to DEBUG.
        logger = logging.getLogger("hpbandster.worker")
        worker = StudyWorker(
            run_id=run_id, nameserver=host, nameserver_port=port, host=host, logger=logger
        )
        worker.run(background=True)
        optimizer = StoppingBOHB(
            configspace=to_configspace(static_space(objective), seed),
            run_id=run_id,
            nameserver=host,
            nameserver_port=port,
            host=host,
            eta=ETA,
            min_budget=1,
            max_budget=_max_fidelity(objective),
        )
        try:
            while not done():
                optimizer.run(n_iterations=1)  # one Hyperband bracket, or until done()
        finally:
            optimizer.shutdown(shutdown_workers=True)
    finally:
        nameserver.shutdown()
