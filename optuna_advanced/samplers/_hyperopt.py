"""HyperoptSampler: Hyperopt's suggest algorithms (TPE, anneal, random, ATPE) inside Optuna.

The bridge is a translation, not a reimplementation: at each ask it rebuilds Hyperopt's
``Trials`` from the study's storage and calls the native ``suggest`` function, seeded exactly as
``hyperopt.fmin`` seeds it, so a sequential study reproduces ``fmin``'s trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
import functools
import inspect
import math
from typing import Any
from typing import get_args
from typing import Literal
import zlib

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import Study
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._optional import import_optional
from optuna_advanced._space import n_values
from optuna_advanced._space import nearest_value
from optuna_advanced._space import value_in_distribution
from optuna_advanced.samplers._base import PackSampler
from optuna_advanced.samplers._base import resolve_seed

Algo = Literal["tpe", "anneal", "rand", "atpe"]
_ALGOS: tuple[str, ...] = get_args(Algo)
_SEED_BOUND = 2**31 - 1  # fmin draws each suggestion's seed as rstate.integers(2**31 - 1)


def _load_algo(algo: str) -> Callable[..., Any]:
    import_optional("hyperopt", needed_by="HyperoptSampler", extra="hyperopt")
    if algo == "atpe":
        import_optional("lightgbm", needed_by="HyperoptSampler(algo='atpe')", extra="atpe")
        from hyperopt import atpe

        return atpe.suggest  # type: ignore[no-any-return]
    from hyperopt import anneal
    from hyperopt import rand
    from hyperopt import tpe

    return {"tpe": tpe.suggest, "anneal": anneal.suggest, "rand": rand.suggest}[algo]  # type: ignore[no-any-return]


class _Column:
    """One Optuna distribution as one Hyperopt label, and the raw values between them.

    The mapping (what a Hyperopt user would write by hand):

    - float: ``hp.uniform(name, low, high)``; log: ``hp.loguniform(name, ln low, ln high)``.
    - int or float with ``step`` s and ``low`` a multiple of s (ints with step 1, floats such as
      ``[0, 1]`` step 0.1): ``hp.quniform(name, low - s/2, high + s/2, s)``; the half-cells at
      both ends give every grid point the same prior mass (``hp.quniform(name, low, high, s)``
      would give the end points half). Otherwise the grid index: ``low + s *
      hp.quniform(name, -0.5, K + 0.5, 1)`` with ``K = (high - low) / s``.
    - log int: ``hp.qloguniform(name, ln(low - 0.5), ln(high + 0.5), 1)``.
    - categorical: ``hp.choice(name, range(len(choices)))``; Hyperopt's raw value is the
      index for any ``hp.choice``, so this equals ``hp.choice(name, choices)``.

    Raw values that rounding pushes past an end are clipped back onto the grid.
    """

    def __init__(self, name: str, dist: BaseDistribution) -> None:
        self.name = name
        self.dist = dist
        self.offset = 0.0  # raw = (value - offset) / scale for the grid-index form
        self.scale = 1.0
        self.n_cells = 0
        if isinstance(dist, (IntDistribution, FloatDistribution)) and dist.step is not None:
            step = float(dist.step)
            self.n_cells = int(n_values(dist)) - 1
            ratio = dist.low / step
            if abs(ratio - round(ratio)) > 1e-9 * max(1.0, abs(ratio)):
                self.offset, self.scale = float(dist.low), step

    def expression(self) -> Any:
        from hyperopt import hp

        d, name = self.dist, self.name
        if isinstance(d, CategoricalDistribution):
            return hp.choice(name, list(range(len(d.choices))))
        assert isinstance(d, (IntDistribution, FloatDistribution))
        if d.log:
            if isinstance(d, IntDistribution):
                return hp.qloguniform(name, math.log(d.low - 0.5), math.log(d.high + 0.5), 1)
            return hp.loguniform(name, math.log(d.low), math.log(d.high))
        if d.step is None:
            return hp.uniform(name, d.low, d.high)
        if self.scale != 1.0 or self.offset != 0.0:
            return hp.quniform(name, -0.5, self.n_cells + 0.5, 1)
        half = float(d.step) / 2
        return hp.quniform(name, d.low - half, d.high + half, d.step)

    def to_raw(self, value: Any) -> float | int:
        d = self.dist
        if isinstance(d, CategoricalDistribution):
            return int(d.to_internal_repr(value))  # Hyperopt counts choices with bincount
        return (float(value) - self.offset) / self.scale

    def from_raw(self, raw: float) -> Any:
        d = self.dist
        if isinstance(d, CategoricalDistribution):
            return d.choices[int(raw)]
        return nearest_value(d, float(raw) * self.scale + self.offset)


def hyperopt_params(
    search_space: Mapping[str, BaseDistribution], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The Optuna parameters of Hyperopt's raw values for :func:`hyperopt_space`'s labels
    (choice indices, grid indices), e.g. of ``trials.trials[i]["misc"]["vals"]``."""
    return {
        name: _Column(name, d).from_raw(raw[name])
        for name, d in search_space.items()
        if name in raw
    }


