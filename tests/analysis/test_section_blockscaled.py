"""The 'Block-scaled formats' report section builds in quick mode, and its tables and sentences
agree with the study frame they are made from."""

import pytest

from analysis.section import ReportContext


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from analysis.sections import blockscaled
    out = tmp_path_factory.mktemp("rep")
    ctx = ReportContext(outdir=out, cache_dir=out / "cache", quick=True)
    return ctx, blockscaled.build(ctx)


def test_section_builds_quick_with_table_figure_and_data(built):
    import pandas as pd
    from hwmodel import quality as Q
    ctx, sec = built
    assert sec.key == "blockscaled" and sec.title == "Block-scaled formats" and sec.failed is None
    head = _table(sec, "SQNR (dB) and relative RMS dot error").frame
    assert set(head["format"]) >= {"int8", "float8_e4m3fn", "int4", "mxfp8_e4m3", "mxint8", "mxfp4",
                                   "jetfire_int8", "shiftquant_int4", "shiftquant_int8", "deepseek_fp8_act"}
    assert set(head.loc[head["family"] != head["format"], "block_size"]) == {32}
    assert set(head.loc[head["format"] == "nvfp4", "block_size"]) == {16}
    assert set(head.loc[head["format"] == "deepseek_fp8_act", "block_size"]) == {128}
    for d in Q.BLOCK_DISTRIBUTIONS:
        assert f"{d}_sqnr_db" in head and f"{d}_dot_rel_rms_err" in head
    assert len(sec.figures) == 3
    for fig in sec.figures:
        assert fig.path.exists() and fig.path.stat().st_size > 10_000
    df = pd.read_csv(ctx.outdir / "data" / "blockscaled_quality.csv")
    # the headline numbers are the study's, rounded
    row = head[head["format"] == "mxint8"].iloc[0]
    ref = df[(df["format"] == "mxint8") & (df["distribution"] == "gaussian")]["sqnr_db"].iloc[0]
    assert row["gaussian_sqnr_db"] == round(ref, 2)
    assert all(t.source.startswith("our computation") for t in sec.tables[2:])


def _table(sec, caption_start):
    return next(t for t in sec.tables if t.caption.startswith(caption_start))


def test_quick_section_shows_committed_costs_checked_and_fronts(built):
    """Quick mode: the QUICK rows of the committed table at block 32, each checked current, their
    figures as committed; the fronts and sentences made from them."""
    import pandas as pd
    from analysis import blockcost as BC
    from analysis.sections import blockscaled as S
    ctx, sec = built
    cost = _table(sec, "Cost per element product").frame
    assert set(cost["design"]) == {"mxfp4@32", "mxint8@32", "int8 MAC", "float8_e4m3fn MAC"}
    assert set(cost["status"]) == {"current (synthesis inputs match)"}
    assert "committed measured table" in sec.tables[0].source and BC.REMEASURE_COMMAND in sec.tables[0].source
    m = BC.load_measured()
    ref = m[(m["family"] == "mxfp4") & (m["block_size"] == 32)].iloc[0]
    row = cost.set_index("design").loc["mxfp4@32"]
    assert row["area_per_product_ge"] == round(ref["area_per_product_ge"], 1)
    assert row["energy_pj_per_product"] == round(ref["energy_pj_per_product"], 3)
    assert row["scale_path_share_pct"] == round(100 * ref["scale_path_share"], 1)
    fronts = _table(sec, "Pareto fronts").frame
    assert set(fronts["cost"]) == {"area", "energy"} and len(set(fronts["distribution"])) == 3
    pts = pd.read_csv(ctx.outdir / "data" / "blockscaled_quality_cost.csv")
    # every front member is a costed point, and nothing on a front is beaten by another point
    for (c, d), f in fronts.groupby(["cost", "distribution"]):
        col, q = S.COST_COLS[c], f"sqnr_{d}_db"
        for _, r in f.iterrows():
            p = pts[pts["design"] == r["design"]].iloc[0]
            better = pts[(pts[col] <= p[col]) & (pts[q] >= p[q]) & ((pts[col] < p[col]) | (pts[q] > p[q]))]
            assert better.empty
    assert "scale path costs" in sec.notes and "non-dominated on all 3 distributions" in sec.notes


def test_finding_sentence_is_computed_from_the_frame(built):
    import pandas as pd
    from analysis.sections import blockscaled
    ctx, sec = built
    df = pd.read_csv(ctx.outdir / "data" / "blockscaled_quality.csv")
    o = df[df["distribution"] == "outlier_channels"].set_index(["format", "rule"])["sqnr_db"]
    assert f"{o[('mxint8', 'ocp')]:.1f} dB against per-channel INT8's {o[('int8', 'channel')]:.1f} dB" in sec.notes
    flipped = df.copy()
    flipped.loc[flipped["format"] == "int4", "sqnr_db"] = 999.0
    assert "best int4 (channel) at 999.0 dB" in blockscaled._finding(flipped)


def test_registered_in_the_report_order():
    from analysis.report import SECTION_ORDER
    assert "blockscaled" in SECTION_ORDER
    assert SECTION_ORDER.index("blockscaled") == SECTION_ORDER.index("numerics") + 1


def test_storage_front_is_non_dominated_by_hand():
    import pandas as pd
    from analysis.sections.blockscaled import storage_front
    df = pd.DataFrame({"distribution": ["g"] * 4, "bits_per_element": [4.0, 4.25, 8.0, 8.25],
                       "sqnr_db": [16.0, 18.0, 41.0, 40.0], "format": list("abcd"),
                       "rule": ["channel"] * 4, "block_size": [1] * 4, "block_rows": [1] * 4})
    # d (8.25 bits, 40 dB) is beaten by c (fewer bits, more dB); a, b, c each win somewhere
    assert list(storage_front(df)["format"]) == ["a", "b", "c"]
