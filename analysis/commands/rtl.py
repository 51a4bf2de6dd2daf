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
  hwdse rtl e4m3 --acc fp32 --unit dot:8     the same
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
    parser.add_argument("--unit", default="mac", metavar="UNIT",
                        help="what to generate: mac (default), mul, dot (with --n), dot:N, array:RxC")
    parser.add_argument("--n", type=int, default=None, metavar="N",
                        help="products per cycle of the dot-product unit (--unit dot)")
    parser.add_argument("--array", default=None, metavar="RxC", help="MAC array of R rows x C columns")
    parser.add_argument("--pipeline", type=int, default=1, metavar="P",
                        help="product pipeline registers of a MAC (0..4, default 1; dot: 0 or 1)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="write here instead of standard output")
    parser.add_argument("--rtlil", action="store_true", help="write Yosys RTLIL instead of Verilog")


def check_output_file(path: str, option: str) -> None:
    """Raise UnsupportedConfig (one line) unless a file can be written at `path`: not a folder,
    inside an existing folder, and writable there (probed by opening it, so /proc and read-only
    mounts are caught too). Run before any work."""
    import os
    p = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(p):
        raise UnsupportedConfig(f"{option} {path}: is a folder; give a file name")
    parent = os.path.dirname(p)
    if not os.path.isdir(parent):
        what = "is a file, not a folder" if os.path.exists(parent) else "does not exist"
        raise UnsupportedConfig(f"{option} {path}: cannot write there ({parent} {what})")
    existed = os.path.exists(p)
    try:
        with open(p, "a"):
            pass
    except OSError as exc:
        raise UnsupportedConfig(f"{option} {path}: cannot write there ({exc.strerror})") from None
    if not existed:
        os.unlink(p)


def unit_of(unit: str, n: int | None = None, array: str | None = None):
    """The rtl.unit.UnitSpec that the --unit, --n and --array options describe."""
    from rtl.unit import parse_unit

    unit = str(unit).strip().lower()
    if array is not None:
        m = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", array)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise UnsupportedConfig(f"--array must be RxC with R, C >= 1 (e.g. 8x8), not {array!r}")
        if unit != "mac" or n is not None:
            raise UnsupportedConfig("--array builds MAC units: drop --unit / --n")
        return parse_unit(f"array:{m.group(1)}x{m.group(2)}")
    if unit == "dot":
        if n is None or n < 1:
            raise UnsupportedConfig(f"--unit dot needs --n N with N >= 1, not {n!r}")
        return parse_unit(f"dot:{n}")
    if n is not None:
        raise UnsupportedConfig("--n applies only to --unit dot")
    return parse_unit(unit)


def check_unit_options(u, acc, pipeline: int) -> None:
    """The --acc / --pipeline checks `rtl` and `synth` share, for the UnitSpec `u`."""
    if u.kind == "mul" and acc is not None:
        raise UnsupportedConfig("--unit mul takes no --acc (a multiplier has no accumulator)")
    if u.has_accumulator and acc is None:
        raise UnsupportedConfig(f"--unit {u.spec} needs --acc (kulisch, int32, fp16, bf16, fp32, ...)")
    if u.kind == "dot" and pipeline not in (0, 1):
        raise UnsupportedConfig(f"a dot-product unit takes --pipeline 0 or 1, not {pipeline!r}")


def make_config(args):
    """The rtl config object the arguments describe (raises HwdseError subclasses)."""
    from rtl.unit import unit_config

    u = unit_of(args.unit, args.n, args.array)
    check_unit_options(u, args.acc, args.pipeline)
    return unit_config(args.format, args.acc, u, args.pipeline)


def run(args) -> int:
    from hwmodel.errors import HwdseError
    from rtl.export import rtlil_text, verilog_text

    config = make_config(args)
    if args.output:
        check_output_file(args.output, "-o")
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
