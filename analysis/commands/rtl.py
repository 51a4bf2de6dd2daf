"""`hwdse rtl`: write the Verilog (or RTLIL) of one multiplier, MAC, dot-product unit or MAC array."""

from __future__ import annotations

import re
import sys

from hwmodel.errors import UnsupportedConfig

HELP = "write the Verilog of a multiplier, MAC, dot-product unit or MAC array for a format"
DESCRIPTION = """\
Write synthesisable Verilog (or Yosys RTLIL with --rtlil) for one number format, generated with
Amaranth from the config; the header comment names the config, its latency and the tool versions.

  hwdse rtl e4m3 --acc kulisch               MAC: FP8-E4M3 products into a Kulisch register
  hwdse rtl int8 --acc int32 --pipeline 2    MAC with two product registers
  hwdse rtl bf16 --unit mul -o mul_bf16.v    multiplier only
  hwdse rtl e4m3 --acc fp32 --unit dot --n 8 dot-product unit of 8 products per cycle
  hwdse rtl e4m3 --acc fp32 --array 8x8      8x8 output-stationary MAC array

FORMAT: any format `hwdse formats` lists or the parser accepts (int8, e4m3, fp(e=3,m=2,...));
block (MX) formats: give the element format (the MAC multiplies elements).
ACC: kulisch | kulisch:V (V guard bits, default 12) | intN | intN:sat | fp16 | bf16 | fp32 | any
IEEE-style float spec.
"""


def add_arguments(parser) -> None:
    parser.add_argument("format", metavar="FORMAT", help="input format (e.g. int8, e4m3, bf16)")
    parser.add_argument("--acc", default=None, metavar="ACC",
                        help="accumulator: kulisch[:V], intN[:sat], fp16, bf16, fp32 (needed for "
                             "mac/dot/array)")
    parser.add_argument("--unit", choices=("mul", "mac", "dot"), default="mac",
                        help="what to generate (default mac; --array selects the array)")
    parser.add_argument("--n", type=int, default=None, metavar="N",
                        help="products per cycle of the dot-product unit (--unit dot)")
    parser.add_argument("--array", default=None, metavar="RxC", help="MAC array of R rows x C columns")
    parser.add_argument("--pipeline", type=int, default=1, metavar="P",
                        help="product pipeline registers of a MAC (0..4, default 1)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="write here instead of standard output")
    parser.add_argument("--rtlil", action="store_true", help="write Yosys RTLIL instead of Verilog")


def make_config(args):
    """The rtl config object the arguments describe (raises HwdseError subclasses)."""
    from rtl.config import MacConfig, MulConfig

    if args.array is not None:
        m = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", args.array)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise UnsupportedConfig(f"--array must be RxC with R, C >= 1 (e.g. 8x8), not {args.array!r}")
        if args.acc is None:
            raise UnsupportedConfig("--array needs --acc (e.g. --acc fp32)")
        if args.unit == "mul" or args.n is not None:
            raise UnsupportedConfig("--array builds MAC units: drop --unit mul / --n")
        MacConfig(args.format, args.acc, args.pipeline)   # the same checks as a single MAC
        try:
            from rtl.array import ArrayConfig
        except ImportError:
            raise UnsupportedConfig("MAC arrays need rtl/array.py, which this checkout lacks") from None
        return ArrayConfig(args.format, args.acc, int(m.group(1)), int(m.group(2)), args.pipeline)
    if args.unit == "mul":
        if args.acc is not None:
            raise UnsupportedConfig("--unit mul takes no --acc (a multiplier has no accumulator)")
        return MulConfig(args.format)
    if args.acc is None:
        raise UnsupportedConfig(f"--unit {args.unit} needs --acc (kulisch, int32, fp16, bf16, fp32, ...)")
    if args.unit == "dot":
        if args.n is None or args.n < 1:
            raise UnsupportedConfig(f"--unit dot needs --n N with N >= 1, not {args.n!r}")
        try:
            from rtl.dot import DotConfig
        except ImportError:
            raise UnsupportedConfig("dot-product units need rtl/dot.py, which this checkout lacks") from None
        return DotConfig(args.format, args.acc, args.n, args.pipeline)
    if args.n is not None:
        raise UnsupportedConfig("--n applies only to --unit dot")
    return MacConfig(args.format, args.acc, args.pipeline)


def run(args) -> int:
    from hwmodel.errors import HwdseError
    from rtl.export import rtlil_text, verilog_text

    config = make_config(args)
    try:
        text = rtlil_text(config) if args.rtlil else verilog_text(config)
    except HwdseError:
        raise
    except (TypeError, ValueError) as exc:   # a generator rejecting a config it cannot build
        raise UnsupportedConfig(f"{config.name}: {exc}") from None
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
        print(f"wrote {args.output} ({config.name}, latency {getattr(config, 'latency', 'n/a')})",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
