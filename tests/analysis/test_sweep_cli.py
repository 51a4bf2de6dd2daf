"""`hwdse sweep` bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import pytest

from analysis.cli import main
from analysis.design import acc_spec
from hwmodel.accum import parse_acc


@pytest.mark.parametrize("argv,msg", [
    (["--formats", "int9x"], "unknown format 'int9x'"),
    (["--formats", "int8", "--units", "systolic"], "unit must be mul, mac, dot:N"),
    (["--formats", "int8", "--units", "mul"], "a sweep unit must be mac, dot:N"),
    (["--formats", "int8", "--pipeline", "one"], "--pipeline must be comma-separated integers, not 'one'"),
    (["--formats", "int8", "--pipeline", "-1"], "pipeline_stages must be an integer >= 0, not -1"),
    (["--formats", "int8", "--stages", "quality,magic"], "stages must be among quality, verify, synth, energy, fpga, not 'magic'"),
    (["--formats", "int8", "--jobs", "0"], "--jobs must be a positive integer, not 0"),
    (["--formats", ","], "--formats must list at least one item, not ','"),
    (["--formats", "int8", "--acc", ""], "--acc must list at least one item, not ''"),
    (["--formats", "fp(e=3,m=4,int8"], "unbalanced '('"),
    (["--formats", "int8", "--scheduler", "8786"], "must be an address like tcp://HOST:PORT"),
])
def test_sweep_bad_input(tmp_path, capsys, argv, msg):
    rc = main(["sweep", *argv, "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_sweep_quality_only_writes_table(tmp_path, capsys):
    rc = main(["sweep", "--formats", "int8,e5m2", "--acc", "kulisch", "--stages", "quality", "--quick",
               "--jobs", "1", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    assert rc == 0, capsys.readouterr().err
    import pandas as pd
    df = pd.read_csv(tmp_path / "o" / "sweep.csv")
    kul = acc_spec(parse_acc("kulisch"))
    assert list(df.point_id) == [f"int8/{kul}/mac/p1/ge", f"float8_e5m2/{kul}/mac/p1/ge"]
    assert (df.sqnr_db > 20).all() and (df.dot_rel_err == 0).all()  # Kulisch: exact


def test_sweep_lists_fp_specs_and_one_point_per_design(tmp_path, capsys):
    """fp(...) specs split on top-level commas; fp32 and float32 are one accumulator: 2 points."""
    rc = main(["sweep", "--formats", "fp(e=3,m=4,bias=7),int8", "--acc", "fp32,float32", "--stages", "quality",
               "--quick", "--jobs", "1", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    assert rc == 0, capsys.readouterr().err
    import pandas as pd

    from hwmodel.formats import parse_format
    df = pd.read_csv(tmp_path / "o" / "sweep.csv")
    assert len(df) == 2
    assert [parse_format(s) for s in df.in_fmt_spec] == [parse_format("fp(e=3,m=4,bias=7)"), parse_format("int8")]
    assert df.acc.nunique() == 1 and parse_acc(df.acc[0]) == parse_acc("fp32")


@pytest.mark.synth
def test_sweep_fpga_stage_adds_place_and_route_columns(tmp_path, capsys):
    """The optional fpga stage: an INT8 MAC on ECP5 puts its 8x8 multiplier in one MULT18X18D and
    needs only a few dozen LUTs; an FP8 MAC into FP32 needs many more LUTs (alignment and
    normalisation have no hard block) and clocks slower."""
    rc = main(["sweep", "--formats", "int8,e4m3", "--acc", "kulisch,fp32", "--stages", "fpga", "--jobs", "1",
               "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    assert rc == 0, capsys.readouterr().err
    import pandas as pd
    df = pd.read_csv(tmp_path / "o" / "sweep.csv").set_index("point_id")
    int8 = df[df.index.str.startswith("int8/kulisch")].iloc[0]
    fp8 = df[df.index.str.startswith("float8_e4m3fn/float32")].iloc[0]
    assert int8.fpga_device == "ecp5-25k" and int8.fpga_dsp == 1 and 0 < int8.fpga_lut4 < 200
    assert fp8.fpga_lut4 > 3 * int8.fpga_lut4 and fp8.fpga_fmax_mhz < int8.fpga_fmax_mhz
    assert df.fpga_source.str.contains("nextpnr").all() and df.fpga_netlist_sha256.str.len().eq(64).all()
