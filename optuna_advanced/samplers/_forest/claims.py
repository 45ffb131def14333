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
    parameters (it may repeat one of them on purpose, when nothing unseen is left).
    """
    mine = digest(params)
    try:
        namespace.write(study._storage, trial._trial_id, "claim", mine)
    except UpdateFinishedTrialError:
        return False  # failed by another worker meanwhile: its parameters no longer matter
    for other in study._storage.get_all_trials(study._study_id, deepcopy=False):
        if other.number == trial.number or other.number in known:
            continue
        if namespace.read(other.system_attrs, "claim", None) == mine:
            return True
    return False
