"""The web layer's shape: one table of UI texts in both languages, modules that share `context` instead of
importing `app.py` (no import hidden in a function), and one cache that computes a value once per key and
keeps it until the next sync."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Mapping
from pathlib import Path

from app.web import i18n
from app.web.cache import Memo

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "app" / "web"


def _web_imports(path: Path) -> list[tuple[str, bool]]:
    """(imported app.web module, imported inside a function) for each import of app.web in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.web"):
            names = [node.module] if node.module != "app.web" else [f"app.web.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("app.web")]
        found += [(name, id(node) in nested) for name in names]
    return found


def test_every_text_of_the_single_table_is_in_both_languages() -> None:
    assert set(i18n.TABLE) >= {"common", "chart_pages", "cost_charts", "pricing_pages", "exporters_page"}
    for section, table in i18n.TABLE.items():
        assert set(table) == set(i18n.LANGUAGES), section
        french, english = table["fr"], table["en"]
        if isinstance(french, tuple):  # months, weekdays
            assert len(french) == len(english) and all(french) and all(english), section
            continue
        assert isinstance(english, Mapping)
        assert set(french) == set(english), (section, set(french) ^ set(english))
        for key, value in [*french.items(), *english.items()]:
            parts = value if isinstance(value, tuple) else (value,)
            assert all(isinstance(p, str) and p.strip() for p in parts), (section, key)


def test_the_lookups_read_the_table() -> None:
    assert i18n.text("fr", "nav_tempo") == i18n.PAGE_TEXTS["fr"]["nav_tempo"]
    assert i18n.bucket_name("en", "hp") == "Peak hours"
    assert i18n.pricing_texts("fr")["offers"] == "Offres et tarifs"
    assert i18n.exporter_texts("en")["export_now"] == "Export now"
    assert i18n.text("en", "no_such_text") == "no_such_text"


def test_web_modules_share_context_and_import_each_other_at_the_top() -> None:
    """The cycle app.py <-> page modules is gone for good: context.py imports nothing from the web, nobody
    imports app.py, and no web module hides an import of another inside a function (tests/test_architecture.py
    walks the whole of app/ for cycles and for the rooms' rules)."""
    imports = {path.name: _web_imports(path) for path in WEB.glob("*.py")}
    assert imports["context.py"] == []
    assert not [name for found in imports.values() for name, _ in found if name == "app.web.app"]
    late = {name: [module for module, inside in found if inside] for name, found in imports.items()}
    assert not any(late.values()), f"imports of app.web inside functions: {late}"


async def test_the_cache_computes_once_per_key_and_keeps_nothing_computed_across_a_clear() -> None:
    memo: Memo[str, str] = Memo(8, concurrency=2)
    release = asyncio.Event()
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"value {calls}"

    waiting = [asyncio.ensure_future(memo.run("key", compute)) for _ in range(10)]
    await asyncio.sleep(0)
    memo.clear()  # a sync lands while the value is computed: it answers its callers, is not kept
    release.set()
    assert set(await asyncio.gather(*waiting)) == {"value 1"}
    assert memo.get("key") is None
    assert await memo.run("key", compute) == "value 2"
    assert memo.get("key") == "value 2" and calls == 2


async def test_the_cache_stays_within_its_weight() -> None:
    memo: Memo[str, bytes] = Memo(100, concurrency=2, max_weight=100, weigh=len)

    async def body(size: int) -> bytes:
        return b"x" * size

    for n in range(10):
        await memo.run(f"answer {n}", lambda: body(20))
    kept = [n for n in range(10) if memo.get(f"answer {n}") is not None]
    assert kept == [5, 6, 7, 8, 9]  # the oldest out first
    await memo.run("huge", lambda: body(60))
    assert memo.get("huge") is None  # over a quarter of the cap: answered, not kept
