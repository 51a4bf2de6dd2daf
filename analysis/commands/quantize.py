"""`hwdse quantize`: round values read from stdin into a format with the golden numerics."""

from __future__ import annotations

import sys

from hwmodel.errors import DataError, UnsupportedConfig

HELP = "round values (one per line on stdin) into a format: prints input,code,value"
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
"""


def add_arguments(parser) -> None:
    parser.add_argument("name", help="a scalar format name or spec (e4m3, int8, bf16, fp(e=3,m=2,...))")
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
        raise UnsupportedConfig(f"quantize takes a scalar format; {fmt.name} is a block format "
                                f"(quantise its element {fmt.element.name}, or use "
                                "hwmodel.numerics.quantize_block)")
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
