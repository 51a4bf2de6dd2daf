"""cocotb bench of rtl.blockdot.BlockDotUnit against hwmodel.blockscaled.block_dot_steps.

Run through sim.runner.run_bench(BlockDotConfig(...), "sim.bench_blockdot"); the config arrives as
JSON. Every dot product streams its blocks beat by beat (block_size / lanes beats a block, `clear`
on the first beat of a dot); the scale inputs carry the block's scale codes on the beat that ends
the block and random codes on the other beats (the unit must sample them on the last beat only).
The unit streams through sim.testbench.Testbench (the shared helper): pauses (valid low, garbage on
every data input, no clear; HWDSE_IDLE, default 0.2, the chance of one after a beat) fall anywhere,
also in the middle of a block; during each the bench checks that acc_out (and the Kulisch flags)
hold and valid_out stays low, and valid_out must be high exactly on a block's result. After every block
the accumulator (float: the code, NaN compared by class; Kulisch: the register and its five sticky
flags) is compared with the golden model.

Stimuli, in order:
  pairs     elements of at most 4 bits: every element pair, alone in its own block (unit scales,
            the pair's lane moving through the block), then all pairs packed into full blocks;
  corners   extreme scale codes (smallest, largest, the product of the two largest), the NaN scale
            code, a zero scale, all-zero blocks, NaN / inf element codes, accumulator overflow,
            and rounding ties (a block worth exactly half an ulp of the accumulator, twice);
  random    HWDSE_DOTS (default 40) dots of 1..6 blocks: Gaussian values at random magnitudes
            quantised by the scale rule that suits the scale format, and uniformly random codes.
Seed HWDSE_SEED (default 12345), logged. A failure message names config, stimulus, dot, block,
the RTL and golden results and the operand codes.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import cocotb
import numpy as np

from hwmodel import blockscaled as BS
from hwmodel import numerics as N
from sim.runner import config_from_env
from sim.testbench import Testbench

MAX_REPORT = 8
FLAGS = ("nan", "pinf", "ninf", "overflow", "overflow_neg")


# ---- operands ---------------------------------------------------------------------------------
def scale_codes_of_pow2(scale, k):
    """Codes of 2^k in the scale format, or None if some k is not representable."""
    k = np.asarray(k, np.int64)
    if BS.is_pow2_scale(scale):
        lo, hi = BS.pow2_scale_range(scale)
        if k.min() < lo or k.max() > hi:
            return None
        return BS.encode_pow2_scale(scale, k)
    lo, hi = scale.emin - (scale.man_bits if scale.subnormals else 0), scale.emax
    if k.min() < lo or k.max() > hi:
        return None
    return N.encode(scale, np.ldexp(1.0, k.astype(np.int32)))


def scale_range(scale):
    if BS.is_pow2_scale(scale):
        return BS.pow2_scale_range(scale)
    return scale.emin - (scale.man_bits if scale.subnormals else 0), scale.emax


def finite_codes(fmt):
    codes = N.all_codes(fmt) if fmt.bits <= 16 else None
    return codes[np.isfinite(N.decode(fmt, codes))]


def special_codes(fmt):
    codes = N.all_codes(fmt)
    return codes[~np.isfinite(N.decode(fmt, codes))]


def one_code(fmt):
    return N.encode(fmt, np.array([1.0]))[0]


def quant_format(elem, scale, bs):
    """A block-format view for quantising: OCP rule for power-of-two scales, AMAX otherwise."""
    rule = "ocp" if BS.is_pow2_scale(scale) else "amax"
    return SimpleNamespace(element=elem, scale=scale, block_size=bs, rule=rule)


class Stimulus:
    """Dots as (label, (scales_a, elems_a), (scales_b, elems_b)) per dot."""

    def __init__(self, cfg, rng):
        self.cfg, self.rng, self.dots = cfg, rng, []

    def add(self, label, sa, ea, sb, eb):
        self.dots.append((label, (np.asarray(sa, np.uint64), np.asarray(ea, np.uint64)),
                          (np.asarray(sb, np.uint64), np.asarray(eb, np.uint64))))

    def unit_scales(self, side, n):
        s = self.cfg.scale_a if side == "a" else self.cfg.scale_b
        return np.full(n, int(scale_codes_of_pow2(s, [0])[0]), np.uint64)

    # -- every element pair ---------------------------------------------------------------------
    def pairs(self):
        cfg, bs = self.cfg, self.cfg.block_size
        ca, cb = N.all_codes(cfg.elem_a), N.all_codes(cfg.elem_b)
        A, B = np.meshgrid(ca, cb, indexing="ij")
        A, B = A.reshape(-1), B.reshape(-1)
        n = len(A)
        za, zb = N.encode(cfg.elem_a, [0.0])[0], N.encode(cfg.elem_b, [0.0])[0]
        per_dot = 16
        for d0 in range(0, n, per_dot):
            idx = np.arange(d0, min(n, d0 + per_dot))
            ea = np.full((len(idx), bs), za, np.uint64)
            eb = np.full((len(idx), bs), zb, np.uint64)
            lanes = idx % bs
            ea[np.arange(len(idx)), lanes] = A[idx]
            eb[np.arange(len(idx)), lanes] = B[idx]
            self.add(f"pairs isolated {d0}..{idx[-1]}", self.unit_scales("a", len(idx)),
                     ea.reshape(-1), self.unit_scales("b", len(idx)), eb.reshape(-1))
        pad = (-n) % bs
        ea = np.concatenate([A, np.full(pad, za, np.uint64)])
        eb = np.concatenate([B, np.full(pad, zb, np.uint64)])
        nb = len(ea) // bs
        for d0 in range(0, nb, 4):
            sl = slice(d0 * bs, min(nb, d0 + 4) * bs)
            k = (sl.stop - sl.start) // bs
            self.add(f"pairs packed blocks {d0}..{d0 + k - 1}", self.unit_scales("a", k), ea[sl],
                     self.unit_scales("b", k), eb[sl])

    # -- corners -------------------------------------------------------------------------------
    def corners(self):
        cfg, rng, bs = self.cfg, self.rng, self.cfg.block_size
        fa, fb = cfg.elem_a, cfg.elem_b
        fin_a, fin_b = finite_codes(fa), finite_codes(fb)
        ones_a = np.full(bs, one_code(fa), np.uint64)
        ones_b = np.full(bs, one_code(fb), np.uint64)
        za, zb = N.encode(fa, np.zeros(bs)), N.encode(fb, np.zeros(bs))
        (la, ha), (lb, hb) = scale_range(cfg.scale_a), scale_range(cfg.scale_b)
        ext = [(la, lb), (ha, hb), (la, hb), (ha, lb), (ha, hb)]
        for ka, kb in ext:
            sa, sb = scale_codes_of_pow2(cfg.scale_a, [ka]), scale_codes_of_pow2(cfg.scale_b, [kb])
            ea, eb = rng.choice(fin_a, bs), rng.choice(fin_b, bs)
            self.add(f"extreme scales 2^{ka} x 2^{kb}", np.concatenate([sa, sa]),
                     np.concatenate([ea, ea]), np.concatenate([sb, sb]), np.concatenate([eb, eb]))
        # NaN scale codes in the middle of a dot, and a zero scale
        for side, s in (("a", cfg.scale_a), ("b", cfg.scale_b)):
            if getattr(s, "has_nan", False):
                nan = BS._nan_scale_code(s, (1,))[0]
                sa, sb = self.unit_scales("a", 3), self.unit_scales("b", 3)
                (sa if side == "a" else sb)[1] = nan
                self.add(f"NaN scale code on side {side}", sa, np.tile(ones_a, 3), sb,
                         np.tile(ones_b, 3))
            if getattr(s, "subnormals", False):
                sa, sb = self.unit_scales("a", 2), self.unit_scales("b", 2)
                (sa if side == "a" else sb)[0] = 0                       # code 0 = +0.0
                self.add(f"zero scale on side {side}", sa, np.tile(ones_a, 2), sb,
                         np.tile(ones_b, 2))
        # all-zero blocks between nonzero ones
        self.add("zero blocks", self.unit_scales("a", 3), np.concatenate([za, ones_a, za]),
                 self.unit_scales("b", 3), np.concatenate([zb, ones_b, zb]))
        self.add("only zero blocks", self.unit_scales("a", 2), np.concatenate([za, za]),
                 self.unit_scales("b", 2), np.concatenate([ones_b, zb]))
        # special element codes
        for f, side in ((fa, "a"), (fb, "b")):
            sp = special_codes(f)
            for c in sp[:4]:
                ea, eb = ones_a.copy(), ones_b.copy()
                (ea if side == "a" else eb)[rng.integers(bs)] = c
                self.add(f"special element {int(c):#x} on side {side}", self.unit_scales("a", 2),
                         np.concatenate([ones_a, ea]), self.unit_scales("b", 2),
                         np.concatenate([ones_b, eb]))
        # overflow of a float accumulator: the largest elements at the largest scales, repeated
        big_a, big_b = fin_a[np.argmax(N.decode(fa, fin_a))], fin_b[np.argmax(N.decode(fb, fin_b))]
        nb = 8
        sa, sb = scale_codes_of_pow2(cfg.scale_a, [ha] * nb), scale_codes_of_pow2(cfg.scale_b, [hb] * nb)
        self.add("overflow", sa, np.full(nb * bs, big_a, np.uint64), sb,
                 np.full(nb * bs, big_b, np.uint64))
        neg_b = N.encode(fb, -N.decode(fb, [big_b]))[0]
        self.add("overflow negative", sa, np.full(nb * bs, big_a, np.uint64), sb,
                 np.full(nb * bs, neg_b, np.uint64))
        # rounding ties: 1 * 2^e, then a block worth half an ulp of 2^e, twice (ties to even)
        if cfg.acc.kind == "float":
            p = cfg.acc.fmt.precision
            for e in range(0, 12):
                ks = [e, e - p, e - p, e - p + 1]
                kas = [max(la, min(ha, k)) for k in ks]
                kbs = [k - ka for k, ka in zip(ks, kas)]
                sa, sb = scale_codes_of_pow2(cfg.scale_a, kas), scale_codes_of_pow2(cfg.scale_b, kbs)
                if sa is None or sb is None:
                    continue
                e1a = np.where(np.arange(bs) == 0, one_code(fa), za[0]).astype(np.uint64)
                self.add(f"ties at 2^{e}", sa, np.tile(e1a, 4), sb, np.tile(ones_b, 4))
                break

    # -- random --------------------------------------------------------------------------------
    def random(self, n_dots):
        cfg, rng, bs = self.cfg, self.rng, self.cfg.block_size
        qa = quant_format(cfg.elem_a, cfg.scale_a, bs)
        qb = quant_format(cfg.elem_b, cfg.scale_b, bs)
        (la, ha), (lb, hb) = scale_range(cfg.scale_a), scale_range(cfg.scale_b)
        fin_a, fin_b = finite_codes(cfg.elem_a), finite_codes(cfg.elem_b)
        for d in range(n_dots):
            nb = int(rng.integers(1, 7))
            if rng.random() < 0.7:
                mag = rng.uniform(-12, 12, (2, nb)).repeat(bs, axis=1)
                xa = rng.standard_normal(nb * bs) * 2.0 ** mag[0]
                xb = rng.standard_normal(nb * bs) * 2.0 ** mag[1]
                a, b = BS.quantize_blocks(qa, xa), BS.quantize_blocks(qb, xb)
                self.add(f"random gaussian {d}", a.scales, a.elements, b.scales, b.elements)
            else:
                codes_a = N.all_codes(cfg.elem_a)
                codes_b = N.all_codes(cfg.elem_b)
                pool_a = codes_a if rng.random() < 0.3 else fin_a
                pool_b = codes_b if rng.random() < 0.3 else fin_b
                mid_a, mid_b = (la + ha) // 2, (lb + hb) // 2
                ka = rng.integers(max(la, mid_a - 20), min(ha, mid_a + 20) + 1, nb)
                kb = rng.integers(max(lb, mid_b - 20), min(hb, mid_b + 20) + 1, nb)
                self.add(f"random codes {d}", scale_codes_of_pow2(cfg.scale_a, ka),
                         rng.choice(pool_a, nb * bs), scale_codes_of_pow2(cfg.scale_b, kb),
                         rng.choice(pool_b, nb * bs))


def golden(cfg, a, b):
    """Per block: float -> [code]; Kulisch -> [(register, {flag: bool})]."""
    out = BS.block_dot_steps(cfg.golden_a, a, cfg.golden_b, b, cfg.acc)
    if cfg.acc.kind == "float":
        return [int(c) for c in out]
    regs, flags = out
    return [(int(regs[j]), {k: bool(flags[k][j]) for k in FLAGS}) for j in range(len(regs))]


def pack(codes, bits: int) -> int:
    v = 0
    for i, c in enumerate(codes):
        v |= int(c) << (i * bits)
    return v


def signed_value(v: int, width: int) -> int:
    return v - (1 << width) if v >> (width - 1) else v


# ---- the bench ----------------------------------------------------------------------------------
def beat_items(cfg, st, rng):
    """Every dot of the stimulus as one stream of beats (sim.testbench items): port -> codes per
    beat, plus per beat (dot index, block index, last beat of its block?)."""
    L, bs, beats = cfg.lanes, cfg.block_size, cfg.beats
    ba, bb = cfg.elem_a.bits, cfg.elem_b.bits
    sbits_a, sbits_b = cfg.scale_a.bits, cfg.scale_b.bits
    cols = {"a": [], "b": [], "sa": [], "sb": [], "clear": []}
    where = []
    for di, (label, a, b) in enumerate(st.dots):
        for j in range(len(a[0])):
            for t in range(beats):
                sl = slice(j * bs + t * L, j * bs + (t + 1) * L)
                last = t == beats - 1
                cols["a"].append(pack(a[1][sl], ba))
                cols["b"].append(pack(b[1][sl], bb))
                # the block's scale codes on its last beat only; random codes on the others
                cols["sa"].append(int(a[0][j]) if last else int(rng.integers(0, 1 << sbits_a)))
                cols["sb"].append(int(b[0][j]) if last else int(rng.integers(0, 1 << sbits_b)))
                cols["clear"].append(int(j == 0 and t == 0))
                where.append((di, j, last))
    return cols, where


@cocotb.test()
async def blockdot_matches_golden(dut):
    """The unit through sim.testbench.Testbench.stream: every beat of every dot, seeded pauses
    (valid low, garbage on a, b, sa, sb) inside blocks, inside dots and between dots, during which
    acc_out (and the Kulisch flags) must hold and valid_out stay low; valid_out high exactly on the
    result of a block's last beat; the accumulator after every block against the golden model."""
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_dots = int(os.environ.get("HWDSE_DOTS", "40"))
    p_idle = float(os.environ.get("HWDSE_IDLE", "0.2"))
    rng = np.random.default_rng(seed)
    st = Stimulus(cfg, rng)
    if cfg.elem_a.bits <= 4 and cfg.elem_b.bits <= 4:
        st.pairs()
    st.corners()
    st.random(n_dots)
    bs = cfg.block_size
    kulisch = cfg.acc.kind == "kulisch"
    F = None if kulisch else cfg.acc.fmt

    tb = Testbench(dut, latency=cfg.latency, seed=seed, pause_rate=p_idle)
    await tb.reset(2)
    cols, where = beat_items(cfg, st, rng)
    outputs = ["acc_out"] + (list(FLAGS) if kulisch else [])
    run = await tb.stream(cols, outputs)

    def read(i):
        acc = run.values["acc_out"][i]
        if kulisch:
            return (signed_value(acc, cfg.acc_width), {k: bool(run.values[k][i]) for k in FLAGS})
        return acc

    def describe(i):
        di, j, _ = where[i]
        return f"seed {seed} {st.dots[di][0]} dot {di} block {j}"

    msgs = run.hold_failures(cfg.name, describe, limit=MAX_REPORT)
    bad = len(msgs)
    checked = 0
    classes = {"finite": 0, "zero": 0, "nan": 0, "inf": 0, "overflow": 0}
    wants = {}
    for i, (di, j, last) in enumerate(where):
        vo = run.valid_out[i]
        if vo != int(last):
            bad += 1
            if len(msgs) < MAX_REPORT:
                msgs.append(f"{cfg.name} {describe(i)} beat {i}: valid_out {vo}, expected {int(last)} "
                            f"(latency {cfg.latency})")
            continue
        if not last:
            continue
        if di not in wants:
            _, a, b = st.dots[di]
            wants = {di: golden(cfg, a, b)}
        w = wants[di][j]
        got = read(i)
        checked += 1
        if kulisch:
            cls = "nan" if w[1]["nan"] else "inf" if (w[1]["pinf"] or w[1]["ninf"]) else \
                "overflow" if w[1]["overflow"] else "zero" if w[0] == 0 else "finite"
        else:
            v = float(N.decode(F, [w])[0])
            cls = "nan" if v != v else "inf" if abs(v) == float("inf") else \
                "zero" if v == 0 else "finite"
        classes[cls] += 1
        ok = got == w or (not kulisch and bool(N.is_nan(F, [got])[0]) and bool(N.is_nan(F, [w])[0]))
        if not ok:
            bad += 1
            if len(msgs) < MAX_REPORT:
                label, a, b = st.dots[di]
                blk = slice(j * bs, (j + 1) * bs)
                shown = (f"rtl {got:#x}, golden {w:#x} ({N.decode(F, [got])[0]!r} vs "
                         f"{N.decode(F, [w])[0]!r})") if not kulisch else f"rtl {got!r}, golden {w!r}"
                msgs.append(f"{cfg.name} seed {seed} {label} dot {di} block {j}: {shown}; "
                            f"scales a {int(a[0][j]):#x} b {int(b[0][j]):#x}; elements a "
                            f"{[hex(int(x)) for x in a[1][blk]]} b "
                            f"{[hex(int(x)) for x in b[1][blk]]}")
    dut._log.info(f"HWDSE {cfg.name}: {len(st.dots)} dots, {checked} block results checked, "
                  f"{run.idle_cycles} idle cycles in {len(run.holds)} pauses ({run.pauses_inside} "
                  f"inside dots), {bad} mismatches (seed {seed}); results "
                  + ", ".join(f"{k} {v}" for k, v in classes.items()))
    assert checked > 0, f"{cfg.name}: nothing checked"
    assert run.pauses_inside > 0, f"{cfg.name}: no pause inside a dot was checked"
    if bad > len(msgs):
        msgs.append(f"... {bad} mismatches in all")
    assert not msgs, "\n".join(msgs)
    # a bench whose results were mostly NaN, inf or zero would check little arithmetic
    assert classes["finite"] >= checked // 4, f"{cfg.name}: too few finite nonzero results {classes}"


