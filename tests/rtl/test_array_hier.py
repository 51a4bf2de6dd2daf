"""Hierarchical synthesis of arrays: identical modules merged (rtl.synth.dedupe_rtlil), one shared
PE module (rtl.array.shared_pe_rtlil), and (synth) the area of a 2x2 from its modules' areas."""

from __future__ import annotations

import re
import warnings

import pytest

from hwmodel.errors import UnsupportedConfig
from rtl.synth import dedupe_rtlil

# A leaf with one AND gate, written twice under two names (as amaranth writes one module per
# instance); a different leaf (OR); two identical mid-level modules that each hold two leaves.
_LEAF = """attribute \\generator "test"
module \\{name}
  wire width 1 input 0 \\x
  wire width 1 input 1 \\y
  wire width 1 output 2 \\z
  cell $and $1
    parameter \\A_SIGNED 0
    parameter \\B_SIGNED 0
    parameter \\A_WIDTH 1
    parameter \\B_WIDTH 1
    parameter \\Y_WIDTH 1
    connect \\A \\x
    connect \\B \\y
    connect \\Y \\z
  end
end
"""
_MID = """module \\{name}
  wire width 1 input 0 \\x
  wire width 1 output 1 \\z
  wire width 1 \\t
  cell \\{leaf1} \\u0
    connect \\x \\x
    connect \\y \\x
    connect \\z \\t
  end
  cell \\{leaf2} \\u1
    connect \\x \\t
    connect \\y \\x
    connect \\z \\z
  end
end
"""
_TOP = """attribute \\top 1
module \\top
  wire width 1 input 0 \\x
  wire width 1 output 1 \\z
  wire width 1 output 2 \\w
  wire width 1 \\t
  cell \\top.m0 \\m0
    connect \\x \\x
    connect \\z \\t
  end
  cell \\top.m1 \\m1
    connect \\x \\t
    connect \\z \\z
  end
  cell \\top.or \\o
    connect \\x \\x
    connect \\y \\t
    connect \\z \\w
  end
end
"""


def _design() -> str:
    leaves = "".join(_LEAF.format(name=n) for n in ("top.m0.u0", "top.m0.u1", "top.m1.u0", "top.m1.u1"))
    orleaf = _LEAF.format(name="top.or").replace("$and", "$or")
    mids = (_MID.format(name="top.m0", leaf1="top.m0.u0", leaf2="top.m0.u1")
            + _MID.format(name="top.m1", leaf1="top.m1.u0", leaf2="top.m1.u1"))
    return _TOP + mids + leaves + orleaf


def _modules(rtl: str) -> list[str]:
    return re.findall(r"^module \\(\S+)$", rtl, re.M)


def test_dedupe_merges_identical_modules_bottom_up_and_counts_instances():
    text, instances, merged = dedupe_rtlil(_design(), "top")
    # four AND leaves are one module, the two mid-level modules are one (their leaves merged),
    # the OR leaf differs from the AND leaf and stays
    assert sorted(_modules(text)) == ["top", "top.m0", "top.m0.u0", "top.or"]
    assert instances == {"top": 1, "top.m0": 2, "top.m0.u0": 4, "top.or": 1}
    assert merged["top.m0.u0"] == ["top.m0.u0", "top.m0.u1", "top.m1.u0", "top.m1.u1"]
    assert merged["top.m0"] == ["top.m0", "top.m1"] and merged["top.or"] == ["top.or"]
    # every instance cell now names a kept module; the top keeps its attribute
    cell_types = set(re.findall(r"^\s+cell \\(\S+) ", text, re.M))
    assert cell_types == {"top.m0", "top.m0.u0", "top.or"}
    assert "attribute \\top 1\nmodule \\top\n" in text


def test_dedupe_keeps_modules_that_differ_in_one_line():
    d = _design().replace("connect \\B \\y\n    connect \\Y \\z\n  end\nend\nattribute \\generator "
                          "\"test\"\nmodule \\top.m1.u1", "connect \\B \\x\n    connect \\Y \\z\n  end\nend\n"
                          "attribute \\generator \"test\"\nmodule \\top.m1.u1")
    assert d != _design()
    text, instances, merged = dedupe_rtlil(d, "top")
    # top.m1.u0 now computes x & x: a second leaf class, so the two mid modules differ too
    assert len(merged["top.m0.u0"]) == 3 and "top.m1.u0" in _modules(text)
    assert instances["top.m0"] == 1 and instances["top.m1"] == 1


def test_dedupe_refuses_an_unknown_top():
    with pytest.raises(UnsupportedConfig, match="top must be a module"):
        dedupe_rtlil(_design(), "nope")


