"""Gate-level simulation of a Netlist (sim/netlist.py) with toggle counts per cell.

    simulate(netlist, stimulus: dict[port -> codes per cycle], cache_dir) -> SimResult
    build_sim(netlist, cache_dir) -> GateSim      the Verilator model, built once per netlist
    weights_for(netlist) -> (per-cell weights, unit) for hwmodel.energy.weighted_toggles
    result_cache(cache_dir), result_key(*parts)   the energy results' cache and keys

Verilator models are built in a private directory and renamed into place, so an interrupted or
concurrent build never leaves a half-built model; results are cached by content hash (netlist,
library, stimulus spec, FLOW_VERSION) in hwmodel.cache.ResultCache (atomic writes).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import energy as emodel
from hwmodel.cache import ResultCache, cache_key, default_cache_dir
from hwmodel.errors import ToolFailed, UnsupportedConfig
from sim.gatelevel import GateSim
from sim.netlist import Netlist

# Bump when the simulation or the energy arithmetic changes: it is part of every cache key.
FLOW_VERSION = "energy-4"
# Bump when sim/gatelevel.py's cell models, harness or Verilator flags change what a model computes
# or counts (build options that only change how fast it builds or runs do not: tested).
GATESIM_VERSION = "gatesim-2"
DEFAULT_CACHE = default_cache_dir()


@dataclass
class SimResult:
    n_ops: int
    toggles: pd.DataFrame          # columns: part (submodule of the top, or "top"), cell,
                                   # instances, toggles (summed over the cells' output pins)
    outputs: dict[str, np.ndarray]  # per output port (<= 64 bits), one code per cycle
    sim_time_s: float
    build_time_s: float


def result_cache(cache_dir) -> ResultCache:
    return ResultCache(cache_dir, namespace="energy")


def result_key(*parts) -> str:
    return cache_key(FLOW_VERSION, *[json.dumps(p, sort_keys=True, default=str) if not isinstance(p, str)
                                     else p for p in parts])


def _clock_reset(netlist: Netlist):
    names = {p for p, _ in netlist.inputs}
    return ("clk" if "clk" in names else None), ("rst" if "rst" in names else None)


def runtime_dir(cache_dir: Path) -> Path:
    """Where Verilator's runtime objects are kept: one folder per Verilator and build flags."""
    from sim.gatelevel import BUILD_FLAGS, MAKE_VARS, verilator_bin
    include = Path(verilator_bin()).parent / "include"
    version = (include / "verilated_config.h").read_text() if (include / "verilated_config.h").exists() else ""
    key = cache_key(verilator_bin(), version, *BUILD_FLAGS, *MAKE_VARS)
    return Path(cache_dir) / "verilator" / ("runtime-" + key[:16])


def build_sim(netlist: Netlist, cache_dir: Path = DEFAULT_CACHE, trace: str = "cells") -> GateSim:
    """The Verilator model of a netlist, built once per (netlist, library, trace) under cache_dir.

    trace="cells" (energy: only the cell output pins are counted) builds faster; trace="all" also
    traces every cell input pin and wire (sim.activity hands input-pin activity to OpenSTA). A
    model traced "all" also answers a "cells" request (its output-pin toggles are the same). The
    build flags are not part of the key: every choice of them gives the same toggles (tested)."""
    clock, reset = _clock_reset(netlist)
    # Keyed by what the model is built from (not FLOW_VERSION, which covers post-processing); a
    # fully traced model keeps the key models had before trace modes existed.
    h_all = cache_key(GATESIM_VERSION, netlist.sim_verilog, netlist.liberty_text)
    root = Path(cache_dir) / "verilator"
    build = root / h_all[:24]
    if trace != "all" and not (build / "obj" / "Vtop").exists():
        build = root / cache_key(GATESIM_VERSION, netlist.sim_verilog, netlist.liberty_text, f"trace={trace}")[:24]
    if not (build / "obj" / "Vtop").exists():
        # Build in a private directory, then rename: a concurrent or interrupted build never
        # leaves a half-built model at the final path.
        tmp = Path(tempfile.mkdtemp(dir=Path(cache_dir).mkdir(parents=True, exist_ok=True) or cache_dir,
                                    prefix="vbuild_"))
        GateSim(netlist.sim_verilog, netlist.name, netlist.cells, netlist.inputs, netlist.outputs,
                clock, reset, tmp, trace=trace, runtime_dir=runtime_dir(cache_dir))
        build.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, build)
        except OSError:  # another process won the race; use its model
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return GateSim(netlist.sim_verilog, netlist.name, netlist.cells, netlist.inputs, netlist.outputs,
                   clock, reset, build, trace=trace)


