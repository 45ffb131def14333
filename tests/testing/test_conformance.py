"""Every registered sampler and pruner through Optuna's conformance classes and our own."""

from __future__ import annotations

from typing import Any

from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import MultiObjectiveSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
from optuna.testing.pytest_samplers import SingleOnlySamplerTestCase
import pytest

from optuna_advanced.testing.conformance import PrunerContractTestCase
from optuna_advanced.testing.conformance import PrunerFactory
from optuna_advanced.testing.conformance import SamplerConformanceTestCase
from optuna_advanced.testing.conformance import SamplerFactory
from optuna_advanced.testing.registry import PrunerEntry
from optuna_advanced.testing.registry import PRUNERS
from optuna_advanced.testing.registry import SamplerEntry
from optuna_advanced.testing.registry import SAMPLERS

ALL = list(SAMPLERS.values())
RELATIVE = [e for e in ALL if e.relative]
MULTI = [e for e in ALL if e.multi_objective]
SINGLE_ONLY = [e for e in ALL if not e.multi_objective]


def _ids(entry: SamplerEntry | PrunerEntry) -> str:
    return entry.name


def _optuna_sampler_fixture(entries: list[SamplerEntry]) -> Any:
    @pytest.fixture(params=entries, ids=_ids)
    def sampler(self: object, request: pytest.FixtureRequest) -> object:
        entry: SamplerEntry = request.param
        return lambda: entry.factory(0)

    return sampler


class TestBasic(BasicSamplerTestCase):
    sampler = _optuna_sampler_fixture(ALL)


class TestRelative(RelativeSamplerTestCase):
    sampler = _optuna_sampler_fixture(RELATIVE)


class TestMultiObjective(MultiObjectiveSamplerTestCase):
    sampler = _optuna_sampler_fixture(MULTI)


class TestSingleOnly(SingleOnlySamplerTestCase):
    sampler = _optuna_sampler_fixture(SINGLE_ONLY)


class TestPackSampler(SamplerConformanceTestCase):
    @pytest.fixture(params=ALL, ids=_ids)
    def sampler_factory(self, request: pytest.FixtureRequest) -> SamplerFactory:
        entry: SamplerEntry = request.param
        return entry.factory


class TestPrunerContract(PrunerContractTestCase):
    @pytest.fixture(params=list(PRUNERS.values()), ids=_ids)
    def entry(self, request: pytest.FixtureRequest) -> PrunerEntry:
        entry: PrunerEntry = request.param
        return entry

    @pytest.fixture
    def pruner_factory(self, entry: PrunerEntry) -> PrunerFactory:
        return entry.factory

    @pytest.fixture
    def expects_pruning(self, entry: PrunerEntry) -> bool:
        return entry.prunes


def test_registry_is_well_formed() -> None:
    assert ALL, "the registry must hold at least the control sampler"
    for entry in ALL:
        sampler = entry.factory(0)
        assert entry.factory.__module__ and "<lambda>" not in entry.factory.__qualname__
        assert sampler is not entry.factory(0), "factories must build new objects"
    for pentry in PRUNERS.values():
        assert "<lambda>" not in pentry.factory.__qualname__
