"""`hwdse quantize`: round values read from stdin into a format with the golden numerics."""

from __future__ import annotations

import sys

from hwmodel.errors import DataError, UnsupportedConfig

HELP = ("round values (one per line on stdin) into a format: prints input,code,value; block formats "
        "read one block per line and print its scale and element codes")
DESCRIPTION = """\
Reads one number per line on stdin: a decimal ("0.1", "-3e-5", "inf", "nan") or a hex float as
Python's float.fromhex reads it ("0x1.8p+1"). Blank lines are skipped. Each value is rounded into
NAME bit-exactly by hwmodel.numerics.encode and printed as CSV: the input as typed, the code (the
unsigned bit pattern, decimal) and its exact value (Python repr of the float64, nan, inf, -inf).

Overflow without --saturate: +-inf where the format has inf, else its NaN (OCP E4M3), else +-max
(FP6/FP4). Rounding toward zero never overflows to inf. Integers always saturate.

  printf '1.0\\n0x1.8p1\\n1000\\n' | hwdse quantize e4m3
  printf '2.5\\n' | hwdse quantize int8 --rounding rna
  seq 0 0.1 1 | hwdse quantize fp4 --rounding stochastic --seed 7

Block formats (mxfp8_e4m3, nvfp4, shiftquant_int4, "block(int8,block=16,scale=fp32,rule=amax)"):
each non-blank line holds one block, its values separated by whitespace or commas; a line must hold
exactly block_size values (block_rows x block_size for 2-D tiles such as jetfire_int8, row-major).
All lines together are one tensor, quantised by hwmodel.blockscaled.quantize_blocks with the
format's scale rule (--rounding, --seed and --saturate are refused: the rule fixes them). Output,
one line per block:
  block N: scale 0xSS = VALUE | codes 0xE 0xE ... | values V V ...
(the elements' own values; times the scale, and the tensor scale, they give the block's values).
For a format with a per-tensor scale (nvfp4) a first line gives it:
  tensor_scale float32 0xHHHHHHHH = VALUE
A NaN or inf in a block whose scale format has no NaN code (shiftN scales) is refused.

  printf '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n' | hwdse quantize nvfp4
"""


def add_arguments(parser) -> None:
    parser.add_argument("name", help="a format name or spec (e4m3, int8, bf16, fp(e=3,m=2,...), mxfp4, "
                                     "nvfp4, block(...))")
    parser.add_argument("--rounding", default="rne", choices=["rne", "rtz", "away", "rna", "stochastic"],
                        help="rne: nearest-even (default); rtz: toward zero; away: away from zero; "
                             "rna: nearest, ties away; stochastic: seeded, unbiased")
    parser.add_argument("--seed", type=int, default=None, help="seed of stochastic rounding")
    parser.add_argument("--saturate", action="store_true", help="clamp overflow to +-max")


def parse_value(text: str, line_no: int) -> float:
    """A decimal or hex-float string -> float; DataError naming the line otherwise."""
    s = text.strip()
    try:
        if "0x" in s.lower():
            return float.fromhex(s)
        return float(s)
    except ValueError:
        raise DataError(f"line {line_no}: a value must be a decimal or hex-float number "
                        f"(e.g. 0.5, -3e-2, 0x1.8p1, inf, nan), not {s[:40]!r}") from None


def run(args) -> int:
    import numpy as np
    from hwmodel.formats import BlockFormat, parse_format
    from hwmodel.numerics import decode, encode

    fmt = parse_format(args.name)
    if isinstance(fmt, BlockFormat):
        if args.rounding != "rne" or args.saturate or args.seed is not None:
            raise UnsupportedConfig(f"--rounding, --seed and --saturate do not apply to the block format "
                                    f"{fmt.name}: its scale rule ({fmt.rule.value}) fixes rounding "
                                    "(RNE) and saturation; drop them")
        return run_block(fmt, sys.stdin, sys.stdout)
    inputs, values = [], []
    for line_no, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        values.append(parse_value(line, line_no))
        inputs.append(line.strip())
    codes = encode(fmt, np.array(values, dtype=np.float64), args.rounding, args.saturate, args.seed)
    out_vals = decode(fmt, codes)
    out = sys.stdout
    out.write("input,code,value\n")
    for text, c, v in zip(inputs, codes.tolist(), out_vals.tolist()):
        out.write(f"{text},{c},{float(v)!r}\n")
    return 0


