"""Gate-level toggle counting: Liberty cell models, SAIF parsing, and (sim-marked) real runs."""

import itertools
import numpy as np
import pytest

from sim.gatelevel import cell_models_verilog, function_to_verilog, parse_saif_toggles, read_liberty

SMALL_LIB = """
library (t) {
  cell (NAND2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }
    pin (Y) { direction : output; function : "!(A&B)"; } }
  cell (FA) { area : 6; pin(A) { direction : input; } pin(B) { direction : input; }
    pin(CI) { direction : input; }
    pin (S) { direction : output; function : "(A^B)^CI"; }
    pin (CO) { direction : output; function : "(A B)+(CI (A+B))";
      internal_power () { rise_power (t) { values ("1.0, 3.0"); } fall_power (t) { values ("2.0"); } } } }
  cell (DFFR) { area : 6.5; ff (IQ, IQN) { clocked_on : "CK"; next_state : "D"; clear : "!RN"; }
    pin (CK) { direction : input; clock : true; } pin (D) { direction : input; }
    pin (RN) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; } }
}
"""


def _eval_verilog(expr: str, env: dict) -> int:
    """Evaluate our generated Verilog expression on 0/1 values (~x on one bit is 1 ^ x)."""
    py = expr.replace("~", "1^").replace("1'b0", "0").replace("1'b1", "1")
    return eval(py, {}, dict(env)) & 1


# Truth tables written from the Liberty operator definitions, independently of the translator.
CASES = [
    ("!(A&B)", lambda A, B, C: 1 - (A & B)),
    ("A B", lambda A, B, C: A & B),
    ("(A*B)+C'", lambda A, B, C: (A & B) | (1 - C)),
    ("A^B^C", lambda A, B, C: A ^ B ^ C),
    ("!((A|B)&C)", lambda A, B, C: 1 - ((A | B) & C)),
    ("(A&!C)|(B&C)", lambda A, B, C: B if C else A),   # MUX2 with select C
    ("A+B C", lambda A, B, C: A | (B & C)),           # AND binds tighter than OR
]


@pytest.mark.parametrize("func, truth", CASES, ids=[c[0] for c in CASES])
def test_liberty_functions_translate_to_equivalent_verilog(func, truth):
    v = function_to_verilog(func)
    for A, B, C in itertools.product((0, 1), repeat=3):
        assert _eval_verilog(v, {"A": A, "B": B, "C": C}) == truth(A, B, C), (func, v, A, B, C)


def test_malformed_function_is_a_data_error():
    from hwmodel.errors import DataError
    with pytest.raises(DataError, match="unbalanced"):
        function_to_verilog("(A&B")


def test_read_liberty_gets_areas_outputs_flops_and_internal_power():
    cells = read_liberty(SMALL_LIB)
    assert cells["NAND2"].area == 1 and cells["FA"].area == 6
    assert [p for p, _ in cells["FA"].outputs] == ["S", "CO"]
    assert cells["FA"].internal_energy == pytest.approx(2.0)    # mean of 1, 3, 2
    assert cells["DFFR"].ff == ("IQ", "IQN", "CK", "D", "!RN", "")
    v = cell_models_verilog(cells)
    assert "module DFFR(input CK, input D, input RN, output Q);" in v
    assert "posedge _ev0 or posedge _ev1" in v


def test_liberty_without_a_library_group_is_rejected():
    from hwmodel.errors import DataError
    with pytest.raises(DataError, match="must contain a library"):
        read_liberty("cell (X) { area : 1; }")


def test_saif_toggles_are_read_per_cell_instance():
    saif = """(SAIFILE
 (INSTANCE TOP
  (NET
   (a\\[0\\] (T0 5) (T1 5) (TZ 0) (TX 0) (TB 0) (TC 7))
  )
  (INSTANCE top
   (NET
    (_05_ (T0 5) (T1 5) (TZ 0) (TX 0) (TB 0) (TC 3))
   )
   (INSTANCE _10_
    (NET
     (A (T0 1) (T1 9) (TZ 0) (TX 0) (TB 0) (TC 4))
     (Y (T0 9) (T1 1) (TZ 0) (TX 0) (TB 0) (TC 5))
    )
   )
   (INSTANCE _11_
    (NET
     (Q (T0 1) (T1 9) (TZ 0) (TX 0) (TB 0) (TC 12))
    )
   )
  )
 )
)"""
    tog = parse_saif_toggles(saif, {"_10_": "INV", "_11_": "DFF"})
    assert tog == {"_10_": {"A": 4, "Y": 5}, "_11_": {"Q": 12}}