# ---- the R x C array --------------------------------------------------------------------------
def operand(st, side, nb, rng):
    """One row (side 'a') or column ('b') operand of nb blocks: quantised Gaussian or codes."""
    cfg, bs = st.cfg, st.cfg.block_size
    elem, scale = (cfg.elem_a, cfg.scale_a) if side == "a" else (cfg.elem_b, cfg.scale_b)
    if rng.random() < 0.7:
        x = rng.standard_normal(nb * bs) * 2.0 ** rng.uniform(-12, 12, nb).repeat(bs)
        c = BS.quantize_blocks(quant_format(elem, scale, bs), x)
        return c.scales, c.elements
    lo, hi = scale_range(scale)
    mid = (lo + hi) // 2
    k = rng.integers(max(lo, mid - 20), min(hi, mid + 20) + 1, nb)
    return scale_codes_of_pow2(scale, k), rng.choice(N.all_codes(elem), nb * bs)


def tile_beats(cfg, rows, colops, nb, rng, cols) -> list:
    """Append one array tile's beats to `cols` (port -> packed codes per beat): nb blocks of the
    row operands `rows` and column operands `colops` (each (scale codes, element codes)), every
    row's (column's) lanes packed side by side; scale codes on a block's last beat only, random
    codes on the others; clear on the tile's first beat. Returns (block index, last beat?) per beat."""
    L, bs, beats = cfg.lanes, cfg.block_size, cfg.beats
    ba, bb = cfg.elem_a.bits, cfg.elem_b.bits
    sbits_a, sbits_b = cfg.scale_a.bits, cfg.scale_b.bits
    out = []
    for j in range(nb):
        for t in range(beats):
            sl = slice(j * bs + t * L, j * bs + (t + 1) * L)
            last = t == beats - 1
            cols["a"].append(pack(np.concatenate([r[1][sl] for r in rows]), ba))
            cols["b"].append(pack(np.concatenate([c[1][sl] for c in colops]), bb))
            cols["sa"].append(pack([r[0][j] if last else rng.integers(0, 1 << sbits_a)
                                    for r in rows], sbits_a))
            cols["sb"].append(pack([c[0][j] if last else rng.integers(0, 1 << sbits_b)
                                    for c in colops], sbits_b))
            cols["clear"].append(int(j == 0 and t == 0))
            out.append((j, last))
    return out


