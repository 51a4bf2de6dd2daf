"""Loop pipelining (MacConfig.loop_stages, rtl/loopacc.py), its golden order (hwmodel.interleave)
and the target-clock search (rtl/pipeline.py)."""

import numpy as np
import pytest

from hwmodel import interleave
from hwmodel.accum import kulisch_spec
from hwmodel.errors import UnsupportedConfig
from hwmodel.numerics import decode, encode
from rtl.config import DEFAULT_LOOP_CUTS, MAX_LOOP_STAGES, MacConfig
from rtl.fpadd import CUTS


# -- configs ------------------------------------------------------------------------------------
def test_loop_stages_default_is_todays_unit():
    c = MacConfig("int8", "kulisch")
    assert c.loop_stages == 1 and c.cuts == () and c.latency == 2
    assert c.name == "mac_int8_kulisch27_p1"


def test_loop_stages_name_latency_and_cuts():
    c = MacConfig("float8_e4m3fn", "fp32", 1, loop_stages=3)
    assert c.latency == 1 + 3 and c.name.endswith("_p1_l3") and c.cuts == DEFAULT_LOOP_CUTS[3]
    own = MacConfig("float8_e4m3fn", "fp32", 1, loop_stages=3, loop_cuts=("round", "swap"))
    assert own.cuts == ("swap", "round")          # datapath order
    assert own.name != c.name and own.name.startswith(c.name)
    assert all(len(DEFAULT_LOOP_CUTS[k]) == k - 1 and set(DEFAULT_LOOP_CUTS[k]) <= set(CUTS)
               for k in range(1, MAX_LOOP_STAGES + 1))


@pytest.mark.parametrize("kw", [dict(loop_stages=0), dict(loop_stages=MAX_LOOP_STAGES + 1),
                                dict(loop_stages=True), dict(loop_stages=2, loop_cuts=("abs", "norm")),
                                dict(loop_stages=2, loop_cuts=("nope",)), dict(loop_stages=3, loop_cuts=("abs", "abs"))])
def test_bad_loop_options_are_one_line_errors(kw):
    with pytest.raises(UnsupportedConfig):
        MacConfig("float8_e4m3fn", "fp32", 1, **kw)


def test_loop_stages_need_kulisch_or_float():
    with pytest.raises(UnsupportedConfig, match="kulisch or float"):
        MacConfig("int8", "int32", 1, loop_stages=2)
    with pytest.raises(UnsupportedConfig, match="loop cuts"):
        MacConfig("int8", "kulisch", 1, loop_stages=2, loop_cuts=("abs",))


def test_loop_mac_has_acc_part_port():
    m = MacConfig("int8", "kulisch", 1, loop_stages=4).create()
    assert "acc_part" in m.signature.members and m.acc_part.shape().width == 2
    assert "acc_part" not in MacConfig("int8", "kulisch").create().signature.members


# -- golden order -------------------------------------------------------------------------------
def test_slots_follow_cycles():
    assert interleave.slots_of(4, 2).tolist() == [0, 1, 0, 1]
    assert interleave.slots_of(3, 2, [0, 3, 4]).tolist() == [0, 1, 0]
    with pytest.raises(UnsupportedConfig):
        interleave.slots_of(2, 2, [1, 1])


def test_float_interleaving_changes_the_rounding():
    # fp16 spacing at 2048 is 2. Sequentially 2048 + 1 is a tie that rounds to even (2048) three
    # times: 2048. Interleaved k=2: partial 0 = round(2048 + 1) = 2048, partial 1 = 1 + 1 = 2,
    # combined 2048 + 2 = 2050 (exact).
    parts, comb = interleave.float_interleaved([2048.0, 1.0, 1.0, 1.0], "fp16", 2)
    vals = decode("fp16", np.array(parts + [comb], np.uint64)).tolist()
    assert vals == [2048.0, 2.0, 2050.0]
    # k = 1 is the sequential order
    _, seq = interleave.float_interleaved([2048.0, 1.0, 1.0, 1.0], "fp16", 1)
    assert float(decode("fp16", np.array([seq], np.uint64))[0]) == 2048.0


