"""Data-dependent energy per MAC from gate-level simulation of the synthesised MAC unit.

Flow (one design): rtl.mac.Mac -> the project's Yosys flow mapped onto a Liberty library
(sim/netlist.py) -> Verilator model with cell models generated from the Liberty functions, run on
an operand stream after reset, toggles per cell output pin (sim/toggles.py) -> hwmodel.energy's
weighted-toggle model -> pJ per MAC with the one constant of sim/horowitz.py's calibration.

Public API:
    mac_energy(in_fmt, acc, dist, n=4096, library="ge", seed=0, cache_dir) -> dict
        pj_per_mac, pj_per_mac_<part>, toggles_per_mac, zero_operand_fraction, provenance ...
    operand_codes(fmt, dist, n, rng, amax=None) -> codes
    operand_amax(cfg, dot_length) -> largest operand magnitude of a MAC stream
The gate-level pieces stay importable from here: synthesize, Netlist (sim/netlist.py); simulate,
SimResult, build_sim (sim/toggles.py); operation_energy, calibration, Calibration,
horowitz_comparison (sim/horowitz.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwmodel import energy as emodel
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import FloatFormat, parse_format
from sim.horowitz import Calibration, calibration, horowitz_comparison, operation_energy
from sim.netlist import Netlist, synthesize
from sim.toggles import (DEFAULT_CACHE, FLOW_VERSION, SimResult, build_sim, result_cache,
                         result_key, simulate, weights_for)

__all__ = ["DOT_LENGTH", "mac_energy", "operand_codes", "operand_amax",
           # re-exported: the gate-level flow this module builds on
           "Netlist", "synthesize", "SimResult", "simulate", "build_sim", "weights_for",
           "Calibration", "calibration", "operation_energy", "horowitz_comparison",
           "DEFAULT_CACHE", "FLOW_VERSION"]


def _nonfinite(cfg, outputs) -> float | None:
    """Fraction of cycles whose float accumulator holds inf/NaN (None for int/Kulisch)."""
    if cfg.acc.kind != "float" or "acc_out" not in outputs:
        return None
    F = cfg.acc.fmt
    e = (outputs["acc_out"] >> np.uint64(F.man_bits)) & np.uint64((1 << F.exp_bits) - 1)
    return float(np.mean(e == (1 << F.exp_bits) - 1))


DOT_LENGTH = 256   # products per accumulation between clears (one output of a GEMM with K = 256)


def operand_codes(fmt, dist: str, n: int, rng: np.random.Generator, amax: float | None = None) -> np.ndarray:
    """n codes of `fmt` drawn from `dist` (hwmodel.energy.sample), absmax-scaled per tensor to
    `amax` (default: the format's largest finite value) and quantised with hwmodel.numerics.encode
    (RNE, saturating)."""
    from hwmodel.numerics import encode
    f = parse_format(fmt) if isinstance(fmt, str) else fmt
    x = emodel.sample(dist, n, rng)
    top = f.max_normal if isinstance(f, FloatFormat) else f.max_value
    top = min(top, amax) if amax else top
    return np.asarray(encode(f, emodel.scale_to_format(x, top), saturate=True), dtype=np.uint64)


def operand_amax(cfg, dot_length: int) -> float:
    """Largest operand magnitude for a MAC stream: the format's maximum, lowered for a float
    accumulator so that dot_length products of that size cannot overflow it (an overflowed
    accumulator sticks at inf and stops toggling, which would fake a low energy)."""
    f = cfg.mul.fmt_a
    top = f.max_normal if isinstance(f, FloatFormat) else f.max_value
    if cfg.acc.kind == "float":
        top = min(top, float(np.sqrt(cfg.acc.fmt.max_normal / dot_length)))
    return top


def mac_energy(in_fmt, acc, dist: str = "gaussian", n: int = 4096, library: str = "ge",
               seed: int = 0, cache_dir: Path = DEFAULT_CACHE, dot_length: int = DOT_LENGTH,
               n_cal: int = 2000) -> dict:
    """pJ per MAC of rtl.mac.Mac(MacConfig(in_fmt, acc)) under a stream of n MACs whose operands
    (a and b independently) are drawn from `dist`; the accumulator is cleared every `dot_length`
    products. Energy = k * weighted toggles / n, with k from `calibration(library)` (the one
    constant). Cached by content hash of netlist, library, stimulus spec and flow version.

    Returns a dict with format, acc, dist, n, seed, pj_per_mac, weighted_toggles_per_mac,
    k_pj_per_toggle, area, cells, toggle_rate (output toggles per cell per MAC) and provenance.
    """
    from rtl.config import MacConfig
    from rtl.mac import Mac

    d = emodel.check_distribution(dist)
    if not isinstance(n, int) or n < 16:
        raise UnsupportedConfig(f"number of MACs n must be an int >= 16, not {n!r}")
    cfg = MacConfig(in_fmt, acc)
    f = cfg.mul.fmt_a
    netlist = synthesize(Mac(cfg), cfg.name, library, cache_dir)
    cal = calibration(library, cache_dir, n_cal, seed)
    key = result_key("mac", netlist.verilog, netlist.liberty_text, d, n, seed, dot_length)
    hit = result_cache(cache_dir).get(key)
    if hit is None:
        rng = np.random.default_rng(seed)
        amax = operand_amax(cfg, dot_length)
        a, b = operand_codes(f, d, n, rng, amax), operand_codes(f, d, n, rng, amax)
        clear = (np.arange(n) % dot_length == 0).astype(np.uint64)
        res = simulate(netlist, {"a": a, "b": b, "valid_in": np.ones(n, np.uint64), "clear": clear},
                       cache_dir)
        weights, unit = weights_for(netlist)
        wt = emodel.weighted_toggles(res.toggles, weights)
        by_part = {f"weighted_toggles_per_mac_{part}": emodel.weighted_toggles(g, weights) / n
                   for part, g in res.toggles.groupby("part")}
        hit = {"weighted_toggles_per_mac": wt / n, "weight_unit": unit, **by_part,
               "toggles_per_mac": float(res.toggles["toggles"].sum()) / n,
               "cells": int(res.toggles["instances"].sum()),
               "zero_operand_fraction": float(np.mean((a & np.uint64((1 << (f.bits - 1)) - 1)) == 0)),
               "operand_amax": amax, "acc_nonfinite_fraction": _nonfinite(cfg, res.outputs),
               "sim_time_s": res.sim_time_s}
        result_cache(cache_dir).put(key, hit)
    out = {"format": f.name, "acc": cfg.acc_name, "config": cfg.name, "dist": d, "n": n,
           "seed": seed, "dot_length": dot_length, "library": netlist.library,
           "pj_per_mac": cal.k_pj * hit["weighted_toggles_per_mac"],
           **{"pj_per_mac_" + k.removeprefix("weighted_toggles_per_mac_"): cal.k_pj * v
              for k, v in hit.items() if k.startswith("weighted_toggles_per_mac_")},
           "k_pj_per_toggle": cal.k_pj, "area": netlist.area, "area_unit": netlist.area_unit, **hit,
           "netlist_sha256": netlist.netlist_hash, **netlist.provenance,
           "source": "our gate-level simulation (Yosys + Verilator, zero-delay), calibrated once "
                     "on Horowitz's 8-bit multiply (0.2 pJ, 45 nm)"}
    return out
