"""Report section: the RTL of every swept design point checked against the golden numerics."""

from __future__ import annotations

import pandas as pd

from analysis.section import ReportContext, Section, Table


def build(ctx: ReportContext) -> Section:
    from analysis.reportsweep import report_sweep

    df = report_sweep(ctx)
    cols = ["in_fmt", "acc", "unit", "pipeline_stages"]
    t = df[cols].copy()
    verified = df["verified"] if "verified" in df else pd.Series([None] * len(df))
    err = df["verify_error"] if "verify_error" in df else pd.Series([None] * len(df))
    detail = df["verify_detail"] if "verify_detail" in df else pd.Series([None] * len(df))
    t["result"] = ["pass" if v is True else "FAIL" if v is False else "not run"
                   for v in verified.astype(object).where(verified.notna(), None)]
    t["cocotb_tests"] = df["verify_tests"] if "verify_tests" in df else None
    t["detail"] = [(d if isinstance(d, str) and d else (e if isinstance(e, str) else ""))[:240]
                   for d, e in zip(detail, err)]
    n_pass = int((t["result"] == "pass").sum())
    n_bad = int((t["result"] == "FAIL").sum())
    n_none = int((t["result"] == "not run").sum())
    intro = (f"Every swept design point's RTL (amaranth, exported to Verilog) was simulated with "
             f"Verilator through its cocotb bench and compared bit for bit with the golden model "
             f"(hwmodel.numerics): operands of 8 bits or fewer exhaustively (every pair), plus seeded "
             f"random pairs and directed corner cases. Every bench drives its unit through one "
             f"testbench (sim/testbench.py) that pauses the operand stream at seeded random points, "
             f"inside accumulations too (valid low, random bits on the data inputs): the "
             f"accumulator must hold its value through every pause. **{n_pass} passed, {n_bad} failed "
             f"(a mismatch or a bench error, see detail), "
             f"{n_none} could not be run** (reason in the table).")
    if ctx.quick:
        intro += " *Quick mode: the benches are not run (tests and a first look); run without --quick.*"
    return Section(key="verification", title="Verification of the RTL against the golden numerics",
                   intro=intro,
                   tables=[Table("Verification result per design point", t,
                                 source="our simulation (cocotb 2.1 + Verilator 5.48 via sim.runner; "
                                        "golden model hwmodel.numerics)")])
