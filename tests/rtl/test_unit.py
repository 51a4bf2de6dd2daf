"""rtl.unit (UnitSpec, parse_unit, unit_config) and `.create()` on every rtl config: one path from a
unit description to an amaranth component."""

import pytest
from amaranth.lib import wiring

from hwmodel.errors import UnsupportedConfig
from rtl.acc import KulischReadout
from rtl.array import ArrayConfig, MacArray
from rtl.config import MacConfig, MulConfig, ReadoutConfig
from rtl.dot import DotConfig, DotUnit
from rtl.fpacc import FloatAccumulator, FpAccConfig
from rtl.mac import Mac
from rtl.mul import Multiplier
from rtl.unit import UnitSpec, parse_unit, unit_config


@pytest.mark.parametrize("text, kind, n, rows, cols, spec", [
    ("mac", "mac", 1, 1, 1, "mac"),
    (" MUL ", "mul", 1, 1, 1, "mul"),
    ("dot8", "dot", 8, 1, 1, "dot:8"),
    ("dot:8", "dot", 8, 1, 1, "dot:8"),
    ("array4x4", "array", 1, 4, 4, "array:4x4"),
    ("array:2X3", "array", 1, 2, 3, "array:2x3"),
    ("array:8*8", "array", 1, 8, 8, "array:8x8"),
])
def test_every_spelling_in_use_parses_to_one_canonical_spec(text, kind, n, rows, cols, spec):
    u = parse_unit(text)
    assert (u.kind, u.n, u.rows, u.cols) == (kind, n, rows, cols)
    assert u.spec == spec and parse_unit(u.spec) == u and parse_unit(u) is u
    assert u.macs_per_cycle == n * rows * cols
    assert hash(u) == hash(parse_unit(spec))       # frozen: usable in a cache key or a set


@pytest.mark.parametrize("bad", ["", "dot", "dot:0", "array:0x4", "array4", "mac2", "ring",
                                 "dot:999", "array:65x1", "dot:\uff18", None, 8])
def test_bad_unit_is_one_line_unsupported_config(bad):
    with pytest.raises(UnsupportedConfig) as e:
        parse_unit(bad)
    assert "\n" not in str(e.value)


def test_unit_spec_rejects_sizes_of_another_kind():
    with pytest.raises(UnsupportedConfig, match="only a dot unit takes n"):
        UnitSpec("mac", n=4)
    with pytest.raises(UnsupportedConfig, match="only an array unit"):
        UnitSpec("dot", n=4, rows=2)


@pytest.mark.parametrize("unit, cls, comp", [("mul", MulConfig, Multiplier), ("mac", MacConfig, Mac),
                                             ("dot:4", DotConfig, DotUnit),
                                             ("array:2x3", ArrayConfig, MacArray)])
def test_unit_config_gives_the_config_and_create_the_component(unit, cls, comp):
    cfg = unit_config("e4m3", "fp32", unit)
    assert type(cfg) is cls
    c = cfg.create()
    assert type(c) is comp and isinstance(c, wiring.Component) and c.config == cfg
    assert c.latency == cfg.latency


def test_unit_config_sizes_and_pipeline():
    mac = unit_config("int8", "int32", "mac", pipeline_stages=2)
    assert mac == MacConfig("int8", "int32", 2) and mac.latency == 3
    arr = unit_config("int8", "int32", parse_unit("array:2x3"), pipeline_stages=2)
    assert (arr.rows, arr.cols, arr.pipeline_stages) == (2, 3, 2)
    # a dot unit has at most one register (after its adder tree): the deepest valid up to the ask
    assert unit_config("int8", "int32", "dot:4", pipeline_stages=3).pipeline_stages == 1
    assert unit_config("int8", "int32", "dot:4", pipeline_stages=0).pipeline_stages == 0
    assert unit_config("int8", "int32", "dot:4").n == 4
    # a multiplier has no accumulator: acc is ignored, the config equals the plain one
    assert unit_config("bf16", "fp32", "mul") == unit_config("bf16", None, "mul") == MulConfig("bf16")


def test_unit_config_errors():
    with pytest.raises(UnsupportedConfig, match="needs an accumulator"):
        unit_config("e4m3", None, "mac")
    with pytest.raises(UnsupportedConfig, match="at least as wide"):
        unit_config("int8", "int12", "array:2x2")


@pytest.mark.parametrize("cfg, comp", [
    (MulConfig("int8"), Multiplier),
    (MacConfig("e4m3", "kulisch"), Mac),
    (ReadoutConfig("e4m3", "fp16"), KulischReadout),
    (FpAccConfig.for_inputs("e4m3", "fp16"), FloatAccumulator),
    (DotConfig("int8", "int32", 2), DotUnit),
    (ArrayConfig("int4", "int16", 2, 2), MacArray),
], ids=lambda x: getattr(x, "name", ""))
def test_every_config_has_create_name_and_latency(cfg, comp):
    c = cfg.create()
    assert isinstance(c, comp) and isinstance(c, wiring.Component)
    assert isinstance(cfg.name, str) and cfg.name.isidentifier()
    assert isinstance(cfg.latency, int) and cfg.latency >= 0


def test_readout_create_uses_the_kulisch_shape():
    cfg = ReadoutConfig("e4m3", "fp16")
    r = cfg.create()
    # the e4m3 Kulisch register: 49 bits at LSB 2^-18 (paper Fig. 2a, V = 12)
    assert (r.width, r.lsb_exp) == (49, -18)


def test_generators_reject_something_that_is_not_their_config():
    with pytest.raises(TypeError, match="MulConfig"):
        Multiplier("e4m3")
    with pytest.raises(TypeError, match="MacConfig"):
        Mac(MulConfig("e4m3"))


def test_size_limits_agree_with_the_generators():
    import rtl.array
    import rtl.dot
    import rtl.unit
    assert rtl.unit.MAX_DOT_N == rtl.dot.MAX_N and rtl.unit.MAX_ARRAY_DIM == rtl.array.MAX_DIM
