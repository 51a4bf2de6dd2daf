"""The report's sweep: one design-space sweep per report run, shared by the sections that need it
(verification, iso-area, Pareto), saved under the report's folder with its metadata."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from analysis.design import SweepSpec, default_spec
from analysis.engine import evaluator_id, run_sweep
from analysis.metadata import run_metadata
from analysis.stages import STAGES, ChainEvaluator
from analysis.table import save_sweep

_REPORT_SWEEPS: dict[tuple, Any] = {}


def forget_report_sweeps() -> None:
    """Drop the frames report_sweep keeps for the sections of one report run."""
    _REPORT_SWEEPS.clear()


def report_sweep(ctx, spec: SweepSpec | None = None):
    """Run (or read back from the cache) the report's default sweep once per report run and save it
    under ctx.outdir/sweep/ (sweep.parquet, sweep.csv, sweep.metadata.json). Sections call this;
    the first one pays for the evaluation, the others reuse the frame. ctx.quick: two formats x
    two accumulators, quality and synthesis only (no Verilator builds), for tests."""
    cfg = ctx.config
    spec = spec or (cfg.sweep if cfg is not None and cfg.sweep is not None else default_spec(ctx.quick))
    key = (str(Path(ctx.outdir).resolve()), str(ctx.cache_dir), ctx.seed, ctx.quick,
           json.dumps(dataclasses.asdict(spec), sort_keys=True))
    if key in _REPORT_SWEEPS:
        return _REPORT_SWEEPS[key]
    t0 = time.perf_counter()
    evaluator = ChainEvaluator(("quality", "synth") if ctx.quick else STAGES, cache_dir=ctx.cache_dir)
    frame = run_sweep(spec, evaluator, cache_dir=ctx.cache_dir, jobs=max(1, int(ctx.jobs)),
                      scheduler=ctx.scheduler, seed=ctx.seed, quick=ctx.quick,
                      progress=True, desc="report sweep", retry_failed=ctx.retry_failed)
    md = run_metadata(ctx, sweep_spec=dataclasses.asdict(spec), evaluator=evaluator_id(evaluator),
                      sweep_time_s=round(time.perf_counter() - t0, 2),
                      n_cached=int(frame["cached"].sum()) if "cached" in frame else 0)
    save_sweep(frame, Path(ctx.outdir) / "sweep", "sweep", md)
    _REPORT_SWEEPS[key] = frame
    return frame
