"""Fast RTL tests: elaboration, Verilog/RTLIL export, `hwdse rtl`, and Amaranth Python-simulator
smoke tests whose expected values are derived by hand or by exact integer arithmetic (not by
the RTL's own output). The bit-exhaustive checks live in tests/sim (Verilator)."""

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from amaranth.sim import Simulator

from analysis.cli import main
from hwmodel.formats import parse_format
from rtl.config import MacConfig, MulConfig
from rtl.export import rtlil_text, verilog_text
from rtl.mac import Mac
from rtl.mul import Multiplier


def _value(fmt, code):
    """Exact value of a float code by the format's definition (independent of hwmodel.numerics)."""
    f = parse_format(fmt)
    M = f.man_bits
    s = (code >> (f.bits - 1)) & 1
    e = (code >> M) & ((1 << f.exp_bits) - 1)
    m = code & ((1 << M) - 1)
    mag = Fraction(m, 1 << M) * Fraction(2) ** (1 - f.bias) if e == 0 else \
        (1 + Fraction(m, 1 << M)) * Fraction(2) ** (e - f.bias)
    return -mag if s else mag


def _run_mul(cfg, pairs):
    dut = Multiplier(cfg)
    out = []

    async def tb(ctx):
        for a, b in pairs:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            if cfg.is_int:
                out.append(ctx.get(dut.value))
            else:
                out.append({k: ctx.get(getattr(dut.p, k)) for k in ("sign", "exp", "sig", "nan", "inf", "zero")})
    sim = Simulator(dut)
    sim.add_testbench(tb)
    sim.run()
    return out


def test_e2m1_multiplier_exhaustive_by_definition():
    # FP4 E2M1 (OCP MX): no specials; every one of 256 pairs against Fraction arithmetic
    cfg = MulConfig("e2m1")
    pairs = [(a, b) for a in range(16) for b in range(16)]
    for (a, b), r in zip(pairs, _run_mul(cfg, pairs)):
        want = _value("e2m1", a) * _value("e2m1", b)
        got = Fraction(r["sig"]) * Fraction(2) ** r["exp"] * (-1 if r["sign"] else 1)
        assert got == want and not r["nan"] and not r["inf"], (a, b, r)
        assert r["zero"] == (want == 0)
        assert r["sign"] == ((a >> 3) ^ (b >> 3))     # sign of zero products too


def test_int4_multiplier_exhaustive():
    cfg = MulConfig("int4")
    pairs = [(a, b) for a in range(16) for b in range(16)]
    sx = lambda c: c - 16 if c >= 8 else c   # noqa: E731
    for (a, b), v in zip(pairs, _run_mul(cfg, pairs)):
        assert v == sx(a) * sx(b)


def test_specials_per_encoding():
    # e5m2 (IEEE): 0x7c = +inf, 0x7d = NaN; inf x 0 = NaN
    r = _run_mul(MulConfig("e5m2"), [(0x7C, 0x3C), (0x7D, 0x3C), (0x7C, 0x00), (0xFC, 0x3C)])
    assert (r[0]["inf"], r[0]["nan"], r[0]["sign"]) == (1, 0, 0)
    assert r[1]["nan"] == 1 and r[2]["nan"] == 1 and r[2]["inf"] == 0
    assert (r[3]["inf"], r[3]["sign"]) == (1, 1)
    # e4m3fn: 0x7f is NaN, 0x7e (448) is finite, no inf
    r = _run_mul(MulConfig("e4m3"), [(0x7F, 0x38), (0x7E, 0x38)])
    assert r[0]["nan"] == 1 and r[1]["nan"] == 0 and r[1]["inf"] == 0
    assert Fraction(r[1]["sig"]) * Fraction(2) ** r[1]["exp"] == 448
    # e4m3fnuz: 0x80 (negative zero code) is the NaN, 0x00 is zero
    r = _run_mul(MulConfig("e4m3fnuz"), [(0x80, 0x40), (0x00, 0x40)])
    assert r[0]["nan"] == 1 and r[1]["zero"] == 1 and r[1]["nan"] == 0


def _run_mac(cfg, pairs, clear_first=True):
    """Drive one product per cycle; return acc_out after each product (by valid_out)."""
    dut = Mac(cfg)
    out = []

    async def tb(ctx):
        ctx.set(dut.clear, 1)
        await ctx.tick()
        for i, (a, b) in enumerate(pairs):
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.valid_in, 1)
            ctx.set(dut.clear, int(i == 0 and clear_first))
            await ctx.tick()
            if ctx.get(dut.valid_out):
                out.append(ctx.get(dut.acc_out))
        ctx.set(dut.valid_in, 0)
        for _ in range(cfg.latency):
            await ctx.tick()
            if ctx.get(dut.valid_out):
                out.append(ctx.get(dut.acc_out))
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    return out


