"""Problems whose hyperparameters may change during training (the ``pbt`` suite).

Each problem is a *trainer*: ``init_state(seed)``, then ``train(state, params, n_steps)`` which
resumes training from ``state`` with the given hyperparameters and returns the new state and the
value to minimise. Population Based Training changes ``params`` between calls; the plain Optuna
objective (``__call__``) keeps them fixed for the whole run, which is what the baseline samplers
are measured with. Cost is the number of training steps, as in the ``mf`` suite.

* ``pbt_toy``: the PBT paper's toy problem (Jaderberg et al. 2017, Fig. 2). Maximise
  ``Q(θ) = 1.2 − (θ0² + θ1²)`` by gradient steps (step size 0.01, 200 steps, as in the
  widely used reproduction of the figure) on the surrogate
  ``Q̂(θ|h) = 1.2 − (h0·θ0² + h1·θ1²)`` from ``θ = (0.9, 0.9)``, with hyperparameters
  ``h ∈ [0, 1]²``. We minimise the regret ``1.2 − Q(θ)``; the optimum is 0 (``Q = 1.2``),
  and ``Q ≥ 1.19`` is regret ``≤ 0.01``.
* ``pbt_mlp_digits``: a one-hidden-layer network in NumPy trained by minibatch SGD with
  momentum on ``load_digits``; learning rate, momentum and weight decay may change at any
  epoch. Validation error after each epoch.
* ``pbt_plateau``: heavy-ball descent on an ill-conditioned quadratic (curvatures 1 to 1000)
  whose every *starting* learning rate diverges (``initial_space``: 0.005 to 0.05, stable only
  below ``2 (1 + momentum) / 1000``). A diverged run reports exactly 1.0 and restarts from
  scratch (as a crashed training run would), so the whole population starts on a plateau of
  ties and must find its way down by exploring; a stable rate shows at once.
* ``pbt_short_horizon``: the noisy quadratic model of Wu et al. (2018), "Understanding
  short-horizon bias in stochastic meta-optimization", in expectation (no sampling noise):
  a smaller learning rate lowers the loss at once (less gradient noise) but slows the flat
  directions, so greedy comparisons a few steps ahead decay the rate too early. The best
  constant rate ends at ~0.017 of the starting loss, a one-step decay at ~0.007, and a
  greedy five-step look-ahead at ~0.020: exploiting early misleads.
* ``pbt_sgd_digits``: scikit-learn's ``SGDClassifier`` (logistic loss, constant step) trained
  with ``partial_fit`` one epoch per step on ``load_digits``; the step size ``eta0`` and the
  penalty ``alpha`` may change at any epoch. Validation error after each epoch.
"""

from __future__ import annotations

import copy
import io
import pickle
from typing import Any
import warnings

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution

from benchmarks.problems.base import digits_split
from benchmarks.problems.base import Problem
from benchmarks.problems.base import suggest_all

State = dict[str, Any]


class Trainer:
    """A problem that can resume training with changed hyperparameters.

    A state is a flat dict of NumPy arrays and numbers, so it round-trips through bytes with
    ``np.savez`` and no pickle (:meth:`dumps`, :meth:`loads`).
    """

    max_fidelity: int
    perturbation_interval: int  # steps between PBT's exploit/explore decisions
    space: dict[str, BaseDistribution]
    # Where the starting population is drawn (``benchmarks.population.initial_population``);
    # ``None`` is the whole ``space``.
    initial_space: dict[str, BaseDistribution] | None = None
    optimum: float | None = None
    reference: float | None = None

    @staticmethod
    def dumps(state: State) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v) for k, v in state.items()})  # type: ignore[arg-type]
        return buffer.getvalue()

    @staticmethod
    def loads(data: bytes) -> State:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}

    def init_state(self, seed: int) -> State:
        raise NotImplementedError

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        raise NotImplementedError

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        state = self.init_state(self._seed)
        value = float("nan")
        for step in range(1, self.max_fidelity + 1):
            state, value = self.train(state, params, 1)
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value