def _hex(code: int, bits: int) -> str:
    return f"0x{int(code):0{max(1, -(-bits // 4))}X}"


_F32_MAX = 3.4028234663852886e38   # largest binary32 value


def read_blocks(fmt, lines) -> list[list[float]]:
    """Blocks of a block format, one per non-blank line (values split on whitespace or commas).
    DataError naming the line: a value that is not a number, a line of the wrong length, or a NaN /
    inf where the scale format has no NaN code."""
    per = fmt.block_size * fmt.block_rows
    shape = f"{per}" if fmt.block_rows == 1 else f"{per} ({fmt.block_rows} rows x {fmt.block_size}, row-major)"
    scale_nan = bool(getattr(fmt.scale, "has_nan", False))
    blocks = []
    for line_no, line in enumerate(lines, start=1):
        tokens = [t for t in line.replace(",", " ").split()]
        if not tokens:
            continue
        vals = [parse_value(t, line_no) for t in tokens]
        if len(vals) != per:
            raise DataError(f"line {line_no}: a block of {fmt.name} (block format, block size "
                            f"{fmt.block_size}) must hold {shape} values, not {len(vals)}")
        if not scale_nan and any(v != v or v in (float("inf"), float("-inf")) for v in vals):
            raise DataError(f"line {line_no}: {fmt.name}'s scale {fmt.scale.name} has no NaN code, so a "
                            "block must not hold NaN or inf")
        if fmt.tensor_scale is not None and not all(abs(v) <= _F32_MAX for v in vals):
            raise DataError(f"line {line_no}: {fmt.name}'s per-tensor {fmt.tensor_scale.name} scale comes "
                            f"from the amax of all values, so every value must be finite and within "
                            f"+-{_F32_MAX:.7g} (binary32)")
        blocks.append(vals)
    if not blocks:
        raise DataError(f"no blocks on stdin: give one block of {shape} values per line")
    return blocks


def run_block(fmt, lines, out) -> int:
    """Quantise the blocks on `lines` into block format `fmt` and print scale and element codes."""
    import numpy as np
    from hwmodel import blockscaled as B
    from hwmodel.formats import FLOAT32
    from hwmodel.numerics import decode, encode

    import warnings
    blocks = read_blocks(fmt, lines)
    if fmt.block_rows == 1:
        x = np.array(blocks, np.float64)                       # (blocks, block_size)
    else:   # each line a row-major tile; tiles stacked along the rows axis
        x = np.array(blocks, np.float64).reshape(len(blocks) * fmt.block_rows, fmt.block_size)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")     # float32 overflow of huge inputs is part of the rule
        codes = B.quantize_blocks(fmt, x)
    scales = np.asarray(codes.scales).reshape(-1)
    svals = B.decode_scale(fmt.scale, scales)
    elems = np.asarray(codes.elements).reshape(len(blocks), -1)
    evals = decode(fmt.element, elems)
    if codes.tensor_scale is not None:
        tcode = int(encode(FLOAT32, np.float64(codes.tensor_scale)))
        out.write(f"tensor_scale float32 {_hex(tcode, 32)} = {codes.tensor_scale!r}\n")
    for j in range(len(blocks)):
        ec = " ".join(_hex(c, fmt.element.bits) for c in elems[j].tolist())
        ev = " ".join(repr(float(v)) for v in evals[j].tolist())
        out.write(f"block {j + 1}: scale {_hex(scales[j], fmt.scale.bits)} = {float(svals[j])!r} | "
                  f"codes {ec} | values {ev}\n")
    return 0
