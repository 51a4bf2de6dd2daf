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
    head = sec.tables[0].frame
    assert set(head["format"]) >= {"int8", "float8_e4m3fn", "int4", "mxfp8_e4m3", "mxint8", "mxfp4",
                                   "jetfire_int8", "shiftquant_int4", "shiftquant_int8", "deepseek_fp8_act"}
    assert set(head.loc[head["family"] != head["format"], "block_size"]) == {32}
    assert set(head.loc[head["format"] == "nvfp4", "block_size"]) == {16}
    assert set(head.loc[head["format"] == "deepseek_fp8_act", "block_size"]) == {128}
    for d in Q.BLOCK_DISTRIBUTIONS:
        assert f"{d}_sqnr_db" in head and f"{d}_dot_rel_rms_err" in head
    fig = sec.figures[0].path
    assert fig.exists() and fig.stat().st_size > 10_000
    df = pd.read_csv(ctx.outdir / "data" / "blockscaled_quality.csv")
    # the headline numbers are the study's, rounded
    row = head[head["format"] == "mxint8"].iloc[0]
    ref = df[(df["format"] == "mxint8") & (df["distribution"] == "gaussian")]["sqnr_db"].iloc[0]
    assert row["gaussian_sqnr_db"] == round(ref, 2)
    assert all(t.source.startswith("our computation") for t in sec.tables)


def test_section_says_costs_are_not_there_rather_than_inventing_them(built):
    from analysis.sections import blockscaled
    _, sec = built
    assert blockscaled.COSTS_NOTE in sec.notes
    cols = " ".join(" ".join(t.frame.columns) for t in sec.tables)
    assert "area" not in cols and "energy" not in cols


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
