"""The report's sweep: one design-space sweep per report run, shared by the sections that need it
(verification, iso-area, Pareto), saved under the report's folder with its metadata."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from analysis.design import DesignPoint, SweepSpec, default_spec
from analysis.engine import evaluator_id, run_sweep
from analysis.metadata import run_metadata
from analysis.stages import STAGES, ChainEvaluator
from analysis.table import save_sweep

_REPORT_SWEEPS: dict[tuple, Any] = {}


def forget_report_sweeps() -> None:
    """Drop the frames report_sweep keeps for the sections of one report run."""
    _REPORT_SWEEPS.clear()


# Block-scaled designs the default report adds to its scalar sweep (analysis.design.default_spec), each
# a (format, accumulator) pair built as its block dot unit (a block format's "mac" is bdot:min(8,
# block size), rtl.unit.block_unit): the OCP MX formats at 8 and 4 bits and MXINT8 into FP32,
# NVFP4 (block 16, UE4M3 scales) into FP32, and ShiftQuant's power-of-two INT4 groups into a
# Kulisch register (no float adder). Not a cartesian product: an E8M0-scaled format into Kulisch
# needs a ~560-bit register, and a float scale cannot go into one at all. Quick: MXFP4 only.
BLOCK_DESIGNS = (("mxfp8_e4m3", "fp32"), ("mxfp4", "fp32"), ("nvfp4", "fp32"), ("mxint8", "fp32"),
                 ("shiftquant_int4", "kulisch"))
BLOCK_DESIGNS_QUICK = (("mxfp4", "fp32"),)


def report_points(quick: bool = False) -> list[DesignPoint]:
    """The default report's design points: default_spec(quick)'s scalar points, then BLOCK_DESIGNS
    (BLOCK_DESIGNS_QUICK when quick) at their block dot units."""
    pts = default_spec(quick).points()
    pts += [DesignPoint.make(f, a) for f, a in (BLOCK_DESIGNS_QUICK if quick else BLOCK_DESIGNS)]
    return list(dict.fromkeys(pts))


def report_sweep(ctx, spec: SweepSpec | None = None):
    """Run (or read back from the cache) the report's default sweep once per report run and save it
    under ctx.outdir/sweep/ (sweep.parquet, sweep.csv, sweep.metadata.json). Sections call this;
    the first one pays for the evaluation, the others reuse the frame. Without a spec (none given,
    none in the config) the sweep is `report_points(ctx.quick)`: the scalar default_spec plus the
    block designs. ctx.quick: two formats x two accumulators and MXFP4, quality and synthesis
    only (no Verilator builds), for tests."""
    cfg = ctx.config
    spec = spec or (cfg.sweep if cfg is not None and cfg.sweep is not None else None)
    points = spec.points() if spec is not None else report_points(ctx.quick)
    key = (str(Path(ctx.outdir).resolve()), str(ctx.cache_dir), ctx.seed, ctx.quick,
           json.dumps([p.point_id for p in points]))
    if key in _REPORT_SWEEPS:
        return _REPORT_SWEEPS[key]
    t0 = time.perf_counter()
    evaluator = ChainEvaluator(("quality", "synth") if ctx.quick else STAGES, cache_dir=ctx.cache_dir)
    frame = run_sweep(points, evaluator, cache_dir=ctx.cache_dir, jobs=max(1, int(ctx.jobs)),
                      scheduler=ctx.scheduler, seed=ctx.seed, quick=ctx.quick,
                      progress=True, desc="report sweep", retry_failed=ctx.retry_failed)
    described = (dataclasses.asdict(spec) if spec is not None
                 else dict(dataclasses.asdict(default_spec(ctx.quick)),
                           block_designs=[list(d) for d in (BLOCK_DESIGNS_QUICK if ctx.quick else BLOCK_DESIGNS)]))
    md = run_metadata(ctx, sweep_spec=described, evaluator=evaluator_id(evaluator),
                      sweep_time_s=round(time.perf_counter() - t0, 2),
                      n_cached=int(frame["cached"].sum()) if "cached" in frame else 0)
    save_sweep(frame, Path(ctx.outdir) / "sweep", "sweep", md)
    _REPORT_SWEEPS[key] = frame
    return frame