class PBTToy(Trainer):
    max_fidelity = 200
    perturbation_interval = 4
    space: dict[str, BaseDistribution] = {
        "h0": FloatDistribution(0.0, 1.0),
        "h1": FloatDistribution(0.0, 1.0),
    }
    learning_rate = 0.01
    optimum = 0.0
    reference = 2 * 0.9**2  # the regret of the starting point

    def init_state(self, seed: int) -> State:
        return {"theta": np.array([0.9, 0.9])}

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        theta = np.array(state["theta"], dtype=float)
        h = np.array([params["h0"], params["h1"]], dtype=float)
        for _ in range(n_steps):
            theta = theta - self.learning_rate * 2.0 * h * theta  # θ ← θ + η ∇Q̂(θ|h)
        return {"theta": theta}, float(np.sum(theta**2))


class MLPDigitsNumpy(Trainer):
    max_fidelity = 30
    perturbation_interval = 3
    n_hidden = 64
    batch_size = 32
    space: dict[str, BaseDistribution] = {
        "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
        "momentum": FloatDistribution(0.0, 0.99),
        "weight_decay": FloatDistribution(1e-6, 1e-1, log=True),
    }

    def init_state(self, seed: int) -> State:
        rng = np.random.default_rng(seed)
        n_in, n_out = 64, 10
        weights = {
            "w1": rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, self.n_hidden)),
            "b1": np.zeros(self.n_hidden),
            "w2": rng.normal(0.0, np.sqrt(1.0 / self.n_hidden), (self.n_hidden, n_out)),
            "b2": np.zeros(n_out),
        }
        state: State = {f"w_{k}": v for k, v in weights.items()}
        state.update({f"v_{k}": np.zeros_like(v) for k, v in weights.items()})
        state.update({"seed": int(rng.integers(2**62)), "epoch": 0})
        return state

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        x_train, x_valid, y_train, y_valid = digits_split()
        names = ("w1", "b1", "w2", "b2")
        w = {k: np.array(state[f"w_{k}"], dtype=float) for k in names}
        vel = {k: np.array(state[f"v_{k}"], dtype=float) for k in names}
        rng = np.random.default_rng(int(state["seed"]))
        lr, mom, wd = params["learning_rate"], params["momentum"], params["weight_decay"]
        onehot = np.eye(10)[y_train]
        for _ in range(n_steps):
            order = rng.permutation(len(x_train))
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                grads = _gradients(w, x_train[idx], onehot[idx])
                for k in w:
                    vel[k] = mom * vel[k] - lr * (grads[k] + wd * w[k])
                    w[k] = w[k] + vel[k]
        error = float(np.mean(_forward(w, x_valid)[1].argmax(axis=1) != y_valid))
        if not np.isfinite(error) or not all(np.isfinite(v).all() for v in w.values()):
            error = 1.0
        new_state: State = {f"w_{k}": v for k, v in w.items()}
        new_state.update({f"v_{k}": v for k, v in vel.items()})
        new_state.update(
            {"seed": int(rng.integers(2**62)), "epoch": int(state["epoch"]) + n_steps}
        )
        return new_state, error


class PlateauStart(Trainer):
    max_fidelity = 60
    perturbation_interval = 3
    space: dict[str, BaseDistribution] = {
        "learning_rate": FloatDistribution(1e-5, 0.1, log=True),
        "momentum": FloatDistribution(0.0, 0.95),
    }
    initial_space: dict[str, BaseDistribution] | None = {
        "learning_rate": FloatDistribution(0.005, 0.05, log=True),
        "momentum": FloatDistribution(0.0, 0.95),
    }
    curvatures = np.logspace(0.0, 3.0, 8)
    bound = 10.0  # a run whose |theta| reaches this has diverged: it reports 1.0, restarts
    optimum = 0.0
    reference = 1.0

    def init_state(self, seed: int) -> State:
        return {"theta": np.ones(len(self.curvatures)), "velocity": np.zeros(len(self.curvatures))}

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        theta = np.array(state["theta"], dtype=float)
        velocity = np.array(state["velocity"], dtype=float)
        lr, momentum = params["learning_rate"], params["momentum"]
        diverged = False
        for _ in range(n_steps):
            velocity = momentum * velocity - lr * self.curvatures * theta
            theta = theta + velocity
            if np.any(np.abs(theta) >= self.bound):
                diverged = True
                break
        if diverged:  # a crashed run: it reports the worst score and restarts from scratch
            fresh = self.init_state(self._seed)
            return fresh, 1.0
        start = float(np.sum(self.curvatures))
        value = min(1.0, float(np.sum(self.curvatures * theta**2)) / start)
        return {"theta": theta, "velocity": velocity}, value


