"""MAC units against the golden accumulators of hwmodel.numerics, bit for bit, in Verilator (or
Icarus): every operand pair for <= 8-bit inputs, >= 100,000 seeded random products and directed
corners per config (sim/bench_mac.py); deliberately wrong RTL must be caught; every exported
configuration must pass Verilator's lint with only the known warning classes of Yosys-written
Verilog."""

import re
import shutil
import subprocess

import pytest

from sim.runner import BenchFailed, _setup_tool_env
from sim.suite import mac_configs, mul_configs, mutant_configs

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("config", mac_configs(), ids=lambda c: c.name)
def test_mac_matches_golden(config, bench):
    res = bench(config, "sim.bench_mac")
    assert res.tests == 1 and res.failed == 0
    m = re.search(r"checked (\d+) segments / (\d+) products; \d+ pauses \((\d+) inside", res.log)
    assert m and int(m.group(2)) >= 100_000, res.log
    assert int(m.group(3)) > 0, res.log     # accumulations were paused (valid low) and held


@pytest.mark.parametrize("config", mutant_configs(), ids=lambda c: c.name)
def test_mac_bench_catches_mutant(config, bench):
    # the mutant differs from the correct RTL only in the Kulisch shift / the rounding mode;
    # the bench must report mismatches naming the config
    with pytest.raises(BenchFailed, match=re.escape(config.name)):
        bench(config, "sim.bench_mac", extra_env={"HWDSE_RANDOM": "2000"})


# Warning classes Verilator reports on every Yosys-written netlist (implicit width extension in
# generated expressions, empty [-1:0] ranges of zero-width wires, priority-case overlaps of pmux);
# anything else (LATCH, MULTIDRIVEN, UNOPTFLAT, COMBDLY, ...) fails the test.
KNOWN_LINT = {"WIDTHEXPAND", "WIDTHTRUNC", "ASCRANGE", "CASEOVERLAP", "CASEINCOMPLETE"}


@pytest.mark.parametrize("config", mac_configs() + mul_configs()[:4], ids=lambda c: c.name)
def test_exported_verilog_lints(config, tmp_path):
    from rtl.export import verilog_text
    _setup_tool_env("verilator")
    src = tmp_path / f"{config.name}.v"
    src.write_text(verilog_text(config))
    r = subprocess.run([shutil.which("verilator"), "--lint-only", "-Wno-fatal", "--top-module",
                        config.name, src.name], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    kinds = set(re.findall(r"%Warning-([A-Z]+)", r.stderr))
    assert "%Error" not in r.stderr and kinds <= KNOWN_LINT, (kinds - KNOWN_LINT, r.stderr[-2000:])


READOUTS = [("int8", "fp16"), ("int8", "fp32"), ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "fp32"),
            ("float8_e5m2", "bf16"), ("float4_e2m1fn", "fp16")]


@pytest.mark.parametrize("pair", READOUTS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_kulisch_readout_matches_golden(pair, bench):
    from rtl.config import ReadoutConfig
    res = bench(ReadoutConfig(*pair), "sim.bench_acc")
    assert res.tests == 1 and res.failed == 0
    m = re.search(r"(\d+) vectors, 0 mismatches; (\d+) held vectors", res.log)
    assert m and int(m.group(1)) >= 100_000 and int(m.group(2)) > 0, res.log
