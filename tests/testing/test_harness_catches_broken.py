"""The conformance harness must fail on broken samplers and pruners, each for its own reason.

The broken implementations below are written into a scratch test module and run by a separate
pytest process (``pytester``), next to a correct control, so a harness that passes everything
would be caught here.
"""

from __future__ import annotations

import re

import pytest

BROKEN_MODULE = """
import random
import threading

import optuna
import pytest
from optuna.samplers import RandomSampler
from optuna.testing.pytest_samplers import BasicSamplerTestCase

from optuna_advanced.testing.conformance import PrunerContractTestCase
from optuna_advanced.testing.conformance import SamplerConformanceTestCase


class OutOfBoundsSampler(RandomSampler):
    def sample_independent(self, study, trial, name, dist):
        value = super().sample_independent(study, trial, name, dist)
        return dist.high + 1 if isinstance(value, float) else value


class UnseededSampler(RandomSampler):
    def __init__(self, seed=None):
        super().__init__(seed=None)  # ignores the seed


class NoReseedSampler(RandomSampler):
    def reseed_rng(self):
        pass


class UnpicklableSampler(RandomSampler):
    def __init__(self, seed=None):
        super().__init__(seed=seed)
        self._lock = threading.Lock()


def good(seed):
    return RandomSampler(seed=seed)


def out_of_bounds(seed):
    return OutOfBoundsSampler(seed=seed)


def unseeded(seed):
    return UnseededSampler(seed=seed)


def no_reseed(seed):
    return NoReseedSampler(seed=seed)


def unpicklable(seed):
    return UnpicklableSampler(seed=seed)


class EagerPruner(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


class CoinFlipPruner(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return bool(trial.last_step is not None and random.random() < 0.3)


def eager():
    return EagerPruner()


def coin_flip():
    return CoinFlipPruner()


def halving():
    return optuna.pruners.SuccessiveHalvingPruner()


class TestOutOfBoundsBasic(BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: out_of_bounds(0)


def _pack(factory):
    class Case(SamplerConformanceTestCase):
        @pytest.fixture
        def sampler_factory(self):
            return factory

    return Case


TestGood = _pack(good)
TestUnseeded = _pack(unseeded)
TestNoReseed = _pack(no_reseed)
TestUnpicklable = _pack(unpicklable)


def _contract(factory):
    class Case(PrunerContractTestCase):
        @pytest.fixture
        def pruner_factory(self):
            return factory

    return Case


TestHalving = _contract(halving)
TestEager = _contract(eager)
TestCoinFlip = _contract(coin_flip)
"""

EXPECTED_FAILURES = {
    "TestOutOfBoundsBasic": {"test_float"},
    "TestUnseeded": {"test_same_seed_same_params"},
    "TestNoReseed": {"test_reseed_rng_changes_stream"},
    "TestUnpicklable": {"test_copy_continues_identically"},
    "TestEager": {"test_never_prunes_before_a_report"},
    "TestCoinFlip": {"test_deterministic_given_storage"},
}
CONTROLS = {"TestGood", "TestHalving"}


@pytest.mark.slow
def test_harness_fails_broken_implementations(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN_MODULE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rf", "--tb=no")
    failed: dict[str, set[str]] = {}
    for line in result.outlines:
        match = re.match(r"FAILED test_broken\.py::(\w+)::(\w+)", line)
        if match:
            failed.setdefault(match[1], set()).add(match[2])
    for cls, tests in EXPECTED_FAILURES.items():
        assert tests <= failed.get(cls, set()), (cls, failed.get(cls), result.outlines[-40:])
    for control in CONTROLS:
        assert control not in failed, (control, failed[control])
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 50  # the harness also passes what is correct
