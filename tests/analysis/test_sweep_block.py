"""Block formats in the sweep: design points (a block format's mac is its block dot unit), the
quality stage on block numerics, bad input exiting 2 with one line; synthesis and energy of a
block dot point (marked synth / sim)."""

from __future__ import annotations

import math

import pytest

from analysis.cli import main
from analysis.design import DesignPoint, SweepSpec
from analysis.stages import stage_quality
from hwmodel.formats import parse_format
from rtl.unit import parse_unit


def test_block_points_get_their_block_dot_unit_and_one_identity():
    pts = SweepSpec(formats=["mxfp4", "nvfp4", "mx(e2m1,block=32)"], accumulators=["fp32"],
                    units=["mac", "bdot:8"]).points()
    # mxfp4 and mx(e2m1,block=32) are one format, and a block format's mac is its bdot:8
    assert [p.point_id for p in pts] == ["mxfp4/float32/bdot:8/p1/ge", "nvfp4/float32/bdot:8/p1/ge"]
    mixed = SweepSpec(formats=["int8", "mxfp4"], accumulators=["fp32"]).points()
    assert [p.unit.spec for p in mixed] == ["mac", "bdot:8"]
    assert DesignPoint.make("mx(e2m1,block=32)", "fp32") == DesignPoint.make("mxfp4", "float32", "bdot:8")
    assert DesignPoint.make("mxfp4", "fp32", "bdot:16").unit == parse_unit("bdot:16")
    assert DesignPoint.make("block(int4,block=4,scale=shift5,rule=pow2)", "kulisch").unit.spec == "bdot:4"


@pytest.mark.parametrize("argv,msg", [
    (["--formats", "mxfp4", "--units", "bdot:12"], "block size must be a multiple of the lanes, not 32"),
    (["--formats", "mxfp4", "--units", "dot:8"], "is built as a block dot unit"),
    (["--formats", "int8", "--units", "bdot:8"], "a bdot:N unit needs a block format"),
    (["--formats", "mx(e2m1,block=0)"], "block size must be an int in 1..65536, not 0"),
])
def test_block_sweep_bad_input(tmp_path, capsys, argv, msg):
    rc = main(["sweep", *argv, "--acc", "fp32", "--out", str(tmp_path / "o"),
               "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_block_whatif_bad_accumulator_exits_2(tmp_path, capsys):
    rc = main(["whatif", "nvfp4", "--acc", "kulisch", "--out", str(tmp_path / "o"),
               "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2 and "power-of-two" in err and len(err.strip().splitlines()) == 1, err


def test_block_quality_orders_formats_and_kulisch_is_exact():
    q = {f: stage_quality(DesignPoint.make(f, a), 0, True)
         for f, a in (("mxfp4", "fp32"), ("mxfp6_e2m3", "fp32"), ("mxfp8_e4m3", "fp32"),
                      ("mxint8", "fp32"), ("shiftquant_int4", "kulisch"), ("jetfire_int8", "fp32"))}
    # more element mantissa bits, more SQNR (one bit is ~6 dB): e2m1 < e2m3 ~ e4m3 < mxint8 (6 bits)
    assert q["mxfp4"]["sqnr_db"] + 6 < q["mxfp6_e2m3"]["sqnr_db"] < q["mxint8"]["sqnr_db"] - 3
    assert q["mxfp4"]["sqnr_db"] + 6 < q["mxfp8_e4m3"]["sqnr_db"] < q["mxint8"]["sqnr_db"] - 3
    for r in q.values():
        assert math.isfinite(r["sqnr_db"]) and math.isfinite(r["sqnr_t3_db"])
        assert 0 <= r["dot_rel_err"] < 1e-5 and r["dot_length"] % 32 == 0
    # Kulisch holds every block value exactly and rounds once; fsum rounds the same exact sum once
    assert q["shiftquant_int4"]["dot_rel_err"] == 0.0


def test_block_quality_sqnr_matches_an_independent_mxfp4_quantiser():
    """MXFP4 SQNR from a quantiser written here from the OCP text: scale 2^(floor(log2 amax) - 2),
    elements rounded to the E2M1 grid (ties to even), saturating at 6."""
    import numpy as np

    from hwmodel import quality as Q
    rng = np.random.default_rng(0)
    x = Q.sample("gaussian", (1, (4096 // 32) * 32), rng)
    blocks = x.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    scale = 2.0 ** (np.floor(np.log2(amax)) - 2)
    grid = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6])
    y = np.abs(blocks) / scale
    # round to nearest grid point, ties to the even code (the lower of two neighbours with even index)
    d = np.abs(y[..., None] - grid)
    idx = np.argmin(d + (np.arange(8) % 2) * 1e-12, axis=-1)
    q = np.sign(blocks) * grid[idx] * scale
    want = 10 * math.log10(float(np.sum(x ** 2)) / float(np.sum((x - q.reshape(x.shape)) ** 2)))
    got = stage_quality(DesignPoint.make("mxfp4", "fp32"), 0, True)["sqnr_db"]
    assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.synth
def test_block_synth_stage_splits_area_per_element_product(tmp_path):
    from analysis.stages import stage_synth
    from rtl.blockdot import PARTS
    p = DesignPoint.make("mxfp4", "fp32")
    r = stage_synth(p, 0, True, tmp_path)
    assert r["area_per_product_ge"] == pytest.approx(r["area_ge"] / 8)
    parts = [r[f"area_{q}_per_product_ge"] for q in PARTS]
    assert all(v >= 0 for v in parts) and min(parts[:4]) > 0
    # the hierarchical parts cover the flat area (flattening only removes logic)
    assert sum(parts) >= r["area_per_product_ge"] * 0.999
    assert 0 < r["scale_path_share"] < 0.5
    assert r["delay_fo4"] > 0 and r["synth_source"].startswith("our synthesis")


def test_block_whatif_page_counts_area_per_element_product(tmp_path):
    """The what-if page of a block format (fake evaluator: area_ge = bits^2 * 10 + acc bits for
    the whole unit): the block dot unit bdot:8 does 8 element products a cycle, so its area per
    MAC is a eighth of the unit's: (4*4*10 + 32) / 8 = 24 GE; int8/kulisch: 640 + 112 = 752 GE."""
    from analysis.whatif import run_whatif
    from tests.analysis.fakes import FakeEvaluator
    res = run_whatif("mx(e2m1,block=32)", "fp32", out=tmp_path / "w", cache_dir=tmp_path / "c",
                     evaluator=FakeEvaluator(), progress=False, jobs=1)
    assert "mxfp4/float32/bdot:8/p1/ge" in set(res["sweep"].point_id) and res["new_ok"]
    md = (tmp_path / "w" / "whatif.md").read_text()
    assert "**Area** per MAC: 24 GE" in md
    assert f"Area relative to int8 with kulisch accumulation: **{24 / 752:.2f}x**" in md
    assert "| mxfp4 | float32 | bdot:8 |" in md       # the iso-area table counts 8 MACs per unit
