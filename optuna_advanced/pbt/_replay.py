"""What a population found, as a schedule, and training a fresh member on it.

PBT's result is not one configuration but a *schedule*: the hyperparameters the best member's
weights were trained with, segment by segment, across the exploits that copied them from other
members. :func:`schedule` follows a segment's checkpoints back to step 0 (through ``restore_from``:
its parent, or the segment it copied); :func:`perturbations` lists every exploit (Ray Tune's
policy log); :func:`replay` trains one fresh member on a schedule from scratch, with the same
objective, as Ray Tune's ``PopulationBasedTrainingReplay`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import tempfile
from typing import Any

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced.pbt._checkpoint import Checkpoint
from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import CHECKPOINT
from optuna_advanced.pbt._schema import SegmentAttrs

__all__ = ["perturbations", "replay", "schedule"]

_REPLAY = ATTRS.key("replay_step")


def _segments(study: optuna.Study) -> dict[int, tuple[FrozenTrial, SegmentAttrs]]:
    out = {}
    for trial in study.get_trials(deepcopy=False):
        info = SegmentAttrs.read(trial.user_attrs)
        if info is not None:
            out[trial.number] = (trial, info)
    return out


def schedule(study: optuna.Study, trial: FrozenTrial) -> list[dict[str, Any]]:
    """The hyperparameters ``trial``'s model was trained with, from step 0 to its end.

    Each entry is ``{"start_step", "end_step", "params", "trial"}`` (a segment of the chain of
    checkpoints that ``trial`` restored), oldest first; consecutive entries with the same
    parameters are merged.
    """
    segments = _segments(study)
    chain = []
    number: int | None = trial.number
    while number is not None and number in segments:
        frozen, info = segments[number]
        chain.append((frozen, info))
        number = info.restore_from
    out: list[dict[str, Any]] = []
    for frozen, info in reversed(chain):
        params = dict(frozen.params)
        if out and out[-1]["params"] == params and out[-1]["end_step"] == info.start_step:
            out[-1]["end_step"] = info.end_step
            continue
        out.append(
            {
                "start_step": info.start_step,
                "end_step": info.end_step,
                "params": params,
                "trial": frozen.number,
            }
        )
    return out


def perturbations(study: optuna.Study) -> list[dict[str, Any]]:
    """Every exploit of the population, in trial order (Ray Tune's policy log).

    Each row: ``trial`` (the new segment), ``member``, ``step`` (where it starts), ``copied``
    (the segment whose checkpoint it took) and ``copied_member``, ``before`` (the member's
    hyperparameters until then), ``after`` and ``how`` (the perturbation of each one).
    """
    segments = _segments(study)
    rows = []
    for number in sorted(segments):
        frozen, info = segments[number]
        if info.exploited is None or info.exploited not in segments:
            continue
        parent = segments.get(info.parent) if info.parent is not None else None
        rows.append(
            {
                "trial": number,
                "member": info.member,
                "step": info.start_step,
                "copied": info.exploited,
                "copied_member": segments[info.exploited][1].member,
                "before": dict(parent[0].params) if parent is not None else None,
                "after": dict(frozen.params),
                "how": info.perturbation,
            }
        )
    return rows


def replay(
    objective: Callable[[optuna.Trial, Checkpoint], float],
    steps: Sequence[dict[str, Any]],
    study: optuna.Study,
    *,
    artifact_store: Any = None,
) -> FrozenTrial:
    """Train one fresh member on ``steps`` (a :func:`schedule`) and return its last trial.

    Each entry becomes one trial of ``study`` with the entry's parameters (enqueued), trained
    by ``objective(trial, checkpoint)`` over the entry's steps from the previous entry's
    checkpoint, exactly as a PBT segment; the trials carry ``pbt:replay_step`` (the entry's
    index) and are not segments of any population.
    """
    if not steps:
        raise ValueError("replay: the schedule is empty.")
    if artifact_store is None:
        from optuna.artifacts import FileSystemArtifactStore

        artifact_store = FileSystemArtifactStore(tempfile.mkdtemp(prefix="pbt_replay_"))
    restore: str | None = None
    restored_from: int | None = None
    last: FrozenTrial | None = None
    for index, entry in enumerate(steps):
        study.enqueue_trial(dict(entry["params"]), user_attrs={_REPLAY: index})
        trial = study.ask()
        checkpoint = Checkpoint(
            trial=trial,
            artifact_store=artifact_store,
            restore_id=restore,
            restored_from=restored_from,
            member=0,
            generation=index,
            start_step=int(entry["start_step"]),
            end_step=int(entry["end_step"]),
        )
        try:
            value = objective(trial, checkpoint)
        except Exception:
            study.tell(trial, state=TrialState.FAIL)
            raise
        last = study.tell(trial, value)
        restore = ATTRS.read(last.user_attrs, CHECKPOINT, None)
        restored_from = last.number
    assert last is not None
    return last
