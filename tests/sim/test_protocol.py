"""The benches check the valid protocol, not only the arithmetic: units wrapped so that they break
it (take operands while valid is low, or lose their state while nothing arrives) must fail the same
benches that the correct units pass. The wrappers are test doubles; their builds live apart from
the real configs' (build/sim_protocol/<fault>/...)."""

import re

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from sim.runner import DEFAULT_BUILD_ROOT, BenchFailed

pytestmark = pytest.mark.sim

BUILD_ROOT = DEFAULT_BUILD_ROOT.parent / "sim_protocol"


class ProtocolFault(wiring.Component):
    """`inner` with the same ports, one protocol fault added:
    ignore_valid     the unit sees valid high every cycle (takes the garbage of every pause);
    clear_when_idle  the unit sees clear whenever valid is low (its register empties in a pause).
    """

    def __init__(self, inner, fault: str, valid: str):
        if fault not in ("ignore_valid", "clear_when_idle"):
            raise ValueError(f"fault must be ignore_valid or clear_when_idle, not {fault!r}")
        self.inner, self.fault, self.valid_name = inner, fault, valid
        super().__init__(inner.signature)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self.inner
        for name, member in self.signature.members.items():
            outer, port = getattr(self, name), getattr(inner, name)
            if member.is_signature:      # a nested interface (the FP accumulator's product port)
                wiring.connect(m, wiring.flipped(outer), port)
            elif member.flow == In:
                if name == self.valid_name and self.fault == "ignore_valid":
                    m.d.comb += port.eq(1)
                elif name == "clear" and self.fault == "clear_when_idle":
                    m.d.comb += port.eq(outer | ~getattr(self, self.valid_name))
                else:
                    m.d.comb += port.eq(outer)
            else:
                m.d.comb += outer.eq(port)
        return m


def _cases():
    from rtl.array import ArrayConfig, MacArray
    from rtl.config import MacConfig
    from rtl.dot import DotConfig, DotUnit
    from rtl.fpacc import FloatAccumulator, FpAccConfig
    from rtl.mac import Mac

    def fpacc(c):
        return FloatAccumulator(c.acc_fmt, c.shape, c.mutant)
    pause = r"pause \(valid low"
    return [
        ("mac-ignore_valid", MacConfig("int4", "kulisch"), Mac, "sim.bench_mac", "valid_in",
         "ignore_valid", {"HWDSE_RANDOM": "2000"}, pause),
        ("mac-clear_when_idle", MacConfig("int4", "kulisch"), Mac, "sim.bench_mac", "valid_in",
         "clear_when_idle", {"HWDSE_RANDOM": "2000"}, pause),
        ("fpacc-clear_when_idle", FpAccConfig.for_inputs("e4m3", "fp16"), fpacc, "sim.bench_fpacc",
         "valid", "clear_when_idle", {"HWDSE_RANDOM": "2000"}, pause),
        ("dot-ignore_valid", DotConfig("e4m3", "fp16", n=4, pipeline_stages=0), DotUnit,
         "sim.bench_dot", "valid_in", "ignore_valid", {"HWDSE_GEMMS": "1"}, pause),
        # the array's registers are only seen through the drain: the result shows the garbage
        ("array-ignore_valid", ArrayConfig("e5m2", "fp32", rows=4, cols=2, pipeline_stages=0),
         MacArray, "sim.bench_array", "valid_in", "ignore_valid", {"HWDSE_TILES": "2"},
         r"C\[\d+\]\[\d+\]: .*rtl 0x[0-9a-f]+, golden gemm 0x"),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_protocol_fault_fails_the_bench(case, bench):
    _, config, make, module, valid, fault, env, match = case
    inner = make(config)
    with pytest.raises(BenchFailed, match=re.compile(f"{re.escape(config.name)}.*{match}", re.S)):
        bench(config, module, component=ProtocolFault(inner, fault, valid), extra_env=env,
              build_root=BUILD_ROOT / fault)
