"""The package's shape (docs/architecture.md): no import cycle, no private name taken from
another module, imports only down the layers (the radio layer knows no site model). Read
from the source, imports inside functions included (they run as well, only later)."""
import ast
from pathlib import Path

import pytest

import wifiplan

PKG = Path(wifiplan.__file__).parent


def _modname(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_modname(p): p for p in PKG.rglob("*.py")}


def _imports(mod: str):
    """(imported module, names, line) of every import of the project's own modules."""
    path = MODULES[mod]
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base) + (f".{node.module}" if node.module else "")
            else:
                target = node.module or ""
            if not target.startswith("wifiplan"):
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                yield (sub if sub in MODULES else target), a.name, node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("wifiplan"):
                    yield a.name, None, node.lineno


def _graph():
    """Module -> modules it imports; importing ``a.b.c`` runs ``a.b`` too."""
    g = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, _ in _imports(m):
            while target.startswith("wifiplan."):
                if target != m and not m.startswith(target + "."):
                    g[m].add(target)
                target = target.rsplit(".", 1)[0]
    return g


def _cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_no_private_name_from_another_module(mod):
    bad = [(t, n, line) for t, n, line in _imports(mod)
           if n and n.startswith("_") and not n.startswith("__") and t != mod]
    assert not bad, f"{mod} imports private names {bad}"


# The layers of docs/architecture.md, lowest first: a module imports from its own layer or
# below, never from above.
LAYERS = [
    ("foundations", ["errors", "fileio", "rules", "requirements", "validation", "regulatory",
                     "materials", "apmodels"]),
    ("radio", ["radio"]),
    ("site model", ["site", "routes", "plan", "dxf", "esx", "floorimage"]),
    ("prediction", ["predict", "inputs"]),
    ("design", ["evaluation", "capacity", "backhaul", "planning", "roaming"]),
    ("field", ["survey", "logs"]),
    ("rollout", ["rollout", "deploy", "report"]),
    ("faces", ["cli", "ui", "__main__"]),
]
LAYER_OF = {f"wifiplan.{m}": i for i, (_, mods) in enumerate(LAYERS) for m in mods}


def _layer(mod: str) -> int:
    parts = mod.split(".")
    return len(LAYERS) if len(parts) == 1 else LAYER_OF[".".join(parts[:2])]


def test_every_module_has_a_layer():
    assert not [m for m in MODULES if m != "wifiplan" and ".".join(m.split(".")[:2])
                not in LAYER_OF]


def test_imports_go_down_the_layers():
    g = _graph()
    up = [(a, b) for a in g for b in g[a] if _layer(b) > _layer(a)]
    assert up == [], [f"{a} ({LAYERS[_layer(a)][0]}) imports {b} ({LAYERS[_layer(b)][0]})"
                      for a, b in up]


def test_no_test_skips_because_the_project_fails_to_import():
    tests = Path(__file__).parent
    bad = [f"{p.name}:{i}" for p in sorted(tests.glob("test_*.py")) if p.name != Path(__file__).name
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if 'importorskip("wifiplan' in line.replace("'", '"')]
    assert not bad