def test_shared_pe_array_instantiates_one_pe_module_r_times_c():
    from rtl.array import ArrayConfig, shared_pe_rtlil
    from rtl.config import MacConfig
    mac = MacConfig("int8", "kulisch")
    text, top = shared_pe_rtlil(ArrayConfig(mac.in_fmt, mac.acc, 3, 2))
    assert top == "array3x2_int8_kulisch27_p1"
    pe = re.findall(r"^\s+cell \\(\S+) \\pe_(\d)_(\d)$", text, re.M)
    assert sorted((int(i), int(j)) for _, i, j in pe) == [(i, j) for i in range(3) for j in range(2)]
    assert {t for t, _, _ in pe} == {"pe_" + mac.name}
    assert _modules(text).count("pe_" + mac.name) == 1
    assert text.count("attribute \\top 1") == 1


@pytest.mark.synth
def test_two_by_two_hierarchical_area_is_its_modules_areas_times_instances():
    """The hierarchical 2x2 against two independent runs: the PE synthesised alone (under the
    same module name, so ABC sees the same text), and the array's top with an empty PE."""
    from amaranth.back import rtlil

    from analysis import arrays
    from rtl.array import ArrayConfig, ArrayPE, MacArray, shared_pe_rtlil
    from rtl.config import MacConfig
    from rtl.synth import synthesize, synthesize_hier

    mac = MacConfig("int8", "kulisch")
    cfg = ArrayConfig(mac.in_fmt, mac.acc, 2, 2)
    text, top = shared_pe_rtlil(cfg)
    h = synthesize_hier(text, "ge", top=top, use_cache=False)
    assert h.modules["pe_" + mac.name]["instances"] == 4
    assert set(h.area_by_part) == {"top", "pe_" + mac.name}
    assert h.area_hier == pytest.approx(sum(m["area"] * m["instances"] for m in h.modules.values()))

    pe_name = "pe_" + mac.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pe = ArrayPE(cfg.mac)
        pe_text = rtlil.convert(pe, name=pe_name, ports=pe.ports)
        top_text = rtlil.convert(MacArray(cfg, pe_module=pe_name), name=top)
    pe_text = re.sub(r"^[ \t]*attribute \\src .*\n", "", pe_text, flags=re.M)
    p = synthesize(pe_text, "ge", top=pe_name, use_cache=False)
    # an empty PE with the same ports: the top's own cells are mapped as they are beside the PE
    w = cfg.acc_width
    stub = (f"module \\{pe_name}\n  wire width 1 input 0 \\clk\n  wire width 1 input 1 \\rst\n"
            f"  wire width 8 input 2 \\a\n  wire width 8 input 3 \\b\n  wire width 1 input 4 \\valid_in\n"
            f"  wire width 1 input 5 \\clear\n  wire width {w} output 6 \\acc_out\n"
            f"  connect \\acc_out {w}'{'0' * w}\nend\n")
    t = synthesize_hier(re.sub(r"^[ \t]*attribute \\src .*\n", "", top_text, flags=re.M) + stub,
                        "ge", top=top, use_cache=False)
    top_own = t.modules[top]["area"]
    assert top_own > 0 and p.area_hier > 0
    assert h.area_hier == pytest.approx(top_own + 4 * p.area_hier, rel=1e-9)
    # flattening after mapping only removes logic no one reads (the PE's unused MAC outputs)
    assert h.area <= h.area_hier
    # the whole-array flow that maps each PE on its own gives the same area at 2x2, within
    # ABC's sensitivity to how the same logic is written out (under 1 %)
    inline = arrays.array_area("int8", "kulisch", 2, 2, synth_mode="inline")
    row = arrays.array_area("int8", "kulisch", 2, 2, synth_mode="hier")
    assert row["synth_mode"] == "hier" and inline["synth_mode"] == "inline"
    assert row["area_ge"] == pytest.approx(h.area)
    assert row["area_ge"] == pytest.approx(inline["area_ge"], rel=0.01)
    # flattened before mapping: one module is left, so the hierarchical sum is the flat area
    flat = arrays.array_area("int8", "kulisch", 2, 2, synth_mode="flat")
    assert flat["synth_mode"] == "flat" and flat["area_hier_ge"] == pytest.approx(flat["area_ge"])


def test_array_modes_and_size_limits():
    from analysis import arrays
    assert arrays.synth_mode_for(1, 1) == "mac"
    assert arrays.synth_mode_for(8, 8) == "inline"
    assert arrays.synth_mode_for(16, 16) == "hier" and arrays.synth_mode_for(4, 16) == "hier"
    assert arrays.synth_mode_for(4, 4, "hier") == "hier"
    with pytest.raises(UnsupportedConfig, match=r"must be an int in 1\.\.16 .*not 17"):
        arrays.synth_mode_for(17, 17)
    with pytest.raises(UnsupportedConfig, match=r"must be an int in 1\.\.8 .*not 16"):
        arrays.synth_mode_for(16, 16, "inline")
    with pytest.raises(UnsupportedConfig, match="synth_mode must be one of"):
        arrays.synth_mode_for(2, 2, "fast")