@cocotb.test()
async def blockdot_array_matches_golden(dut):
    """BlockDotArray through sim.testbench.Testbench.stream: HWDSE_TILES (default 12) tiles of R
    row and C column operands of 1..4 blocks, seeded pauses (valid low, garbage on every data
    input) during which every PE must hold; after every block, every PE (i, j) against the block
    dot of row i and column j."""
    acfg = config_from_env()
    cfg, R, C = acfg.unit, acfg.rows, acfg.cols
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_tiles = int(os.environ.get("HWDSE_TILES", "12"))
    rng = np.random.default_rng(seed)
    st = Stimulus(cfg, rng)
    Wacc = cfg.acc_width
    kulisch = cfg.acc.kind == "kulisch"

    tb = Testbench(dut, latency=acfg.latency, seed=seed, pause_rate=0.2)
    await tb.reset(2)
    cols = {"a": [], "b": [], "sa": [], "sb": [], "clear": []}
    where, wants = [], []
    for tile in range(n_tiles):
        nb = int(rng.integers(1, 5))
        rows = [operand(st, "a", nb, rng) for _ in range(R)]
        colops = [operand(st, "b", nb, rng) for _ in range(C)]
        wants.append([[golden(cfg, rows[i], colops[j]) for j in range(C)] for i in range(R)])
        where += [(tile, j, last) for j, last in tile_beats(cfg, rows, colops, nb, rng, cols)]
    outputs = ["acc_out"] + (list(FLAGS) if kulisch else [])
    run = await tb.stream(cols, outputs)

    def read(k):
        acc = run.values["acc_out"][k]
        vals = [(acc >> (q * Wacc)) & ((1 << Wacc) - 1) for q in range(R * C)]
        if kulisch:
            fl = {f: run.values[f][k] for f in FLAGS}
            return [(signed_value(v, Wacc), {f: bool((fl[f] >> q) & 1) for f in FLAGS})
                    for q, v in enumerate(vals)]
        return vals

    msgs = run.hold_failures(acfg.name, lambda k: f"seed {seed} tile {where[k][0]} block {where[k][1]}",
                             limit=MAX_REPORT)
    checked, bad = 0, len(msgs)
    for k, (tile, j, last) in enumerate(where):
        if run.valid_out[k] != int(last):
            bad += 1
            if len(msgs) < MAX_REPORT:
                msgs.append(f"{acfg.name} tile {tile} block {j} beat {k}: valid_out "
                            f"{run.valid_out[k]}, expected {int(last)}")
            continue
        if not last:
            continue
        got = read(k)
        for i in range(R):
            for c in range(C):
                checked += 1
                g, w = got[i * C + c], wants[tile][i][c][j]
                ok = g == w or (not kulisch and bool(N.is_nan(cfg.acc.fmt, [g])[0])
                                and bool(N.is_nan(cfg.acc.fmt, [w])[0]))
                if not ok:
                    bad += 1
                    if len(msgs) < MAX_REPORT:
                        msgs.append(f"{acfg.name} seed {seed} tile {tile} PE ({i}, {c}) "
                                    f"block {j}: rtl {g!r}, golden {w!r}")
    dut._log.info(f"HWDSE {acfg.name}: {n_tiles} tiles, {checked} PE block results checked, "
                  f"{run.idle_cycles} idle cycles in {len(run.holds)} pauses, {bad} mismatches "
                  f"(seed {seed})")
    assert checked > 0, f"{acfg.name}: nothing checked"
    if bad > len(msgs):
        msgs.append(f"... {bad} mismatches in all")
    assert not msgs, "\n".join(msgs)


