"""Design-space sweeps, the public face: every design point evaluated once, cached by content hash,
in parallel. The work is split by job:

- analysis.design     DesignPoint (Format, AccSpec and unit objects), SweepSpec, default_spec
- analysis.engine     run_sweep, cache keys from canonical specs, local pool / Dask, failed points
- analysis.outcome    one-line reasons; a failure of the environment versus one of the design
- analysis.stages     ChainEvaluator: quality, verify, synth and energy stages through the layers
- analysis.table      save_sweep / load_sweep (Parquet + CSV + metadata), select rows by spec
- analysis.reportsweep  the report's one shared sweep per run

Import from here or from the module that does the job; both name the same objects.
"""

from __future__ import annotations

from analysis.design import (POINT_COLUMNS, DesignPoint, SweepSpec, default_spec, split_list,
                             sweep_unit, unit_macs)
from analysis.engine import (SWEEP_SCHEMA, Evaluator, ResultStore, check_scheduler, evaluate_safely,
                             evaluator_id, point_key, run_sweep)
from analysis.stages import (STAGES, ChainEvaluator, code_fingerprint, stage_energy, stage_quality,
                             stage_synth, stage_verify)
from analysis.table import load_sweep, save_sweep, select

__all__ = ["POINT_COLUMNS", "DesignPoint", "SweepSpec", "default_spec", "split_list",
           "sweep_unit", "unit_macs", "SWEEP_SCHEMA", "Evaluator", "ResultStore", "check_scheduler",
           "evaluate_safely", "evaluator_id", "point_key", "run_sweep", "STAGES", "ChainEvaluator",
           "code_fingerprint", "stage_energy", "stage_quality", "stage_synth", "stage_verify",
           "load_sweep", "save_sweep", "select"]
