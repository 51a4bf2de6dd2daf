"""`hwdse export`: per-format MAC / array-PE costs for hwcomponents, Accelergy and ZigZag."""

from __future__ import annotations

HELP = "write per-format MAC and array-PE costs for hwcomponents/AccelForge, Accelergy or ZigZag"
DESCRIPTION = """\
Synthesise each design's MAC with Yosys (area), simulate its gate-level netlist under Gaussian
operands (energy per MAC), sum the cell leakage of the netlist mapped onto a Liberty with leakage
(the Debian OSU 0.18 um library when installed), and write them for another tool, every number
tagged with the tool versions, cell library and netlist hash behind it. Results come from the
same caches as `hwdse synth` and `hwdse energy`.

  hwdse export --to hwcomponents --out build/hwc_pkg   an installable hwcomponents plug-in
  hwdse export --to accelergy --out build/accelergy    ERT.yaml + ART.yaml
  hwdse export --to zigzag --out build/zigzag          operational_array YAML per design
  hwdse export --to hwcomponents --designs int8:kulisch,float8_e4m3fn:fp32 --arrays 4x4

hwcomponents needs Python >= 3.12; hwdse runs on 3.11 too, so the package is installed into a
3.12 environment beside hwdse's:
  python3.12 -m venv ~/hwc && ~/hwc/bin/pip install hwcomponents ./build/hwc_pkg && ~/hwc/bin/hwc --list
"""


def add_arguments(parser) -> None:
    from analysis.export import DEFAULT_DESIGNS, TARGETS
    parser.add_argument("--to", required=True, metavar="|".join(TARGETS), dest="target",
                        help="what to write")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (default build/export/<target>)")
    parser.add_argument("--designs", default=",".join(f"{f}:{a}" for f, a in DEFAULT_DESIGNS),
                        metavar="FMT:ACC,...", help="designs to export (default: %(default)s)")
    parser.add_argument("--arrays", default="", metavar="RxC,...",
                        help="also export array PEs of these sizes for every design (e.g. 4x4,8x8)")
    parser.add_argument("--array-energy", action="store_true",
                        help="measure array PEs' energy by gate-level simulation of the array on GEMM "
                             "tiles (slow: a Verilator build per array) instead of the single MAC's")
    parser.add_argument("--n", type=int, default=4096, metavar="N",
                        help="MACs simulated per design for the energy (default 4096)")
    parser.add_argument("--leakage-library", default=None, metavar="LIBERTY",
                        help="Liberty with cell_leakage_power for leakage (default: Debian's OSU "
                             "0.18 um when installed, else leakage 0 with the reason recorded)")


def _arrays(spec: str) -> list[tuple[int, int]]:
    import re

    from analysis.arrays import MAX_SYNTH_DIM as MAX_DIM   # what synthesises here in minutes
    from hwmodel.errors import UnsupportedConfig
    out = []
    for s in [x.strip().lower() for x in spec.split(",") if x.strip()]:
        m = re.fullmatch(r"(\d+)x(\d+)", s)
        if not m or not (1 <= int(m.group(1)) <= MAX_DIM and 1 <= int(m.group(2)) <= MAX_DIM):
            raise UnsupportedConfig(f"--arrays sizes must be RxC with R, C in 1..{MAX_DIM} (larger arrays "
                                    f"take too long to synthesise here), not {s!r}")
        out.append((int(m.group(1)), int(m.group(2))))
    return out


def run(args) -> int:
    from pathlib import Path

    from analysis import export as ex
    from hwmodel.errors import UnsupportedConfig

    target = ex.check_target(args.target)
    designs = ex.parse_designs(args.designs)
    sizes = _arrays(args.arrays)
    if not isinstance(args.n, int) or args.n < 16:
        raise UnsupportedConfig(f"--n must be an int >= 16, not {args.n!r}")
    out = ex._check_out_dir(args.out or Path("build") / "export" / target)   # before any work
    leak = ex.OSU018_LIBERTY if args.leakage_library is None else Path(args.leakage_library)
    if args.leakage_library is not None and not leak.is_file():
        raise UnsupportedConfig(f"--leakage-library must be an existing Liberty file, not {str(leak)!r}")
    arrays = [(f, a, r, c) for f, a in designs for r, c in sizes]
    records = ex.collect(designs, arrays=arrays, n=args.n, leakage_library=leak,
                         array_energy=args.array_energy)
    paths = ex.WRITERS[target](records, out)
    for r in records:
        tag = r["unit"]
        print(f"{tag}: {r['area_um2']:.1f} um^2/PE ({r['area_ge']:.0f} GE), {r['energy_pj_per_mac']:.4f} pJ/MAC, "
              f"leakage {r['leak_power_w'] * 1e6:.3f} uW; netlist {r['provenance']['netlist_sha256'][:12]}")
    print(f"wrote {len(paths)} files under {out}")
    if target == "hwcomponents":
        print(f"install into a Python >= 3.12 environment: pip install hwcomponents {out}; then `hwc --list`")
    return 0
