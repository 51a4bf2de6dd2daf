"""`hwdse formats` and `hwdse quantize` through analysis.cli.main, and the two report sections."""

import io
import math

import ml_dtypes
import numpy as np
import pytest

from analysis.cli import main
from hwmodel.formats import catalogue_formats


def run_cli(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(err):
    lines = [ln for ln in err.strip().splitlines() if ln]
    return len(lines) == 1 and "Traceback" not in err


def test_formats_lists_the_catalogue(capsys, monkeypatch):
    rc, out, _ = run_cli(["formats"], capsys, monkeypatch)
    assert rc == 0
    for f in catalogue_formats():
        assert f.name in out
    rc, out, _ = run_cli(["formats", "--csv"], capsys, monkeypatch)
    assert rc == 0 and out.splitlines()[0].startswith("name,")
    assert len(out.strip().splitlines()) == len(catalogue_formats()) + 1


@pytest.mark.parametrize("name,ml_name", [("float8_e4m3fn", "float8_e4m3fn"), ("e5m2", "float8_e5m2"),
                                          ("fp4", "float4_e2m1fn"), ("bf16", "bfloat16")])
def test_formats_values_csv_is_exact_and_matches_ml_dtypes(name, ml_name, capsys, monkeypatch):
    rc, out, _ = run_cli(["formats", name, "--values", "--csv"], capsys, monkeypatch)
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0] == "code,hex,value"
    dt = np.dtype(getattr(ml_dtypes, ml_name))
    n = 1 << {1: 8, 2: 16}[dt.itemsize] if ml_name != "float4_e2m1fn" else 16
    assert len(lines) == n + 1
    codes = np.array([int(ln.split(",")[0]) for ln in lines[1:]], dtype=np.uint64)
    assert all(int(ln.split(",")[1], 16) == int(ln.split(",")[0]) for ln in lines[1:])
    vals = np.array([float(ln.split(",")[2]) for ln in lines[1:]])   # 'nan', 'inf' parse too
    with np.errstate(invalid="ignore"):
        ref = codes.astype(np.uint8 if dt.itemsize == 1 else np.uint16).view(dt).astype(np.float64)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(vals), nan)
    assert np.array_equal(vals[~nan], ref[~nan])
    assert np.array_equal(np.signbit(vals[~nan]), np.signbit(ref[~nan]))


def test_formats_values_spot_rows(capsys, monkeypatch):
    _, out, _ = run_cli(["formats", "e4m3", "--values", "--csv"], capsys, monkeypatch)
    rows = out.splitlines()
    assert "126,0x7e,448.0" in rows and "127,0x7f,nan" in rows and "128,0x80,-0.0" in rows
    assert "1,0x01,0.001953125" in rows                       # 2^-9, the smallest subnormal
    _, out, _ = run_cli(["formats", "e5m2", "--values", "--csv"], capsys, monkeypatch)
    assert "124,0x7c,inf" in out.splitlines() and "252,0xfc,-inf" in out.splitlines()


@pytest.mark.parametrize("argv,msg", [
    (["formats", "float32", "--values"], "<= 16 bits"),
    (["formats", "mxfp4", "--values"], "block format"),
    (["formats", "nope"], "unknown format"),
    (["formats", "fp(e=0,m=3)"], "exponent width"),
    (["formats", "--values"], "needs a format NAME"),
])
def test_formats_bad_input(argv, msg, capsys, monkeypatch):
    rc, _, err = run_cli(argv, capsys, monkeypatch)
    assert rc == 2 and msg in err and one_line_error(err)


def test_quantize_rne_default(capsys, monkeypatch):
    rc, out, _ = run_cli(["quantize", "e4m3"], capsys, monkeypatch,
                         stdin="1.0\n0x1.8p1\n1e6\n-0.0\n\n464\n0.0009765625\n")
    assert rc == 0
    rows = out.strip().splitlines()
    assert rows[0] == "input,code,value"
    # expected codes from ml_dtypes' float32 conversion (independent implementation)
    xs = np.array([1.0, 3.0, 1e6, -0.0, 464.0, 0.0009765625], np.float32)
    want = xs.astype(ml_dtypes.float8_e4m3fn).view(np.uint8).tolist()
    assert [int(r.split(",")[1]) for r in rows[1:]] == want
    assert rows[2] == "0x1.8p1,68,3.0" and rows[3] == "1e6,127,nan" and rows[4] == "-0.0,128,-0.0"
    assert rows[5] == "464,126,448.0"            # tie: 448 (even mantissa) beats 480


def test_quantize_modes_and_saturate(capsys, monkeypatch):
    def codes(argv, stdin):
        rc, out, _ = run_cli(["quantize", *argv], capsys, monkeypatch, stdin=stdin)
        assert rc == 0
        return [ln.split(",")[2] for ln in out.strip().splitlines()[1:]]
    assert codes(["int8", "--rounding", "rna"], "2.5\n-2.5\n") == ["3.0", "-3.0"]
    assert codes(["int8"], "2.5\n3.5\n") == ["2.0", "4.0"]
    assert codes(["int8", "--rounding", "rtz"], "2.9\n-2.9\n") == ["2.0", "-2.0"]
    assert codes(["int8", "--rounding", "away"], "2.1\n-2.1\n") == ["3.0", "-3.0"]
    assert codes(["e5m2", "--saturate"], "1e9\n") == ["57344.0"]
    assert codes(["e5m2"], "1e9\n") == ["inf"]
    s1 = codes(["fp4", "--rounding", "stochastic", "--seed", "3"], "0.25\n" * 200)
    assert s1 == codes(["fp4", "--rounding", "stochastic", "--seed", "3"], "0.25\n" * 200)
    assert set(s1) == {"0.0", "0.5"}


@pytest.mark.parametrize("argv,stdin,msg", [
    (["quantize", "e4m3"], "1.0\nabc\n", "line 2"),
    (["quantize", "e4m3"], "0x1.zp3\n", "hex-float"),
    (["quantize", "fp4"], "nan\n", "no NaN"),
    (["quantize", "nope"], "1\n", "unknown format"),
    (["quantize", "mxfp4"], "1\n", "block format"),
])
def test_quantize_bad_input(argv, stdin, msg, capsys, monkeypatch):
    rc, out, err = run_cli(argv, capsys, monkeypatch, stdin=stdin)
    assert rc == 2 and msg in err and one_line_error(err)
    assert out == ""


def test_quantize_bad_rounding_is_argparse_exit_2(capsys, monkeypatch):
    with pytest.raises(SystemExit) as info:
        run_cli(["quantize", "e4m3", "--rounding", "banker"], capsys, monkeypatch, stdin="1\n")
    assert info.value.code == 2


def test_report_sections_build_quick(tmp_path):
    from analysis.section import ReportContext
    from analysis.sections import formats, numerics
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "cache", quick=True)
    sec = numerics.build(ctx)
    assert sec.failed is None and len(sec.tables) == 4 and len(sec.figures) == 2
    assert all(f.path.exists() and f.path.stat().st_size > 1000 for f in sec.figures)
    finding = sec.tables[0].frame
    holds = (finding["observed"] == finding["paper_expects"]).all()
    assert ("finding holds" in sec.notes) == bool(holds)
    assert any(c.endswith("_sqnr_db") for c in sec.tables[1].frame.columns)
    cat = formats.build(ctx).tables[0].frame
    assert len(cat) == len(catalogue_formats()) and cat["source"].str.len().gt(0).all()
    assert math.isclose(cat.set_index("name").loc["float8_e4m3fn", "max_value"], 448.0)
