"""The layering of STYLE.md holds: hwmodel imports no HDL tool, nothing imports analysis."""

import ast
import pathlib
import subprocess
import sys

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


def _imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_outside_analysis_imports_analysis():
    offenders = []
    for pkg in ("hwmodel", "rtl", "sim"):
        for path in (ROOT / pkg).rglob("*.py"):
            if any(n == "analysis" or n.startswith("analysis.") for n in _imported_modules(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_hwmodel_does_not_import_rtl_or_sim():
    offenders = []
    for path in (ROOT / "hwmodel").rglob("*.py"):
        for n in _imported_modules(path):
            if n.split(".")[0] in ("rtl", "sim", "amaranth", "cocotb"):
                offenders.append(f"{path.relative_to(ROOT)} imports {n}")
    assert offenders == []
