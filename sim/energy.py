"""Data-dependent energy per MAC from gate-level simulation of the synthesised MAC unit.

Flow (one design): rtl.mac.Mac -> the project's Yosys flow mapped onto a Liberty library
(sim/netlist.py) -> Verilator model with cell models generated from the Liberty functions, run on
an operand stream after reset, toggles per cell output pin (sim/toggles.py) -> hwmodel.energy's
weighted-toggle model -> pJ per MAC with the one constant of sim/horowitz.py's calibration.

Public API:
    mac_energy(in_fmt, acc, dist, n=4096, library="ge", seed=0, cache_dir) -> dict
        pj_per_mac, pj_per_mac_<part>, toggles_per_mac, zero_operand_fraction, provenance ...
    block_energy(block_fmt, acc, lanes=None, dist, n_blocks=256, library="ge", seed=0, cache_dir)
        -> dict: pj_per_product (per element product), pj_per_product_<part> for the parts of
        rtl.blockdot.PARTS, toggles, provenance ...
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

__all__ = ["DOT_LENGTH", "mac_energy", "block_energy", "block_ports_unsupported", "operand_codes", "operand_amax",
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


def _block_part(name: str) -> str:
    """The rtl.blockdot.PARTS part of a BlockDotUnit submodule instance name (rtl.blockdot.split_area)."""
    from rtl.blockdot import split_area
    return next(p for p, a in split_area({name: 1.0}).items() if a)


def block_ports_unsupported(cfg) -> str | None:
    """Why the gate-level simulator cannot drive a BlockDotConfig's operand ports (it drives ports
    of at most 64 bits), or None when it can."""
    for what, bits in (("a", cfg.elem_a.bits * cfg.lanes), ("b", cfg.elem_b.bits * cfg.lanes)):
        if bits > 64:
            return (f"the gate-level simulator drives ports of at most 64 bits; operand {what} of "
                    f"{cfg.name} has {bits}: use fewer lanes")
    return None


def block_energy(block_fmt, acc, lanes: int | None = None, dist: str = "gaussian", n_blocks: int = 256,
                 library: str = "ge", seed: int = 0, cache_dir: Path = DEFAULT_CACHE,
                 dot_length: int = DOT_LENGTH, n_cal: int = 2000) -> dict:
    """pJ per element product of the block dot unit of `block_fmt` (rtl.unit.unit_config: a
    BlockDotConfig of `lanes` lanes, default min(8, block size)) under n_blocks blocks of each
    operand drawn from `dist` (hwmodel.energy.sample, per tensor; a and b independent) and
    block-quantised by the format's own scale rule (hwmodel.blockscaled.quantize_blocks; 2-D tiles
    quantise as 1-D blocks along the dot axis, which is what the unit sees). A block streams in
    block_size / lanes cycles, its scale codes held on every beat; the accumulator is cleared
    every `dot_length` element products (rounded up to whole blocks). Energy = k * weighted
    toggles / (cycles * lanes), with k from `calibration(library)` (the one constant, as
    mac_energy); per part (multipliers, adder_tree, scale_path, accumulator, control) likewise.
    Cached by content hash of netlist, library, stimulus spec and flow version.

    The accumulator read from the gate-level model after every block is compared with the golden
    model (hwmodel.blockscaled.block_dot_steps): a disagreement raises ResultMismatch (the
    design's failure, as sim.horowitz does for the calibration)."""
    from types import SimpleNamespace

    from hwmodel import blockscaled as BS
    from hwmodel.errors import ResultMismatch
    from rtl.blockdot import PARTS
    from rtl.unit import block_unit, unit_config

    d = emodel.check_distribution(dist)
    if not isinstance(n_blocks, int) or isinstance(n_blocks, bool) or n_blocks < 2:
        raise UnsupportedConfig(f"number of blocks n_blocks must be an int >= 2, not {n_blocks!r}")
    fmt = parse_format(block_fmt)
    if not hasattr(fmt, "block_size"):
        raise UnsupportedConfig(f"block_energy needs a block format (e.g. mxfp4, nvfp4), not {fmt.name!r}; "
                                f"scalar MACs: mac_energy")
    unit = block_unit(fmt, "mac" if lanes is None else f"bdot:{lanes}")
    cfg = unit_config(fmt, acc, unit)
    L, bs, beats = cfg.lanes, cfg.block_size, cfg.beats
    why = block_ports_unsupported(cfg)
    if why:
        raise UnsupportedConfig(why)
    netlist = synthesize(cfg.create(), cfg.name, library, cache_dir)
    cal = calibration(library, cache_dir, n_cal, seed)
    key = result_key("bdot", netlist.verilog, netlist.liberty_text, d, n_blocks, seed, dot_length)
    hit = result_cache(cache_dir).get(key)
    if hit is None:
        rng = np.random.default_rng(seed)
        line = SimpleNamespace(element=fmt.element, scale=fmt.scale, block_size=bs, rule=fmt.rule,
                               tensor_scale=fmt.tensor_scale)
        ops = []
        for _ in range(2):
            q = BS.quantize_blocks(line, emodel.sample(d, n_blocks * bs, rng))
            ops.append((np.asarray(q.scales, np.uint64), np.asarray(q.elements, np.uint64)))
        (sa, ea), (sb, eb) = ops
        per_dot = max(1, -(-dot_length // bs))          # blocks between clears
        n = n_blocks * beats                             # cycles
        cyc = np.arange(n)
        blk = cyc // beats
        shifts = (np.arange(L) * cfg.elem_a.bits).astype(np.uint64)
        shifts_b = (np.arange(L) * cfg.elem_b.bits).astype(np.uint64)
        a_words = np.bitwise_or.reduce(ea.reshape(n, L) << shifts, axis=1)
        b_words = np.bitwise_or.reduce(eb.reshape(n, L) << shifts_b, axis=1)
        clear = ((cyc % beats == 0) & (blk % per_dot == 0)).astype(np.uint64)
        res = simulate(netlist, {"a": a_words, "b": b_words, "sa": sa[blk], "sb": sb[blk],
                                 "valid_in": np.ones(n, np.uint64), "clear": clear}, cache_dir)
        # The accumulator after each block (one cycle after its last beat) against the golden model.
        _check_block_results(cfg, res.outputs, sa, ea, sb, eb, per_dot, beats, ResultMismatch, BS)
        weights, unit_w = weights_for(netlist)
        wt = emodel.weighted_toggles(res.toggles, weights)
        by_part = dict.fromkeys(PARTS, 0.0)
        for part, g in res.toggles.groupby("part"):
            by_part[_block_part(part)] += emodel.weighted_toggles(g, weights)
        hit = {"weighted_toggles_per_product": wt / (n * L), "weight_unit": unit_w,
               **{f"weighted_toggles_per_product_{p}": v / (n * L) for p, v in by_part.items()},
               "toggles_per_product": float(res.toggles["toggles"].sum()) / (n * L),
               "cells": int(res.toggles["instances"].sum()), "cycles": int(n),
               "sim_time_s": res.sim_time_s}
        result_cache(cache_dir).put(key, hit)
    out = {"format": fmt.name, "format_spec": fmt.spec, "acc": cfg.acc.spec, "config": cfg.name,
           "lanes": L, "block_size": bs, "dist": d, "n_blocks": n_blocks, "seed": seed,
           "dot_length": dot_length, "library": netlist.library, "parts": list(PARTS),
           "pj_per_product": cal.k_pj * hit["weighted_toggles_per_product"],
           **{f"pj_per_product_{p}": cal.k_pj * hit[f"weighted_toggles_per_product_{p}"] for p in PARTS},
           "k_pj_per_toggle": cal.k_pj, "area": netlist.area, "area_unit": netlist.area_unit, **hit,
           "netlist_sha256": netlist.netlist_hash, **netlist.provenance,
           "source": "our gate-level simulation (Yosys + Verilator, zero-delay) of the block dot unit, "
                     "checked against the block golden model, calibrated once on Horowitz's 8-bit "
                     "multiply (0.2 pJ, 45 nm)"}
    return out


def _check_block_results(cfg, outputs, sa, ea, sb, eb, per_dot, beats, mismatch, BS) -> None:
    """acc_out after every block of the gate-level run == hwmodel.blockscaled.block_dot_steps."""
    if "acc_out" not in outputs:
        return      # an accumulator wider than 64 bits is not read back by the simulator
    nb = len(sa)
    bs = cfg.block_size
    dots = -(-nb // per_dot)
    got = np.asarray(outputs["acc_out"], np.uint64)
    bad = 0
    for d in range(dots):
        j0, j1 = d * per_dot, min(nb, (d + 1) * per_dot)
        want = BS.block_dot_steps(cfg.golden_a, (sa[j0:j1], ea[j0 * bs:j1 * bs]),
                                  cfg.golden_b, (sb[j0:j1], eb[j0 * bs:j1 * bs]), cfg.acc)
        for j in range(j0, j1):
            c = (j + 1) * beats - 1           # the block's last beat: outputs are read after its edge
            if c >= len(got):
                continue
            if cfg.acc.kind == "float":
                w = int(want[j - j0])
                F = cfg.acc.fmt
                from hwmodel.numerics import is_nan
                ok = int(got[c]) == w or (bool(is_nan(F, [int(got[c])])[0]) and bool(is_nan(F, [w])[0]))
            else:
                w = int(want[0][j - j0]) & ((1 << cfg.acc_width) - 1)
                ok = int(got[c]) == w
            bad += not ok
    if bad:
        raise mismatch(f"gate-level {cfg.name} disagrees with the block golden model after {bad} of "
                       f"{nb} blocks")
