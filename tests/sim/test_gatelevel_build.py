"""The gate-level model's build options: ports wider than 64 bits, and the faster build gives the
same toggles and outputs as the reference build, cell by cell."""

import numpy as np
import pytest

from sim.gatelevel import cell_models_verilog, read_liberty, untraced_nets
from sim.toggles import wide_words

LIB = """
library (t) {
  cell (NAND2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }
    pin (Y) { direction : output; function : "!(A&B)"; } }
}
"""


def test_outputs_only_cell_models_trace_only_the_output_pins():
    v = cell_models_verilog(read_liberty(LIB), trace_outputs_only=True)
    off, on = "/*verilator tracing_off*/", "/*verilator tracing_on*/"
    body = v[v.index("module NAND2"):]
    # inputs declared while tracing is off, the output while it is on
    assert body.index(off) < body.index("input A;") < body.index("input B;") < body.index(on) \
        < body.index("output Y;")
    assert "assign Y = (~((A & B)));" in body


def test_untraced_nets_switches_tracing_off_for_declarations_only():
    net = ("module top(a, y);\n  input [1:0] a;\n  wire [1:0] a;\n  output y;\n  wire y;\n"
           "  NAND2 _1_ (\n    .A(a[0]),\n    .B(a[1]),\n    .Y(y)\n  );\nendmodule\n")
    out = untraced_nets(net).splitlines()
    off, on = out.index("/*verilator tracing_off*/"), out.index("/*verilator tracing_on*/")
    assert out[off - 1].startswith("module top")
    assert all(line.strip().split()[0] in ("input", "output", "wire") for line in out[off + 1:on])
    assert out[on + 1].strip().startswith("NAND2 _1_")


def test_wide_words_splits_and_masks():
    lo = np.array([1, 2], np.uint64)
    w = wide_words(lo, 100)
    assert w.shape == (2, 2) and list(w[:, 0]) == [1, 2] and not w[:, 1].any()
    two = np.array([[5, 0xFFFFFFFFFFFFFFFF]], np.uint64)
    # 100 bits: the high word keeps its low 36 bits
    assert int(wide_words(two, 100)[0, 1]) == (1 << 36) - 1
    from hwmodel.errors import UnsupportedConfig
    with pytest.raises(UnsupportedConfig, match="3 uint64 words"):
        wide_words(np.zeros((2, 2), np.uint64), 130, "a")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("build_cache")


@pytest.mark.sim
@pytest.mark.synth
def test_a_100_bit_input_port_drives_every_bit(cache):
    """A 100-bit register q <= d fed through two stimulus words: its flip-flops toggle exactly as
    often as the delayed stream's bits change (counted by numpy over all 100 bits) and the two
    output halves read back the stream."""
    from amaranth.hdl import Module, Signal
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from sim.netlist import synthesize
    from sim.toggles import simulate

    class Reg(wiring.Component):
        d: In(100)
        lo: Out(64)
        hi: Out(36)

        def elaborate(self, platform):
            m = Module()
            q = Signal(100)
            m.d.sync += q.eq(self.d)
            m.d.comb += [self.lo.eq(q[:64]), self.hi.eq(q[64:])]
            return m

    nl = synthesize(Reg(), "reg100", "ge", cache)
    rng = np.random.default_rng(7)
    n = 200
    words = np.stack([rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
                      rng.integers(0, 2**36, n, dtype=np.uint64)], 1)
    res = simulate(nl, {"d": words}, cache)
    vals = [int(lo) | (int(hi) << 64) for lo, hi in words]
    seq = [0] + vals                         # reset value, then each cycle's d after its edge
    expected = sum(bin(a ^ b).count("1") for a, b in zip(seq[:-1], seq[1:]))
    flops = [c for c in nl.cells if nl.cells[c].ff is not None]
    got = int(res.toggles[res.toggles["cell"].isin(flops)]["toggles"].sum())
    assert got == expected
    assert np.array_equal(res.outputs["lo"], words[:, 0]) and np.array_equal(res.outputs["hi"], words[:, 1])