def test_every_reference_unit_elaborates_with_a_b_y_ports():
    from amaranth.back import rtlil

    from rtl.refunits import REFERENCE_UNITS, reference_unit
    assert set(REFERENCE_UNITS) == {f"{k}{b}_{op}" for k, b in (("int", 8), ("int", 32),
                                                                 ("fp", 16), ("fp", 32))
                                    for op in ("add", "mul")}
    for op in REFERENCE_UNITS:
        unit = reference_unit(op)
        assert set(unit.signature.members) == {"a", "b", "y"}
        assert f"module \\ref_{op}" in rtlil.convert(unit, name=f"ref_{op}")


def test_unknown_reference_operation_is_rejected():
    from hwmodel.errors import UnsupportedConfig
    from rtl.refunits import reference_unit
    with pytest.raises(UnsupportedConfig, match="reference operation must be one of"):
        reference_unit("int16_div")


def test_energy_module_keeps_the_gate_level_names_importable():
    """Callers (analysis/sweep.py, benchmarks/bench_energy.py) use these through sim.energy."""
    from sim import energy, horowitz, netlist, toggles
    assert energy.synthesize is netlist.synthesize and energy.simulate is toggles.simulate
    assert energy.calibration is horowitz.calibration
    assert energy.horowitz_comparison is horowitz.horowitz_comparison
    assert callable(energy.mac_energy) and callable(energy.operand_codes) and energy.DOT_LENGTH > 0


