"""Synthetic multi-fidelity problems with known optima, each testing one trait of a sampler.

Every objective reports its value at each integer step ``1 .. max_fidelity`` and stops early
when the pruner says so; its value at ``max_fidelity`` is the one regret is measured on. The
functions are fixed (they do not depend on the run seed); only :class:`NoisyLevy`'s noise does.

* :class:`MisleadingShift` (``mis6_shift``): the optimum moves with the fidelity, so the
  configurations that look best early are poor at the end (low and full fidelities rank random
  configurations in opposite orders).
* :class:`ConditionalSynthetic` (``cond26``): a define-by-run space of 26 parameters (13 to 15
  active per trial) under three categorical branches, with interactions (the best learning
  rate follows the batch size, the best dropout the width).
* :class:`CrossingCurves` (``cross_int64``): 64 steps; fast learners (large effective learning
  rates) lead early but end worse than slow ones.
* :class:`NoisyLevy` (``noisy_levy5``): the Levy function with Gaussian observation noise that
  shrinks with the fidelity; the noise-free value is the true value.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from benchmarks.problems.base import suggest_all
from benchmarks.problems.base import TRUE_VALUE_ATTR
from optuna_advanced.testing import sample_prior

N_REFERENCE_SAMPLES = 1000
REFERENCE_SEED = 12345  # the same random configurations for every run

Ask = Callable[[str, BaseDistribution], Any]


def sample_space(space: dict[str, BaseDistribution], rng: np.random.Generator) -> dict[str, Any]:
    """One configuration of ``space``, each value from its prior (``testing.sample_prior``)."""
    return {name: sample_prior(dist, rng) for name, dist in space.items()}


def trial_ask(trial: optuna.Trial) -> Ask:
    """Suggest one parameter at a time (define-by-run) through the public API."""
    return lambda name, dist: suggest_all(trial, {name: dist})[name]


def params_seed(params: dict[str, Any]) -> int:
    """A stable 63-bit integer of a configuration (independent of ``PYTHONHASHSEED``)."""
    text = repr(sorted((k, repr(v)) for k, v in params.items()))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def remaining(step: float, max_fidelity: int, speed: float) -> float:
    """Share of the gap to the final value left after ``step``: 1 at step 0, 0 at the end.

    Exponential in the step: ``speed`` large drops at once, ``speed`` small is nearly linear.
    """
    end = math.exp(-speed)
    return (math.exp(-speed * step / max_fidelity) - end) / (1.0 - end)


def report_curve(trial: optuna.Trial, curve: Callable[[int], float], max_fidelity: int) -> float:
    """Report ``curve(step)`` at every step, pruning when told; return the last value."""
    value = float("nan")
    for step in range(1, max_fidelity + 1):
        value = float(curve(step))
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


class _Static:
    """A problem over a static ``space``: ``value(params, step)`` is the noise-free curve."""

    max_fidelity: int
    space: dict[str, BaseDistribution]
    optimum: float | None
    reference: float | None

    def value(self, params: dict[str, Any], step: int) -> float:
        raise NotImplementedError

    def _set_reference(self) -> None:
        rng = np.random.default_rng(REFERENCE_SEED)
        finals = [
            self.value(sample_space(self.space, rng), self.max_fidelity)
            for _ in range(N_REFERENCE_SAMPLES)
        ]
        self.reference = float(np.median(finals))

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        return report_curve(trial, lambda s: self.value(params, s), self.max_fidelity)


class MisleadingShift(_Static):
    """6-D: a bumpy ill-conditioned bowl whose centre slides from ``1 - c`` to ``c``.

    At fraction ``t = step / 81`` of the fidelity the centre is ``c + (1 - t)² (1 - 2c)``,
    i.e. the mirror image of the final optimum ``c`` at the lowest fidelities, and 44% of the way
    back at step 27. Value ``Σ w_i (d_i² + 0.03 (1 - cos 4π d_i)) + 2 (1 - t)`` with
    ``d = x - centre`` and weights 1 to 10; the optimum at full fidelity is 0 at ``x = c``.
    """

    max_fidelity = 81
    centre = np.array([0.75, 0.2, 0.85, 0.3, 0.65, 0.15])
    weights = 10.0 ** (np.arange(6) / 5.0)

    def __init__(self, seed: int) -> None:
        self.space = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}
        self.optimum = 0.0
        self._set_reference()

    def value(self, params: dict[str, Any], step: int) -> float:
        t = step / self.max_fidelity
        x = np.array([params[f"x{i}"] for i in range(6)])
        centre = self.centre + (1.0 - t) ** 2 * (1.0 - 2.0 * self.centre)
        d = x - centre
        bumps = 0.03 * (1.0 - np.cos(4.0 * np.pi * d))
        return float(np.sum(self.weights * (d * d + bumps)) + 2.0 * (1.0 - t))


class CrossingCurves(_Static):
    """5-D learning-curve model over 64 steps whose fast learners end worst.

    The effective step ``lr / (1 - momentum)`` sets both the speed (larger is faster) and the
    final error (best at 0.01, where the curve is nearly linear); wider networks end better up
    to 512 units but learn more slowly; weak ``l2`` overfits (the curve rises again at the
    end), strong ``l2`` underfits; large steps need ``warmup`` steps, which delay the start.
    The final error is ``0.05 + 0.8 P / (P + 0.5)`` for a penalty ``P >= 0`` that is 0 only at
    the optimum, so the optimum is exactly 0.05.
    """

    max_fidelity = 64
    floor = 0.05
    start = 0.9

    def __init__(self, seed: int) -> None:
        self.space = {
            "lr": FloatDistribution(1e-4, 1.0, log=True),
            "momentum": FloatDistribution(0.0, 0.99),
            "width": IntDistribution(8, 1024, log=True),
            "l2": FloatDistribution(1e-6, 1e-1, log=True),
            "warmup": IntDistribution(0, 16),
        }
        self.optimum = self.floor
        self._set_reference()

    def _parts(self, p: dict[str, Any]) -> tuple[float, float, float, int]:
        """(penalty of the final value, its overfitting share, speed, warm-up steps)."""
        log_step = math.log10(p["lr"] / (1.0 - p["momentum"]))
        log_width = math.log2(p["width"])
        log_l2 = math.log10(p["l2"])
        warmup = int(p["warmup"])
        overfit = 0.08 * max(0.0, -4.0 - log_l2) * (log_width / 10.0)
        penalty = (
            0.08 * (log_step + 2.0) ** 2
            + 0.01 * (log_width - 9.0) ** 2
            + 0.02 * max(0.0, log_l2 + 4.0) ** 2
            + 0.002 * max(0, warmup - 4) ** 2
            + 0.15 * max(0.0, log_step + 1.5) * (1.0 - warmup / 16.0)
        )
        speed = 2.0 * 10.0 ** (0.8 * (log_step + 2.0)) * (128.0 / p["width"]) ** 0.3
        return penalty, overfit, min(max(speed, 0.05), 60.0), warmup

    def _squash(self, penalty: float) -> float:
        return self.floor + 0.8 * penalty / (penalty + 0.5)

    def value(self, params: dict[str, Any], step: int) -> float:
        penalty, overfit, speed, warmup = self._parts(params)
        base, final = self._squash(penalty), self._squash(penalty + overfit)
        m = self.max_fidelity
        effective = max(0.0, step - warmup / 2.0) * m / (m - warmup / 2.0)
        left = remaining(effective, m, speed)
        return base + (self.start - base) * left + (final - base) * (step / m) ** 3


class ConditionalSynthetic:
    """A define-by-run space of 26 parameters, 13 to 15 active per trial, over 27 epochs.

    Shared: ``optimizer`` (sgd, adam, rmsprop), ``model`` (mlp, cnn), ``scheduler`` (constant,
    cosine, step), ``batch_size``, ``weight_decay``, ``label_smoothing``. Each optimizer has
    its own learning rate (best at a value that grows with the batch size) and two more
    parameters, each model four (the MLP's best dropout grows with its width), and the cosine
    and step schedules one and two. Every parameter contributes a squared, scaled distance from
    its best value to ``Q``; the final error is ``floor + (0.9 - floor) Q / (Q + 20)`` with a
    floor per (model, optimizer), 0.05 at best (cnn with sgd, whose learning-rate basin is the
    narrowest). ``Q = 0`` is reachable, so the optimum is exactly 0.05. Curves fall from 0.9
    at a speed set by the learning rate and the model.
    """

    max_fidelity = 27
    start = 0.9
    floors = {
        ("cnn", "sgd"): 0.05,
        ("cnn", "adam"): 0.06,
        ("cnn", "rmsprop"): 0.075,
        ("mlp", "sgd"): 0.10,
        ("mlp", "adam"): 0.09,
        ("mlp", "rmsprop"): 0.095,
    }

    def __init__(self, seed: int) -> None:
        self.optimum = min(self.floors.values())
        rng = np.random.default_rng(REFERENCE_SEED)

        def ask(name: str, dist: BaseDistribution) -> Any:
            return sample_prior(dist, rng)

        self.reference = float(
            np.median([self.evaluate(ask)[0] for _ in range(N_REFERENCE_SAMPLES)])
        )

    def evaluate(self, ask: Ask) -> tuple[float, float]:
        """Ask for a configuration, parameter by parameter; return (final value, speed)."""
        optimizer = ask("optimizer", CategoricalDistribution(["sgd", "adam", "rmsprop"]))
        model = ask("model", CategoricalDistribution(["mlp", "cnn"]))
        scheduler = ask("scheduler", CategoricalDistribution(["constant", "cosine", "step"]))
        batch_size = ask("batch_size", IntDistribution(16, 1024, log=True))
        weight_decay = ask("weight_decay", FloatDistribution(1e-7, 1e-1, log=True))
        smoothing = ask("label_smoothing", FloatDistribution(0.0, 0.4))
        z: list[float] = []
        if optimizer == "sgd":
            lr = ask("sgd_lr", FloatDistribution(1e-4, 1.0, log=True))
            momentum = ask("sgd_momentum", FloatDistribution(0.0, 0.99))
            nesterov = ask("sgd_nesterov", CategoricalDistribution([False, True]))
            best_lr, lr_scale = 0.1 * batch_size / 128, 0.35
            z += [(momentum - 0.9) / 0.1, 0.0 if nesterov else 0.7]
        elif optimizer == "adam":
            lr = ask("adam_lr", FloatDistribution(1e-5, 1e-1, log=True))
            beta1 = ask("adam_beta1", FloatDistribution(0.5, 0.999))
            eps = ask("adam_eps", FloatDistribution(1e-10, 1e-4, log=True))
            best_lr, lr_scale = 1e-3 * math.sqrt(batch_size / 128), 0.6
            z += [(beta1 - 0.9) / 0.15, (math.log10(eps) + 8.0) / 3.0]
        else:
            lr = ask("rms_lr", FloatDistribution(1e-5, 1e-1, log=True))
            rho = ask("rms_rho", FloatDistribution(0.5, 0.999))
            centered = ask("rms_centered", CategoricalDistribution([False, True]))
            best_lr, lr_scale = 5e-4 * math.sqrt(batch_size / 128), 0.5
            z += [(rho - 0.9) / 0.15, 0.4 if centered else 0.0]
        lr_gap = math.log10(lr / best_lr)
        best_decay = -3.5 if model == "cnn" else -4.5
        z += [
            lr_gap / lr_scale,
            (math.log2(batch_size) - 7.0) / 3.0,
            (math.log10(weight_decay) - best_decay) / 1.2,
            (smoothing - 0.1) / 0.15,
        ]
        if model == "mlp":
            layers = ask("mlp_layers", IntDistribution(1, 4))
            width = ask("mlp_width", IntDistribution(16, 1024, log=True))
            dropout = ask("mlp_dropout", FloatDistribution(0.0, 0.8))
            activation = ask("mlp_activation", CategoricalDistribution(["relu", "tanh", "gelu"]))
            best_dropout = 0.1 + 0.05 * (math.log2(width) - 4.0)
            z += [
                (layers - 3) / 1.2,
                (math.log2(width) - 9.0) / 1.5,
                (dropout - best_dropout) / 0.12,
                {"gelu": 0.0, "relu": 0.3, "tanh": 1.0}[activation],
            ]
        else:
            blocks = ask("cnn_blocks", IntDistribution(1, 6))
            filters = ask("cnn_filters", IntDistribution(8, 256, log=True))
            kernel = ask("cnn_kernel", CategoricalDistribution([3, 5, 7]))
            dropout = ask("cnn_dropout", FloatDistribution(0.0, 0.8))
            z += [
                (blocks - 4) / 1.2,
                (math.log2(filters) - 6.0) / 1.5,
                {3: 0.0, 5: 0.4, 7: 1.0}[kernel],
                (dropout - 0.25) / 0.12,
            ]
        if scheduler == "constant":
            z.append(0.8)
        elif scheduler == "cosine":
            min_frac = ask("cos_min_frac", FloatDistribution(1e-4, 0.5, log=True))
            z.append((math.log10(min_frac) + 2.0) / 1.0)
        else:
            gamma = ask("step_gamma", FloatDistribution(0.05, 0.9))
            every = ask("step_every", IntDistribution(1, 20))
            z += [(gamma - 0.3) / 0.2, (every - 8) / 5.0, 0.3]
        q = float(np.sum(np.square(z)))
        floor = self.floors[(model, optimizer)]
        final = floor + (self.start - floor) * q / (q + 20.0)
        speed = 3.0 * 10.0 ** (0.5 * min(max(lr_gap, -3.0), 1.0))
        speed *= (0.6 if model == "cnn" else 1.0) * (1.5 if scheduler == "constant" else 1.0)
        return final, speed

    def __call__(self, trial: optuna.Trial) -> float:
        final, speed = self.evaluate(trial_ask(trial))
        m = self.max_fidelity
        return report_curve(
            trial, lambda s: final + (self.start - final) * remaining(s, m, speed), m
        )


class NoisyLevy(_Static):
    """5-D Levy function on ``[-10, 10]^5`` over 50 steps, observed with Gaussian noise.

    At fraction ``t`` the noise-free value is ``levy(x + 0.8 (1 - t)) + 5 (1 - t)``, the Levy
    function (optimum 0 at ``x = 1``) seen slightly shifted, plus a trend that fades. The
    observation adds noise of standard deviation ``σ sqrt(50 / step)`` (``σ``: 3% of the
    reference), drawn from a generator seeded by the run seed, the configuration and the step,
    so a re-evaluation within a run sees the same noise. The true value is the noise-free
    full-fidelity one.
    """

    max_fidelity = 50
    dim = 5

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.space = {f"x{i}": FloatDistribution(-10.0, 10.0) for i in range(self.dim)}
        self.optimum = 0.0
        self._set_reference()
        assert self.reference is not None
        self.noise = 0.03 * self.reference

    @staticmethod
    def levy(x: np.ndarray) -> float:
        w = 1.0 + (x - 1.0) / 4.0
        head = math.sin(math.pi * w[0]) ** 2
        body = np.sum((w[:-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(np.pi * w[:-1] + 1.0) ** 2))
        tail = (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)
        return float(head + body + tail)

    def value(self, params: dict[str, Any], step: int) -> float:
        t = step / self.max_fidelity
        x = np.array([params[f"x{i}"] for i in range(self.dim)])
        return self.levy(x + 0.8 * (1.0 - t)) + 5.0 * (1.0 - t)

    def observe(self, params: dict[str, Any], step: int) -> float:
        rng = np.random.default_rng([self._seed, params_seed(params), step])
        sd = self.noise * math.sqrt(self.max_fidelity / step)
        return self.value(params, step) + sd * float(rng.standard_normal())

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_all(trial, self.space)
        trial.set_user_attr(TRUE_VALUE_ATTR, self.value(params, self.max_fidelity))
        return report_curve(trial, lambda s: self.observe(params, s), self.max_fidelity)
