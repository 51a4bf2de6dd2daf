"""Findings and verdicts: every figure a sentence states is parsed back from the sentence and
recomputed from the table on its own (no call into analysis.findings for the expected value)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import findings
from analysis.report import render_html
from analysis.section import Section, Table

BOLD_NUM = re.compile(r"\*\*([-+]?\d[\d.]*(?:e[-+]?\d+)?)(x| dB| TOPS| GE| FO4)?\*\*")


def figures_in(text: str) -> list[float]:
    return [float(m.group(1)) for m in BOLD_NUM.finditer(text)]


def close(stated: float, exact: float) -> bool:
    """A figure written with 3 significant digits (whole numbers from 1000) matches the exact value."""
    return abs(stated - exact) <= max(0.5, 0.005 * abs(exact)) if abs(exact) >= 1000 \
        else abs(stated - exact) <= 0.005 * abs(exact) + 1e-12


SWEEP = pd.DataFrame({
    "in_fmt": ["int8", "int8", "float8_e4m3fn", "float8_e4m3fn", "int4", "int4"],
    "in_fmt_spec": ["int8", "int8", "float8_e4m3fn", "float8_e4m3fn", "int4", "int4"],
    "acc": ["kulisch:12", "float32", "kulisch:12", "float32", "kulisch:12", "float32"],
    "area_ge": [1163.0, 2824.0, 1388.0, 2363.0, 557.0, 2100.0],
    "sqnr_db": [41.0, 41.0, 31.47, 31.47, 16.2, 16.2],
    "sqnr_t3_db": [22.5, 22.5, 31.9, 31.9, 3.1, 3.1],
})
PAPER = pd.DataFrame({"in_fmt": ["paper_e4", "paper_e4"], "acc": ["fp32", "kulisch:12"],
                      "ratio_vs_int8_kulisch": [2.84, 1.48]})
TABLE = pd.DataFrame({
    "in_fmt": ["int4", "int8", "float8_e4m3fn", "float8_e4m3fn", "fp_new"],
    "in_fmt_spec": ["int4", "int8", "float8_e4m3fn", "float8_e4m3fn", "fp(e=3,m=4,bias=7)"],
    "acc": ["kulisch:12", "kulisch:12", "kulisch:12", "float32", "float32"],
    "peak_tops": [250.0, 136.6, 57.37, 19.67, 12.0],
    "unit_area_ge": [557.0, 1163.0, 1388.0, 2363.0, 2443.0],
    "clock_ghz": [0.794, 0.794, 0.398, 0.232, 0.225],
})
NEW_SWEEP = pd.concat([SWEEP, pd.DataFrame({"in_fmt": ["fp_new"], "in_fmt_spec": ["fp(e=3,m=4,bias=7)"],
                                            "acc": ["float32"], "area_ge": [2443.0], "sqnr_db": [35.0],
                                            "sqnr_t3_db": [20.0]})], ignore_index=True)


def test_cheapest_at_isoarea_figures_match_table():
    f = findings.cheapest_at_isoarea(TABLE)
    best = TABLE.loc[TABLE["peak_tops"].idxmax()]
    assert f"**{best['in_fmt']}/{best['acc']}**" in f.text
    int8 = TABLE[(TABLE["in_fmt"] == "int8") & (TABLE["acc"] == "kulisch:12")].iloc[0]
    stated = figures_in(f.text)
    assert len(stated) == 2
    assert close(stated[0], best["peak_tops"]) and close(stated[1], best["peak_tops"] / int8["peak_tops"])


def test_area_vs_paper_figures_match_tables():
    for acc, paper_ratio in (("fp32", 2.84), ("kulisch", 1.48)):
        f = findings.area_vs_paper(SWEEP, PAPER, acc=acc)
        ours = SWEEP.set_index(["in_fmt", "acc"])["area_ge"]
        acc_spec = "float32" if acc == "fp32" else "kulisch:12"
        stated = figures_in(f.text)
        assert close(stated[0], ours[("float8_e4m3fn", acc_spec)] / ours[("int8", "kulisch:12")])
        assert stated[1] == paper_ratio


def test_cheapest_acc_and_sqnr_winners_match_sweep():
    f = findings.cheapest_acc_per_format(SWEEP)
    for fmt, g in SWEEP.groupby("in_fmt"):
        best = g.loc[g["area_ge"].idxmin()]
        m = re.search(re.escape(fmt) + r" -> (\S+) \(\*\*([\d.]+) GE\*\*\)", f.text)
        assert m and m.group(1) == best["acc"] and close(float(m.group(2)), best["area_ge"])
    w = findings.sqnr_winners(SWEEP)
    for col, dist in (("sqnr_db", "N(0,1)"), ("sqnr_t3_db", "Student-t(3)")):
        best = SWEEP.loc[SWEEP[col].idxmax()]
        m = re.search(re.escape(dist) + r" data \*\*(\S+)\*\* \(\*\*([\d.]+) dB\*\*\)", w.text)
        assert m and m.group(1) == best["in_fmt"] and close(float(m.group(2)), best[col])


def test_verdict_consistent_with_numbers():
    out = findings.verdict(TABLE, NEW_SWEEP, "fp(e=3,m=4,bias=7)", "fp32")
    assert len(out) == 2  # INT8/Kulisch and FP8-E4M3 (same accumulator: float32)
    new = TABLE.iloc[4]
    new_q = NEW_SWEEP.iloc[-1]
    for f, ref_key in zip(out, [("int8", "kulisch:12"), ("float8_e4m3fn", "float32")]):
        ref = TABLE.set_index(["in_fmt", "acc"]).loc[ref_key]
        ref_q = NEW_SWEEP.set_index(["in_fmt", "acc"]).loc[ref_key]
        tp = new["peak_tops"] / ref["peak_tops"]
        stated = figures_in(f.text)
        assert close(stated[0], tp)
        assert close(stated[1], new["unit_area_ge"] / ref["unit_area_ge"])
        assert close(stated[2], new["clock_ghz"] / ref["clock_ghz"])
        # the word agrees with the ratio: less throughput from the same silicon is dearer
        assert ("**dearer**" in f.text) == (tp < 0.99) and ("**cheaper**" in f.text) == (tp > 1.01)
        for col, i in (("sqnr_db", 3), ("sqnr_t3_db", 5)):
            assert close(stated[i], new_q[col]) and close(stated[i + 1], ref_q[col])
        n01 = re.search(r"\*\*(more accurate|less accurate|as accurate)\*\* on N\(0,1\)", f.text).group(1)
        assert n01 == ("more accurate" if new_q["sqnr_db"] > ref_q["sqnr_db"] else "less accurate")
    # new vs INT8: 35 dB < 41 dB on N(0,1) but 20 < 22.5 on t(3): less accurate on both
    assert out[0].text.count("**less accurate**") == 2
    # vs FP8-E4M3: 35 > 31.47 on N(0,1), 20 < 31.9 on t(3)
    assert "**more accurate** on N(0,1)" in out[1].text and "**less accurate** on Student-t(3)" in out[1].text


def test_missing_numbers_make_no_finding():
    assert findings.cheapest_at_isoarea(pd.DataFrame()) is None
    assert findings.area_vs_paper(SWEEP[SWEEP["in_fmt"] != "float8_e4m3fn"], PAPER) is None
    assert findings.sqnr_winners(SWEEP.drop(columns=["sqnr_db", "sqnr_t3_db"])) is None


def test_wide_table_scrolls_in_its_own_box(tmp_path):
    wide = pd.DataFrame({f"column_{i}": [1.0, 2.0] for i in range(30)})
    long = pd.DataFrame({"x": range(100)})
    html = render_html([Section("s", "S", tables=[Table("wide", wide, "test"), Table("long", long, "test")])],
                       {}, csvs={("s", 1): "data/s_1.csv", ("s", 2): "data/s_2.csv"})
    assert html.count('<div class="table-wrap"><table') == 2
    assert re.search(r"\.table-wrap\{[^}]*overflow-x:auto", html)
    assert 'href="data/s_1.csv"' in html
    # the long table shows its first rows and says so
    assert "First 12 of 100 rows." in html and ">99<" not in html


def test_accelerator_winners_match_their_table():
    win = pd.DataFrame({"workload": ["P", "D"], "phase": ["prefill", "decode"], "fastest": ["int8/kulisch:12", "int4/kulisch:12"],
                        "time_per_token_ms": [0.1066, 2.264], "least_energy": ["int8/kulisch:12", "int4/kulisch:12"],
                        "energy_per_token_mj": [1.52, 340.9]})
    out = findings.accelerator_winners(win)
    assert len(out) == 2 and "compute-bound prefill" in out[0].text and "memory-bound decode" in out[1].text
    for f, (_, r) in zip(out, win.iterrows()):
        assert f"fastest **{r['fastest']}**" in f.text
        stated = [float(x) for x in re.findall(r"\*\*([\d.]+) m[sJ]\*\*", f.text)]
        assert close(stated[0], r["time_per_token_ms"]) and close(stated[1], r["energy_per_token_mj"])


def test_clock_needs_counts_match_table():
    t = pd.DataFrame({"in_fmt": ["a", "b", "c", "d"], "acc": ["x"] * 4,
                      "meets_clock": [True, True, True, False], "loop_stages": [1, 3, 2, 1]})
    f = findings.clock_needs(t)
    stated = figures_in(f.text)
    meets, loops = t["meets_clock"], t["loop_stages"]
    assert stated == [float((meets & (loops == 1)).sum()), float(len(t)), float((meets & (loops > 1)).sum()),
                      float((~meets).sum())]
    assert "b/x: 3" in f.text and "(d/x)" in f.text


def test_accelerator_winners_name_ties():
    from analysis import accelerator
    fr = pd.DataFrame({"in_fmt": ["int4", "fp4", "int8"], "acc": ["k", "k", "k"], "workload": ["D"] * 3,
                       "phase": ["decode"] * 3, "time_per_token_ms": [1.293, 1.294, 2.26],
                       "energy_per_token_mj": [187.729, 187.729, 341.0]})
    w = accelerator.winners(fr).iloc[0]
    assert w["least_energy"] == "int4/k = fp4/k" and w["energy_per_token_mj"] == 187.729
    assert w["fastest"] == "int4/k = fp4/k"  # 1.294 is within 0.1% of 1.293
