"""cocotb bench of a MAC with k > 1 accumulation-loop registers (rtl.loopacc, C-slow) against
hwmodel.interleave, bit for bit: every one of the k partial sums and the Kulisch flags.

Run through sim.runner.run_bench(MacConfig(..., loop_stages=k), "sim.bench_mac_clock").
Stimulus: segments, each starting with `clear` on its first product; inside a segment 0..2 idle
cycles (valid low) are inserted at random between products (the golden model places each product
in partial (cycle since the clear) mod k, idle cycles counted); after its last product every
segment is followed by k - 1 idle cycles, during which the unit shows its k partials on acc_out,
tagged by acc_part, `latency` edges after the slot entered. Segments: directed corners (zeros and
-0, max/min, cancellation, NaN/inf, Kulisch overflow of every partial), then HWDSE_RANDOM (default
20,000) seeded random products in segments of 1..512. HWDSE_SEED (default 12345).
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from hwmodel import interleave, numerics
from sim.runner import config_from_env

FLAGS = ("overflow", "overflow_neg", "nan", "pinf", "ninf")


def _corner_codes(fmt) -> dict[str, int]:
    codes = np.arange(fmt.n_codes, dtype=np.uint64)
    with np.errstate(invalid="ignore"):
        vals = numerics.decode(fmt, codes)
    fin = np.isfinite(vals)
    out = {"max": int(codes[fin][np.argmax(vals[fin])]), "min": int(codes[fin][np.argmin(vals[fin])])}
    pos = fin & (vals > 0)
    out["tiny"] = int(codes[pos][np.argmin(vals[pos])])
    out["one"] = int(codes[np.flatnonzero(vals == 1)[0]])
    for name, sel in (("zero", (vals == 0) & ~np.signbit(vals)), ("negzero", (vals == 0) & np.signbit(vals)),
                      ("nan", np.isnan(vals)), ("pinf", vals == np.inf), ("ninf", vals == -np.inf)):
        idx = np.flatnonzero(sel)
        if idx.size:
            out[name] = int(codes[idx[0]])
    return out


def directed(cfg) -> list[tuple[str, list]]:
    c = _corner_codes(cfg.in_fmt)
    one, k = c["one"], cfg.loop_stages
    segs = [("max x max", [(c["max"], c["max"])] * 5),
            ("cancellation", [(c["max"], c["max"]), (c["tiny"], c["tiny"]), (c["min"], c["max"])]),
            ("cancellation to zero", [(c["max"], one), (c["min"], one)] * 2),
            ("tiny", [(c["tiny"], c["tiny"])] * 3),
            ("one product", [(one, one)])]
    if "zero" in c:
        segs.append(("zero", [(c["zero"], c["max"])]))
    if "negzero" in c:
        segs += [("-0 only", [(c["negzero"], one)] * (k + 1)), ("+x, -0", [(one, one), (c["negzero"], one)])]
    for name in ("nan", "pinf", "ninf"):
        if name in c:
            segs.append((f"{name} in the middle", [(one, one), (c[name], one), (one, one), (one, one)]))
    if "pinf" in c and "ninf" in c:
        segs.append(("+inf, -inf", [(c["pinf"], one), (c["ninf"], one)]))
    if cfg.acc.kind == "kulisch" and cfg.acc.guard_bits <= 12:
        # enough of the largest (most negative) product that every partial leaves the W-bit range
        half = 1 << (cfg.kulisch.width - 1)
        pairs = [(c["max"], c["max"]), (c["min"], c["min"]), (c["min"], c["max"])]
        P = numerics.mul_exact(cfg.in_fmt, np.array([x for x, _ in pairs], np.uint64), cfg.in_fmt,
                               np.array([y for _, y in pairs], np.uint64))
        scale = 2.0 ** -cfg.kulisch.lsb_exp
        big, neg = pairs[int(np.argmax(P))], pairs[int(np.argmin(P))]
        for name, pair, p in (("above", big, P.max()), ("below", neg, P.min())):
            n = k * (int(half / abs(p * scale)) + 2)
            segs.append((f"kulisch overflow {name} in every partial ({n} products)", [pair] * n))
    return segs


def build(cfg, seed: int, n_random: int):
    """Segments as (name, A, B, cycle offsets from the clear)."""
    rng = np.random.default_rng(seed)
    segs = []
    for name, pairs in directed(cfg):
        a, b = zip(*pairs)
        segs.append((name, np.array(a, np.uint64), np.array(b, np.uint64)))
    codes = np.arange(cfg.in_fmt.n_codes, dtype=np.uint64)
    with np.errstate(invalid="ignore"):
        finite = codes[np.isfinite(numerics.decode(cfg.in_fmt, codes))]
    pos = 0
    while pos < n_random:
        # finite operands (NaN/inf are the directed segments' job: one would mask a long segment)
        ln = int(rng.integers(1, 513))
        segs.append(("random", rng.choice(finite, ln), rng.choice(finite, ln)))
        pos += ln
    out = []
    for name, a, b in segs:
        gaps = rng.integers(0, 3, a.size) * (rng.random(a.size) < 0.2)
        gaps[0] = 0
        out.append((name, a, b, np.cumsum(gaps + 1) - 1))
    return out


def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >= 1 << (w - 1) else v


@cocotb.test()
async def mac_clock_matches_golden(dut):
    cfg = config_from_env()
    k, lat, W = cfg.loop_stages, cfg.latency, cfg.acc_width
    kul = cfg.acc.kind == "kulisch"
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    segs = build(cfg, seed, int(os.environ.get("HWDSE_RANDOM", "20000")))
    # the cycle schedule: (a, b, valid, clear) per cycle; reads: cycle -> (segment, i)
    sched, reads = [], {}
    for s, (_, a, b, cyc) in enumerate(segs):
        c0 = len(sched)
        seg = [(0, 0, 0, 0)] * (int(cyc[-1]) + 1)
        for i, (x, y, t) in enumerate(zip(a.tolist(), b.tolist(), cyc.tolist())):
            seg[t] = (x, y, 1, 1 if i == 0 else 0)
        sched += seg + [(0, 0, 0, 0)] * (k - 1)
        t_e = c0 + int(cyc[-1])
        for i in range(k):
            reads[t_e + i + lat] = (s, i)
    n_prod = sum(a.size for _, a, _, _ in segs)
    dut._log.info(f"HWDSE {cfg.name}: seed {seed}, {n_prod} products in {len(segs)} segments, "
                  f"{len(sched)} cycles, k = {k}, latency {lat}")
    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    dut.rst.value = 1
    dut.valid_in.value = dut.clear.value = dut.a.value = dut.b.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    got = [[None] * k for _ in segs]
    flags = [None] * len(segs)
    bad_valid = []
    hflags = [getattr(dut, f) for f in FLAGS] if kul else []
    for t in range(len(sched) + lat + k):
        await FallingEdge(dut.clk)
        r = reads.get(t)
        if r is not None:
            s, i = r
            got[s][i] = (int(dut.acc_part.value), int(dut.acc_out.value))
            if i == 0 and int(dut.valid_out.value) != 1:
                bad_valid.append(s)
            if i == k - 1 and kul:
                flags[s] = {f: bool(int(h.value)) for f, h in zip(FLAGS, hflags)}
        x, y, v, c = sched[t] if t < len(sched) else (0, 0, 0, 0)
        dut.a.value, dut.b.value, dut.valid_in.value, dut.clear.value = x, y, v, c
    msgs = []
    for s, (name, a, b, cyc) in enumerate(segs):
        with np.errstate(invalid="ignore"):
            P = numerics.mul_exact(cfg.in_fmt, a, cfg.in_fmt, b)
        tags = sorted(p for p, _ in got[s])
        if tags != list(range(k)):
            msgs.append(f"{cfg.name}: segment {s} '{name}': acc_part showed {tags}, not each of 0..{k - 1}")
            continue
        rtl = {p: v for p, v in got[s]}
        if kul:
            g = interleave.kulisch_interleaved(P, numerics.kulisch_spec(cfg.in_fmt, cfg.in_fmt,
                                                                        cfg.acc.guard_bits), k, cyc)
            # the directed overflow segments must overflow (else the corner is lost silently)
            assert g.overflow or "overflow" not in name, f"{name}: golden shows no overflow"
            rv = [_signed(rtl[j], W) for j in range(k)]
            gf = {f: getattr(g, f) for f in FLAGS}
            ok = rv == g.partials and flags[s] == gf
            desc = f"RTL {rv} {flags[s]}, golden {g.partials} {gf}"
        else:
            gp, _ = interleave.float_interleaved(P, cfg.acc.fmt, k, cyc)
            F = cfg.acc.fmt
            rv = numerics.decode(F, np.array([rtl[j] for j in range(k)], np.uint64))
            gv = numerics.decode(F, np.array(gp, np.uint64))
            ok = all((np.isnan(x) and np.isnan(y)) or (x == y and np.signbit(x) == np.signbit(y))
                     for x, y in zip(rv.tolist(), gv.tolist()))
            desc = f"RTL {[hex(rtl[j]) for j in range(k)]}, golden {[hex(x) for x in gp]}"
        if not ok:
            ops = ", ".join(f"(0x{int(x):x},0x{int(y):x})@{int(c)}" for x, y, c in zip(a[:8], b[:8], cyc[:8]))
            msgs.append(f"{cfg.name}: segment {s} '{name}' {ops}{' ...' if a.size > 8 else ''}: {desc}")
        if len(msgs) >= 8:
            break
    if bad_valid:
        msgs.append(f"{cfg.name}: valid_out low {lat} edges after the last product of segments "
                    f"{bad_valid[:8]}")
    dut._log.info(f"HWDSE {cfg.name}: checked {len(segs)} segments / {n_prod} products; "
                  f"{len(msgs)} failure lines")
    assert n_prod > 0
    assert not msgs, "\n".join(msgs)
