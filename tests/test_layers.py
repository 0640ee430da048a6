"""The layer order is a test: an `ast` import graph of terrain_gan/ and exporters/ has no cycle and no upward edge.

Every import counts, at module level or inside a function; relative imports and `from package import module`
resolve to the module imported. Floors, lowest first (a module may import its own floor or lower ones):

  0 exporters          heightmaps -> files; knows nothing of terrain_gan
  1 base               errors, fileio, config, progress, the lazy package surface
  2 dem, nn, measures  DEM files -> metres; the networks (JAX only); terrain measures (numpy only)
  3 dataset            metres -> training windows
  4 train, pretrained  windows -> weights; weights -> a loaded model
  5 world              model -> seamless tiles and world folders
  6 generation         one heightmap and its files
  7 eval               the evaluation table
  8 cli                the `terrain-gan` command
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("terrain_gan", "exporters")

# Longest prefix wins: a module's floor is that of the most specific entry naming it or a package above it.
FLOORS = {
    "exporters": 0,
    "terrain_gan": 1, "terrain_gan.errors": 1, "terrain_gan.fileio": 1, "terrain_gan.config": 1,
    "terrain_gan.progress": 1,
    "terrain_gan.dem": 2, "terrain_gan.nn": 2,
    "terrain_gan.eval.metrics": 2, "terrain_gan.eval.c2st": 2, "terrain_gan.eval.fbm": 2,
    "terrain_gan.dataset": 3,
    "terrain_gan.train": 4, "terrain_gan.pretrained": 4,
    "terrain_gan.world": 5,
    "terrain_gan.generation": 6,
    "terrain_gan.eval": 7,
    "terrain_gan.cli": 8,
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def find_modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """{dotted name: file} of every module of `packages` under `root`."""
    return {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}


def _resolve(name: str, modules) -> str | None:
    """`name` or the nearest package above it that is one of `modules` (None: not ours)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, source: str, modules, is_package: bool = False) -> set[str]:
    """The modules of `modules` that `source` imports anywhere (functions included), resolved."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports pkg.mod; `from mod import name` imports mod.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        out |= {t for t in (_resolve(t, modules) for t in targets) if t and t != module}
    return out


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {m: imports_of(m, p.read_text(), modules, p.name == "__init__.py") for m, p in modules.items()}


def floor_of(module: str, floors=FLOORS) -> int:
    return floors[_resolve(module, floors)]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def upward_edges(graph: dict[str, set[str]], floors=FLOORS) -> list[tuple[str, str]]:
    """Imports from a lower floor into a higher one."""
    return sorted((a, b) for a, targets in graph.items() for b in targets if floor_of(b, floors) > floor_of(a, floors))


GRAPH = import_graph(find_modules(REPO))


def test_graph_sees_function_level_and_relative_imports():
    modules = {"p", "p.a", "p.b", "p.c"}
    source = "from . import b\ndef f():\n    from p.c import thing\n    import p.a\n"
    assert imports_of("p.a", source, modules) == {"p.b", "p.c"}  # itself left out
    assert GRAPH["terrain_gan.world.batch"] >= {"terrain_gan.world.dask_engine", "terrain_gan.pretrained"}


def test_no_import_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_layer_order():
    assert upward_edges(GRAPH) == []


def test_exporters_import_nothing_of_terrain_gan():
    assert not {b for a, bs in GRAPH.items() if a.startswith("exporters") for b in bs if b.startswith("terrain_gan")}


def test_checker_catches_cycles_and_upward_imports():
    graph = {"x.low": {"x.mid"}, "x.mid": {"x.high"}, "x.high": {"x.low"}}
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == set(graph) and len(cycle) == 4
    assert upward_edges(graph, {"x.low": 0, "x.mid": 1, "x.high": 2}) == [("x.low", "x.mid"), ("x.mid", "x.high")]
    # The real graph with one upward import added (nn reaching up to world) is caught too.
    bad = {**GRAPH, "terrain_gan.nn.model": GRAPH["terrain_gan.nn.model"] | {"terrain_gan.world.core"}}
    assert upward_edges(bad) == [("terrain_gan.nn.model", "terrain_gan.world.core")]
    assert find_cycle({**bad, "terrain_gan.world.core": {"terrain_gan.nn.model"}}) is not None


def test_top_level_stays_small():
    top = [p for p in (REPO / "terrain_gan").glob("*.py")]
    assert len(top) <= 12, sorted(p.name for p in top)