def hyperopt_space(search_space: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """The Hyperopt space the bridge uses for ``search_space`` (a dict of ``hp`` expressions).

    Useful to run native ``hyperopt.fmin`` on exactly the space the sampler models (see
    ``_Column`` for the mapping). The raw values ``fmin`` reports for it are not always the
    Optuna values: grid-index columns report the index.
    """
    return {name: _Column(name, d).expression() for name, d in search_space.items()}


class HyperoptSampler(PackSampler):
    """Hyperopt's algorithms as an Optuna sampler: TPE, simulated annealing, random, ATPE.

    Each ask rebuilds Hyperopt's ``Trials`` from the study's storage and calls the native
    ``suggest`` function (``hyperopt.tpe.suggest`` and friends, with their own defaults:
    TPE's ``n_startup_jobs=20``, ``gamma=0.25``, ``n_EI_candidates=24``). The seed of the
    suggestion for trial number ``n`` is the ``n``-th draw of
    ``np.random.default_rng(seed).integers(2**31 - 1)``, which is how ``fmin`` seeds its
    ``n``-th suggestion: on a fixed search space given up front, a sequential study suggests
    exactly the points of ``hyperopt.fmin(..., rstate=np.random.default_rng(seed))``.

    History, as Hyperopt's own parallel back-ends (``MongoTrials``) see it:

    - COMPLETE trials: loss = value (negated for ``maximize``).
    - FAIL trials and PRUNED trials: in the history with no loss, which Hyperopt's TPE counts
      as an infinite loss, i.e. in the "bad" group. A pruned trial's last intermediate value
      is measured at a smaller budget and is not comparable with final losses, so it is not
      used; it was pruned because it looked bad.
    - RUNNING trials of other workers: in the history as pending jobs (no loss), exactly as
      Hyperopt treats queued jobs, so that parallel workers do not repeat each other.

    Define-by-run: with ``search_space=None`` the modelled space is every parameter seen in the
    study so far (the newest distribution of each); a trial that did not use a parameter
    simply has no value for it, which is how Hyperopt represents conditional parameters. A
    parameter never seen before (the first trial's, or one whose range changed) is drawn from
    its Hyperopt prior (``rand``), independently. Because the first trial is then sampled one
    parameter at a time, a define-by-run study matches ``fmin`` in distribution, not point by
    point; pass ``search_space`` for the exact trajectory.

    Args:
        algo: ``"tpe"``, ``"anneal"``, ``"rand"`` or ``"atpe"`` (ATPE needs lightgbm, the
            ``atpe`` extra).
        seed: Seed of the suggestion seeds (as ``fmin``'s ``rstate``). ``None`` picks one.
        search_space: Optional fixed space, modelled from the first trial on.
        **algo_options: Passed to the algorithm's ``suggest`` (for example ``n_startup_jobs``,
            ``gamma``, ``n_EI_candidates`` for TPE; ``avg_best_idx``, ``shrink_coef`` for
            anneal).

    Each trial records ``hyperopt:algo`` (the algorithm that chose its modelled parameters:
    ``"tpe"``, ``"tpe:startup"`` while TPE draws its start-up points at random, ``"anneal"``,
    ...) and, if any, ``hyperopt:independent`` (parameters drawn from the prior).

    Example:
        >>> import optuna
        >>> import optuna_advanced
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(
        ...     sampler=optuna_advanced.HyperoptSampler(algo="tpe", seed=0, n_startup_jobs=5)
        ... )
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=20)
        >>> study.best_value < 1.0
        True
    """

    namespace = AttrNamespace("hyperopt")
    source_key = "algo"
    fallback_source = "prior"
    single_objective = True

    def __init__(
        self,
        *,
        algo: Algo = "tpe",
        seed: int | None = None,
        search_space: Mapping[str, BaseDistribution] | None = None,
        **algo_options: Any,
    ) -> None:
        if algo not in _ALGOS:
            raise ValueError(f"algo must be one of {_ALGOS}, got {algo!r}.")
        suggest = _load_algo(algo)
        if algo == "anneal":
            from hyperopt.anneal import AnnealingAlgo

            suggest = AnnealingAlgo.__init__
        accepted = set(inspect.signature(suggest).parameters) - {
            "self",
            "new_ids",
            "domain",
            "trials",
            "seed",
        }
        unknown = set(algo_options) - accepted
        if unknown:
            raise TypeError(
                f"Unknown options for hyperopt's {algo}.suggest: {sorted(unknown)}; "
                f"it accepts {sorted(accepted)}."
            )
        self._algo = algo
        self._algo_options = dict(algo_options)
        self._seed = resolve_seed(seed)
        self._search_space = dict(search_space) if search_space is not None else None
        self._seeds: np.ndarray = np.empty(0, dtype=np.int64)
        self._domains: dict[tuple[tuple[str, str], ...], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_domains"] = {}  # per-process cache of pyll graphs; rebuilt on demand
        return state

    def reseed_rng(self) -> None:
        self._seed = resolve_seed(None)
        self._seeds = np.empty(0, dtype=np.int64)

    # -- Optuna's sampler interface ------------------------------------------------------------

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        columns = [_Column(name, d) for name, d in search_space.items()]
        history = self._history(study, trial)
        raw, n_docs = self._suggest(columns, history, study.direction, trial.number)
        source: str = self._algo
        if self._algo in ("tpe", "atpe"):
            n_startup = self._algo_options.get("n_startup_jobs", 20)
            if n_docs < n_startup:
                source += ":startup"
        self._write(study, trial, {"algo": source})
        return {c.name: c.from_raw(raw[c.name]) for c in columns if c.name in raw}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._check_objectives(study)
        from hyperopt import rand

        column = _Column(param_name, param_distribution)
        seed = (self._trial_seed(trial.number) + zlib.crc32(param_name.encode())) % _SEED_BOUND
        raw, _ = self._suggest([column], [], study.direction, trial.number, rand.suggest, seed)
        self.namespace.append(
            study._storage, trial._trial_id, "independent", param_name, user=True
        )
        return column.from_raw(raw[param_name])

    # -- the bridge ----------------------------------------------------------------------------

    def _trial_seed(self, number: int) -> int:
        if number >= len(self._seeds):
            n = max(2 * len(self._seeds), number + 1, 64)
            self._seeds = np.random.default_rng(self._seed).integers(_SEED_BOUND, size=n)
        return int(self._seeds[number])

    def _domain(self, columns: list[_Column]) -> Any:
        from hyperopt.base import Domain

        key = tuple((c.name, repr(c.dist)) for c in columns)
        if key not in self._domains:
            space = {c.name: c.expression() for c in columns}
            self._domains[key] = Domain(_never_called, space)
        return self._domains[key]

    def _suggest(
        self,
        columns: list[_Column],
        history: list[FrozenTrial],
        direction: StudyDirection,
        number: int,
        suggest: Callable[..., Any] | None = None,
        seed: int | None = None,
    ) -> tuple[dict[str, float], int]:
        """Run one native suggestion; return the raw value of each label and the history size."""
        from hyperopt import Trials
        from hyperopt.base import JOB_STATE_DONE
        from hyperopt.base import JOB_STATE_RUNNING
        from hyperopt.base import STATUS_FAIL
        from hyperopt.base import STATUS_OK
        from hyperopt.base import STATUS_RUNNING

        domain = self._domain(columns)
        sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
        docs = []
        for t in sorted(history, key=lambda t: t.number):
            if t.state == TrialState.WAITING:
                continue
            idxs: dict[str, list[int]] = {}
            vals: dict[str, list[float | int]] = {}
            for c in columns:
                known = c.name in t.params and value_in_distribution(c.dist, t.params[c.name])
                idxs[c.name] = [t.number] if known else []
                vals[c.name] = [c.to_raw(t.params[c.name])] if known else []
            if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
                result: dict[str, Any] = {"status": STATUS_OK, "loss": sign * t.value}
                state = JOB_STATE_DONE
            elif t.state == TrialState.RUNNING:
                result, state = {"status": STATUS_RUNNING}, JOB_STATE_RUNNING
            else:
                result, state = {"status": STATUS_FAIL}, JOB_STATE_DONE
            misc = {"tid": t.number, "cmd": domain.cmd, "workdir": None, "idxs": idxs}
            misc["vals"] = vals
            docs.append(_doc(t.number, result, misc, state))
        trials = Trials()
        trials._insert_trial_docs(docs)
        trials.refresh()
        if suggest is None:
            suggest = functools.partial(_load_algo(self._algo), **self._algo_options)
        if seed is None:
            seed = self._trial_seed(number)
        new = suggest([number], domain, trials, seed)
        vals_out = new[0]["misc"]["vals"]
        return {name: float(v[0]) for name, v in vals_out.items() if len(v)}, len(docs)


def _never_called(_: Any) -> float:  # pragma: no cover - the Domain's objective is never run
    raise RuntimeError("HyperoptSampler never evaluates through Hyperopt.")


def _doc(tid: int, result: dict[str, Any], misc: dict[str, Any], state: int) -> dict[str, Any]:
    return {
        "state": state,
        "tid": tid,
        "spec": None,
        "result": result,
        "misc": misc,
        "exp_key": None,
        "owner": None,
        "version": 0,
        "book_time": None,
        "refresh_time": None,
    }
