"""Arrays costed: synthesised R x C output-stationary MAC arrays against the single MAC.

    array_area(in_fmt, acc, rows, cols, library="ge", cache_dir=None, synth_mode="auto") -> dict
        Yosys area of rtl.array.MacArray (skew, forwarding and drain logic included) and of the
        single rtl.mac.Mac, per MAC, with synthesis time and provenance. synth_mode (SYNTH_MODES):
          "inline": rtl.synth.synthesize on the array as amaranth emits it (one module per PE,
                    each optimised and ABC-mapped on its own, then flattened); <= MAX_INLINE_DIM
          "hier":   rtl.synth.synthesize_hier on the array with one shared PE module
                    (rtl.array.shared_pe_rtlil): the PE is mapped once and instanced R x C times;
                    area = the mapped netlist flattened (area_hier_<u>: sum of module areas x
                    instances, before the dead-logic clean-up flattening allows)
          "flat":   flattened before optimisation and mapping (ABC optimises across PEs);
                    <= MAX_INLINE_DIM, a comparison
          "auto":   "inline" up to MAX_INLINE_DIM (the results the report has always had),
                    "hier" above. 1x1 is the MAC itself whatever the mode ("mac").
    array_energy(in_fmt, acc, rows, cols, k=64, tiles=8, dist="gaussian", seed=0, ...) -> dict
        pJ per MAC from gate-level simulation (sim.energy.simulate) of the array's netlist on
        GEMM tiles: A (R x K) and B (K x C) drawn from `dist` and quantised to the format, fed
        back to back (clear with each tile's first step, a drain pulse with its last); energy
        = k_cal x weighted toggles / (tiles x R x C x K), with sim.energy's one calibration
        constant. Operand buses wider than 64 bits go to the simulator as 64-bit words.
    array_table(designs, sizes, ..., energy_sizes=()) -> DataFrame, one row per (design, size)
    block_array_area / block_array_energy / block_array_table: the same for arrays of block dot
        units (rtl.blockdot.BlockDotArray, broadcast or systolic skew), per element product
        against the single unit.
    fit_energy_law(df, holdout) -> AreaLaw: the same law for the array's energy per cycle
    fit_area_law(df, holdout) -> AreaLaw: area(R, C) = a*R*C + b*(R(R-1) + C(C-1))/2 + c, fitted
        by least squares on every size except `holdout`, checked on it; `predict` extrapolates.
        Physical reading: a = one PE (MAC + its forwarding registers + its share of the drain
        mux), b = one skew register stage of one lane (the triangles of delay registers that
        skew A's rows and B's columns), c = the drain counter and fixed logic.

MAX_SYNTH_DIM (16): the largest R or C synthesised here (hierarchically above 8x8; see
benchmarks/bench_arrays.py for the times); larger sizes are extrapolated by the law, whose error
is stated on the held-out size.
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

# The largest R or C synthesised here. One module per PE (inline) costs ABC and Yosys' per-module
# passes (fsm, opt_clean) R x C times: INT8->Kulisch 8x8 takes 25-60 s of Yosys, 16x16 230 s,
# FP8-E4M3->FP32 8x8 230 s (2 shared, loaded cores). The hierarchical flow maps the PE once:
# 16x16 in 25-120 s, most of it flattening, writing and cleaning the 256-PE netlist. 32x32 and
# up are extrapolated by the fitted law (benchmarks/bench_arrays.py measures the times).
MAX_SYNTH_DIM = 16
MAX_INLINE_DIM = 8        # the largest R or C the "inline" and "flat" modes take
SYNTH_MODES = ("auto", "inline", "hier", "flat")
BLOCK_MAX_DIM = MAX_INLINE_DIM   # block dot arrays have no hierarchical flow: area and energy stop here
MAX_SIM_BUS_BITS = 64     # block units: sim.energy.block_energy still drives ports of at most 64 bits
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


def synth_mode_for(rows: int, cols: int, synth_mode: str = "auto") -> str:
    """The flow array_area uses for an R x C array: "mac" (1x1), "inline", "hier" or "flat"."""
    if synth_mode not in SYNTH_MODES:
        raise UnsupportedConfig(f"synth_mode must be one of {', '.join(SYNTH_MODES)}, not {synth_mode!r}")
    check_size(rows, cols)
    if rows == cols == 1:
        return "mac"
    if synth_mode == "auto":
        return "inline" if max(rows, cols) <= MAX_INLINE_DIM else "hier"
    if synth_mode in ("inline", "flat"):
        check_size(rows, cols, MAX_INLINE_DIM)
    return synth_mode


def array_area(in_fmt, acc, rows: int, cols: int, library: str = "ge", cache_dir=None,
               synth_mode: str = "auto") -> dict:
    """Area of the R x C array and of one MAC (1x1 is the MAC itself), per MAC, with provenance
    (synth_mode: see the module docstring; the row says which flow ran)."""
    from rtl.array import shared_pe_rtlil
    from rtl.synth import synthesize, synthesize_hier
    mode = synth_mode_for(rows, cols, synth_mode)
    t0 = time.perf_counter()
    if mode == "hier":
        from rtl.array import ArrayConfig
        from rtl.config import MacConfig
        mac_cfg = MacConfig(in_fmt, acc)
        text, top = shared_pe_rtlil(ArrayConfig(mac_cfg.in_fmt, mac_cfg.acc, rows, cols))
        r = synthesize_hier(text, library, top=top, cache_dir=cache_dir)
    else:
        comp, name, _ = _design(in_fmt, acc, rows, cols)
        r = synthesize(comp, library, top=name, cache_dir=cache_dir, flatten=mode == "flat")
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
            f"seq_area_{u}": r.sequential_area, f"area_hier_{u}": r.area_hier, "synth_mode": mode,
            "n_cells": r.n_cells, "logic_depth": r.logic_depth, "delay_fo4": r.delay_fo4,
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
                energy_sizes=(), k: int = 64, tiles: int = 8, synth_mode: str = "auto") -> pd.DataFrame:
    """One row per (design, square size): array_area, plus array_energy where size is in
    energy_sizes (pj_per_mac, mac_pj_per_mac = the 1x1's, energy_per_mac_vs_mac)."""
    rows = []
    for f, a in designs:
        e1 = None
        for s in sizes:
            row = array_area(f, a, s, s, library, cache_dir, synth_mode)
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


# ---------------------------------------------------------------------------------------------
# Block-scaled arrays (rtl.blockdot.BlockDotArray): area per element product against one unit
# ---------------------------------------------------------------------------------------------
def _block_design(fmt, acc, rows, cols, lanes, skew):
    """(component, top name) of the R x C block dot array of block format `fmt` (1x1: the
    BlockDotUnit itself, whatever `skew`)."""
    from hwmodel.formats import parse_format
    from rtl.blockdot import BlockDotArrayConfig, BlockDotConfig
    f = parse_format(fmt)
    if not hasattr(f, "block_size"):
        raise UnsupportedConfig(f"a block array needs a block format (mxfp4, mxfp8_e4m3, ...), "
                                f"not {f.name!r}")
    unit = BlockDotConfig.of(f, acc=acc, lanes=lanes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rows == 1 and cols == 1:
            return unit.create(), unit.name, unit
        cfg = BlockDotArrayConfig(unit, rows, cols, skew=bool(skew))
        return cfg.create(), cfg.name, cfg


def block_array_area(fmt, acc, rows: int, cols: int, lanes: int = 8, skew: bool = False,
                     library: str = "ge", cache_dir=None) -> dict:
    """Yosys area of the R x C array of block dot units (rtl.blockdot.BlockDotArray; skew=False:
    broadcast operands, every accumulator an output; skew=True: systolic skew, forwarding
    registers and drain, as rtl.array.MacArray) and of the single unit, per element product
    (R x C x lanes products a cycle), with synthesis time and provenance; array_area's shape,
    with `macs` = element products a cycle. 1x1 is the unit itself."""
    from rtl.synth import synthesize
    check_size(rows, cols, limit=BLOCK_MAX_DIM)
    comp, name, _ = _block_design(fmt, acc, rows, cols, lanes, skew)
    t0 = time.perf_counter()
    r = synthesize(comp, library, top=name, cache_dir=cache_dir)
    wall = time.perf_counter() - t0
    if rows == cols == 1:
        one = r
    else:
        ucomp, uname, _ = _block_design(fmt, acc, 1, 1, lanes, skew)
        one = synthesize(ucomp, library, top=uname, cache_dir=cache_dir)
    u = r.area_unit
    products = rows * cols * lanes
    return {"in_fmt": fmt, "acc": acc, "rows": rows, "cols": cols, "lanes": lanes,
            "skew": bool(skew) and rows * cols > 1, "macs": products, "library": r.library,
            f"area_{u}": r.area, f"area_per_mac_{u}": r.area / products,
            f"mac_area_{u}": one.area / lanes, f"unit_area_{u}": one.area,
            "area_per_mac_vs_mac": r.area / (rows * cols) / one.area,
            f"seq_area_{u}": r.sequential_area, "n_cells": r.n_cells, "delay_fo4": r.delay_fo4,
            "synth_time_s": r.time_s, "wall_time_s": wall, "from_cache": r.from_cache,
            "netlist_sha256": r.netlist_sha256, "area_source": r.source}


def block_array_energy(fmt, acc, rows: int, cols: int, lanes: int = 8, skew: bool = False,
                       n_blocks: int = 64, dot_blocks: int = 4, dist: str = "gaussian", seed: int = 0,
                       library: str = "ge", cache_dir=None, n_cal: int = 2000) -> dict:
    """pJ per element product of the R x C block dot array (1x1: the unit) from gate-level
    simulation (sim.energy.simulate) of its netlist: R row and C column operands of n_blocks
    blocks each, drawn from `dist` and block-quantised by the format's own scale rule
    (hwmodel.blockscaled.quantize_blocks), streamed back to back, `clear` every `dot_blocks`
    blocks (skew: a drain pulse with each dot's last beat, as array_energy does). Energy =
    k_cal x weighted toggles / (cycles x R x C x lanes), sim.energy's one calibration constant.
    The operand ports (R x lanes x element bits, C x ...) must fit the simulator's 64 bits."""
    from types import SimpleNamespace

    from hwmodel import blockscaled as BS
    from hwmodel import energy as emodel
    from hwmodel.formats import parse_format
    from sim import energy as senergy

    check_size(rows, cols, limit=BLOCK_MAX_DIM)
    for what, v, lo in (("n_blocks", n_blocks, 2), ("dot_blocks", dot_blocks, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise UnsupportedConfig(f"{what} must be an int >= {lo}, not {v!r}")
    comp, name, cfg = _block_design(fmt, acc, rows, cols, lanes, skew)
    unit = cfg if rows == cols == 1 else cfg.unit
    L, bs, beats = unit.lanes, unit.block_size, unit.beats
    widths = {"a": rows * L * unit.elem_a.bits, "b": cols * L * unit.elem_b.bits,
              "sa": rows * unit.scale_a.bits, "sb": cols * unit.scale_b.bits}
    wide = {k: v for k, v in widths.items() if v > MAX_SIM_BUS_BITS}
    if wide:
        raise UnsupportedConfig(f"block array energy needs operand ports of at most "
                                f"{MAX_SIM_BUS_BITS} bits (the simulator's port limit), not {wide} "
                                f"(use fewer lanes)")
    cache_dir = Path(cache_dir) if cache_dir else senergy.DEFAULT_CACHE
    d = emodel.check_distribution(dist)
    net = senergy.synthesize(comp, name, library, cache_dir)
    cal = senergy.calibration(library, cache_dir, n_cal, seed)
    rng = np.random.default_rng(seed)
    f = parse_format(fmt)

    def operands(elem, scale, count):
        line = SimpleNamespace(element=elem, scale=scale, block_size=bs, rule=f.rule,
                               tensor_scale=getattr(f, "tensor_scale", None))
        out = []
        for _ in range(count):
            q = BS.quantize_blocks(line, emodel.sample(d, n_blocks * bs, rng))
            out.append((np.asarray(q.scales, np.uint64), np.asarray(q.elements, np.uint64)))
        return out

    A = operands(unit.elem_a, unit.scale_a, rows)
    B = operands(unit.elem_b, unit.scale_b, cols)
    n = n_blocks * beats
    cyc = np.arange(n)
    blk = cyc // beats

    def words(ops, ebits, sbits):
        # beat t: lanes of operand 0, then operand 1, ... (ArrayLayout order); scales likewise
        e = np.concatenate([o[1].reshape(n, L) for o in ops], axis=1)
        s = np.stack([o[0][blk] for o in ops], axis=1)
        return (_pack(e, ebits), _pack(s, sbits))

    a_w, sa_w = words(A, unit.elem_a.bits, unit.scale_a.bits)
    b_w, sb_w = words(B, unit.elem_b.bits, unit.scale_b.bits)
    clear = ((cyc % beats == 0) & (blk % dot_blocks == 0)).astype(np.uint64)
    stim = {"a": a_w, "b": b_w, "sa": sa_w, "sb": sb_w, "valid_in": np.ones(n, np.uint64),
            "clear": clear}
    if rows * cols > 1 and skew:
        stim["drain"] = ((cyc % beats == beats - 1) & (blk % dot_blocks == dot_blocks - 1)
                         ).astype(np.uint64)
    t0 = time.perf_counter()
    res = senergy.simulate(net, stim, cache_dir)
    weights, _ = senergy.weights_for(net)
    wt = emodel.weighted_toggles(res.toggles, weights)
    products = n * rows * cols * L
    mode = "" if rows * cols == 1 else (" systolic skew" if skew else " broadcast")
    return {"in_fmt": fmt, "acc": acc, "rows": rows, "cols": cols, "lanes": L,
            "skew": bool(skew) and rows * cols > 1, "n_blocks": n_blocks, "dist": d, "seed": seed,
            "pj_per_mac": cal.k_pj * wt / products, "weighted_toggles_per_mac": wt / products,
            "k_pj_per_toggle": cal.k_pj, "sim_time_s": res.sim_time_s,
            "build_time_s": res.build_time_s, "wall_time_s": time.perf_counter() - t0,
            "netlist_sha256": net.netlist_hash,
            "energy_source": (f"our gate-level simulation of the {rows}x{cols}{mode} block dot "
                              f"netlist on {n_blocks} blocks per operand ({d} operands, seed "
                              f"{seed}), calibrated once on Horowitz's 8-bit multiply (sim.energy)")}


BLOCK_DESIGNS = (("mxfp4", "fp32"), ("mxfp8_e4m3", "fp32"))


def block_array_table(designs=BLOCK_DESIGNS, sizes=(1, 2, 4), *, lanes: int = 8,
                      skews=(False, True), library: str = "ge", cache_dir=None,
                      energy_sizes=(), energy_lanes: int | None = None) -> pd.DataFrame:
    """One row per (block format, accumulator, square size, broadcast|skew): block_array_area,
    plus block_array_energy where the size is in energy_sizes (pj_per_mac, mac_pj_per_mac = the
    1x1 unit's with the same lanes, energy_per_mac_vs_mac; energy_lanes: the lanes for the
    energy runs, default `lanes`, fewer where the operand ports would pass 64 bits). 1x1 appears
    once (it is the unit)."""
    out = []
    el = lanes if energy_lanes is None else energy_lanes
    for f, a in designs:
        e1 = None
        for s in sizes:
            for skew in ((False,) if s == 1 else skews):
                row = block_array_area(f, a, s, s, lanes, skew, library, cache_dir)
                if s in energy_sizes:
                    e = block_array_energy(f, a, s, s, el, skew, library=library, cache_dir=cache_dir)
                    if e1 is None:
                        e1 = e if s == 1 else block_array_energy(f, a, 1, 1, el, library=library,
                                                                 cache_dir=cache_dir)
                    row.update({"energy_lanes": el, "pj_per_mac": e["pj_per_mac"],
                                "mac_pj_per_mac": e1["pj_per_mac"],
                                "energy_per_mac_vs_mac": e["pj_per_mac"] / e1["pj_per_mac"],
                                "sim_time_s": e["sim_time_s"], "energy_source": e["energy_source"]})
                out.append(row)
    return pd.DataFrame(out)