@pytest.mark.parametrize("p", [0, 1, 2])
def test_int8_kulisch_mac_sums_exactly(p):
    cfg = MacConfig("int8", "kulisch", p)
    rng = np.random.default_rng(3)
    vals = rng.integers(-128, 128, (40, 2))
    got = _run_mac(cfg, [(int(a) & 0xFF, int(b) & 0xFF) for a, b in vals])
    want = np.cumsum(vals[:, 0] * vals[:, 1])
    W = cfg.acc_width
    assert [g - (1 << W) if g >> (W - 1) else g for g in got] == want.tolist()


def test_e4m3_kulisch_mac_and_mutant():
    # 1.0 x 2.0 then 0.5 x 0.5: exact sum 2.25, at LSB 2^-18 -> 2.25 * 2^18
    pairs = [(0x38, 0x40), (0x30, 0x30)]
    good = _run_mac(MacConfig("e4m3", "kulisch"), pairs)
    assert good == [2 << 18, (9 << 18) // 4]
    bad = _run_mac(MacConfig("e4m3", "kulisch", mutant="kulisch_shift"), pairs)
    assert bad != good


def test_fp16_accumulator_ties_to_even():
    # e4m3: 0x38 = 1.0, 0x08 = 2^-6, 0x01 = 2^-9 (subnormal); 2^-6 * 2^-5 needs 0x10 (2^-5)
    one, e6, e5 = 0x38, 0x08, 0x10
    half_ulp = (e6, e5)                          # 2^-11 = half an fp16 ulp at 1.0
    got = _run_mac(MacConfig("e4m3", "fp16"), [(one, one), half_ulp])
    assert got == [0x3C00, 0x3C00]               # 1 + 2^-11 is a tie -> even (1.0)
    got = _run_mac(MacConfig("e4m3", "fp16"), [(one, one), (e6, 0x18), half_ulp])
    # 1 + 2^-10 (0x3c01, odd) then + 2^-11: tie -> even neighbour 1 + 2^-9 (0x3c02)
    assert got == [0x3C00, 0x3C01, 0x3C02]
    rtz = _run_mac(MacConfig("e4m3", "fp16", mutant="fpacc_rtz"), [(one, one), (e6, 0x18), half_ulp])
    assert rtz[-1] == 0x3C01


def test_verilog_export_header_and_module_names():
    cfg = MacConfig("e4m3", "kulisch")
    text = verilog_text(cfg)
    assert text.startswith("// hwdse RTL: mac_float8_e4m3fn_kulisch49_p1")
    assert "amaranth 0.5.10" in text and "yosys" in text
    for sub in ("mpy", "alignadd", "normacc"):
        assert f"mac_float8_e4m3fn_kulisch49_p1.{sub} " in text
    assert "module \\mac_float8_e4m3fn_kulisch49_p1" in rtlil_text(cfg)


def test_cli_writes_verilog(tmp_path, capsys):
    out = tmp_path / "mac.v"
    assert main(["rtl", "int8", "--acc", "int32", "--pipeline", "2", "-o", str(out)]) == 0
    assert "module mac_int8_int32_p2(" in out.read_text()


@pytest.mark.parametrize("argv, words", [
    (["rtl", "mxfp8_e4m3", "--acc", "fp32", "--unit", "dot", "--n", "4"], "block dot unit: unit must be mac or bdot:N"),
    (["rtl", "int8", "--acc", "int12"], "at least as wide"),
    (["rtl", "e4m3", "--unit", "mul", "--acc", "fp32"], "takes no --acc"),
    (["rtl", "e4m3"], "needs --acc"),
    (["rtl", "e4m3", "--acc", "fp32", "--array", "8by8"], "--array must be RxC"),
    (["rtl", "e4m3", "--acc", "fp32", "--unit", "dot"], "--n N"),
])
def test_cli_bad_input_one_line_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_cli_unwritable_output_exit_2_one_line(tmp_path, capsys):
    a_file = tmp_path / "f.txt"
    a_file.write_text("keep")
    for bad, words in ((tmp_path, "is a folder"), (a_file / "m.v", "is a file, not a folder"),
                       ("/proc/x", "cannot write there"), (tmp_path / "no" / "m.v", "does not exist")):
        assert main(["rtl", "int8", "--acc", "int32", "-o", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and "\n" not in err, err
    assert a_file.read_text() == "keep"


def test_cli_units_in_every_spelling(tmp_path, capsys):
    for argv, module in ((["--unit", "dot", "--n", "4"], "dot4_"), (["--unit", "dot:4"], "dot4_"),
                         (["--array", "2x2"], "array2x2_"), (["--unit", "array:2x2"], "array2x2_")):
        out = tmp_path / "u.v"
        assert main(["rtl", "int8", "--acc", "int32", *argv, "-o", str(out)]) == 0
        assert f"module {module}int8_int32_p1(" in out.read_text()
    assert main(["rtl", "int8", "--acc", "int32", "--unit", "dot:4", "--pipeline", "2"]) == 2
    assert "--pipeline 0 or 1" in capsys.readouterr().err


def test_cli_subprocess_no_traceback():
    r = subprocess.run([sys.executable, "-m", "analysis.cli", "rtl", "nosuch", "--acc", "fp32"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "unknown format" in r.stderr
