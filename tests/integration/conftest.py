"""Storages for the integration tests: PostgreSQL, MariaDB, JournalStorage and the gRPC proxy.

Each test gets a database of its own, created and dropped around it (see ``databases.py`` for
how servers are found, started or skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest

from tests.integration import databases
from tests.integration.workers import StorageSpec


def _unavailable(what: str) -> None:
    message = f"{what} is not reachable and could not be started"
    if databases.required():
        pytest.fail(message + " (OPTUNA_ADVANCED_REQUIRE_DATABASES is set)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, int]]:
    if databases.is_listening(*databases.POSTGRES):
        yield databases.POSTGRES
        return
    with databases.local_postgres() as server:
        if server is None:
            _unavailable("PostgreSQL (127.0.0.1:5432)")
        assert server is not None
        yield server


@pytest.fixture(scope="session")
def mariadb_server() -> tuple[str, int]:
    if not databases.is_listening(*databases.MARIADB):
        _unavailable("MariaDB/MySQL (127.0.0.1:3306)")
    return databases.MARIADB


@pytest.fixture
def postgres_url(postgres_server: tuple[str, int]) -> Iterator[str]:
    with databases.postgres_database(*postgres_server) as url:
        yield url


@pytest.fixture
def mariadb_url(mariadb_server: tuple[str, int]) -> Iterator[str]:
    with databases.mariadb_database(*mariadb_server) as url:
        yield url


@pytest.fixture
def grpc_proxy(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """Optuna's gRPC storage proxy in this process, over a journal file, on 127.0.0.1.

    Not over SQLite: SQLite has no row locks, so two concurrent WAITING -> RUNNING transitions
    can both succeed and two workers pop the same enqueued trial (Optuna's ``enqueue_trial``
    queue has the same race there). Production proxies front MySQL or PostgreSQL.
    """
    from optuna.storages._grpc.server import make_server
    from optuna.storages.journal import JournalFileBackend

    storage = optuna.storages.JournalStorage(JournalFileBackend(str(tmp_path / "proxied.log")))
    port = databases.free_port()
    server = make_server(storage, "127.0.0.1", port, ThreadPoolExecutor(max_workers=8))
    server.start()
    try:
        yield ("127.0.0.1", port)
    finally:
        server.stop(grace=None).wait(10)


@pytest.fixture(params=["postgresql", "mariadb", "journal", "grpc"])
def storage_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StorageSpec:
    kind = request.param
    if kind == "postgresql":
        return ("rdb", request.getfixturevalue("postgres_url"))
    if kind == "mariadb":
        return ("rdb", request.getfixturevalue("mariadb_url"))
    if kind == "journal":
        return ("journal", str(tmp_path / "journal.log"))
    return ("grpc", request.getfixturevalue("grpc_proxy"))
