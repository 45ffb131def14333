"""What PBT stores in a study: the one owner of its attribute names.

Every segment (one trial) carries its identity in user attributes ``pbt:<field>`` of
:class:`SegmentAttrs`; while it runs and when it ends, the worker adds the status attributes
named in :data:`STATUS` (``pbt:checkpoint``, ``pbt:heartbeat``, ...). The study carries
``pbt:config`` (:class:`PopulationConfig`), which every worker must agree on. The wrapper writes
these, the population view and the lineage read them: nothing else names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import MISSING
from dataclasses import replace
from typing import Any

from optuna_advanced._attrs import AttrNamespace

ATTRS = AttrNamespace("pbt")

#: Status attributes added to a segment after it was created.
CHECKPOINT = "checkpoint"  # artifact id of the state the segment saved
HEARTBEAT = "heartbeat"  # wall-clock time of the running worker's last sign of life
ERROR = "error"  # repr of the exception the objective raised
FAILED = "failed"  # why the pack failed it ("stale": its worker stopped beating)
NAN = "nan"  # the objective returned NaN (stored as the worst value)
DUPLICATE_OF = "duplicate_of"  # abandoned: another segment of the same (member, generation) won
STATUS = (CHECKPOINT, HEARTBEAT, ERROR, FAILED, NAN, DUPLICATE_OF)

_MEMBER = ATTRS.key("member")
_DUPLICATE = ATTRS.key(DUPLICATE_OF)


@dataclass(frozen=True)
class SegmentAttrs:
    """A segment's identity: which member, which steps, where it came from.

    The fields are stored in this order, the ones a user looks for first: optuna-dashboard
    lists a trial's user attributes in the order they were written, and its box shows about
    six lines before it scrolls.

    Attributes:
        member: The population member it trains.
        start_step: Global step it starts from (the restored state's step).
        end_step: Global step it trains to.
        parent: The member's previous segment (``None`` for the first).
        exploited: The segment it copied at an exploit, if any.
        perturbation: How explore changed each hyperparameter (``"*1.2"``, ``"resample"``,
            ``"+1"``, ``"pb2"``), when it exploited.
        generation: Its index in the member's chain (0 for the first segment).
        restore: Artifact id of the checkpoint it starts from.
        restore_from: The segment whose checkpoint that is (the parent or the exploited one).
        attempt: 0, then 1, 2, ... for retries of a failed segment.
        retry_of: The failed segment a retry replaces.
    """

    member: int
    start_step: int
    end_step: int
    parent: int | None = None
    exploited: int | None = None
    perturbation: dict[str, str] | None = None
    generation: int = 0
    restore: str | None = None
    restore_from: int | None = None
    attempt: int = 0
    retry_of: int | None = None

    def user_attrs(self) -> dict[str, Any]:
        """``pbt:<field>`` -> value, as ``enqueue_trial(user_attrs=...)`` takes them."""
        values = asdict(self)
        if values["retry_of"] is None:
            del values["retry_of"]  # only retries carry it
        return {ATTRS.key(name): value for name, value in values.items()}

    def retry(self, failed_number: int) -> SegmentAttrs:
        """The same segment again, after ``failed_number`` failed."""
        return replace(self, attempt=self.attempt + 1, retry_of=failed_number)

    @classmethod
    def read(cls, user_attrs: Mapping[str, Any]) -> SegmentAttrs | None:
        """The identity stored in a trial's user attributes; ``None`` for a trial that is not a
        PBT segment or that was abandoned as a duplicate."""
        if _MEMBER not in user_attrs or _DUPLICATE in user_attrs:
            return None
        values = {f.name: ATTRS.read(user_attrs, f.name, f.default) for f in fields(cls)}
        return cls(**values)


@dataclass(frozen=True)
class PopulationConfig:
    """The study-level settings every worker of a population must share (``pbt:config``)."""

    population_size: int
    perturbation_interval: int
    n_steps: int
    explore: str  # "perturb", "pb2", "custom", or "none" without exploit
    quantile_fraction: float
    burn_in_period: int = 0
    synch: bool = False

    KEY = "pbt:config"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The settings a study stored before they existed had (for resuming old studies)."""
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}

    @classmethod
    def stored(cls, study_user_attrs: Mapping[str, Any]) -> dict[str, Any] | None:
        value = study_user_attrs.get(cls.KEY)
        return dict(value) if value is not None else None
