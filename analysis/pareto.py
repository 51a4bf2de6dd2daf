"""Pareto fronts: numerical quality against silicon cost.

`non_dominated(frame, objectives)` marks the rows no other row beats: row q dominates row p when q
is at least as good in every objective and strictly better in one. Objectives are (column,
"min"|"max") pairs, e.g. [("area_ge", "min"), ("sqnr_db", "max")] or
[("energy_pj", "min"), ("dot_rel_err", "min")]. Rows with a missing objective value take no part
(they are never on the front and dominate nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

# (quality column, sense) x (cost column): the fronts the report draws.
QUALITY = [("sqnr_db", "max"), ("sqnr_t3_db", "max"), ("dot_rel_err", "min")]
COSTS = ["area_ge", "energy_pj"]


def non_dominated(frame: pd.DataFrame, objectives: list[tuple[str, str]]) -> pd.Series:
    """Boolean Series (frame's index): True where the row is on the Pareto front."""
    if not objectives:
        raise UnsupportedConfig("objectives must name at least one (column, 'min'|'max') pair, not []")
    cols = []
    for col, sense in objectives:
        if sense not in ("min", "max"):
            raise UnsupportedConfig(f"objective sense must be 'min' or 'max', not {sense!r}")
        if col not in frame.columns:
            raise DataError(f"objective column must be one of {sorted(map(str, frame.columns))}, not {col!r}")
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        cols.append(v if sense == "min" else -v)  # everything minimised from here on
    m = np.column_stack(cols)
    valid = ~np.isnan(m).any(axis=1)
    on = np.zeros(len(frame), dtype=bool)
    idx = np.flatnonzero(valid)
    sub = m[idx]
    for j, row in zip(idx, sub):
        le = (sub <= row).all(axis=1)
        lt = (sub < row).any(axis=1)
        on[j] = not (le & lt).any()
    return pd.Series(on, index=frame.index, name="pareto")


def fronts(points: pd.DataFrame, quality: tuple[str, str], cost: str, by: str | None = "acc") -> pd.DataFrame:
    """The points that have both values, with `pareto` (front within their `by` group, e.g. per
    accumulator) and `pareto_all` (front over every point). Sorted by group, then cost."""
    q, _ = quality
    need = [c for c in (q, cost, by) if c]
    missing = [c for c in need if c not in points.columns]
    if missing:
        raise DataError(f"sweep results must have columns {need}, missing {missing}")
    # Points with both values take part whatever their status (a failed energy stage does not
    # make the area wrong); `verified` travels with them for the reader.
    df = points.dropna(subset=[q, cost]).copy()
    if df.empty:
        return df.assign(pareto=pd.Series(dtype=bool), pareto_all=pd.Series(dtype=bool))
    objectives = [(cost, "min"), quality]
    df["pareto_all"] = non_dominated(df, objectives)
    if by:
        df["pareto"] = False
        for _, g in df.groupby(by, sort=False):
            df.loc[g.index, "pareto"] = non_dominated(g, objectives)
    else:
        df["pareto"] = df["pareto_all"]
    return df.sort_values([by, cost] if by else [cost]).reset_index(drop=True)