@cocotb.test()
async def blockdot_systolic_matches_golden(dut):
    """BlockDotArray with skew=True (output-stationary systolic, a drain port) through
    sim.testbench.Testbench.stream: HWDSE_TILES (default 12) tiles of R row and C column operands
    of 1..4 blocks, presented unskewed with seeded pauses (valid low, garbage on every data input)
    inside and after each tile; `latency` edges after the last beat the bench pulses `drain` and
    reads the R rows (c_row / c_index / c_valid, Kulisch flags c_*). Every PE (i, j) against the
    block dot of row i and column j after the tile's last block. A PE that took garbage, lost its
    state during a pause or saw a beat out of step (a wrong skew) shows in the drained result."""
    acfg = config_from_env()
    cfg, R, C = acfg.unit, acfg.rows, acfg.cols
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_tiles = int(os.environ.get("HWDSE_TILES", "12"))
    rng = np.random.default_rng(seed)
    st = Stimulus(cfg, rng)
    Wacc = cfg.acc_width
    kulisch = cfg.acc.kind == "kulisch"
    mask = (1 << Wacc) - 1

    tb = Testbench(dut, latency=acfg.latency, seed=seed, pause_rate=0.2, valid_out=None)
    await tb.reset(2, hold_low=("drain",))
    await tb.wait(1)
    msgs, checked, bad, inside, idle, finite = [], 0, 0, 0, 0, 0
    for tile in range(n_tiles):
        nb = int(rng.integers(1, 5))
        rows = [operand(st, "a", nb, rng) for _ in range(R)]
        colops = [operand(st, "b", nb, rng) for _ in range(C)]
        want = [[golden(cfg, rows[i], colops[j])[-1] for j in range(C)] for i in range(R)]
        cols = {"a": [], "b": [], "sa": [], "sb": [], "clear": []}
        tile_beats(cfg, rows, colops, nb, rng, cols)
        run = await tb.stream(cols)
        inside += run.pauses_inside
        idle += run.idle_cycles
        # stream() returned `latency` edges after the last beat was sampled, after a pause
        dut.drain.value = 1
        await tb.wait(1)
        dut.drain.value = 0
        got = []
        for r in range(R):
            if not (int(dut.c_valid.value) and int(dut.c_index.value) == r):
                msgs.append(f"{acfg.name} tile {tile}: drain row {r}: c_valid={dut.c_valid.value} "
                            f"c_index={dut.c_index.value}, expected valid row {r}")
                break
            word = int(dut.c_row.value)
            fl = {f: int(getattr(dut, f"c_{f}").value) for f in FLAGS} if kulisch else {}
            for j in range(C):
                v = (word >> (j * Wacc)) & mask
                got.append((signed_value(v, Wacc), {f: bool((fl[f] >> j) & 1) for f in FLAGS})
                           if kulisch else v)
            await tb.wait(1)
        if len(got) < R * C:      # the drain protocol broke: the rest would repeat the failure
            break
        for i in range(R):
            for c in range(C):
                g, w = got[i * C + c], want[i][c]
                checked += 1
                if kulisch:
                    finite += int(not any(w[1].values()) and w[0] != 0)
                else:
                    finite += int(bool(np.isfinite(N.decode(cfg.acc.fmt, [w])[0])))
                ok = g == w or (not kulisch and bool(N.is_nan(cfg.acc.fmt, [g])[0])
                                and bool(N.is_nan(cfg.acc.fmt, [w])[0]))
                if not ok:
                    bad += 1
                    if len(msgs) < MAX_REPORT:
                        msgs.append(f"{acfg.name} seed {seed} tile {tile} PE ({i}, {c}) after "
                                    f"{nb} blocks: rtl {g!r}, golden {w!r}")
    dut._log.info(f"HWDSE {acfg.name}: {n_tiles} tiles, {checked} PE results checked ({finite} "
                  f"finite nonzero), {idle} idle cycles ({inside} pauses inside tiles), {bad} "
                  f"mismatches (seed {seed})")
    assert checked > 0 or msgs, f"{acfg.name}: nothing checked"
    assert inside > 0 or msgs, f"{acfg.name}: no pause inside a tile was checked"
    if bad > len(msgs):
        msgs.append(f"... {bad} mismatches in all")
    assert not msgs, "\n".join(msgs)
    assert finite >= checked // 4, f"{acfg.name}: too few finite nonzero results ({finite})"


