"""Synthesis cost per element product of block-scaled dot units, split into their parts.

    python scripts/blockdot_cost.py [--lanes 8] [--library paper] [--only NAME ...]

Each unit (rtl.blockdot.BlockDotConfig.of a catalogue block format, block 32 except NVFP4's 16) is synthesised with
rtl.synth.synthesize (Yosys, the project's flow and library); its area is split by submodule:
multipliers (mul0..), adder tree (`tree`: alignment, tree, block-sum register), scale path
(`scale`), accumulator (`acc`) and control (the top's own cells: beat counter, valid register),
and divided by the lanes (element products per cycle). The scalar INT8 and FP8 MACs (rtl.unit)
are printed beside them, per product. Areas are in the library's unit; results are cached by
content hash (HWDSE_CACHE_DIR).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from rtl.blockdot import PARTS, split_area as split  # noqa: E402


def block_units(lanes: int):
    """(label, BlockDotConfig) of the catalogue's block formats (block 32; NVFP4 16)."""
    from hwmodel.formats import Pow2Scale
    from rtl.blockdot import BlockDotConfig
    of = BlockDotConfig.of
    return [
        ("MXFP8 e4m3", of("mxfp8_e4m3", acc="fp32", lanes=lanes)),
        ("MXFP8 e5m2", of("mxfp8_e5m2", acc="fp32", lanes=lanes)),
        ("MXFP6 e2m3", of("mxfp6_e2m3", acc="fp32", lanes=lanes)),
        ("MXFP4 e2m1", of("mxfp4", acc="fp32", lanes=lanes)),
        ("NVFP4", of("nvfp4", acc="fp32", lanes=lanes)),
        ("MXINT8", of("mxint8", acc="fp32", lanes=lanes)),
        ("Jetfire int8/fp32", of("jetfire_int8", acc="fp32", lanes=lanes)),
        ("ShiftQuant int4 fp32", of("shiftquant_int4", acc="fp32", lanes=lanes)),
        ("ShiftQuant int4 Kulisch", of("shiftquant_int4", acc="kulisch", lanes=lanes)),
        ("int4 shift5 Kulisch", BlockDotConfig("int4", Pow2Scale(5), 32, lanes, "kulisch")),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--library", default="paper")
    ap.add_argument("--only", nargs="*", default=None, help="labels to run (substring match)")
    ap.add_argument("--block-sizes", nargs="*", type=int, default=None,
                    help="synthesise every unit at these block sizes (default: its own)")
    args = ap.parse_args(argv)
    from rtl.synth import synthesize
    from rtl.unit import unit_config
    rows = []
    units = block_units(args.lanes)
    if args.block_sizes:
        import dataclasses
        units = [(f"{label} k{bs}", dataclasses.replace(cfg, block_size=bs))
                 for label, cfg in units for bs in args.block_sizes]
    scalars = [("INT8 MAC int32", unit_config("int8", "int32", "mac")),
               ("INT4 MAC int32", unit_config("int4", "int32", "mac")),
               ("FP8 e4m3 MAC fp32", unit_config("e4m3", "fp32", "mac"))]
    for label, cfg in units + scalars:
        if args.only and not any(o.lower() in label.lower() for o in args.only):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = synthesize(cfg.create(), args.library)
        lanes = getattr(cfg, "lanes", 1)
        parts = split(res.area_by_part) if hasattr(cfg, "lanes") else {}
        rows.append((label, cfg.name, res, lanes, parts))
        print(f"# {label}: {cfg.name} {res.area:.0f} {res.area_unit} in {res.time_s:.0f} s "
              f"({'cached' if res.from_cache else res.source})", file=sys.stderr, flush=True)
    unit = rows[0][2].area_unit if rows else ""
    print(f"{'unit':<24}{'lanes':>6}{'area/elem':>11}{'mul':>8}{'tree':>8}{'scale':>8}{'acc':>8}"
          f"{'ctrl':>7}{'scale %':>9}{'depth':>7}   ({unit} per element product)")
    for label, name, res, lanes, parts in rows:
        per = res.area / lanes
        if parts:
            hier = sum(parts.values()) or 1.0
            cols = "".join(f"{parts[p] / lanes:>8.1f}" for p in PARTS[:4]) + \
                f"{parts['control'] / lanes:>7.1f}{100 * parts['scale_path'] / hier:>8.1f}%"
        else:
            cols = f"{'-':>8}" * 4 + f"{'-':>7}{'-':>9}"
        print(f"{label:<24}{lanes:>6}{per:>11.1f}{cols}{res.logic_depth:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
