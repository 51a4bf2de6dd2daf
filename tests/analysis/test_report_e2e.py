"""`hwdse report --quick` end to end on the sections this layer builds: a real (quick) sweep with
the golden model and Yosys, the sections rendered, the page loaded in headless Chromium."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.cli import main
from analysis.design import acc_spec
from hwmodel.accum import parse_acc


@pytest.mark.synth
def test_report_quick_end_to_end(tmp_path):
    out = tmp_path / "reports"
    rc = main(["report", "--quick", "--only", "verification,isoarea,pareto", "--jobs", "1",
               "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert [s["status"] for s in meta["sections"]] == ["ok", "ok", "ok"]
    df = pd.read_parquet(out / "sweep" / "sweep.parquet")
    kul, fp32 = acc_spec(parse_acc("kulisch")), acc_spec(parse_acc("fp32"))
    # the quick sweep: the paper's two formats x two accumulators, and MXFP4 as its block dot unit
    assert list(df.point_id) == [f"int8/{kul}/mac/p1/ge", f"int8/{fp32}/mac/p1/ge",
                                 f"float8_e4m3fn/{kul}/mac/p1/ge", f"float8_e4m3fn/{fp32}/mac/p1/ge",
                                 f"mxfp4/{fp32}/bdot:8/p1/ge"]
    assert (df.status == "ok").all() and (df.area_ge > 0).all()
    # 8 element products a cycle: its area per product is the unit's over 8
    blk = df.set_index("point_id").loc[f"mxfp4/{fp32}/bdot:8/p1/ge"]
    assert blk["area_per_product_ge"] == pytest.approx(blk["area_ge"] / 8)
    # The paper's ordering, measured by our synthesis: INT8 with Kulisch accumulation is the
    # smallest MAC, and an FP32 accumulator costs more than a Kulisch one for both formats.
    a = df[df["unit"] == "mac"].set_index("point_id")["area_ge"]
    assert a.idxmin() == f"int8/{kul}/mac/p1/ge"
    assert a[f"int8/{fp32}/mac/p1/ge"] > a[f"int8/{kul}/mac/p1/ge"]
    assert a[f"float8_e4m3fn/{fp32}/mac/p1/ge"] > a[f"float8_e4m3fn/{kul}/mac/p1/ge"]
    md = (out / "report.md").read_text()
    assert "Quick mode: the benches are not run" in md
    # A second run is served from the cache.
    assert main(["report", "--quick", "--only", "pareto", "--jobs", "1", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert pd.read_parquet(out / "sweep" / "sweep.parquet")["cached"].all()
