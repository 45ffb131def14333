"""Database servers for the integration tests: find them, or start a private PostgreSQL.

CI machines (and this kind of development machine) run PostgreSQL on 127.0.0.1:5432 (trust
auth) and MariaDB on 127.0.0.1:3306 (root, empty password). A user's laptop usually has
neither: if PostgreSQL's binaries are installed, a throw-away server is started as a non-root
user with its data under /tmp; otherwise the database tests are skipped with the reason. With
``OPTUNA_ADVANCED_REQUIRE_DATABASES=1`` (set by ``.ci/run``) a missing server is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import glob
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)


def required() -> bool:
    return os.environ.get("OPTUNA_ADVANCED_REQUIRE_DATABASES", "") not in ("", "0")


def is_listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@contextlib.contextmanager
def local_postgres() -> Iterator[tuple[str, int] | None]:
    """A private PostgreSQL on a free port, or ``None`` when the binaries are missing.

    PostgreSQL refuses to run as root; as root the server runs as ``nobody``.
    """
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="optuna-advanced-pg-"))
    data = base / "data"
    port = free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        prefix = ["runuser", "-u", "nobody", "--"]
    run = [*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"]
    try:
        subprocess.run(run, check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {base} -h 127.0.0.1"
        start = [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w"]
        subprocess.run([*start, "start"], check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(base, ignore_errors=True)
        yield None
        return
    try:
        yield ("127.0.0.1", port)
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)


def new_name() -> str:
    return f"oa_test_{uuid.uuid4().hex[:12]}"


def postgres_database(host: str, port: int) -> contextlib.AbstractContextManager[str]:
    """A fresh database, dropped afterwards; yields its SQLAlchemy URL."""
    from benchmarks.throughput import fresh_database

    return fresh_database(host, port, prefix="oa_test")


@contextlib.contextmanager
def mariadb_database(host: str, port: int) -> Iterator[str]:
    import pymysql

    name = new_name()
    conn = pymysql.connect(host=host, port=port, user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    conn.close()
    try:
        yield f"mysql+pymysql://root@{host}:{port}/{name}"
    finally:
        conn = pymysql.connect(host=host, port=port, user="root", password="", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