class ShortHorizon(Trainer):
    max_fidelity = 100
    perturbation_interval = 5
    space: dict[str, BaseDistribution] = {
        "learning_rate": FloatDistribution(1e-3, 2.0, log=True),
    }
    curvatures = np.logspace(-3.5, 0.0, 20)
    noise = 0.03  # gradient noise variance per unit of curvature
    optimum = 0.0
    reference = 1.0

    def init_state(self, seed: int) -> State:
        return {"second_moment": np.ones(len(self.curvatures))}

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        m = np.array(state["second_moment"], dtype=float)
        lr = params["learning_rate"]
        c = self.curvatures
        for _ in range(n_steps):  # E[theta^2] under SGD with gradient noise variance noise * c
            m = (1.0 - lr * c) ** 2 * m + lr**2 * c * self.noise
        return {"second_moment": m}, float(np.sum(c * m) / np.sum(c))


class SGDDigits(Trainer):
    max_fidelity = 30
    perturbation_interval = 3
    space: dict[str, BaseDistribution] = {
        "eta0": FloatDistribution(1e-4, 1.0, log=True),
        "alpha": FloatDistribution(1e-6, 1e-1, log=True),
    }

    # The state is the fitted estimator itself: it is pickled (our own bytes, never a user's).
    @staticmethod
    def dumps(state: State) -> bytes:
        return pickle.dumps(state)

    @staticmethod
    def loads(data: bytes) -> State:
        state: State = pickle.loads(data)  # noqa: S301 - written by dumps above, same run
        return state

    def init_state(self, seed: int) -> State:
        from sklearn.linear_model import SGDClassifier

        model = SGDClassifier(loss="log_loss", learning_rate="constant", random_state=seed)
        return {"model": model, "epoch": 0}

    def train(self, state: State, params: dict[str, Any], n_steps: int) -> tuple[State, float]:
        x_train, x_valid, y_train, y_valid = digits_split()
        model = copy.deepcopy(state["model"])
        model.set_params(eta0=params["eta0"], alpha=params["alpha"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow on diverging step sizes
            for _ in range(n_steps):
                model.partial_fit(x_train, y_train, classes=np.arange(10))
            error = float(np.mean(model.predict(x_valid) != y_valid))
        if not np.all(np.isfinite(model.coef_)):
            error = 1.0
        return {"model": model, "epoch": int(state["epoch"]) + n_steps}, error


def _forward(w: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.maximum(0.0, x @ w["w1"] + w["b1"])
    logits = hidden @ w["w2"] + w["b2"]
    logits = logits - logits.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
    return hidden, probs


def _gradients(w: dict[str, np.ndarray], x: np.ndarray, onehot: np.ndarray) -> dict[str, Any]:
    hidden, probs = _forward(w, x)
    d_logits = (probs - onehot) / len(x)
    d_hidden = (d_logits @ w["w2"].T) * (hidden > 0)
    return {
        "w2": hidden.T @ d_logits,
        "b2": d_logits.sum(axis=0),
        "w1": x.T @ d_hidden,
        "b1": d_hidden.sum(axis=0),
    }


def problems() -> list[Problem]:
    return [
        Problem(
            name=name,
            suite="pbt",
            build=trainer,
            # Nine configurations trained to the end. PBT with 8 members spends a little more
            # than 8 (a member that copies one a segment behind it retrains those steps), so the
            # baselines get at least as many training steps as the largest population.
            budget=9 * trainer.max_fidelity,
            max_fidelity=trainer.max_fidelity,
            numeric_only=True,
        )
        for name, trainer in (
            ("pbt_toy", PBTToy),
            ("pbt_mlp_digits", MLPDigitsNumpy),
            ("pbt_plateau", PlateauStart),
            ("pbt_short_horizon", ShortHorizon),
            ("pbt_sgd_digits", SGDDigits),
        )
    ]