@pytest.mark.parametrize("args, msg", [
    (["int8", "--dist", "cauchy"], "distribution must be one of"),
    (["int8", "--n", "3"], "--n must be an integer >= 16"),
    ([], "FORMAT must be given"),
    (["int9x"], "unknown format 'int9x'"),
])
def test_cli_bad_input_is_one_line_exit_2(args, msg, capsys):
    from analysis import cli
    assert cli.main(["energy", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert msg in err


# ------------------------------------------------------------------------------------------------
# Real gate-level runs (Yosys + Verilator)
# ------------------------------------------------------------------------------------------------

# One xdist worker runs all of them (make test uses --dist loadgroup), so they share the
# Verilator models built in the module's cache.
@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("energy_cache")


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_flip_flop_toggles_equal_the_bit_changes_of_the_stream(cache):
    """An 8-bit register q <= d: the DFF Q pins toggle exactly as often as the delayed stream's
    bits change, which numpy counts independently of the simulator."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from sim.netlist import synthesize
    from sim.toggles import simulate

    class Reg(wiring.Component):
        d: In(8)
        q: Out(8)

        def elaborate(self, platform):
            m = Module()
            m.d.sync += self.q.eq(self.d)
            return m

    nl = synthesize(Reg(), "reg8", "ge", cache)
    rng = np.random.default_rng(5)
    d = rng.integers(0, 256, 300, dtype=np.uint64)
    res = simulate(nl, {"d": d}, cache)
    q_seq = np.concatenate([np.zeros(1, np.uint64), d])        # reset value, then each cycle's d after its edge
    expected = int(sum(bin(int(x)).count("1") for x in (q_seq[1:] ^ q_seq[:-1])))
    flops = [c for c in nl.cells if nl.cells[c].ff is not None]
    got = int(res.toggles[res.toggles["cell"].isin(flops)]["toggles"].sum())
    assert got == expected
    assert np.array_equal(res.outputs["q"], d)   # sampled after each edge: q == this cycle's d


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_calibration_on_the_8bit_multiplier_is_physically_plausible(cache):
    """Our 8x8 multiplier is checked against exact products (operation_energy raises on any
    mismatch); the one constant lands where a 45 nm NAND2 toggle does (C ~ 1-3 fF at 0.9 V gives
    0.5 C V^2 ~ 0.4-1.2 fJ), i.e. well inside 0.1-10 fJ per GE toggle."""
    from sim.horowitz import calibration, operation_energy
    r = operation_energy("int8_mul", "ge", n=400, cache_dir=cache)
    assert r["mismatches"] == 0 and r["weighted_toggles_per_op"] > 0
    cal = calibration("ge", cache, n=400)
    assert 1e-4 < cal.k_pj < 1e-2


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_zero_heavy_operands_cost_less_energy_per_mac(cache):
    from sim import energy
    g = energy.mac_energy("int8", "kulisch", "gaussian", n=512, cache_dir=cache, n_cal=400)
    z = energy.mac_energy("int8", "kulisch", "relu", n=512, cache_dir=cache, n_cal=400)
    assert 0 < z["pj_per_mac"] < 0.6 * g["pj_per_mac"]
    assert z["zero_operand_fraction"] > 0.4 > g["zero_operand_fraction"]
    # a repeated request is answered from the content-hash cache with the same number
    again = energy.mac_energy("int8", "kulisch", "relu", n=512, cache_dir=cache, n_cal=400)
    assert again["pj_per_mac"] == z["pj_per_mac"]


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_report_section_quick_has_both_tables_with_sources(cache, tmp_path):
    from analysis.section import ReportContext
    from analysis.sections.energy import HOROWITZ, OURS, build
    s = build(ReportContext(outdir=tmp_path, cache_dir=cache, quick=True))
    assert s.failed is None
    pj, cmp = s.tables[0].frame, s.tables[1].frame
    assert (pj["gaussian_pj_per_mac"] > pj["relu_pj_per_mac"]).all()
    assert f"{HOROWITZ} (energy_pj)" in cmp and f"{OURS} (energy_pj)" in cmp
    cal = cmp.set_index("operation").loc["int8_mul"]
    assert cal["calibrated_here"] and cal[f"{OURS} (energy_pj)"] == pytest.approx(0.2, rel=1e-3)
    assert all(t.source for t in s.tables)


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_gate_level_mac_computes_the_exact_dot_products(cache):
    """The toggles we count come from a netlist that computes the right thing: the INT8 Kulisch
    MAC's acc_out equals numpy's running sum of exact products (cleared every 100) on every cycle.
    Outputs are sampled after each cycle's clock edge, so acc_out shows products up to
    latency - 1 cycles earlier."""
    from rtl.config import MacConfig
    from rtl.mac import Mac
    from sim.energy import operand_codes
    from sim.netlist import synthesize
    from sim.toggles import simulate

    cfg = MacConfig("int8", "kulisch")
    mac = Mac(cfg)
    nl = synthesize(mac, cfg.name, "ge", cache)
    rng = np.random.default_rng(3)
    n = 600
    a = operand_codes(cfg.mul.fmt_a, "gaussian", n, rng)
    b = operand_codes(cfg.mul.fmt_a, "gaussian", n, rng)
    clear = (np.arange(n) % 100 == 0).astype(np.uint64)
    res = simulate(nl, {"a": a, "b": b, "valid_in": np.ones(n, np.uint64), "clear": clear}, cache)
    sa, sb = a.astype(np.int64), b.astype(np.int64)
    sa[sa > 127] -= 256
    sb[sb > 127] -= 256
    expected, s = [], 0
    for k in range(n):
        s = int(sa[k] * sb[k]) + (0 if clear[k] else s)
        expected.append(s)
    w = cfg.acc_width
    got = res.outputs["acc_out"].astype(np.int64)
    got[got >= 1 << (w - 1)] -= 1 << w
    sh = mac.latency - 1
    assert np.array_equal(got[sh:], np.array(expected[:n - sh])), "gate-level MAC differs from numpy"


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.xdist_group("gatelevel_energy")
def test_hierarchical_and_flat_netlists_count_the_same_toggles(cache):
    """The per-part split (mpy / alignadd / normacc) comes from simulating the netlist before
    `flatten`; it must hold the same cells and count the same toggles as the flat netlist."""
    import dataclasses

    from rtl.config import MacConfig
    from rtl.mac import Mac
    from sim.netlist import synthesize
    from sim.toggles import simulate

    cfg = MacConfig("int8", "kulisch")
    nl = synthesize(Mac(cfg), cfg.name, "ge", cache)
    assert nl.hier_verilog, "the hierarchical netlist was not produced"
    rng = np.random.default_rng(4)
    n = 300
    stim = {"a": rng.integers(0, 256, n), "b": rng.integers(0, 256, n),
            "valid_in": np.ones(n, np.uint64), "clear": (np.arange(n) % 64 == 0).astype(np.uint64)}
    hier = simulate(nl, stim, cache)
    flat = simulate(dataclasses.replace(nl, hier_verilog=""), stim, cache)
    assert set(hier.toggles["part"]) >= {"mpy", "alignadd", "normacc"}
    assert set(flat.toggles["part"]) == {"top"}
    assert hier.toggles["instances"].sum() == flat.toggles["instances"].sum()
    assert hier.toggles["toggles"].sum() == flat.toggles["toggles"].sum() > 0
    assert np.array_equal(hier.outputs["acc_out"], flat.outputs["acc_out"])
