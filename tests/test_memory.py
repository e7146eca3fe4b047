"""Memory: Alembic stays unloaded when the schema is at head; freed pages go back once things are quiet."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from app.memory import IdleTrimmer
from app.store import Store, migrate


def test_head_revision_without_alembic_is_alembics() -> None:
    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_current_revision_is_read_without_alembic(tmp_path: Path) -> None:
    store = await Store.open("", data_dir=tmp_path / "data")
    try:
        async with store.engine.connect() as connection:
            assert await connection.run_sync(migrate.current_revision) == migrate.head_revision()
    finally:
        await store.close()


def test_a_store_at_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from app.store import Store

        async def main() -> None:
            store = await Store.open("", data_dir=Path({str(tmp_path)!r}))
            await store.close()

        asyncio.run(main())  # first open: creates the schema (Alembic runs)
        print("first", "alembic" in sys.modules)
        """
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "first True" in first.stdout
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "first False" in again.stdout


def test_the_program_creates_the_schema_in_a_child_without_loading_alembic(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from app.store import Store, migrate

        async def main() -> None:
            migrate.upgrade_apart()
            store = await Store.open("", data_dir=Path({str(tmp_path)!r}))
            async with store.engine.connect() as connection:
                current = await connection.run_sync(migrate.current_revision)
            await store.close()
            print("revision", current == migrate.head_revision(), "alembic", "alembic" in sys.modules)

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "revision True alembic False" in result.stdout


async def test_a_failed_upgrade_in_the_child_says_so(tmp_path: Path) -> None:
    migrate.upgrade_apart()
    try:
        (tmp_path / "data").mkdir()
        database = sqlite3.connect(tmp_path / "data" / "myelectricaldata.db")
        database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        database.execute("INSERT INTO alembic_version VALUES ('from-a-newer-release')")
        database.commit()
        database.close()
        with pytest.raises(RuntimeError, match=r"upgrade failed: .*from-a-newer-release"):
            await Store.open("", data_dir=tmp_path / "data")
    finally:
        migrate.upgrade_apart(False)


async def test_an_in_memory_database_is_still_migrated_in_process(tmp_path: Path) -> None:
    migrate.upgrade_apart()
    try:
        store = await Store.open("sqlite:///:memory:", data_dir=tmp_path)
        try:
            async with store.engine.connect() as connection:
                assert await connection.run_sync(migrate.current_revision) == migrate.head_revision()
        finally:
            await store.close()
    finally:
        migrate.upgrade_apart(False)


async def test_idle_trimmer_releases_once_after_the_last_touch() -> None:
    released = asyncio.Event()
    trimmer = IdleTrimmer(delay=0.01, release=released.set)
    for _ in range(5):
        trimmer.touch()
    await asyncio.wait_for(released.wait(), 5)
    assert trimmer.releases == 1  # five touches in a burst: one release


_ARENA_PROBE = textwrap.dedent(
    """
    import re, sys, threading
    from app import memory

    if sys.argv[1] == "one":
        print("set", memory.one_malloc_arena())
    kept = []

    def work() -> None:
        churn = [bytearray(200) for _ in range(20_000)]
        kept.append(churn[-1])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # glibc reserves each thread arena as a 64 MB mapping, mostly inaccessible ("---p")
    reserved = 0
    for line in open("/proc/self/maps"):
        span, perms = line.split()[:2]
        low, high = (int(x, 16) for x in span.split("-"))
        if perms == "---p" and len(line.split()) == 5 and high - low >= 1 << 20:
            reserved += 1
    print("arenas", reserved)
    """
)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_threads_allocate_from_one_arena_once_the_program_asks() -> None:
    def arenas(mode: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", _ARENA_PROBE, mode], capture_output=True, text=True, check=True
        )
        return run.stdout

    if "arenas 0" in arenas("default"):
        pytest.skip("this allocator gives threads no arenas of their own (not glibc)")
    assert arenas("one") == "set True\narenas 0\n"
