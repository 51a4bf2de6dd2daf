"""The layering of STYLE.md holds: hwmodel < rtl < sim < analysis, every pair of layers checked (no
module imports a layer above its own, function-level imports included), no import cycle between
modules, and hwmodel imports no HDL tool."""

import ast
import itertools
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_hwmodel_imports_without_hdl_tools():
    code = ("import sys, importlib, pkgutil, hwmodel\n"
            "for m in pkgutil.iter_modules(hwmodel.__path__):\n"
            "    importlib.import_module('hwmodel.' + m.name)\n"
            "bad = [n for n in ('amaranth', 'cocotb', 'torch', 'triton') if n in sys.modules]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "", f"hwmodel pulled in {out.stdout.strip()}"


LAYERS = ("hwmodel", "rtl", "sim", "analysis")


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for pkg in LAYERS:
        for p in (ROOT / pkg).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = p
    return mods


def _imports(name: str, path: pathlib.Path, mods: dict) -> set[str]:
    """The project modules `name` imports anywhere in its file (absolute and relative imports)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                if path.name != "__init__.py":
                    parts = parts[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in mods:
                n = n.rpartition(".")[0]
            if n and n != name:
                out.add(n)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


@pytest.mark.parametrize("lower,upper", list(itertools.combinations(LAYERS, 2)),
                         ids=lambda x: x)
def test_no_layer_imports_a_layer_above(lower, upper):
    offenders = sorted(f"{a} imports {b}" for a, bs in _graph().items() if a.split(".")[0] == lower
                       for b in bs if b.split(".")[0] == upper)
    assert offenders == []


def test_hwmodel_imports_no_hdl_package():
    offenders = []
    for path in (ROOT / "hwmodel").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            offenders += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                          if n.split(".")[0] in ("amaranth", "cocotb", "cocotb_tools")]
    assert offenders == []


def test_no_import_cycle_between_modules():
    graph = _graph()
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def connect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
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
                cycles.append(" <-> ".join(sorted(comp)))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in graph:
        if v not in index:
            connect(v)
    assert cycles == []
