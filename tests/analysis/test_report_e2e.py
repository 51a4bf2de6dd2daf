"""`hwdse report --quick` end to end on the sections this layer builds: a real (quick) sweep with
the golden model and Yosys, the sections rendered, the page loaded in headless Chromium."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.cli import main


@pytest.mark.synth
def test_report_quick_end_to_end(tmp_path):
    out = tmp_path / "reports"
    rc = main(["report", "--quick", "--only", "verification,isoarea,pareto", "--jobs", "1",
               "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert [s["status"] for s in meta["sections"]] == ["ok", "ok", "ok"]
    df = pd.read_parquet(out / "sweep" / "sweep.parquet")
    assert list(df.point_id) == ["int8/kulisch/mac/p1/ge", "int8/fp32/mac/p1/ge",
                                 "float8_e4m3fn/kulisch/mac/p1/ge", "float8_e4m3fn/fp32/mac/p1/ge"]
    assert (df.status == "ok").all() and (df.area_ge > 0).all()
    # The paper's ordering, measured by our synthesis: INT8 with Kulisch accumulation is the
    # smallest MAC, and an FP32 accumulator costs more than a Kulisch one for both formats.
    a = df.set_index("point_id")["area_ge"]
    assert a.idxmin() == "int8/kulisch/mac/p1/ge"
    assert a["int8/fp32/mac/p1/ge"] > a["int8/kulisch/mac/p1/ge"]
    assert a["float8_e4m3fn/fp32/mac/p1/ge"] > a["float8_e4m3fn/kulisch/mac/p1/ge"]
    md = (out / "report.md").read_text()
    assert "Quick mode: the benches are not run" in md
    # A second run is served from the cache.
    assert main(["report", "--quick", "--only", "pareto", "--jobs", "1", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert pd.read_parquet(out / "sweep" / "sweep.parquet")["cached"].all()
