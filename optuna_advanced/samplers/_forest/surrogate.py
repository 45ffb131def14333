"""SMAC's random-forest surrogate on scikit-learn (no Optuna import).

Inputs are rows in the unit cube (numeric columns; categorical columns hold choice codes), with
NaN for inactive conditional values. Costs are log-scaled as SMAC's ``RunHistoryLogScaledEncoder``
does; the forest is 10 bootstrapped, fully grown trees (with random split thresholds by
default, best ones as SMAC3 on request); the predictive mean and variance are taken across the
trees' predictions (Hutter et al., "Algorithm runtime prediction", 2014, and
SMAC3's ``RandomForest``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VERY_SMALL_NUMBER = 1e-10  # SMAC's constant: keeps the log finite at the best cost
VARIANCE_FLOOR = 1e-10
INACTIVE_NUMERIC = -1.0  # SMAC imputes inactive numeric values outside the unit cube


@dataclass(frozen=True)
class LogScaler:
    """SMAC's log scaling of costs: linear to (0, 1], then log.

    ``low = min - (percentile_5 - min) - 1e-10``: the lower end sits below the best cost by the
    spread of the best 5%, so the best costs are not squashed onto ``log(0)``.
    """

    low: float
    high: float

    @classmethod
    def fit(cls, y: np.ndarray, scale_percentage: float = 5.0) -> LogScaler:
        y_min, y_max = float(np.min(y)), float(np.max(y))
        low = y_min - (float(np.percentile(y, scale_percentage)) - y_min) - VERY_SMALL_NUMBER
        if low == y_max:
            low *= 1 - 1e-10
        return cls(low=low, high=y_max if y_max > low else low + 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return np.log(np.maximum((y - self.low) / (self.high - self.low), VERY_SMALL_NUMBER))

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.low + (self.high - self.low) * np.exp(z))


def encode_features(x: np.ndarray, is_categorical: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
    """Forest features: numeric columns as they are (inactive -> -1), categoricals one-hot.

    A one-hot block lets a split isolate any single choice, so choices get no arbitrary order
    (scikit-learn's trees have no categorical splits). An inactive categorical is all zeros: an
    extra level of its own, as SMAC's imputation gives it. Columns keep their order; a
    categorical column becomes its block of ``n_levels`` features in place.
    """
    return FeatureEncoder(is_categorical, n_levels)(x)


class FeatureEncoder:
    """:func:`encode_features` for one column layout, its offsets worked out once."""

    def __init__(self, is_categorical: np.ndarray, n_levels: np.ndarray) -> None:
        is_categorical = np.asarray(is_categorical, dtype=bool)
        width = np.where(is_categorical, np.asarray(n_levels, dtype=np.int64), 1)
        offset = np.concatenate([[0], np.cumsum(width)[:-1]]).astype(np.int64)
        self.n_features = int(width.sum())
        self.numeric = np.flatnonzero(~is_categorical)
        self.numeric_at = offset[self.numeric]
        self.blocks = [
            (int(j), int(offset[j]), np.arange(width[j])) for j in np.flatnonzero(is_categorical)
        ]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), self.n_features))
        if len(self.numeric):
            values = x[:, self.numeric]
            out[:, self.numeric_at] = np.where(np.isnan(values), INACTIVE_NUMERIC, values)
        for j, at, levels in self.blocks:  # NaN equals no level: all zeros
            out[:, at : at + len(levels)] = x[:, j, None] == levels
        return out


class ForestSurrogate:
    """Random forest with SMAC3's HPO-facade defaults, predicting log-scaled costs.

    One choice differs by default: ``splitter="random"`` draws each candidate split's threshold
    uniformly between the node's smallest and largest value of the feature and keeps the best
    feature (extremely randomised trees, Geurts, Ernst & Wehenkel, Machine Learning 63, 2006),
    instead of the best threshold of every feature (``"best"``, SMAC3's forest). Averaged over
    the trees, random thresholds give a mean that steps anywhere between observations, and
    trees that disagree more there, where best-threshold trees all cut at the same midpoints
    and agree on wide constant plateaus (so EI sees little uncertainty next to the incumbent);
    the ``sf`` benchmark shows the difference on continuous problems
    (``docs/algorithms/random_forest.rst``).

    Args:
        n_trees: Trees in the forest (SMAC: 10).
        splitter: ``"random"`` (extremely randomised thresholds) or ``"best"`` (SMAC3's).
        ratio_features: Fraction of features tried at each split (SMAC HPO facade: 1.0).
        min_samples_split: Minimum samples to split a node (2).
        min_samples_leaf: Minimum samples in a leaf (1).
        max_depth: Maximum depth (2**20: fully grown).
        bootstrap: Bootstrap the training rows of each tree (True).
        seed: Seed of the forest.
    """

    def __init__(
        self,
        *,
        n_trees: int = 10,
        splitter: str = "random",
        ratio_features: float = 1.0,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_depth: int = 2**20,
        bootstrap: bool = True,
        seed: int = 0,
    ) -> None:
        if splitter not in ("random", "best"):
            raise ValueError(f"splitter must be 'random' or 'best', got {splitter!r}.")
        self.n_trees = n_trees
        self.splitter = splitter
        self.ratio_features = ratio_features
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.bootstrap = bootstrap
        self.seed = seed
        self._trees: list[object] = []
        self._leaf_values: list[np.ndarray] = []
        self.scaler: LogScaler | None = None

    def fit(self, features: np.ndarray, costs: np.ndarray) -> ForestSurrogate:
        """Fit on ``features`` (see ``encode_features``) and raw costs (lower is better).

        The forest is scikit-learn's ``ExtraTreesRegressor(n_estimators=n_trees,
        bootstrap=True, max_features=ratio_features, ..., random_state=seed)`` for
        ``splitter="random"`` and ``RandomForestRegressor`` with the same arguments for
        ``"best"``, tree for tree: the same tree seeds (drawn in order from
        ``RandomState(seed)``), the same bootstrap (each tree's ``RandomState(tree
        seed).randint(0, n, n)``, given to the tree as sample weights), the same float32
        features; only the forest's input validation and joblib dispatch, which cost more than
        the small trees themselves, are skipped (``tests/samplers/test_forest_surrogate.py``
        checks the predictions are identical).
        """
        import sklearn

        self.scaler = LogScaler.fit(costs)
        x = np.ascontiguousarray(features, dtype=np.float32)
        y = np.ascontiguousarray(self.scaler.transform(costs), dtype=np.float64).reshape(-1, 1)
        seeds = np.random.RandomState(self.seed).randint(np.iinfo(np.int32).max, size=self.n_trees)
        self._trees = []
        self._leaf_values = []
        # The arguments are checked once, by RandomForestSampler's constructor; scikit-learn's
        # per-fit validation would cost a fifth of the fitting time of these small trees.
        with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
            self._fit_trees(x, y, seeds)
        return self

    def _fit_trees(self, x: np.ndarray, y: np.ndarray, seeds: np.ndarray) -> None:
        from sklearn.tree import DecisionTreeRegressor

        n = len(x)
        for tree_seed in seeds:
            # One generator seeded with the tree's seed serves the bootstrap draw and, rewound
            # to its seeded state, the tree (seeding one costs about 0.1 ms, as much as a
            # small tree's fit): the same streams as two generators from the same seed.
            stream = np.random.RandomState(int(tree_seed))
            seeded = stream.get_state()
            weight = np.ones(n, dtype=np.float64)
            if self.bootstrap:
                drawn = stream.randint(0, n, n, dtype=np.int32)
                weight *= np.bincount(drawn, minlength=n)
                stream.set_state(seeded)
            tree = DecisionTreeRegressor(
                splitter=self.splitter,
                max_features=self.ratio_features,
                min_samples_split=self.min_samples_split,
                min_samples_leaf=self.min_samples_leaf,
                max_depth=self.max_depth,
                random_state=stream,
            )
            tree.fit(x, y, sample_weight=weight, check_input=False)
            self._trees.append(tree)
            # Each node's value, what the tree's own predict takes for a row's leaf.
            self._leaf_values.append(np.array(tree.tree_.value[:, 0, 0], dtype=np.float64))

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the log-scaled cost across the trees."""
        if not self._trees:
            raise RuntimeError("fit the surrogate first")
        # The trees' low-level predict skips scikit-learn's per-call input validation, which
        # costs more than the prediction itself on the maximiser's small batches.
        x = np.ascontiguousarray(features, dtype=np.float32)
        per_tree = np.empty((len(self._trees), len(x)))
        for i, (tree, leaf_values) in enumerate(zip(self._trees, self._leaf_values)):
            per_tree[i] = leaf_values[tree.tree_.apply(x)]  # type: ignore[attr-defined]
        # NumPy's mean and var, step for step (the same floats) without their wrappers.
        n = float(len(self._trees))
        mean = np.add.reduce(per_tree, axis=0) / n
        spread = per_tree - mean
        var = np.add.reduce(spread * spread, axis=0) / n
        return mean, np.maximum(var, VARIANCE_FLOOR)
