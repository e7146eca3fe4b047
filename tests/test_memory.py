"""Memory: Alembic stays unloaded when the schema is at head; freed pages go back once things are quiet."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

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


async def test_idle_trimmer_releases_once_after_the_last_touch() -> None:
    released = asyncio.Event()
    trimmer = IdleTrimmer(delay=0.01, release=released.set)
    for _ in range(5):
        trimmer.touch()
    await asyncio.wait_for(released.wait(), 5)
    assert trimmer.releases == 1  # five touches in a burst: one release
