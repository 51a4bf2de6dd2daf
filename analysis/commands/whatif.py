"""`hwdse whatif`: the whole chain for a new number format, on one page."""

from __future__ import annotations

HELP = "what if: run the whole chain for a new format and compare it with INT8 and FP8-E4M3"
DESCRIPTION = """\
Run the whole chain for a format the catalogue may lack, and write a one-page report:
numerics quality (golden model), RTL generated and verified by its cocotb bench, area and
energy synthesised, iso-area throughput and transformer workload speedup, beside INT8 and
FP8-E4M3. The designs are compared at one clock: the fastest clock INT8 into Kulisch meets
(each design gets the product registers it needs; one that cannot meet it runs at the clock it
reaches), unless --clock-fo4 / --clock-ns set it; --unpipelined compares each design at its own
single-stage critical path. The page opens with computed findings and ends with a verdict.

  hwdse whatif "fp(e=3,m=4,bias=7)" --acc fp32
  hwdse whatif --config examples/whatif_e3m4.toml

SPEC: any format string (`hwdse formats` lists the catalogue; fp(e=..,m=..,bias=..,nan=..)
describes a new one). --acc: kulisch, kulisch:V, int32, int32:sat, fp16, bf16, fp32 or a float
format. A TOML config ([whatif], [isoarea], seed; see examples/) sets the comparison formats,
budget and bandwidth; command-line options override it.

Writes DIR/whatif.md, DIR/whatif.html, DIR/whatif.metadata.json and DIR/sweep.{parquet,csv}
(default DIR: reports/whatif/<format name>). Results are cached by content hash.
Exit code: 0 when the new format's design point passed every stage, 1 when it failed a stage
(the report says which), 2 on bad input.
"""


def add_clock_arguments(parser) -> None:
    """The one-clock options `whatif` and `report` share (analysis.oneclock)."""
    parser.add_argument("--clock-fo4", type=float, default=None, metavar="FO4",
                        help="compare every design at this clock period in FO4 (ge library; default: the "
                             "fastest clock INT8 into Kulisch meets)")
    parser.add_argument("--clock-ns", type=float, default=None, metavar="NS",
                        help="compare at this clock period in ns (needs a Liberty with timing tables)")
    parser.add_argument("--unpipelined", action="store_true",
                        help="compare each design at its own single-stage critical path (no common clock)")


def apply_clock_arguments(args, isoarea) -> None:
    """Options given on the command line override the [isoarea] table of a config."""
    for name in ("clock_fo4", "clock_ns"):
        if getattr(args, name) is not None:
            setattr(isoarea, name, getattr(args, name))
    if args.unpipelined:
        isoarea.unpipelined = True


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", default=None, metavar="SPEC",
                        help='the format, e.g. "fp(e=3,m=4,bias=7)" (or [whatif] format in --config)')
    parser.add_argument("--acc", default=None, help="accumulator (default: the config's, else fp32)")
    parser.add_argument("--config", default=None, metavar="FILE.toml", help="TOML config (see examples/)")
    parser.add_argument("--out", default=None, metavar="DIR", help="output directory")
    parser.add_argument("--budget-ge", type=float, default=None, metavar="GE",
                        help="silicon budget in gate equivalents (default 1e8)")
    parser.add_argument("--budget-mm2", type=float, default=None, metavar="MM2",
                        help="silicon budget in mm^2 (needs a Liberty library with areas in um^2)")
    parser.add_argument("--bandwidth-gb-s", type=float, default=None, metavar="GB_S",
                        help="memory bandwidth of the iso-area accelerator (default 3350, H100 HBM3)")
    add_clock_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="smaller samples and benches")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="evaluate on this Dask distributed scheduler")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the config's, else 0)")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="result cache (default: $HWDSE_CACHE_DIR, else ~/.cache/hwdse)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="evaluate cached failed design points again (environment failures always are)")


def run(args) -> int:
    from analysis.config import Config, load_config
    from analysis.whatif import run_whatif
    from hwmodel.errors import UnsupportedConfig

    cfg = load_config(args.config) if args.config else Config()
    if args.budget_ge is not None and args.budget_mm2 is not None:
        raise UnsupportedConfig("give --budget-ge or --budget-mm2, not both")
    if args.budget_ge is not None:
        cfg.isoarea.budget_ge, cfg.isoarea.budget_mm2 = args.budget_ge, None
    if args.budget_mm2 is not None:
        cfg.isoarea.budget_mm2, cfg.isoarea.budget_ge = args.budget_mm2, None
    if args.bandwidth_gb_s is not None:
        cfg.isoarea.bandwidth_gb_s = args.bandwidth_gb_s
    apply_clock_arguments(args, cfg.isoarea)
    if args.cache_dir:
        from analysis import checks
        checks.output_dir(args.cache_dir, "--cache-dir")
    res = run_whatif(args.spec, args.acc, config=cfg, out=args.out, quick=args.quick, jobs=args.jobs,
                     scheduler=args.scheduler, cache_dir=args.cache_dir, seed=args.seed,
                     retry_failed=args.retry_failed)
    p = res["paths"]
    print(f"wrote {p['md']}, {p['html']}, {p['metadata']}")
    for s in res["sections"]:
        if s.key in ("findings", "verdict"):
            print(f"{s.title}:")
            print("\n".join(ln for ln in s.intro.splitlines() if ln.startswith("- ")))
        if s.failed:
            print(f"  section {s.key} failed: {s.failed}")
    return 0 if res["new_ok"] else 1
