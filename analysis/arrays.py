"""Arrays costed: synthesised R x C output-stationary MAC arrays against the single MAC.

    array_area(in_fmt, acc, rows, cols, library="ge", cache_dir=None) -> dict
        Yosys area of rtl.array.MacArray (skew, forwarding and drain logic included) and of the
        single rtl.mac.Mac, per MAC, with synthesis time and provenance.
    array_energy(in_fmt, acc, rows, cols, k=64, tiles=8, dist="gaussian", seed=0, ...) -> dict
        pJ per MAC from gate-level simulation (sim.energy.simulate) of the array's netlist on
        GEMM tiles: A (R x K) and B (K x C) drawn from `dist` and quantised to the format, fed
        back to back (clear with each tile's first step, a drain pulse with its last); energy
        = k_cal x weighted toggles / (tiles x R x C x K), with sim.energy's one calibration
        constant. Operand buses wider than 64 bits go to the simulator as 64-bit words.
    array_table(designs, sizes, ..., energy_sizes=()) -> DataFrame, one row per (design, size)
    fit_energy_law(df, holdout) -> AreaLaw: the same law for the array's energy per cycle
    fit_area_law(df, holdout) -> AreaLaw: area(R, C) = a*R*C + b*(R(R-1) + C(C-1))/2 + c, fitted
        by least squares on every size except `holdout`, checked on it; `predict` extrapolates.
        Physical reading: a = one PE (MAC + its forwarding registers + its share of the drain
        mux), b = one skew register stage of one lane (the triangles of delay registers that
        skew A's rows and B's columns), c = the drain counter and fixed logic.

MAX_SYNTH_DIM (8): the largest R = C this flow synthesises here (16x16 exceeds rtl.synth's 600 s
Yosys limit on 2 shared cores; see benchmarks/bench_arrays.py); larger sizes are extrapolated by
the law, whose error is stated on the held-out size.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel.errors import UnsupportedConfig

# The largest R = C synthesised here: 8x8 takes ~70 s of Yosys (INT8 into Kulisch, 2 shared
# cores); 16x16 did not finish within rtl.synth's 600 s Yosys limit, so 16x16 and up are
# extrapolated by the fitted law (benchmarks/bench_arrays.py measures the times).
MAX_SYNTH_DIM = 8
DEFAULT_SIZES = (1, 2, 4, 8)
DESIGNS = (("int8", "kulisch"), ("int8", "fp32"), ("float8_e4m3fn", "kulisch"), ("float8_e4m3fn", "fp32"))


def check_size(rows: int, cols: int, limit: int = MAX_SYNTH_DIM) -> None:
    for what, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= limit:
            raise UnsupportedConfig(f"array {what} must be an int in 1..{limit} (larger arrays take "
                                    f"too long to synthesise here: use the fitted law), not {v!r}")


def _design(in_fmt, acc, rows, cols):
    from rtl.array import ArrayConfig, MacArray
    from rtl.config import MacConfig
    from rtl.mac import Mac
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rows == 1 and cols == 1:
            cfg = MacConfig(in_fmt, acc)
            return Mac(cfg), cfg.name, cfg
        cfg = ArrayConfig(in_fmt, acc, rows, cols)
        return MacArray(cfg), cfg.name, cfg


def array_area(in_fmt, acc, rows: int, cols: int, library: str = "ge", cache_dir=None) -> dict:
    """Area of the R x C array and of one MAC (1x1 is the MAC itself), per MAC, with provenance."""
    from rtl.synth import synthesize
    check_size(rows, cols)
    comp, name, _ = _design(in_fmt, acc, rows, cols)
    t0 = time.perf_counter()
    r = synthesize(comp, library, top=name, cache_dir=cache_dir)
    wall = time.perf_counter() - t0
    if rows == cols == 1:
        mac = r
    else:
        mcomp, mname, _ = _design(in_fmt, acc, 1, 1)
        mac = synthesize(mcomp, library, top=mname, cache_dir=cache_dir)
    u = r.area_unit
    pes = rows * cols
    return {"in_fmt": in_fmt, "acc": acc, "rows": rows, "cols": cols, "macs": pes, "library": r.library,
            f"area_{u}": r.area, f"area_per_mac_{u}": r.area / pes, f"mac_area_{u}": mac.area,
            "area_per_mac_vs_mac": r.area / pes / mac.area,
            f"seq_area_{u}": r.sequential_area, "n_cells": r.n_cells, "delay_fo4": r.delay_fo4,
            "synth_time_s": r.time_s, "wall_time_s": wall, "from_cache": r.from_cache,
            "netlist_sha256": r.netlist_sha256, "area_source": r.source}


def _pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """Lane i of each row in bits [i*bits, (i+1)*bits): rows of codes -> one integer per row, as
    uint64 words [row, word] (least significant first) when the lanes need more than 64 bits."""
    words = max(1, -(-codes.shape[1] * bits // 64))
    out = np.zeros((codes.shape[0], words), dtype=np.uint64)
    for i in range(codes.shape[1]):
        v = codes[:, i].astype(np.uint64) & np.uint64((1 << bits) - 1)
        w, off = divmod(i * bits, 64)
        out[:, w] |= v << np.uint64(off)
        if off + bits > 64:
            out[:, w + 1] |= v >> np.uint64(64 - off)
    return out[:, 0] if words == 1 else out


def array_energy(in_fmt, acc, rows: int, cols: int, k: int = 64, tiles: int = 8, dist: str = "gaussian",
                 seed: int = 0, library: str = "ge", cache_dir=None, n_cal: int = 2000) -> dict:
    """pJ per MAC of the array on GEMM tiles (see module doc); 1x1 runs the MAC the same way."""
    from hwmodel import energy as emodel
    from sim import energy as senergy

    check_size(rows, cols)
    if not isinstance(k, int) or k < 1 or not isinstance(tiles, int) or tiles < 1:
        raise UnsupportedConfig(f"k and tiles must be ints >= 1, not {k!r}, {tiles!r}")
    comp, name, cfg = _design(in_fmt, acc, rows, cols)
    mac_cfg = cfg if rows == cols == 1 else cfg.mac
    bits = mac_cfg.in_fmt.bits
    cache_dir = Path(cache_dir) if cache_dir else senergy.DEFAULT_CACHE
    d = emodel.check_distribution(dist)
    net = senergy.synthesize(comp, name, library, cache_dir)
    cal = senergy.calibration(library, cache_dir, n_cal, seed)
    rng = np.random.default_rng(seed)
    amax = senergy.operand_amax(mac_cfg, k)
    f = mac_cfg.mul.fmt_a
    A = senergy.operand_codes(f, d, tiles * rows * k, rng, amax).reshape(tiles, rows, k)
    B = senergy.operand_codes(f, d, tiles * k * cols, rng, amax).reshape(tiles, k, cols)
    n = tiles * k
    step = np.arange(n) % k
    valid = np.ones(n, np.uint64)
    clear = (step == 0).astype(np.uint64)
    if rows == cols == 1:
        stim = {"a": A[:, 0, :].reshape(-1), "b": B[:, :, 0].reshape(-1), "valid_in": valid, "clear": clear}
    else:
        a_col = np.concatenate([_pack(A[t].T, bits) for t in range(tiles)])     # column k of A
        b_row = np.concatenate([_pack(B[t], bits) for t in range(tiles)])       # row k of B
        stim = {"a_col": a_col, "b_row": b_row, "valid_in": valid, "clear": clear,
                "drain": (step == k - 1).astype(np.uint64)}
    t0 = time.perf_counter()
    res = senergy.simulate(net, stim, cache_dir)
    weights, unit = senergy.weights_for(net)
    wt = emodel.weighted_toggles(res.toggles, weights)
    macs = n * rows * cols
    return {"in_fmt": in_fmt, "acc": acc, "rows": rows, "cols": cols, "k": k, "tiles": tiles, "dist": d,
            "seed": seed, "pj_per_mac": cal.k_pj * wt / macs, "weighted_toggles_per_mac": wt / macs,
            "k_pj_per_toggle": cal.k_pj, "sim_time_s": res.sim_time_s, "build_time_s": res.build_time_s,
            "wall_time_s": time.perf_counter() - t0, "netlist_sha256": net.netlist_hash,
            "energy_source": (f"our gate-level simulation of the {rows}x{cols} netlist on {tiles} GEMM tiles "
                              f"(K={k}, {d} operands, seed {seed}), calibrated once on Horowitz's 8-bit "
                              f"multiply (sim.energy)")}


def array_table(designs=DESIGNS, sizes=DEFAULT_SIZES, *, library: str = "ge", cache_dir=None,
                energy_sizes=(), k: int = 64, tiles: int = 8) -> pd.DataFrame:
    """One row per (design, square size): array_area, plus array_energy where size is in
    energy_sizes (pj_per_mac, mac_pj_per_mac = the 1x1's, energy_per_mac_vs_mac)."""
    rows = []
    for f, a in designs:
        e1 = None
        for s in sizes:
            row = array_area(f, a, s, s, library, cache_dir)
            if s in energy_sizes:
                e = array_energy(f, a, s, s, k=k, tiles=tiles, library=library, cache_dir=cache_dir)
                if e1 is None:
                    e1 = e if s == 1 else array_energy(f, a, 1, 1, k=k, tiles=tiles, library=library,
                                                        cache_dir=cache_dir)
                row.update({"pj_per_mac": e["pj_per_mac"], "mac_pj_per_mac": e1["pj_per_mac"],
                            "energy_per_mac_vs_mac": e["pj_per_mac"] / e1["pj_per_mac"],
                            "sim_time_s": e["sim_time_s"], "sim_build_time_s": e["build_time_s"],
                            "energy_source": e["energy_source"]})
            rows.append(row)
    return pd.DataFrame(rows)


def _features(r, c) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    c = np.asarray(c, dtype=float)
    return np.stack([r * c, (r * (r - 1) + c * (c - 1)) / 2, np.ones_like(r)], axis=-1)


@dataclass(frozen=True)
class AreaLaw:
    """area(R, C) = a*R*C + b*(R(R-1) + C(C-1))/2 + c, in the area unit of the fit."""
    a: float
    b: float
    c: float
    unit: str
    fit_sizes: tuple
    holdout: tuple | None
    holdout_measured: float | None
    holdout_predicted: float | None

    @property
    def holdout_error(self) -> float | None:
        """Relative error of the prediction on the held-out size ((pred - measured) / measured)."""
        if self.holdout_measured is None:
            return None
        return (self.holdout_predicted - self.holdout_measured) / self.holdout_measured

    def predict(self, rows, cols) -> np.ndarray:
        return _features(rows, cols) @ np.array([self.a, self.b, self.c])

    def per_mac(self, rows, cols) -> np.ndarray:
        return self.predict(rows, cols) / (np.asarray(rows, float) * np.asarray(cols, float))


def fit_area_law(df: pd.DataFrame, holdout: tuple[int, int] | None = None, unit: str = "ge") -> AreaLaw:
    """Least-squares fit of AreaLaw on df's rows (one design: columns rows, cols, area_<unit>)
    except `holdout`, which is predicted and compared. At least 3 fit sizes are needed."""
    col = f"area_{unit}"
    keys = list(zip(df["rows"].astype(int), df["cols"].astype(int)))
    fit = df[[kk != holdout for kk in keys]]
    if len(fit) < 3:
        raise UnsupportedConfig(f"the area law has 3 parameters: it needs at least 3 fitted sizes, "
                                f"not {len(fit)}")
    X = _features(fit["rows"], fit["cols"])
    coef, *_ = np.linalg.lstsq(X, fit[col].to_numpy(dtype=float), rcond=None)
    law = AreaLaw(*map(float, coef), unit=unit, fit_sizes=tuple(zip(fit["rows"], fit["cols"])),
                  holdout=holdout, holdout_measured=None, holdout_predicted=None)
    if holdout is not None:
        h = df[[kk == holdout for kk in keys]]
        if h.empty:
            raise UnsupportedConfig(f"held-out size {holdout} must be among the measured sizes")
        meas = float(h[col].iloc[0])
        law = AreaLaw(law.a, law.b, law.c, unit, law.fit_sizes, holdout, meas,
                      float(law.predict(*holdout)))
    return law


def fit_energy_law(df: pd.DataFrame, holdout: tuple[int, int] | None = None) -> AreaLaw:
    """The same law for energy: the array's energy per cycle (pj_per_mac x R x C, in pJ) =
    a*R*C + b*(R(R-1) + C(C-1))/2 + c, fitted on the sizes with a measured pj_per_mac except
    `holdout`; `per_mac` then gives pJ per MAC. Unit "pj"."""
    m = df[pd.to_numeric(df.get("pj_per_mac"), errors="coerce") > 0]
    e = m.assign(area_pj=m["pj_per_mac"] * m["rows"] * m["cols"])
    return fit_area_law(e, holdout, unit="pj")


def law_table(df: pd.DataFrame, extrapolate=(32, 64, 128), unit: str = "ge") -> pd.DataFrame:
    """Per design: the law fitted on all but its largest measured square size (held out), its
    held-out error, and the per-MAC area it predicts for `extrapolate` sizes."""
    out = []
    for (f, a), g in df.groupby(["in_fmt", "acc"], sort=False):
        largest = int(g["rows"].max())
        law = fit_area_law(g, (largest, largest), unit)
        mac = float(g[f"mac_area_{unit}"].iloc[0])
        row = {"in_fmt": f, "acc": a, "a_per_pe": law.a, "b_per_skew_stage": law.b, "c_fixed": law.c,
               "holdout": f"{largest}x{largest}", "holdout_error": law.holdout_error,
               f"mac_area_{unit}": mac}
        for s in extrapolate:
            row[f"per_mac_{s}x{s}_{unit}"] = float(law.per_mac(s, s))
            row[f"per_mac_{s}x{s}_vs_mac"] = float(law.per_mac(s, s)) / mac
        out.append(row)
    return pd.DataFrame(out)
