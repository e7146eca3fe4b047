"""Shared pytest fixtures. Each section belongs to one area; add new sections below, keep them apart."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from app.store import Store
from tests.ha_support import HA_CORES, HaCore, HomeAssistant, Mosquitto, build_demo_data, start_home_assistant

# =====================================================================================================
# Store: real databases (SQLite file, PostgreSQL and MariaDB servers)
#
# Every database a test uses is created for it under a unique name (med_test_<uuid hex>) through an
# admin connection and dropped afterwards, so nothing depends on what an earlier run left. A server that
# cannot be reached makes the test FAIL (never skip): the store must be proven on all three.
# =====================================================================================================

DATABASE_KINDS = ("sqlite", "postgresql", "mariadb")

POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER = "127.0.0.1", 5432, "postgres"  # trust auth, no password
MARIADB_HOST, MARIADB_PORT, MARIADB_USER, MARIADB_PASSWORD = "127.0.0.1", 3306, "root", ""
CONNECT_TIMEOUT = 10

DatabaseFactory = Callable[[str], Awaitable[str]]


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    try:
        connection = await asyncpg.connect(
            host=POSTGRES_HOST,
            port=POSTGRES_PORT,
            user=POSTGRES_USER,
            database="postgres",
            timeout=CONNECT_TIMEOUT,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL test server not reachable at {POSTGRES_HOST}:{POSTGRES_PORT} "
            f"(user {POSTGRES_USER}, trust auth): {exc!r}. Start it; the store tests need a real server.",
            pytrace=False,
        )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _mariadb_admin(sql: str) -> None:
    import aiomysql

    try:
        connection = await aiomysql.connect(
            host=MARIADB_HOST,
            port=MARIADB_PORT,
            user=MARIADB_USER,
            password=MARIADB_PASSWORD,
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
        )
    except (OSError, TimeoutError, aiomysql.Error) as exc:
        pytest.fail(
            f"MariaDB test server not reachable at {MARIADB_HOST}:{MARIADB_PORT} "
            f"(user {MARIADB_USER}, empty password): {exc!r}. Start it; the store tests need a real server.",
            pytrace=False,
        )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(sql)
    finally:
        connection.close()


class _Databases:
    """Creates uniquely named databases and drops them all at the end of the test."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._drops: list[Callable[[], Awaitable[None]]] = []

    async def create(self, kind: str) -> str:
        name = f"med_test_{uuid.uuid4().hex}"
        if kind == "sqlite":
            return f"sqlite:///{self._tmp_path / name}.db"
        if kind == "postgresql":
            await _postgres_admin(f'CREATE DATABASE "{name}"')
            self._drops.append(lambda: _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return f"postgresql://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
        if kind == "mariadb":
            await _mariadb_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            self._drops.append(lambda: _mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`"))
            password = f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else ""
            return f"mysql://{MARIADB_USER}{password}@{MARIADB_HOST}:{MARIADB_PORT}/{name}"
        raise ValueError(f"unknown database kind {kind!r}")

    async def drop_all(self) -> None:
        while self._drops:
            await self._drops.pop()()


@pytest.fixture
async def database_factory(tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """`await database_factory("sqlite" | "postgresql" | "mariadb")` -> the URL of a fresh, empty
    database (user-style URL, not normalised), dropped at the end of the test."""
    databases = _Databases(tmp_path / "databases")
    (tmp_path / "databases").mkdir()
    try:
        yield databases.create
    finally:
        await databases.drop_all()


@pytest.fixture(params=DATABASE_KINDS)
async def database_url(request: pytest.FixtureRequest, database_factory: DatabaseFactory) -> str:
    """A fresh database of each kind in turn (the test runs once per kind)."""
    return await database_factory(request.param)


@pytest.fixture
async def store(database_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened (migrated) Store on `database_url`, closed at the end of the test."""
    opened = await Store.open(database_url, data_dir=tmp_path / "data")
    try:
        yield opened
    finally:
        await opened.close()


# =====================================================================================================
# Home Assistant exporter: one private Mosquitto and one real Home Assistant core per supported core
# and test session (tests/ha_support.py HA_CORES; every test taking `home_assistant` runs on each, and
# pytest groups the tests by core so that only one runs at a time), and the simulator's demo data synced
# once into a SQLite store that each test copies.
# =====================================================================================================


@pytest.fixture(scope="session", params=HA_CORES, ids=lambda core: f"ha{core.version}")
def ha_core(request: pytest.FixtureRequest) -> HaCore:
    """The Home Assistant release under test (the test runs once per release in HA_CORES)."""
    core: HaCore = request.param
    return core


@pytest.fixture(scope="session")
def ha_mosquitto(tmp_path_factory: pytest.TempPathFactory, ha_core: HaCore) -> Iterator[Mosquitto]:
    """The broker of `ha_core`'s Home Assistant: a new one per core, so no retained discovery message
    from a test on one core reaches the other."""
    broker = Mosquitto(tmp_path_factory.mktemp(f"ha-mosquitto-{ha_core.version}"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def home_assistant(
    tmp_path_factory: pytest.TempPathFactory, ha_mosquitto: Mosquitto, ha_core: HaCore
) -> Iterator[HomeAssistant]:
    ha = start_home_assistant(
        tmp_path_factory.mktemp(f"home-assistant-{ha_core.version}"), ha_mosquitto, ha_core
    )
    try:
        yield ha
    finally:
        ha.stop()


@pytest.fixture(scope="session")
def ha_demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the demo points fully synced at tests.support.NOW (copy it before writing)."""
    from tests.support import NOW

    data_dir = tmp_path_factory.mktemp("ha-demo") / "data"
    asyncio.run(build_demo_data(data_dir, NOW))
    return data_dir


@pytest.fixture
async def demo_store(ha_demo_data: Path, tmp_path: Path) -> AsyncIterator[Store]:
    """A private copy of the synced demo store (a test module may define its own, trimmed one)."""
    shutil.copytree(ha_demo_data, tmp_path / "data")
    store = await Store.open("", data_dir=tmp_path / "data")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto on a free port."""
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()