# ---- the read-out of a Kulisch block register ---------------------------------------------------
@cocotb.test()
async def block_readout_matches_golden(dut):
    """rtl.blockdot.BlockReadoutConfig (rtl.acc.KulischReadout on the block unit's register) through
    Testbench.apply: registers at the extremes, rounding ties and their neighbours at binades
    across the whole register (sim.bench_acc.readout_vectors), every flag combination and
    HWDSE_RANDOM (default 3000) random registers of random lengths; each code against
    hwmodel.accum.kulisch_to_float with the unit's BlockKulischSpec, NaN by class."""
    from sim.bench_acc import FLAGS as RFLAGS, readout_vectors

    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_random = int(os.environ.get("HWDSE_RANDOM", "3000"))
    vals, flags = readout_vectors(cfg, seed, n_random)
    W, F = cfg.kulisch.width, cfg.out_fmt
    tb = Testbench(dut, clock=None, seed=seed)
    inputs = {"acc": [v & ((1 << W) - 1) for v in vals]}
    inputs.update({k: flags[:, i].astype(np.uint8) for i, k in enumerate(RFLAGS)})
    got_codes, run = await tb.apply(inputs, ["code"])
    got = [int(x) for x in got_codes["code"].tolist()]
    res = N.KulischResult(acc_int=np.array(vals, dtype=object), overflow=flags[:, 0],
                          overflow_neg=flags[:, 1], nan=flags[:, 2], pinf=flags[:, 3],
                          ninf=flags[:, 4])
    gold = N.kulisch_to_float(res, cfg.kulisch, F)
    with np.errstate(invalid="ignore"):
        rv = N.decode(F, np.array(got, dtype=np.uint64))
        gv = N.decode(F, np.asarray(gold, dtype=np.uint64))
    ok = (np.isnan(rv) & np.isnan(gv)) | ((rv == gv) & (np.signbit(rv) == np.signbit(gv)))
    bad = np.flatnonzero(~ok)
    # ties: registers whose value lies exactly halfway between two neighbours in F
    P = F.precision
    ties = sum(1 for v in vals if v and (abs(v).bit_length() > P + 1)
               and (abs(v) >> (abs(v).bit_length() - P - 1)) & 1
               and abs(v) & ((1 << (abs(v).bit_length() - P - 1)) - 1) == 0)
    msgs = [f"{cfg.name}: acc={vals[i]} flags={dict(zip(RFLAGS, flags[i].tolist()))}: rtl "
            f"{got[i]:#x} = {rv[i]!r}, golden kulisch_to_float {int(gold[i]):#x} = {gv[i]!r}"
            for i in bad[:MAX_REPORT]]
    msgs += run.hold_failures(cfg.name, lambda i: f"acc={vals[i]}")
    dut._log.info(f"HWDSE {cfg.name}: seed {seed}, {len(vals)} registers ({ties} exact ties), "
                  f"{bad.size} mismatches; {len(run.holds)} held vectors re-sampled")
    assert ties > 0, f"{cfg.name}: no rounding tie was checked"
    assert run.holds, f"{cfg.name}: no held vector was re-sampled"
    assert not msgs, "\n".join(msgs)