def test_float_interleaving_zeros_and_empty_partials():
    parts, comb = interleave.float_interleaved([-0.0], "fp32", 3)
    # +0 + (-0) = +0 in the clearing slot; the untouched partials stay +0
    assert parts == [0, 0, 0] and comb == 0
    parts, _ = interleave.float_interleaved([1.0, np.nan], "fp32", 2)
    assert parts[0] == int(encode("fp32", np.asarray(1.0)))
    assert np.isnan(decode("fp32", np.array([parts[1]], np.uint64))[0])


def test_kulisch_interleaving_is_exact_but_flags_per_partial():
    spec = kulisch_spec("int8", guard_bits=0)      # W = 15: [-16384, 16383]
    assert spec.width == 15 and spec.lsb_exp == 0
    g = interleave.kulisch_interleaved([16129.0, 16129.0], spec, 2)
    # each partial holds one product: no partial leaves the range, the combined sum does
    assert g.partials == [16129, 16129] and not g.overflow and g.combine_overflow
    assert g.combined == 32258 - 32768
    g1 = interleave.kulisch_interleaved([16129.0, 16129.0], spec, 1)
    assert g1.overflow and not g1.overflow_neg and g1.combined == g.combined
    g2 = interleave.kulisch_interleaved([-16384.0, 5.0, -1.0, np.inf, np.nan], spec, 2)
    assert g2.overflow and g2.overflow_neg and g2.partials == [16383, 5] and g2.pinf and g2.nan


# -- the target-clock search ----------------------------------------------------------------------
def test_meet_clock_input_errors():
    from rtl.pipeline import meet_clock
    with pytest.raises(UnsupportedConfig, match="timer"):
        meet_clock("int8", "kulisch", target_ns=1.0)
    with pytest.raises(UnsupportedConfig, match="one target"):
        meet_clock("int8", "kulisch", target_fo4=50, target_ns=1.0)
    with pytest.raises(UnsupportedConfig, match="mac"):
        meet_clock("int8", "kulisch", "dot:4", target_fo4=50)
    for bad in (0, -3, "50", True):
        with pytest.raises(UnsupportedConfig, match="target_fo4"):
            meet_clock("int8", "kulisch", target_fo4=bad)
    with pytest.raises(UnsupportedConfig, match="one target"):
        meet_clock("int8", "kulisch")


@pytest.mark.synth
@pytest.mark.slow
def test_meet_clock_finds_the_first_depth_that_meets(tmp_path):
    from rtl.pipeline import fastest_clock, meet_clock
    fast = fastest_clock("int8", "kulisch", max_pipeline=1, max_loop=2, cache_dir=tmp_path)
    assert fast.delay_fo4 == pytest.approx(min(t[3] for t in fast.tried), abs=0.01)
    r = meet_clock("float8_e4m3fn", "fp32", target_fo4=150, max_pipeline=1, max_loop=3,
                   cache_dir=tmp_path)
    assert r.delay_fo4 <= 150 and r.latency == r.pipeline_stages + r.loop_stages
    assert all(t[3] > 150 for t in r.tried if t[1] < r.loop_stages)   # shallower loops fail
    assert r.summation == f"interleaved:{r.loop_stages}" and r.loop_stages > 1
    # the unpipelined design (p=0, k=1) is the first tried; its FF area is the base
    base = r.tried[0]
    assert base[:2] == (0, 1)
    assert r.pipeline_register_area > 0 and r.register_area > r.pipeline_register_area
    # a timer in ns (here a stand-in: 0.1 ns per FO4) is compared instead of the FO4 estimate
    rn = meet_clock("float8_e4m3fn", "fp32", target_ns=15.0, timer=lambda s: s.delay_fo4 / 10,
                    max_pipeline=1, max_loop=3, cache_dir=tmp_path)
    assert (rn.config_name, rn.target_ns, rn.target_fo4) == (r.config_name, 15.0, None)
    assert rn.delay_ns == pytest.approx(rn.delay_fo4 / 10)
    with pytest.raises(UnsupportedConfig, match="no pipelining can meet"):
        meet_clock("float8_e4m3fn", "fp32", target_fo4=20, max_pipeline=1, max_loop=2,
                   cache_dir=tmp_path)
