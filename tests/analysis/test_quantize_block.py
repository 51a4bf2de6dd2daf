"""`hwdse quantize BLOCKFMT`: one block per line in, scale and element codes out; expected codes
derived by hand from the scale rules and checked with struct / ml_dtypes."""

import io
import struct

import ml_dtypes
import numpy as np
import pytest

from analysis.cli import main


def run_cli(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def parse_block_line(line):
    """'block N: scale 0xSS = V | codes ... | values ...' -> (N, scale code, scale value, codes, values)"""
    head, codes, values = [p.strip() for p in line.split("|")]
    n = int(head.split(":")[0].split()[1])
    _, scode, _, sval = head.split(":")[1].split()
    return (n, int(scode, 16), float(sval), [int(c, 16) for c in codes.split()[1:]],
            [float(v) for v in values.split()[1:]])


def test_mxfp4_block_by_hand(capsys, monkeypatch):
    """amax 6 -> OCP scale 2^(floor(log2 6) - emax(E2M1) = 2) = 2^0: E8M0 code 127. E2M1 codes
    (0, 0.5, 1, 1.5, 2, 3, 4, 6) = 0..7, sign bit 8; 0.75 ties to even (1.0, code 2)."""
    vals = [6, 3, 1.5, 0.75, -3, 0.25] + [0] * 26
    rc, out, err = run_cli(["quantize", "mxfp4"], capsys, monkeypatch, stdin=" ".join(map(str, vals)) + "\n")
    assert rc == 0 and err == ""
    n, scode, sval, codes, values = parse_block_line(out.strip())
    assert (n, scode, sval) == (1, 0x7F, 1.0)
    assert codes[:6] == [7, 5, 3, 2, 0xD, 0] and codes[6:] == [0] * 26
    assert values[:6] == [6.0, 3.0, 1.5, 1.0, -3.0, 0.0]


def test_commas_and_whitespace_read_the_same_and_blocks_are_numbered(capsys, monkeypatch):
    rng = np.random.default_rng(0)
    blocks = rng.standard_normal((3, 32)) * [[1], [1e3], [1e-3]]
    spaced = "\n".join(" ".join(repr(float(v)) for v in b) for b in blocks) + "\n\n"
    commas = "\n".join(",".join(repr(float(v)) for v in b) for b in blocks) + "\n"
    rc1, out1, _ = run_cli(["quantize", "mxfp8_e4m3"], capsys, monkeypatch, stdin=spaced)
    rc2, out2, _ = run_cli(["quantize", "mxfp8_e4m3"], capsys, monkeypatch, stdin=commas)
    assert rc1 == rc2 == 0 and out1 == out2
    lines = out1.strip().splitlines()
    assert [parse_block_line(ln)[0] for ln in lines] == [1, 2, 3]
    for b, ln in zip(blocks, lines):
        _, scode, sval, codes, values = parse_block_line(ln)
        # OCP: scale 2^(floor(log2 amax) - 8); E8M0 code = exponent + 127
        k = int(np.floor(np.log2(np.abs(b).max()))) - 8
        assert scode == k + 127 and sval == 2.0 ** k
        # elements: E4M3FN codes of b / 2^k, saturating (ml_dtypes rounds RNE)
        ref = np.clip(b / sval, -448, 448).astype(ml_dtypes.float8_e4m3fn)
        assert codes == ref.view(np.uint8).tolist()
        assert values == ref.astype(np.float64).tolist()


def test_nvfp4_prints_the_fp32_tensor_scale_first(capsys, monkeypatch):
    """Tensor scale t = fl32(amax / (6 * 448)); the block's UE4M3 scale fl32(fl32(amax / 6) / t)
    rounds to 448 (code 0x7E); 16 / (448 t) = 6 -> E2M1 code 7."""
    vals = list(range(1, 17))
    rc, out, err = run_cli(["quantize", "nvfp4"], capsys, monkeypatch, stdin=" ".join(map(str, vals)) + "\n")
    assert rc == 0 and err == ""
    first, block = out.strip().splitlines()
    t = np.float32(16.0) / np.float32(6 * 448)
    code = struct.unpack(">I", struct.pack(">f", t))[0]
    assert first == f"tensor_scale float32 0x{code:08X} = {float(t)!r}"
    n, scode, sval, codes, values = parse_block_line(block)
    assert (scode, sval) == (0x7E, 448.0)
    assert codes[-1] == 7 and values[-1] == 6.0


def test_two_d_tiles_take_rows_times_block_values_per_line(capsys, monkeypatch):
    tile = np.arange(1024, dtype=float)
    rc, out, _ = run_cli(["quantize", "jetfire_int8"], capsys, monkeypatch,
                         stdin=" ".join(repr(float(v)) for v in tile) + "\n")
    assert rc == 0
    _, scode, sval, codes, values = parse_block_line(out.strip())
    assert sval == float(np.float32(1023.0) / np.float32(127.0))   # amax / 127 in binary32
    assert codes[-1] == 127 and len(codes) == 1024
    rc, out, err = run_cli(["quantize", "jetfire_int8"], capsys, monkeypatch, stdin="1 " * 32 + "\n")
    assert rc == 2 and "1024" in err and "32 rows x 32" in err and out == ""


def test_e8m0_nan_code_for_a_block_with_nan(capsys, monkeypatch):
    rc, out, _ = run_cli(["quantize", "mxfp8_e4m3"], capsys, monkeypatch, stdin="nan" + " 1" * 31 + "\n")
    assert rc == 0
    _, scode, sval, codes, _ = parse_block_line(out.strip())
    assert scode == 0xFF and np.isnan(sval) and codes == [0] * 32


def test_scalar_formats_unchanged(capsys, monkeypatch):
    rc, out, _ = run_cli(["quantize", "e4m3"], capsys, monkeypatch, stdin="1.5\n")
    code = int(np.array([1.5]).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)[0])
    assert rc == 0 and out == f"input,code,value\n1.5,{code},1.5\n"


@pytest.mark.parametrize("fmt,stdin,msg", [
    ("mxfp4", "1 2 3\n", "line 1"),
    ("mxfp4", "0 " * 32 + "\n" + "1 2\n", "line 2"),
    ("mxfp4", "0 " * 31 + "abc\n", "line 1: a value must be"),
    ("nvfp4", "1 " * 15 + "\n", "must hold 16 values, not 15"),
    ("shiftquant_int4", "nan" + " 1" * 31 + "\n", "no NaN code"),
    ("shiftquant_int4", "inf" + " 1" * 31 + "\n", "no NaN code"),
    ("nvfp4", "1 " * 16 + "\n" + "inf" + " 1" * 15 + "\n", "line 2: nvfp4's per-tensor"),
    ("nvfp4", "1e300" + " 1" * 15 + "\n", "binary32"),
    ("mxfp4", "\n\n", "no blocks"),
])
def test_bad_block_input_is_one_line_exit_2(fmt, stdin, msg, capsys, monkeypatch):
    rc, out, err = run_cli(["quantize", fmt], capsys, monkeypatch, stdin=stdin)
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert rc == 2 and msg in err and len(lines) == 1 and "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("extra", [["--rounding", "rtz"], ["--saturate"], ["--seed", "3"]])
def test_scalar_rounding_options_are_refused_for_block_formats(extra, capsys, monkeypatch):
    rc, out, err = run_cli(["quantize", "mxfp4", *extra], capsys, monkeypatch, stdin="0 " * 32 + "\n")
    assert rc == 2 and "do not apply" in err and len(err.strip().splitlines()) == 1 and out == ""
