"""Energy per operation of the Horowitz (ISSCC 2014) reference units, and THE one constant.

    operation_energy(op, library, n, seed, cache_dir) -> dict     weighted toggles per operation
    calibration(library="ge", cache_dir, n, seed) -> Calibration  k: pJ per weighted toggle, solved
                                                                  so our 8x8 multiply costs 0.2 pJ
    horowitz_comparison(library="ge", cache_dir, n, seed, operations=None) -> DataFrame

The units are rtl.refunits' adders and multipliers, synthesised (sim/netlist.py) and simulated
gate by gate (sim/toggles.py) on random operands; every output is checked against exact integer
or numpy IEEE arithmetic, and a mismatch raises instead of giving an energy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import energy as emodel
from hwmodel.errors import ResultMismatch
from hwmodel.formats import parse_format
from sim.netlist import synthesize
from sim.toggles import DEFAULT_CACHE, result_cache, result_key, simulate, weights_for


def _golden(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Expected output codes of a reference design: exact integer arithmetic (adds wrap to the
    operand width, multiplies keep the full 2N-bit product), numpy's IEEE arithmetic for floats
    (correctly rounded: float16 ops are done in float32, exact enough to round once more safely)."""
    kind, o = op.split("_")
    bits = int(re.sub(r"\D", "", kind))
    if kind.startswith("int"):
        def signed(c):
            return [int(x) - ((int(x) >> (bits - 1)) << bits) for x in c]
        mask = (1 << (2 * bits if o == "mul" else bits)) - 1
        r = [(x + y if o == "add" else x * y) & mask for x, y in zip(signed(a), signed(b))]
        return np.array(r, dtype=np.uint64)
    ft, it = (np.float16, np.uint16) if bits == 16 else (np.float32, np.uint32)
    fa, fb = a.astype(it).view(ft), b.astype(it).view(ft)
    with np.errstate(all="ignore"):
        r = fa + fb if o == "add" else fa * fb
    return r.view(it).astype(np.uint64)


def random_operands(op: str, n: int, rng: np.random.Generator):
    """Uniformly random operand codes: every code for integers; finite codes for floats."""
    kind = op.split("_")[0]
    bits = int(re.sub(r"\D", "", kind))
    if kind.startswith("int"):
        return (rng.integers(0, 1 << bits, n, dtype=np.uint64), rng.integers(0, 1 << bits, n, dtype=np.uint64))
    f = parse_format(kind)
    out = []
    for _ in range(2):
        c = rng.integers(0, 1 << bits, n, dtype=np.uint64)
        ex = (c >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)
        c = np.where(ex == (1 << f.exp_bits) - 1, c ^ np.uint64(1 << f.man_bits), c)  # no inf/NaN
        out.append(c)
    return out[0], out[1]


def operation_energy(op: str, library: str = "ge", n: int = 2000, seed: int = 0,
                     cache_dir: Path = DEFAULT_CACHE) -> dict:
    """Weighted toggles per operation of one reference design under random operands (cached).

    Returns a dict: operation, weighted_toggles_per_op, weight_unit, n, seed, mismatches (gate-
    level outputs that differ from numpy's IEEE/integer result), cells, area, netlist hash, ...
    """
    from rtl.refunits import reference_unit
    netlist = synthesize(reference_unit(op), f"ref_{op}", library, cache_dir)
    key = result_key("op", op, netlist.verilog, netlist.liberty_text, n, seed)
    hit = result_cache(cache_dir).get(key)
    if hit is not None:
        return hit
    rng = np.random.default_rng(seed)
    a, b = random_operands(op, n, rng)
    res = simulate(netlist, {"a": a, "b": b}, cache_dir)
    weights, unit = weights_for(netlist)
    wt = emodel.weighted_toggles(res.toggles, weights)
    y = res.outputs["y"]
    exp = _golden(op, a, b)
    if op.startswith("fp"):
        bits = int(op[2:4])
        f = parse_format(op.split("_")[0])
        yn = ((y >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)) == (1 << f.exp_bits) - 1
        yn &= (y & np.uint64((1 << f.man_bits) - 1)) != 0
        en = ((exp >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)) == (1 << f.exp_bits) - 1
        en &= (exp & np.uint64((1 << f.man_bits) - 1)) != 0
        mism = int(np.sum((y != exp) & ~(yn & en)))  # NaN compared by class
    else:
        mism = int(np.sum(y != exp))
    out = {"operation": op, "library": library, "n": n, "seed": seed,
           "weighted_toggles_per_op": wt / n, "weight_unit": unit, "area_unit": netlist.area_unit,
           "mismatches": mism,
           "cells": int(res.toggles["instances"].sum()), "area": netlist.area,
           "netlist_sha256": netlist.netlist_hash, **netlist.provenance,
           "sim_time_s": res.sim_time_s, "source": "our gate-level simulation (Yosys + Verilator)"}
    if mism:
        raise ResultMismatch(f"gate-level {op} disagrees with the golden result on {mism} of {n} vectors")
    result_cache(cache_dir).put(key, out)
    return out


@dataclass
class Calibration:
    library: str
    k_pj: float                 # pJ per weighted toggle (per GE toggle for area weights)
    weight_unit: str
    weighted_toggles_per_op: float
    n: int
    seed: int


def calibration(library: str = "ge", cache_dir: Path = DEFAULT_CACHE, n: int = 2000,
                seed: int = 0) -> Calibration:
    """THE one constant: k such that our signed 8x8 multiplier costs Horowitz's 0.2 pJ."""
    r = operation_energy(emodel.CALIBRATION_OPERATION, library, n, seed, cache_dir)
    unit = r["area_unit"] if r["weight_unit"] == "area" else "internal_power"
    return Calibration(library, emodel.calibrate(r["weighted_toggles_per_op"]), unit,
                       r["weighted_toggles_per_op"], n, seed)


def horowitz_comparison(library: str = "ge", cache_dir: Path = DEFAULT_CACHE, n: int = 2000,
                        seed: int = 0, operations=None) -> pd.DataFrame:
    """Our energy per operation, calibrated once on the 8-bit multiply, beside Horowitz 2014."""
    cal = calibration(library, cache_dir, n, seed)
    from rtl.refunits import REFERENCE_UNITS
    ops = operations or list(REFERENCE_UNITS)
    rows = {op: operation_energy(op, library, n, seed, cache_dir) for op in ops}
    df = emodel.comparison_table({op: cal.k_pj * r["weighted_toggles_per_op"] for op, r in rows.items()})
    df["area"] = [rows[op]["area"] for op in df["operation"]]
    df["area_unit"] = [rows[op]["area_unit"] for op in df["operation"]]
    df["weighted_toggles_per_op"] = [rows[op]["weighted_toggles_per_op"] for op in df["operation"]]
    df["k_pj_per_toggle"] = cal.k_pj
    df["weight_unit"] = cal.weight_unit
    df["library"] = library
    return df
