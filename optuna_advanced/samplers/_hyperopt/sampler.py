"""HyperoptSampler: Hyperopt's suggest algorithms (TPE, anneal, random, ATPE) inside Optuna.

The bridge is a translation, not a reimplementation: at each ask it rebuilds Hyperopt's
``Trials`` from the study's storage and calls the native ``suggest`` function, seeded exactly as
``hyperopt.fmin`` seeds it, so a sequential study reproduces ``fmin``'s trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import functools
import inspect
import math
import threading
from typing import Any
from typing import get_args
from typing import Literal
import zlib

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._checks import check_bool
from optuna_advanced._checks import check_choice
from optuna_advanced._checks import check_distributions
from optuna_advanced._checks import check_int
from optuna_advanced._checks import check_number
from optuna_advanced._checks import check_seed
from optuna_advanced._optional import import_optional
from optuna_advanced._space import value_in_distribution
from optuna_advanced.samplers._base import PackSampler
from optuna_advanced.samplers._base import refuse_constraints_func
from optuna_advanced.samplers._base import resolve_seed
from optuna_advanced.samplers._hyperopt.space import Column
from optuna_advanced.samplers._hyperopt.space import native_labels
from optuna_advanced.samplers._hyperopt.space import NativeLabel

Algo = Literal["tpe", "anneal", "rand", "atpe"]
_ALGOS: tuple[str, ...] = get_args(Algo)
_SEED_BOUND = 2**31 - 1  # fmin draws each suggestion's seed as rstate.integers(2**31 - 1)
# Bounds of the algorithms' numeric options: (kind, low, high, low_open).
_OPTION_BOUNDS: dict[str, tuple[str, float, float, bool]] = {
    "n_startup_jobs": ("int", 0, math.inf, False),
    "n_EI_candidates": ("int", 1, math.inf, False),
    "gamma": ("float", 0.0, 1.0, True),
    "prior_weight": ("float", 0.0, math.inf, True),
    "avg_best_idx": ("float", 0.0, math.inf, True),
    "shrink_coef": ("float", 0.0, math.inf, True),
}


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


class HyperoptSampler(PackSampler):
    """Hyperopt's algorithms as an Optuna sampler: TPE, simulated annealing, random, ATPE.

    Each ask rebuilds Hyperopt's ``Trials`` from the study's storage and calls the native
    ``suggest`` function (``hyperopt.tpe.suggest`` and friends, with their own defaults:
    TPE's ``n_startup_jobs=20``, ``gamma=0.25``, ``n_EI_candidates=24``). The seed of the
    suggestion for trial number ``n`` is the ``n``-th draw of
    ``np.random.default_rng(seed).integers(2**31 - 1)``, which is how ``fmin`` seeds its
    ``n``-th suggestion.

    Three ways to give the space, and what is identical to ``fmin`` in each:

    - ``search_space`` of Hyperopt expressions (``{"x": hp.uniform("x", 0, 1), "n":
      hp.uniformint("n", 1, 9), "c": hp.choice("c", [...])}``, nested choices included): the
      user's own Hyperopt space. The objective suggests each label it uses by the label's name
      (``hp.choice`` labels with ``suggest_categorical`` over as many choices, ranges with
      ``suggest_float``/``suggest_int``). When it suggests every active label, a sequential
      study proposes the same raw values (``trials.trials[i]["misc"]["vals"]``) as
      ``fmin(fn, space, algo, rstate=np.random.default_rng(seed))`` for that space.
    - ``search_space`` of Optuna distributions: the bridge's own translation
      (:func:`~optuna_advanced.samplers.hyperopt_space`), modelled from the first trial on; a
      sequential study proposes the points ``fmin`` proposes for that translated space.
    - ``None`` (define-by-run): the modelled space is every parameter seen so far (the newest
      distribution of each); a trial that did not use a parameter has no value for it, which is
      how Hyperopt represents conditional parameters. A parameter never seen before (the first
      trial's, or one whose range changed) is drawn from its Hyperopt prior (``rand``),
      independently, so the first trial matches ``fmin`` in distribution, not point by point.

    History, as Hyperopt's own parallel back-ends (``MongoTrials``) see it:

    - COMPLETE trials: loss = value (negated for ``maximize``).
    - FAIL trials and PRUNED trials: in the history with no loss, which Hyperopt's TPE counts
      as an infinite loss, i.e. in the "bad" group. A pruned trial's last intermediate value
      is measured at a smaller budget and is not comparable with final losses, so it is not
      used; it was pruned because it looked bad.
    - RUNNING trials of other workers: in the history as pending jobs (no loss), exactly as
      Hyperopt treats queued jobs, so that parallel workers do not repeat each other.

    Each trial records ``hyperopt:source`` (``"startup"`` while TPE or ATPE draws its start-up
    points, ``"model"``, ``"random"`` for ``algo="rand"``, ``"enqueued"``), ``hyperopt:algo``
    and, if any, ``hyperopt:independent`` (parameters drawn from their prior alone).
    Constraints (``trial.set_constraint``) are not modelled: the first constrained trial draws a
    warning.

    Args:
        algo: ``"tpe"``, ``"anneal"``, ``"rand"`` or ``"atpe"`` (ATPE needs lightgbm, the
            ``atpe`` extra).
        seed: Seed of the suggestion seeds (as ``fmin``'s ``rstate``). ``None`` picks one.
        search_space: A Hyperopt space (a dict of ``hp`` expressions), or Optuna distributions,
            or ``None`` (see above).
        constraints_func: Not taken (``TypeError``): Hyperopt models no constraints.
        **algo_options: Passed to the algorithm's ``suggest`` (for example ``n_startup_jobs``,
            ``gamma``, ``n_EI_candidates``, ``prior_weight`` for TPE; ``avg_best_idx``,
            ``shrink_coef`` for anneal).

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
    fallback_source = "startup"
    single_objective = True
    models_constraints = False

    def __init__(
        self,
        *,
        algo: Algo = "tpe",
        seed: int | None = None,
        search_space: Mapping[str, Any] | None = None,
        constraints_func: None = None,
        **algo_options: Any,
    ) -> None:
        me = "HyperoptSampler"
        refuse_constraints_func(me, constraints_func, supported=False)
        check_choice(me, "algo", algo, _ALGOS)
        check_seed(me, seed)
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
                f"{me}: unknown options for hyperopt's {algo}.suggest: {sorted(unknown)}; "
                f"it accepts {sorted(accepted)}."
            )
        for name, value in algo_options.items():
            if name == "verbose":
                check_bool(me, name, value)
            elif name in _OPTION_BOUNDS:
                kind, low, high, low_open = _OPTION_BOUNDS[name]
                if kind == "int":
                    check_int(me, name, value, minimum=int(low))
                else:
                    check_number(me, name, value, low=low, high=high, low_open=low_open)
        self._algo = algo
        self._algo_options = dict(algo_options)
        self._seed = resolve_seed(seed)
        self._native: Any = None
        if search_space is not None and _is_hyperopt_space(search_space):
            self._native = _native_domain(search_space)
        else:
            check_distributions(me, "search_space", search_space)
            self._search_space = dict(search_space) if search_space is not None else None
        self._seeds: np.ndarray = np.empty(0, dtype=np.int64)
        self._domains: dict[tuple[tuple[str, str], ...], Any] = {}
        self._drawn: dict[tuple[int, int], dict[str, float]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_domains"] = {}  # per-process cache of pyll graphs; rebuilt on demand
        state["_drawn"] = {}
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        self._seed = resolve_seed(None)
        self._seeds = np.empty(0, dtype=np.int64)

    # -- Optuna's sampler interface ------------------------------------------------------------

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._native is not None:
            self._check_objectives(study)
            return {}  # the labels are drawn jointly at the first suggest (sample_independent)
        return super().infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        columns = [Column(name, d) for name, d in search_space.items()]
        history = self._history(study, trial)
        domain, docs = self._domain(columns), _column_docs(columns)
        raw, n_docs = self._suggest(domain, docs, history, trial, study.direction)
        self._write(study, trial, self._labels(n_docs))
        return {c.name: c.from_raw(raw[c.name]) for c in columns if c.name in raw}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._check_objectives(study)
        if self._native is not None:
            return self._sample_native(study, trial, param_name, param_distribution)
        from hyperopt import rand

        column = Column(param_name, param_distribution)
        seed = (self._trial_seed(trial.number) + zlib.crc32(param_name.encode())) % _SEED_BOUND
        domain = self._domain([column])
        raw, _ = self._suggest(
            domain, _column_docs([column]), [], trial, suggest=rand.suggest, seed=seed
        )
        self._note_independent(study, trial, param_name)
        return column.from_raw(raw[param_name])

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        with self._lock:
            self._drawn.pop((id(study._storage), trial._trial_id), None)
        super().after_trial(study, trial, state, values)

    # -- the bridge ----------------------------------------------------------------------------

    def _fallback_attrs(self) -> dict[str, Any]:
        return {"source": "startup", "algo": "rand"}  # every parameter drawn from its prior

    def _labels(self, n_docs: int) -> dict[str, str]:
        """``source`` and ``algo`` of a suggestion made with ``n_docs`` trials of history."""
        if self._algo == "rand":
            source = "random"
        elif self._algo in ("tpe", "atpe"):
            n_startup = self._algo_options.get("n_startup_jobs", 20)
            source = "startup" if n_docs < n_startup else "model"
        else:
            source = "model" if n_docs else "startup"
        return {"source": source, "algo": self._algo}

    def _sample_native(
        self, study: Study, trial: FrozenTrial, name: str, dist: BaseDistribution
    ) -> Any:
        labels = native_labels(self._native)
        if name not in labels:
            raise ValueError(
                f"HyperoptSampler: parameter {name!r} is not a label of the Hyperopt search "
                f"space (labels: {sorted(labels)})."
            )
        key = (id(study._storage), trial._trial_id)
        with self._lock:
            raw = self._drawn.get(key)
        if raw is None:  # the first suggest of this trial: draw every label jointly
            docs, history = _native_docs(labels), self._history(study, trial)
            raw, n_docs = self._suggest(self._native, docs, history, trial, study.direction)
            with self._lock:
                self._drawn[key] = raw
            self._write(study, trial, self._labels(n_docs))
        if name in raw:
            return labels[name].from_raw(raw[name], dist)
        # Inactive in Hyperopt's draw but suggested by the objective: its prior, alone.
        from hyperopt import rand
        from hyperopt.base import Domain

        seed = (self._trial_seed(trial.number) + zlib.crc32(name.encode())) % _SEED_BOUND
        alone = Domain(_never_called, labels[name].expression())
        docs = _native_docs(labels)
        prior, _ = self._suggest(alone, docs, [], trial, suggest=rand.suggest, seed=seed)
        self._note_independent(study, trial, name)
        return labels[name].from_raw(prior[name], dist)

    def _trial_seed(self, number: int) -> int:
        if number >= len(self._seeds):
            n = max(2 * len(self._seeds), number + 1, 64)
            self._seeds = np.random.default_rng(self._seed).integers(_SEED_BOUND, size=n)
        return int(self._seeds[number])

    def _domain(self, columns: list[Column]) -> Any:
        from hyperopt.base import Domain

        key = tuple((c.name, repr(c.dist)) for c in columns)
        if key not in self._domains:
            space = {c.name: c.expression() for c in columns}
            self._domains[key] = Domain(_never_called, space)
        return self._domains[key]

    def _suggest(
        self,
        domain: Any,
        raw_of: Callable[[FrozenTrial], dict[str, float | int | None]],
        history: list[FrozenTrial],
        trial: FrozenTrial,
        direction: StudyDirection = StudyDirection.MINIMIZE,
        suggest: Callable[..., Any] | None = None,
        seed: int | None = None,
    ) -> tuple[dict[str, float], int]:
        """Run one native suggestion; return the raw value of each label and the history size.

        ``raw_of(trial)`` gives the raw value of every label for a past trial (``None``:
        the trial has no valid value for it).
        """
        from hyperopt import Trials
        from hyperopt.base import JOB_STATE_DONE
        from hyperopt.base import JOB_STATE_RUNNING
        from hyperopt.base import STATUS_FAIL
        from hyperopt.base import STATUS_OK
        from hyperopt.base import STATUS_RUNNING

        sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
        docs = []
        for t in sorted(history, key=lambda t: t.number):
            if t.state == TrialState.WAITING:
                continue
            raw = raw_of(t)
            idxs = {k: [t.number] if v is not None else [] for k, v in raw.items()}
            vals = {k: [v] if v is not None else [] for k, v in raw.items()}
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
            seed = self._trial_seed(trial.number)
        new = suggest([trial.number], domain, trials, seed)
        vals_out = new[0]["misc"]["vals"]
        return {name: float(v[0]) for name, v in vals_out.items() if len(v)}, len(docs)


def _column_docs(
    columns: list[Column],
) -> Callable[[FrozenTrial], dict[str, float | int | None]]:
    def raw_of(t: FrozenTrial) -> dict[str, float | int | None]:
        return {
            c.name: c.to_raw(t.params[c.name])
            if c.name in t.params and value_in_distribution(c.dist, t.params[c.name])
            else None
            for c in columns
        }

    return raw_of


def _native_docs(
    labels: dict[str, NativeLabel],
) -> Callable[[FrozenTrial], dict[str, float | int | None]]:
    def raw_of(t: FrozenTrial) -> dict[str, float | int | None]:
        return {
            name: label.to_raw(t.params[name], t.distributions[name]) if name in t.params else None
            for name, label in labels.items()
        }

    return raw_of


def _is_hyperopt_space(space: Any) -> bool:
    """Whether ``space`` holds Hyperopt expressions rather than Optuna distributions."""
    if not isinstance(space, Mapping) or not space:
        return False
    return not all(isinstance(v, BaseDistribution) for v in space.values()) and any(
        type(v).__module__.startswith("hyperopt") for v in space.values()
    )


def _native_domain(space: Mapping[str, Any]) -> Any:
    import_optional("hyperopt", needed_by="HyperoptSampler", extra="hyperopt")
    from hyperopt.base import Domain

    try:
        return Domain(_never_called, dict(space))
    except Exception as exc:
        raise TypeError(
            f"HyperoptSampler: search_space is not a valid Hyperopt space ({exc!r})."
        ) from exc


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