# The build before the speed-up: every net traced, Verilator -O3, all C++ at -O1, nothing reused.
REFERENCE = dict(build_flags=("-O3", "-CFLAGS", "-O1"), make_vars=(), trace="all", runtime_dir=None)


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.slow
def test_fast_build_counts_the_same_toggles_as_the_reference_build(cache, tmp_path):
    """The INT4 MAC into Kulisch built the reference way and the default (fast) way, the latter
    twice (the second reusing the stored runtime objects): per cell instance and output pin, the
    toggle counts and the output codes are identical on a random stream with clears."""
    import warnings

    from rtl.config import MacConfig
    from rtl.mac import Mac
    from sim.gatelevel import GateSim
    from sim.netlist import synthesize
    from sim.toggles import _clock_reset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = MacConfig("int4", "kulisch")
        nl = synthesize(Mac(cfg), cfg.name, "ge", cache)
    clock, reset = _clock_reset(nl)
    rng = np.random.default_rng(3)
    n = 600
    sims = {}
    for tag, opts in (("reference", REFERENCE), ("fast", dict(runtime_dir=tmp_path / "rt")),
                      ("fast_reused", dict(runtime_dir=tmp_path / "rt"))):
        sims[tag] = GateSim(nl.sim_verilog, nl.name, nl.cells, nl.inputs, nl.outputs, clock, reset,
                            tmp_path / tag, **opts)
    assert (tmp_path / "rt" / "verilated.o").exists()
    gs = sims["reference"]
    cols = []
    for p, w in gs.inputs:
        v = rng.integers(0, 2**w, n, dtype=np.uint64)
        if p == "valid_in":
            v = (rng.random(n) < 0.9).astype(np.uint64)
        if p == "clear":
            v = (np.arange(n) % 37 == 0).astype(np.uint64)
        cols.append(v)
    stim = np.stack(cols, 1)
    results = {tag: s.run(stim) for tag, s in sims.items()}
    ref_out, ref_tog = results["reference"]

    def per_pin(tog):
        return {inst: [tog[inst].get(p, 0) for p, _ in nl.cells[typ].outputs]
                for inst, typ in gs._instances.items()}
    ref = per_pin(ref_tog)
    assert sum(map(sum, ref.values())) > 1000      # the stream does exercise the MAC
    for tag in ("fast", "fast_reused"):
        out, tog = results[tag]
        assert np.array_equal(out, ref_out), tag
        assert per_pin(tog) == ref, tag


@pytest.mark.sim
@pytest.mark.synth
def test_activity_models_trace_input_pins_and_serve_energy_requests(tmp_path):
    """sim.activity needs cell input pins (OpenSTA gets their activity): its fully traced model
    has them, the energy model ("cells") has output pins only, and a cache holding only the full
    model answers an energy request with it (same toggles, no second build)."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from sim.netlist import synthesize
    from sim.toggles import build_sim

    class Reg(wiring.Component):
        d: In(4)
        q: Out(4)

        def elaborate(self, platform):
            m = Module()
            m.d.sync += self.q.eq(self.d)
            return m

    nl = synthesize(Reg(), "reg4", "ge", tmp_path)
    stim = np.arange(40, dtype=np.uint64)[:, None] % 16
    full = build_sim(nl, tmp_path, trace="all")
    _, tog_full = full.run(stim)
    flop = next(i for i, t in full._instances.items() if nl.cells[t].ff is not None)
    ins = set(nl.cells[full._instances[flop]].inputs)
    assert ins & set(tog_full[flop])                        # input pins traced
    fast = build_sim(nl, tmp_path)                          # the full model answers this
    assert fast.build_dir == full.build_dir
    other = tmp_path / "other"
    lean = build_sim(nl, other)
    _, tog_lean = lean.run(stim)
    assert not ins & set(tog_lean[flop])                    # outputs only
    def outputs(tog):
        return {i: [tog[i].get(p, 0) for p, _ in nl.cells[t].outputs] for i, t in full._instances.items()}
    assert outputs(tog_lean) == outputs(tog_full)
