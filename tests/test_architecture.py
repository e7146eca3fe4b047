"""The house rules of ../shared/DESIGN.md, checked on the source with the standard library's `ast`: no
import cycle in app/, and every import points down the rooms table."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# The room of each module: the longest matching prefix wins.
ROOM_OF_PREFIX: dict[str, str] = {
    "app": "foundation",  # the package itself (its version)
    "app.project": "foundation",
    "app.redaction": "foundation",
    "app.logformat": "foundation",
    "app.memory": "foundation",
    "app.domain": "domain",
    "app.timeline": "timeline",
    "app.tariff_rules": "rules",
    "app.hourly_energy": "rules",
    "app.health": "rules",
    "app.tempo_forecast": "rules",
    "app.gateway": "gateway",
    "app.store": "store",
    "app.backup": "store",
    "app.sync": "sync",
    "app.pricing": "pricing",
    "app.contracts": "costing",
    "app.costing": "costing",
    "app.exporters": "exporters",
    "app.addon": "addon",
    "app.settings": "addon",
    "app.healthcheck": "addon",
    "app.service": "service",
    "app.web": "web",
    "app.__main__": "main",
}

# What each room may import, as DESIGN.md's table says, before following the arrows down.
MAY_IMPORT: dict[str, set[str]] = {
    "foundation": set(),
    "domain": set(),
    "timeline": {"domain"},
    "rules": {"domain", "timeline"},
    "gateway": {"domain", "timeline"},
    "store": {"domain"},
    "sync": {"gateway", "store"},
    "pricing": {"domain", "timeline", "rules"},
    "costing": {"store", "pricing"},
    "exporters": {"domain", "rules", "store", "costing"},
    "addon": {"domain"},
    "service": {"sync", "exporters", "addon", "costing"},
    "web": {"service", "sync", "exporters", "addon", "costing", "gateway"},
    "main": {"web", "service", "sync", "exporters", "addon", "costing", "gateway"},
}

# Where the code knowingly departs from DESIGN.md's table (the closing note lists them for the table).
KNOWN_DEPARTURES: set[tuple[str, str]] = {
    ("gateway", "rules"),  # parsing reads the contract's off-peak hours with the one off-peak parser
    ("store", "timeline"),  # readings are kept per Paris day: the store computes the days' UTC bounds
    ("store", "rules"),  # the store serves every consumer the completed hours (hourly_energy)
    ("sync", "rules"),  # the sync plans with the Tempo forecast's pure rules
}

# The rules the issue names, whatever the table grants.
FORBIDDEN: list[tuple[str, str]] = [
    *((room, "web") for room in MAY_IMPORT if room not in {"web", "main"}),
    ("pricing", "store"),
    ("pricing", "gateway"),
    ("exporters", "gateway"),
    ("exporters", "web"),
    ("addon", "exporters"),
]


def allowed(room: str) -> set[str]:
    """The room itself, the foundation, what it may import and all those may import (arrows point down)."""
    seen = {room, "foundation"}
    todo = [room]
    while todo:
        for target in MAY_IMPORT[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    files: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def imports_in(module: str, files: Mapping[str, Path]) -> Iterator[tuple[str, int]]:
    """Every module of `files` that `module` imports, anywhere (inside functions too), with the line."""
    path = files[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: package.count(".") + 2 - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` imports that module; `from module import name` the module.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != module:
                yield target, node.lineno


def import_graph(files: Mapping[str, Path]) -> dict[str, list[str]]:
    return {module: sorted({target for target, _ in imports_in(module, files)}) for module in files}


def cycles_in(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """The import cycles a depth-first walk meets, each as the path that closes on itself."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in graph[module]:
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


FILES = module_files(APP)
GRAPH = import_graph(FILES)


def room_of(module: str) -> str:
    prefixes = [prefix for prefix in ROOM_OF_PREFIX if module == prefix or module.startswith(prefix + ".")]
    return ROOM_OF_PREFIX[max(prefixes, key=len)]


def test_no_import_cycle_in_app() -> None:
    cycles = cycles_in(GRAPH)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_every_import_points_down_the_rooms_table() -> None:
    broken = sorted(
        {
            f"{FILES[module].relative_to(APP.parent)}:{line} ({room_of(module)}) imports {target}"
            f" ({room_of(target)})"
            for module in sorted(FILES)
            for target, line in imports_in(module, FILES)
            if room_of(target) not in allowed(room_of(module))
            and (room_of(module), room_of(target)) not in KNOWN_DEPARTURES
        }
    )
    assert broken == [], "imports that break DESIGN.md's rooms table:\n" + "\n".join(broken)


@pytest.mark.parametrize(("room", "forbidden"), FORBIDDEN)
def test_house_rule(room: str, forbidden: str) -> None:
    """Nothing below the web imports it; pricing imports neither the store nor the gateway; exporters never
    import the gateway or the web; the add-on runtime does not import the exporters."""
    offenders = [
        f"{module} imports {target}"
        for module in FILES
        if room_of(module) == room
        for target in GRAPH[module]
        if room_of(target) == forbidden
    ]
    assert offenders == []


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    """The walker counts imports inside functions and relative imports, where a cycle hides from the
    interpreter until a page is served."""
    package = tmp_path / "pkg"
    (package / "web").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "web" / "__init__.py").write_text("")
    (package / "web" / "app.py").write_text("from pkg.web import pages\nSERVICE = 1\n")
    late_import = "def view():\n    from .app import SERVICE\n    return SERVICE\n"
    (package / "web" / "pages.py").write_text(late_import)
    (package / "web" / "texts.py").write_text("from pkg.web.pages import view\n")
    graph = import_graph(module_files(package))
    assert graph["pkg.web.texts"] == ["pkg.web.pages"]
    assert cycles_in(graph) == [["pkg.web.app", "pkg.web.pages", "pkg.web.app"]]


def test_every_module_has_a_room_of_the_table() -> None:
    assert {room_of(module) for module in FILES} <= set(MAY_IMPORT)
