"""Switching-energy model of a gate-level netlist, its one calibration constant, and Horowitz 2014.

The model (numpy/pandas only; the toggle counts come from sim/energy.py's gate-level simulation):

    E = k * sum over cell output pins of  w(cell) * toggles(pin)

- `w(cell)` is the cell's switching weight: the Liberty `internal_power` energy where the library
  gives one for every cell, else the cell's area in gate equivalents (GE) split evenly over its
  outputs. Area stands in for switched capacitance: a cell's internal and output-load capacitance
  scale with its transistor count, which is what a gate-equivalent count measures.
- `k` (pJ per weighted toggle, "pJ per GE toggle" for area weights) is the ONLY fitted number. It
  is solved from one figure: Horowitz's 8-bit integer multiply, 0.2 pJ at 45 nm
  (`calibrate(weighted_toggles_per_op)`), simulated as a signed 8x8 -> 16 combinational multiplier
  under uniformly random operands. Every other energy the tool reports uses that k unchanged.

What the model leaves out (stated beside every figure): glitches (the simulation is zero-delay, so
each net settles once per cycle; real multipliers glitch a lot), clock-tree and flip-flop clock-pin
energy (only data toggles of the Q pins count), wire capacitance, and leakage.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

DATA = Path(__file__).parent / "data"

# The single calibration anchor: Horowitz ISSCC 2014, 8-bit integer multiply at 45 nm.
CALIBRATION_OPERATION = "int8_mul"

DISTRIBUTIONS = ("gaussian", "laplace", "student_t", "relu", "uniform")


@lru_cache(maxsize=None)
def horowitz_table() -> pd.DataFrame:
    """Horowitz 2014's operation energies (45 nm, 0.9 V), one row per operation, with sources."""
    path = DATA / "horowitz_2014.csv"
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"Horowitz table must exist at {path}, not found") from None
    if df["source"].isna().any() or (df["source"].astype(str).str.strip() == "").any():
        raise DataError(f"every row of {path} must have a source")
    return df


def horowitz_pj(operation: str) -> float:
    """Horowitz's figure for one operation name of the table (e.g. 'int8_mul')."""
    df = horowitz_table()
    row = df[df["operation"] == operation]
    if row.empty:
        raise DataError(f"Horowitz operation must be one of {', '.join(df['operation'])}, "
                        f"not {operation!r}")
    return float(row["energy_pj"].iloc[0])


def cell_weights(areas: Mapping[str, float], n_outputs: Mapping[str, int],
                 internal_energy: Mapping[str, float | None] | None = None) -> tuple[dict[str, float], str]:
    """Switching weight per output toggle of each cell type, and the unit of the weights.

    Uses `internal_energy` (Liberty internal_power, library energy unit) only when every cell has
    one; otherwise the area split over the cell's outputs ("ge" for a library in gate equivalents).
    A cell with no outputs gets weight 0.
    """
    ie = internal_energy or {}
    if areas and all(ie.get(c) is not None for c in areas):
        return {c: float(ie[c]) for c in areas}, "internal_power"
    return {c: (float(a) / n_outputs[c] if n_outputs.get(c) else 0.0) for c, a in areas.items()}, "area"


def weighted_toggles(toggles: pd.DataFrame, weights: Mapping[str, float]) -> float:
    """sum(weight[cell] * toggles) over a table with columns `cell` and `toggles`."""
    missing = sorted(set(toggles["cell"]) - set(weights))
    if missing:
        raise DataError(f"cell weights must cover every simulated cell, missing {missing}")
    w = toggles["cell"].map(weights).to_numpy(dtype=float)
    return float(np.dot(w, toggles["toggles"].to_numpy(dtype=float)))


def calibrate(weighted_toggles_per_op: float, target_pj: float | None = None) -> float:
    """The constant k (pJ per weighted toggle) that makes one operation cost `target_pj`.

    target_pj defaults to Horowitz's 8-bit multiply (0.2 pJ at 45 nm).
    """
    if target_pj is None:
        target_pj = horowitz_pj(CALIBRATION_OPERATION)
    if not np.isfinite(weighted_toggles_per_op) or weighted_toggles_per_op <= 0:
        raise UnsupportedConfig(f"calibration needs a positive switching activity per operation, "
                                f"not {weighted_toggles_per_op!r} (did the simulation toggle nothing?)")
    return float(target_pj) / float(weighted_toggles_per_op)


def energy_pj(weighted_toggles_total: float, k_pj: float, n_ops: int) -> float:
    """Energy per operation: k * weighted toggles / number of operations."""
    if n_ops <= 0:
        raise UnsupportedConfig(f"number of operations must be positive, not {n_ops!r}")
    return float(k_pj) * float(weighted_toggles_total) / n_ops


def comparison_table(model_pj: Mapping[str, float]) -> pd.DataFrame:
    """Horowitz's figure beside ours for each operation in `model_pj` (operation -> pJ per op).

    Columns: operation, horowitz_pj, model_pj, model_over_horowitz, calibrated (True for the one
    row the constant was fitted on, where the ratio is 1 by construction).
    """
    rows = []
    for op, pj in model_pj.items():
        h = horowitz_pj(op)
        rows.append({"operation": op, "horowitz_pj": h, "model_pj": float(pj),
                     "model_over_horowitz": float(pj) / h,
                     "calibrated": op == CALIBRATION_OPERATION})
    return pd.DataFrame(rows)


def check_distribution(dist: str) -> str:
    d = str(dist).strip().lower()
    if d not in DISTRIBUTIONS:
        raise UnsupportedConfig(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, not {dist!r}")
    return d


def sample(dist: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n float64 samples of a named operand distribution, unit scale.

    gaussian N(0,1); laplace (scale 1/sqrt 2, unit variance); student_t (nu=3, heavy tails);
    relu: max(0, N(0,1)) (about half exact zeros, as after a ReLU); uniform U(-1,1).
    """
    d = check_distribution(dist)
    if d == "gaussian":
        return rng.standard_normal(n)
    if d == "laplace":
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), n)
    if d == "student_t":
        return rng.standard_t(3.0, n)
    if d == "relu":
        return np.maximum(rng.standard_normal(n), 0.0)
    return rng.uniform(-1.0, 1.0, n)


def scale_to_format(x: np.ndarray, max_value: float, headroom: float = 1.0) -> np.ndarray:
    """Per-tensor absmax scaling: x * (max_value * headroom / max|x|), as a quantiser would do."""
    amax = float(np.max(np.abs(x))) if x.size else 0.0
    return x if amax == 0.0 else x * (max_value * headroom / amax)
