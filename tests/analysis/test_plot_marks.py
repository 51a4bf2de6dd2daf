"""Every figure of the energy, numerics, GPU, paper, FPGA and physical sections marks its
reference designs and its non-dominated (best) designs: checked on the matplotlib objects of each
figure, drawn from small hand-made frames whose fronts are derived by hand in each test."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from analysis import plots


@pytest.fixture
def figs(monkeypatch):
    """The figures the code under test saves (the PNGs are still written)."""
    saved = []
    real = plots.savefig

    def keep(fig, path, dpi=110):
        saved.append(fig)
        return real(fig, path, dpi)
    monkeypatch.setattr(plots, "savefig", keep)
    return saved


def best_names(ax) -> set[str]:
    """The names written in the 'best / non-dominated' colour."""
    return {t.get_text() for t in ax.texts if to_hex(t.get_color()) == plots.BEST_COLOUR}


def bold_names(ax) -> set[str]:
    return {t.get_text() for t in ax.texts if t.get_fontweight() == "bold"}


def legend(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


def hatched(ax) -> list[int]:
    """The x positions (bar-group indices) whose bars carry the reference hatch."""
    return [i for i, g in enumerate(plots.bar_groups(ax))
            if g and all(p.get_hatch() == plots.REF_EDGE["hatch"] for p in g)]


# -- the shared helpers ---------------------------------------------------------------------
def test_front_scatter_joins_and_names_the_front_and_rings_the_references(tmp_path):
    # area, energy (both minimised): int4 (1, 3) and int8 (2, 2) are on the front;
    # fp8-e4m3 (3, 3) is beaten by int8, bf16 (1.5, 4) by int4.
    df = pd.DataFrame({"in_fmt": ["int4", "int8", "float8_e4m3fn", "bf16"],
                       "acc": ["kulisch", "kulisch", "fp32", "fp32"],
                       "area": [1.0, 2.0, 3.0, 1.5], "e": [3.0, 2.0, 3.0, 4.0]})
    df["name"] = df["in_fmt"] + "/" + df["acc"]
    fig, ax = plots.new_figure()
    on = plots.front_scatter(ax, df, "area", "e", [("area", "min"), ("e", "min")], "name")
    assert list(on) == [True, True, False, False]
    assert best_names(ax) == {"int4/kulisch", "int8/kulisch"}
    assert bold_names(ax) == {"INT8/Kulisch (ref)", "FP8-E4M3/fp32 (ref)"}
    front_line = [ln for ln in ax.lines if to_hex(ln.get_color()) == plots.BEST_COLOUR]
    assert [list(ln.get_xdata()) for ln in front_line] == [[1.0, 2.0]]
    assert any("non-dominated" in t for t in legend(ax)) and "reference (ringed)" in legend(ax)


def test_mark_bars_hatches_references_and_stars_the_best():
    fig, ax = plots.new_figure()
    plots.grouped_bars(ax, ["a", "b", "c"], {"s1": [1, 2, 3], "s2": [2, 1, 1]}, ylabel="y")
    plots.mark_bars(ax, plots.bar_groups(ax), ["a", "b", "c"], ["A (ref)", None, None],
                    [False, False, True], best_what="best thing")
    assert hatched(ax) == [0]
    assert best_names(ax) == {"c"}
    assert "s1" in legend(ax) and "reference: A" in legend(ax) and "best thing" in legend(ax)
    # the star sits on the tallest bar of its group (3)
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_ydata()) == [3]


# -- the sections' figures --------------------------------------------------------------------
def test_energy_figure(tmp_path, figs):
    from analysis.sections.energy import energy_figure
    # (gaussian pJ, area) minimised: int4 (0.11, 500) and bf16 (0.05, 3000) are non-dominated;
    # int8 (0.36, 1000) is beaten by int4, fp8-e4m3 (0.40, 2000) by int4 as well.
    wide = pd.DataFrame({"config": ["c1", "c2", "c3", "c4"],
                         "format": ["int8", "int4", "float8_e4m3fn", "bf16"],
                         "acc": ["kulisch27", "kulisch19", "float32", "float32"],
                         "area_ge": [1000.0, 500.0, 2000.0, 3000.0],
                         "gaussian_pj_per_mac": [0.36, 0.11, 0.40, 0.05],
                         "relu_pj_per_mac": [0.07, 0.01, 0.2, 0.04]})
    energy_figure(wide, ["gaussian_pj_per_mac", "relu_pj_per_mac"], tmp_path / "e.png")
    bars, scatter = figs[0].axes
    assert hatched(bars) == [0, 2]                       # INT8/Kulisch and FP8-E4M3
    assert best_names(bars) == {"int4/kulisch19", "bf16/fp32"}
    assert any("INT8/Kulisch" in t and "FP8-E4M3/float32" in t for t in legend(bars))
    assert best_names(scatter) == {"int4/kulisch19", "bf16/fp32"}
    assert bold_names(scatter) == {"INT8/Kulisch (ref)", "FP8-E4M3/float32 (ref)"}
    assert (tmp_path / "e.png").stat().st_size > 0


def test_numerics_sqnr_figure(tmp_path, figs):
    from analysis.sections.numerics import sqnr_figure
    # (mean SQNR max, bits min): int8 (40, 8) beats fp8-e4m3 (31, 8); fp4 (18, 4) beats int4
    # (15, 4); mxint8 (42, 8.25) is beaten by nothing. Front: int8, fp4, mxint8.
    wide = pd.DataFrame({"format": ["int8", "float8_e4m3fn", "int4", "float4_e2m1fn", "mxint8"],
                         "bits_per_element": [8, 8, 4, 4, 8.25],
                         "scaling": ["channel"] * 4 + ["mx"],
                         "gaussian_sqnr_db": [41, 31, 16, 18, 43],
                         "uniform_sqnr_db": [39, 31, 14, 18, 41]})
    sqnr_figure(wide, tmp_path / "s.png")
    ax = figs[0].axes[0]
    assert hatched(ax) == [0, 1]
    assert best_names(ax) == {"int8", "fp4_e2m1fn", "mxint8"}
    assert "reference: INT8, FP8-E4M3" in legend(ax)


def test_numerics_dot_figure(tmp_path, figs):
    from analysis.sections.numerics import dot_figure
    # Under kulisch both formats are exact (no star); under fp16 fp8-e4m3 (5e-5) beats int8 (1e-4).
    dots = pd.DataFrame({"format": ["int8", "int8", "float8_e4m3fn", "float8_e4m3fn"],
                         "accumulator": ["kulisch", "fp16", "kulisch", "fp16"],
                         "err_over_l1_median": [0.0, 1e-4, 0.0, 5e-5]})
    dot_figure(dots, 512, tmp_path / "d.png")
    ax = figs[0].axes[0]
    assert best_names(ax) == {"fp8_e4m3fn"}
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert [list(s.get_xdata()) for s in stars] == [[pytest.approx(1.2)]]   # fp16 group, 2nd bar
    g = plots.bar_groups(ax)     # [accumulator][format]
    ref = [[p.get_hatch() == "//" for p in grp] for grp in g]
    assert ref == [[True, True], [False, True]]    # int8 only under kulisch; fp8-e4m3 everywhere
    assert any("INT8/Kulisch" in t and "FP8-E4M3" in t for t in legend(ax))


def test_paper_bar_chart(tmp_path, figs):
    from analysis.sections.paper import _bar_chart
    # Cheapest accumulator per input by synthesised gates: int8 -> kulisch (1085),
    # paper_e4 -> fp16 (1445 < 1458 < 2524).
    df = pd.DataFrame({"in_fmt": ["int8"] * 3 + ["paper_e4"] * 3,
                       "acc": ["kulisch:12", "fp16", "fp32"] * 2,
                       "paper_total_gates": [719, 1396, 2329, 1067, 1110, 2042],
                       "model_total_gates": [727, 1389, 2340, 1059, 1104, 2079],
                       "synth_total_gates": [1085, 2232, 3035, 1458, 1445, 2524]})
    _bar_chart(df, tmp_path / "p.png")
    ax = figs[0].axes[0]
    assert hatched(ax) == [0, 4, 5]
    assert best_names(ax) == {"INT8/KULISCH", "FP8-E4/FP16"}
    assert any("INT8/FX" in t and "FP8-E4/FP16" in t for t in legend(ax))


def test_fpga_figure(tmp_path, figs):
    from analysis.sections.fpga import fpga_figure
    # (LUT4-eq min, Fmax max): int4 (63, 179) beats int8 (87, 166) and fp8 (401, 87);
    # fp16 (1300, 200) is the fastest, so it is on the front too.
    df = pd.DataFrame({"format": ["int8", "int4", "float8_e4m3fn", "float16"],
                       "acc": ["kulisch", "kulisch", "kulisch", "fp32"],
                       "lut4_equiv": [87, 63, 401, 1300], "dsp": [1, 1, 1, 0],
                       "fmax_mhz": [166.5, 178.7, 86.8, 200.0]})
    ice = pd.DataFrame({"format": ["int8"], "acc": ["kulisch"], "lut4": [238], "carry": [38],
                        "fmax_mhz": [87.1]})
    fpga_figure(df, ice, tmp_path / "f.png")
    ecp5, ice40 = figs[0].axes
    assert best_names(ecp5) == {"int4/kulisch (1 DSP)", "fp16/fp32"}
    assert bold_names(ecp5) == {"INT8/Kulisch (ref)", "FP8-E4M3/kulisch (ref)"}
    assert best_names(ice40) == {"int8/kulisch"} and bold_names(ice40) == {"INT8/Kulisch (ref)"}


def test_physical_figure(tmp_path, figs):
    from analysis.sections.physical import physical_figure
    # area/energy: int4 (12k um2, 23 pJ) beats both others. delay/energy: int4 (3.9 ns, 23 pJ)
    # beats fp8 (24.8 ns, 74 pJ), but int8 (3.0 ns, 69 pJ) has the shortest path: both on the front.
    df = pd.DataFrame({"format": ["int8", "float8_e4m3fn", "int4"],
                       "acc": ["kulisch", "fp32", "kulisch"],
                       "osu018_area_um2": [27463.0, 51900.0, 12000.0],
                       "sta_ns": [3.0, 24.8, 3.9], "sta_pj_per_mac": [69.2, 74.0, 23.0]})
    physical_figure(df, tmp_path / "ph.png")
    area, delay = figs[0].axes
    assert best_names(area) == {"int4/kulisch"}
    assert best_names(delay) == {"int4/kulisch", "int8/kulisch"}
    for ax in (area, delay):
        assert bold_names(ax) == {"INT8/Kulisch (ref)", "FP8-E4M3/fp32 (ref)"}


def test_gpu_empirical_roofline_and_wins():
    from analysis.sections.gpu import best_per_shape, empirical_roofline
    pts = pd.DataFrame({"kernel": ["k1", "k2", "k2", "k1", "k3"],
                        "ai": [1.0, 1.01, 100.0, 1000.0, 10.0],
                        "tput": [10.0, 5.0, 1000.0, 900.0, 50.0]})
    # (1.01, 5) shares 1.0's bin and is slower; (1000, 900) is beaten by (100, 1000).
    env = empirical_roofline(pts)
    assert list(zip(env["kernel"], env["ai"])) == [("k1", 1.0), ("k3", 10.0), ("k2", 100.0)]
    data = pd.DataFrame({"kernel": ["a", "b", "a", "b"], "M": [1, 1, 2, 2], "N": 1, "K": 1,
                         "ops": [10.0, 10.0, 10.0, 10.0], "time_s": [1.0, 2.0, 3.0, 2.0]})
    assert best_per_shape(data, ["a", "b"]).to_dict() == {"a": 1, "b": 1}


def test_gpu_section_figures_name_references_and_front(tmp_path, figs):
    from analysis.section import ReportContext
    from analysis.sections import gpu
    s = gpu.build(ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True))
    roof = figs[0]
    for ax in roof.axes:
        leg = legend(ax)
        for ref in gpu.REF_KERNELS.values():
            assert any(t.startswith(ref) for t in leg)
            assert any(t.startswith(ref) for t in bold_names(ax))
        front = [t for t in leg if t.startswith("non-dominated (empirical roofline): ")]
        assert len(front) == 1 and front[0].split(": ", 1)[1]
    for ax in figs[1].axes:
        assert {r for r in gpu.REF_KERNELS.values()} <= set(legend(ax))
    assert "non-dominated" in s.figures[0].caption and "(ref)" in s.figures[1].caption


def test_captions_say_what_is_marked():
    from analysis.sections import energy, fpga, numerics, paper, physical
    for text in (energy.FIGURE_MARKS, numerics.SQNR_MARKS, numerics.DOT_MARKS, paper.FIGURE_MARKS,
                 fpga.FIGURE_MARKS, physical.FIGURE_MARKS):
        assert "reference" in text and ("non-dominated" in text or "lowest error" in text)