def simulate(netlist: Netlist, stimulus: dict[str, np.ndarray], cache_dir: Path = DEFAULT_CACHE,
             n_reset: int = 2) -> SimResult:
    """Drive `stimulus` (port -> codes per cycle; ports left out are held at 0) after reset.

    Returns toggles per cell type over the measured cycles only and the output codes.
    """
    t0 = time.perf_counter()
    gs = build_sim(netlist, cache_dir)
    t1 = time.perf_counter()
    unknown = sorted(set(stimulus) - {p for p, _ in gs.inputs})
    if unknown:
        raise UnsupportedConfig(f"stimulus ports must be inputs of {netlist.name} "
                                f"({', '.join(p for p, _ in gs.inputs)}), not {unknown}")
    n = len(next(iter(stimulus.values())))
    cols = []
    for p, w in gs.inputs:
        if w > 64:
            cols.extend(wide_words(stimulus.get(p, np.zeros(n, np.uint64)), w, p).T)
            continue
        v = np.asarray(stimulus.get(p, np.zeros(n)), dtype=np.int64).astype(np.uint64)
        cols.append(v & np.uint64((1 << w) - 1 if w < 64 else 0xFFFFFFFFFFFFFFFF))
    out, tog = gs.run(np.stack(cols, 1), n_reset=n_reset)
    t2 = time.perf_counter()
    per_cell: dict[tuple[str, str], list[int]] = {}
    for inst, typ in gs._instances.items():
        pins = tog.get(inst)
        if pins is None:
            raise ToolFailed(f"SAIF has no toggle record for cell instance {inst} of {netlist.name}")
        count = sum(pins.get(p, 0) for p, _ in netlist.cells[typ].outputs)
        part = inst.split("/")[0] if "/" in inst else "top"
        acc = per_cell.setdefault((part, typ), [0, 0])
        acc[0] += 1
        acc[1] += count
    df = pd.DataFrame([{"part": k[0], "cell": k[1], "instances": v[0], "toggles": v[1]}
                       for k, v in sorted(per_cell.items())])
    outputs = {p: out[:, i] for i, (p, _) in enumerate(gs.outputs)}
    return SimResult(n, df, outputs, t2 - t1, t1 - t0)


def wide_words(codes, width: int, port: str = "port") -> np.ndarray:
    """A port wider than 64 bits as uint64 words [cycle, word], least significant first: from a
    2-D array of words (ceil(width / 64) columns) or a 1-D array (the low word; the rest zero);
    bits above `width` are cleared."""
    n_words = -(-width // 64)
    v = np.asarray(codes)
    if v.ndim == 1:
        v = np.concatenate([v.astype(np.int64).astype(np.uint64)[:, None],
                            np.zeros((len(v), n_words - 1), np.uint64)], 1)
    if v.ndim != 2 or v.shape[1] != n_words:
        raise UnsupportedConfig(f"stimulus of the {width}-bit port {port} must be codes per cycle or "
                                f"{n_words} uint64 words per cycle, not shape {v.shape}")
    v = v.astype(np.uint64)   # a copy: the caller's array is left alone
    if width % 64:
        v[:, -1] &= np.uint64((1 << (width % 64)) - 1)
    return v


def weights_for(netlist: Netlist) -> tuple[dict[str, float], str]:
    c = netlist.cells
    return emodel.cell_weights({k: v.area for k, v in c.items()},
                               {k: len(v.outputs) for k, v in c.items()},
                               {k: v.internal_energy for k, v in c.items()})
