"""`hwdse sweep`: evaluate a design space into a tidy table (Parquet + CSV + metadata)."""

from __future__ import annotations

HELP = "sweep a design space (formats x accumulators x units x pipeline x library) into a table"
DESCRIPTION = """\
Evaluate every design point of a space: numerics quality (golden model), verification (the
unit's cocotb bench), area and delay (Yosys), energy per MAC (gate-level simulation). One row
per point, units in the column names, failed points kept with their reason.

  hwdse sweep --formats int8,e4m3 --acc kulisch,fp32
  hwdse sweep --formats "fp(e=3,m=4,bias=7),int8" --acc fp32
  hwdse sweep --config examples/sweep_small.toml --jobs 4
  hwdse sweep --formats int8 --acc fp32 --scheduler tcp://10.0.0.5:8786

Lists are split on their top-level commas only, so fp(...) specs can be listed. Two spellings of
one design (fp32 / float32, e4m3 / float8_e4m3fn) are one point. Units: mac, dot:N (e.g. dot:4),
array:RxC; a block format (mxfp4, nvfp4, mx(e2m1,block=32), ...) is built as a block dot unit
bdot:N of N element products per cycle (its mac means bdot:min(8, block size); N must divide the
block size), and its area and energy are also given per element product. Stages: quality, verify, synth, energy (default all). Every point is cached by content
hash in --cache-dir; an interrupted sweep resumes where it stopped. A point that failed because
of the environment (a missing or broken tool) is evaluated again on the next run; one that
failed as a design (verification mismatch, unsupported configuration) only with --retry-failed.
Writes OUT/sweep.parquet, OUT/sweep.csv, OUT/sweep.metadata.json.
Exit code: 0 all points ok, 1 some failed (still written), 2 bad input.
"""


def add_arguments(parser) -> None:
    parser.add_argument("--config", default=None, metavar="FILE.toml", help="TOML config with a [sweep] table")
    parser.add_argument("--formats", default=None, help="comma-separated formats (default: the report's set)")
    parser.add_argument("--acc", default=None, help="comma-separated accumulators (default: kulisch,fp16,fp32)")
    parser.add_argument("--units", default=None, help="comma-separated units (default: mac)")
    parser.add_argument("--pipeline", default=None, help="comma-separated pipeline depths (default: 1)")
    parser.add_argument("--library", default=None, help="comma-separated libraries: ge, paper or a .lib path")
    parser.add_argument("--stages", default=None, help="comma-separated stages (default: quality,verify,synth,energy; add fpga for ECP5 place-and-route columns)")
    parser.add_argument("--out", default="reports/sweep", metavar="DIR", help="output directory (default reports/sweep)")
    parser.add_argument("--quick", action="store_true", help="smaller samples and benches")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Dask scheduler")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: config's, else 0)")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="result cache (default: $HWDSE_CACHE_DIR, else ~/.cache/hwdse)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="evaluate cached failed points again (environment failures always are)")


def run(args) -> int:
    import dataclasses
    from pathlib import Path

    from hwmodel.cache import default_cache_dir
    from hwmodel.errors import UnsupportedConfig

    from analysis import checks
    from analysis.config import Config, load_config
    from analysis.design import default_spec, split_list
    from analysis.engine import check_scheduler, evaluator_id, run_sweep
    from analysis.metadata import run_metadata
    from analysis.section import ReportContext
    from analysis.stages import STAGES, ChainEvaluator
    from analysis.table import save_sweep

    def _csv(text, option="--stages"):
        items = split_list(text)
        if text is not None and not items:
            raise UnsupportedConfig(f"{option} must list at least one item, not {text!r}")
        return items

    cfg = load_config(args.config) if args.config else Config()
    spec = cfg.sweep or default_spec(args.quick)
    if args.formats is not None:
        spec = dataclasses.replace(spec, formats=_csv(args.formats, "--formats"))
    if args.acc is not None:
        spec = dataclasses.replace(spec, accumulators=_csv(args.acc, "--acc"))
    if args.units is not None:
        spec = dataclasses.replace(spec, units=_csv(args.units, "--units"))
    if args.library is not None:
        spec = dataclasses.replace(spec, libraries=_csv(args.library, "--library"))
    if args.pipeline is not None:
        try:
            spec = dataclasses.replace(spec, pipeline_stages=[int(x) for x in _csv(args.pipeline, "--pipeline")])
        except ValueError:
            raise UnsupportedConfig(f"--pipeline must be comma-separated integers, not {args.pipeline!r}") from None
    if args.jobs < 1:
        raise UnsupportedConfig(f"--jobs must be a positive integer, not {args.jobs!r}")
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    stages = _csv(args.stages) if args.stages is not None else list(STAGES)
    evaluator = ChainEvaluator(stages, cache_dir=cache_dir)
    points = spec.points()  # validates every format, accumulator, unit and depth before any work
    checks.libraries(spec.libraries)
    if args.scheduler:
        check_scheduler(args.scheduler).close()
    checks.output_dir(cache_dir, "--cache-dir")
    checks.output_dir(args.out, "--out", files=("sweep.parquet", "sweep.csv", "sweep.metadata.json"))
    seed = cfg.seed if args.seed is None else args.seed
    df = run_sweep(points, evaluator, cache_dir=cache_dir, jobs=args.jobs, scheduler=args.scheduler,
                   seed=seed, quick=args.quick, retry_failed=args.retry_failed)
    ctx = ReportContext(outdir=Path(args.out), cache_dir=cache_dir, seed=seed, quick=args.quick,
                        jobs=args.jobs)
    paths = save_sweep(df, args.out, "sweep", run_metadata(ctx, sweep_spec=dataclasses.asdict(spec),
                                                             evaluator=evaluator_id(evaluator),
                                                             scheduler=args.scheduler))
    n_failed = int((df["status"] == "failed").sum())
    print(f"{len(df)} points ({int(df['cached'].sum())} from cache, {n_failed} failed): "
          f"{paths['parquet']}, {paths['csv']}, {paths['metadata']}")
    for _, r in df[df["status"] == "failed"].iterrows():
        print(f"  failed: {r['point_id']}: {str(r['reason'])[:200]}")
    return 1 if n_failed else 0
