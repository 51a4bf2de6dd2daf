"""`hwdse report`: the main job."""

from __future__ import annotations

HELP = "run the main job: every report section into reports/ (Markdown + HTML + metadata)"
DESCRIPTION = """\
Run the main job and write the report:

  reports/report.md      Markdown report
  reports/report.html    one self-contained HTML page (sortable tables, embedded plots)
  reports/metadata.json  git SHA, package and tool versions, seed, date, per-section status

Sections, in order: area/energy per format, FP8-vs-INT8 paper reproduction, verification,
energy, numerics quality, GPU roofline, iso-area, Pareto fronts, format catalogue. A section
that fails is shown as failed with its reason; the rest of the report is still written.
Results are cached by content hash under --cache-dir, so a second run is fast.

Exit code: 0 when every section built, 1 when any section failed, 2 on bad input.
"""


from analysis.commands.whatif import add_clock_arguments, apply_clock_arguments


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="reports", metavar="DIR",
                        help="output directory (default: reports)")
    parser.add_argument("--quick", action="store_true",
                        help="small sample sizes and sweeps (for tests and a first look)")
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="local worker processes for sweeps (default: 2)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="run sweep points on this Dask distributed scheduler instead of locally")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the config's, else 0)")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="content-hash cache shared by synthesis, energy and sweeps "
                             "(default: $HWDSE_CACHE_DIR, else ~/.cache/hwdse)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="evaluate cached failed design points again (environment failures always are)")
    parser.add_argument("--config", default=None, metavar="FILE.toml",
                        help="TOML config: [sweep] replaces the default sweep, [isoarea] sets budget, "
                             "FO4 delay and bandwidth (see examples/)")
    add_clock_arguments(parser)
    parser.add_argument("--arrays-large", action="store_true",
                        help="arrays section: also 8x8 area and 4x4/8x8 gate-level energy (INT8, INT4, "
                             "FP8-E4M3 into Kulisch and FP32) with the energy law; adds tens of minutes "
                             "cold (sets HWDSE_ARRAYS_LARGE=1 for the run)")
    parser.add_argument("--only", default=None, metavar="NAMES",
                        help="comma-separated section names to run (default: all)")


def run(args) -> int:
    from hwmodel.errors import UnsupportedConfig
    from analysis import report

    if args.jobs < 1:
        raise UnsupportedConfig(f"--jobs must be a positive integer, not {args.jobs!r}")
    names = None
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in report.SECTION_ORDER]
        if unknown:
            raise UnsupportedConfig(f"--only must name sections from {', '.join(report.SECTION_ORDER)}, "
                                    f"not {unknown[0]!r}")
    config = None
    if args.config:
        from analysis.config import load_config
        config = load_config(args.config)
    if args.clock_fo4 is not None or args.clock_ns is not None or args.unpipelined:
        from analysis.config import Config as _Config
        config = config or _Config()
        apply_clock_arguments(args, config.isoarea)
    # Every input checked before any section runs.
    from hwmodel.cache import default_cache_dir

    from analysis import checks
    from analysis.config import Config
    from analysis.design import default_spec
    cfg = config or Config()
    spec = cfg.sweep or default_spec(args.quick)
    spec.points()  # formats, accumulators, units of a [sweep] table
    checks.libraries(spec.libraries)
    if names is None or "isoarea" in names or "findings" in names:
        checks.budget_library(cfg.isoarea, spec.libraries)
        from analysis.whatif import _check_clock
        _check_clock(cfg.isoarea, "ge" if cfg.isoarea.budget_mm2 is None else
                     next((lib for lib in spec.libraries if lib not in ("ge", "paper")), "ge"))
    if args.scheduler:
        from analysis.engine import check_scheduler
        check_scheduler(args.scheduler).close()
    cache_dir = args.cache_dir or default_cache_dir()
    checks.output_dir(cache_dir, "--cache-dir")
    checks.output_dir(args.out, "--out", files=("report.md", "report.html", "metadata.json"))
    seed = args.seed if args.seed is not None else (config.seed if config is not None else 0)
    import os
    from analysis.sections.arrays import LARGE_ENV
    before = os.environ.get(LARGE_ENV)
    if getattr(args, "arrays_large", False):
        os.environ[LARGE_ENV] = "1"
    try:
        sections = report.build_report(args.out, quick=args.quick, jobs=args.jobs, seed=seed,
                                       cache_dir=cache_dir, scheduler=args.scheduler, names=names,
                                       config=config, retry_failed=args.retry_failed)
    finally:
        if before is None:
            os.environ.pop(LARGE_ENV, None)
        else:
            os.environ[LARGE_ENV] = before
    failed = [s for s in sections if s.failed]
    print(f"wrote {args.out}/report.md, {args.out}/report.html, {args.out}/metadata.json "
          f"({len(sections) - len(failed)} sections ok, {len(failed)} failed)")
    for s in failed:
        print(f"  failed: {s.key}: {s.failed}")
    return 1 if failed else 0
