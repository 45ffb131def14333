"""Claims: workers asking at the same moment do not propose one configuration twice.

Two workers that ask at once see the same history, and the forest's local search can bring both
to the same neighbour of a good trial (or, on a small finite space, both to the one
configuration left). Neither sees the other's pick: a trial's parameters reach the storage only
when its objective suggests them. So a pick is first *claimed*: its digest is written to the
trial (system attribute ``<namespace>:claim``), and only then are the other trials' claims read.
Of two workers with the same pick, whichever reads second has the first's claim in front of it
(every storage Optuna supports is read-your-writes and serialises writes to one study), so at
least one of them yields and proposes again with that configuration counted as seen. Both may
yield; neither can miss the other.

The claim carries the pick itself as well as its digest, because a running trial's stored
parameters are only those its objective has suggested *so far*: read halfway, ``{"x": 2}`` of a
pick ``{"x": 2, "y": 1}`` looks like a configuration in which ``y`` is inactive. Other workers
read a running trial as :func:`claimed_params` (its pick, then what it stored), never as the
half.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Mapping
import hashlib
import json
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.study import Study
from optuna.trial import FrozenTrial

from optuna_advanced._attrs import AttrNamespace


def digest(params: Mapping[str, Any]) -> str:
    """A short fingerprint of a configuration (names and values; ``1`` and ``1.0`` differ)."""
    text = json.dumps([[k, repr(v)] for k, v in sorted(params.items())])
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def clashes(
    study: Study,
    trial: FrozenTrial,
    namespace: AttrNamespace,
    params: Mapping[str, Any],
    known: Collection[int],
) -> bool:
    """Claim ``params`` for ``trial``; whether another trial claimed the same configuration.

    Trials numbered in ``known`` are skipped: the pick was already checked against their
    parameters (it may repeat one of them on purpose, when nothing unseen is left). Only
    finished trials belong there: a running one may not have stored all its parameters yet.
    """
    mine = digest(params)
    try:
        namespace.write(study._storage, trial._trial_id, "claim", [mine, dict(params)])
    except UpdateFinishedTrialError:
        return False  # failed by another worker meanwhile: its parameters no longer matter
    for other in study._storage.get_all_trials(study._study_id, deepcopy=False):
        if other.number == trial.number or other.number in known:
            continue
        if _claim(namespace, other)[0] == mine:
            return True
    return False


def claimed_params(namespace: AttrNamespace, trial: FrozenTrial) -> dict[str, Any]:
    """The parameters ``trial`` has or will have: its claimed pick, overridden by its fixed
    parameters (``enqueue_trial``: Optuna suggests those instead of the pick) and by the
    parameters it has stored (its objective may add others, drawn independently)."""
    fixed = trial.system_attrs.get("fixed_params", {})
    return {**_claim(namespace, trial)[1], **fixed, **trial.params}


def _claim(namespace: AttrNamespace, trial: FrozenTrial) -> tuple[str | None, dict[str, Any]]:
    value = namespace.read(trial.system_attrs, "claim", None)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict)):
        return None, {}  # no claim (another sampler's trial, or not claimed yet)
    return value[0], value[1]
