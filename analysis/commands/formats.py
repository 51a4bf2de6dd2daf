"""`hwdse formats`: the format catalogue, one format's properties, or every code's exact value."""

from __future__ import annotations

import sys

from hwmodel.errors import UnsupportedConfig

HELP = "list the format catalogue, or print every code of one format with its exact value"
DESCRIPTION = """\
The number formats the tool knows (hwmodel.formats): integers, OCP FP8/FP6/FP4, E8M0, FP16, BF16,
FP32, the FP8-vs-INT8 paper's FP8-E2..E5 family and the OCP MX block formats, each with its source.
NAME may be a catalogue name or alias (e4m3, bf16, paper_e3), intN/uintN, eXmY[fn|fnuz],
fp(e=E,m=M,bias=B,nan=ieee|fn|fnuz|none) or mx(ELEMENT,block=N).

  hwdse formats                          the catalogue as a table
  hwdse formats --csv                    the catalogue as CSV
  hwdse formats e4m3                     one format's properties
  hwdse formats e4m3 --values --csv      code,hex,value for every code (formats of <= 16 bits);
                                         values are exact: Python repr of the float64, nan, inf, -inf
"""

_VALUES_MAX_BITS = 16


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="a format name or spec (omit to list the catalogue)")
    parser.add_argument("--values", action="store_true",
                        help="print every code of NAME with its exact value (<= 16-bit formats)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of an aligned table")


def _value_text(v: float) -> str:
    return repr(float(v))   # shortest string that reads back to the same float64: exact


def run(args) -> int:
    from hwmodel.formats import BlockFormat, parse_format

    out = sys.stdout
    if args.name is None:
        if args.values:
            raise UnsupportedConfig("--values needs a format NAME, e.g. `hwdse formats e4m3 --values --csv`")
        from analysis.sections.formats import catalogue_frame
        df = catalogue_frame()
        if args.csv:
            df.to_csv(out, index=False)
        else:
            cols = ["name", "kind", "bits", "exp_bits", "man_bits", "bias", "max_value", "specials", "aliases"]
            table = df[cols].astype(object).where(df[cols].notna(), "")
            table["max_value"] = [repr(float(v)) for v in df["max_value"]]
            out.write(table.to_string(index=False) + "\n")
        return 0
    fmt = parse_format(args.name)
    if args.values:
        if isinstance(fmt, BlockFormat):
            raise UnsupportedConfig(f"--values needs a scalar format; {fmt.name} is a block format: "
                                    f"list its element {fmt.element.name} or its scale {fmt.scale.name}")
        if fmt.bits > _VALUES_MAX_BITS:
            raise UnsupportedConfig(f"--values lists formats of <= {_VALUES_MAX_BITS} bits, not {fmt.name} "
                                    f"({fmt.bits} bits); use `hwdse quantize` for single values")
        from hwmodel.numerics import all_codes, decode
        codes = all_codes(fmt)
        values = decode(fmt, codes)
        digits = (fmt.bits + 3) // 4
        sep = "," if args.csv else "  "
        out.write(sep.join(["code", "hex", "value"]) + "\n")
        for c, v in zip(codes.tolist(), values.tolist()):
            out.write(f"{c}{sep}0x{c:0{digits}x}{sep}{_value_text(v)}\n")
        return 0
    from analysis.sections.formats import catalogue_frame
    df = catalogue_frame()
    row = df[df["name"] == fmt.name]
    if len(row):
        rec = row.iloc[0].to_dict()
    else:   # a parsed format outside the catalogue
        rec = {"name": fmt.name, "kind": fmt.kind, "bits": fmt.bits}
        for key in ("exp_bits", "man_bits", "bias", "max_normal", "min_normal", "min_subnormal", "spec"):
            if hasattr(fmt, key):
                rec[key] = getattr(fmt, key)
        if hasattr(fmt, "max_value"):
            rec["max_value"] = fmt.max_value
    for k, v in rec.items():
        if v is None or (isinstance(v, float) and v != v) or v == "":
            continue
        out.write(f"{k},{v}\n" if args.csv else f"{k:>17}: {v}\n")
    return 0
