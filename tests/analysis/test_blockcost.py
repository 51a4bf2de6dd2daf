"""analysis.blockcost: the cost table of block dot units per element product beside scalar MACs,
and its plots."""

from __future__ import annotations

import pytest

from analysis import blockcost
from hwmodel.errors import UnsupportedConfig


def test_lanes_must_divide_every_block_size_before_any_work(tmp_path):
    with pytest.raises(UnsupportedConfig, match="multiple of the lanes, not 16"):
        blockcost.block_cost_table([("mxfp4", "fp32")], (16, 32), lanes=32, cache_dir=tmp_path)
    with pytest.raises(UnsupportedConfig, match="must be block formats"):
        blockcost.block_cost_table([("int8", "int32")], (32,), cache_dir=tmp_path)


def test_the_default_set_names_every_block_format_of_the_issue():
    from hwmodel.formats import parse_format
    fams = {s for s, _ in blockcost.BLOCK_FORMATS}
    assert {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8", "nvfp4",
            "jetfire_int8", "shiftquant_int4", "shiftquant_int8", "deepseek_fp8_act"} <= fams
    assert all(hasattr(parse_format(s), "block_size") for s in fams)
    assert blockcost.BLOCK_SIZES == (16, 32, 64)
    assert {s for s, _ in blockcost.SCALARS} == {"int8", "float8_e4m3fn", "int4"}


@pytest.mark.synth
def test_cost_table_per_element_product(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rtl.synth import synthesize
    from rtl.unit import unit_config
    df = blockcost.block_cost_table([("mxfp4", "fp32")], (16, 32), scalars=[("int8", "int32")],
                                    jobs=1)
    assert list(df["kind"]) == ["block", "block", "scalar"]
    assert list(df["block_size"].iloc[:2]) == [16, 32] and list(df["lanes"]) == [8, 8, 1]
    # independently: the unit synthesised here, its area over its 8 lanes
    whole = synthesize(unit_config("mxfp4", "fp32", "bdot:8").create(), "ge").area
    assert df.loc[1, "area_per_product_ge"] == pytest.approx(whole / 8)
    for _, r in df.iterrows():
        parts = sum(r[f"area_{p}_per_product_ge"] for p in blockcost.PARTS)
        assert parts >= r["area_per_product_ge"] * 0.999       # hierarchy covers the flat netlist
        assert r["scale_path_ge_per_product"] == pytest.approx(r["area_scale_path_per_product_ge"])
        assert r["delay_fo4"] > 0
    assert (df["scale_path_share"].iloc[:2] > 0).all() and df["scale_path_share"].iloc[2] == 0
    fig, (a1, a2) = plt.subplots(1, 2)
    blockcost.plot_block_cost(a1, df, 32)
    blockcost.plot_scale_share(a2, df)
    assert len(a1.patches) == 2 * len(blockcost.PARTS)       # one bar per unit and part
    assert "ge" in a1.get_xlabel() and "%" in a2.get_ylabel() and "block size" in a2.get_xlabel()
    plt.close(fig)
