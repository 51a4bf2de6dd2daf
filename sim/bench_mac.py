"""cocotb bench of rtl.mac.Mac against the golden accumulators of hwmodel.numerics, bit for bit.

Run through sim.runner.run_bench(MacConfig(...), "sim.bench_mac"); the config arrives as JSON.

The stimulus is a list of *segments*: each starts with `clear` and accumulates its products; the
accumulator (and the Kulisch flags) is compared with the golden model at the end of every segment,
`config.latency` clock edges after its last product went in (read from the config, never typed in).
Segments:
  * operands <= 8 bits: every one of the (2^bits)^2 operand pairs once, shuffled (seeded), cut into
    segments of 1..32 products;
  * HWDSE_RANDOM (default 100,000) seeded random operand pairs in segments of 1..4096 products;
  * directed corners: zeros and signed zeros, ±max, subnormals, every NaN/inf code of the format,
    0 x inf, +inf + -inf, rounding ties of the float accumulator (found among the products),
    catastrophic cancellation, Kulisch overflow (2^V + 2 maximal products), int wrap/saturation.
The stream goes through sim.testbench.Testbench, which pauses it at seeded random points (valid
low, garbage operands, inside segments and between them): during every pause the accumulator and
flags must hold, valid_out must be low, and the held value must equal the golden running sum of
its segment so far. The seed (HWDSE_SEED, default 12345) is logged. Float results compare as
values (NaN by class, sign of zero significant); int and Kulisch results as integers, flags one
by one.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from hwmodel import numerics
from hwmodel.formats import IntFormat
from sim.runner import config_from_env
from sim.testbench import Testbench

MAX_REPORT = 8
FLAGS = ("overflow", "overflow_neg", "nan", "pinf", "ninf")   # rtl.acc.KULISCH_FLAGS


# ---------------------------------------------------------------------------------------------
# Golden model adapter: the only place that calls hwmodel.numerics' accumulators.
# ---------------------------------------------------------------------------------------------
def golden_segment(cfg, products: np.ndarray, batched: bool = False):
    """Golden end state of accumulations from 0 along the last axis: int -> int; kulisch ->
    (int, flags dict); float -> the accumulator's code (acc_float returns codes of F).
    batched: products is (lanes, length) and a list with one result per lane comes back."""
    kind = cfg.acc.kind
    P = products if batched else products[None, :]
    if kind == "int":
        res = [int(x) for x in numerics.acc_int(P, cfg.acc.fmt.bits, mode=cfg.acc.mode)]
    elif kind == "kulisch":
        spec = numerics.kulisch_spec(cfg.in_fmt, cfg.in_fmt, guard_bits=cfg.acc.guard_bits)
        r = numerics.kulisch_accumulate(P, spec)
        flags = {k: np.asarray(getattr(r, k)) for k in FLAGS}
        res = [(int(a), {k: bool(flags[k][i]) for k in FLAGS})
               for i, a in enumerate(np.asarray(r.acc_int).tolist())]
    else:
        res = [int(x) for x in numerics.acc_float(P, cfg.acc.fmt)]
    return res if batched else res[0]


def golden_all(cfg, P: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list:
    """golden_segment for every segment, batched: segments of similar length become lanes of one
    2-D call (the golden functions are vectorised over axis 0), padded with the additive identity
    (-0.0 for floats: x + (-0) = x for every x incl. -0; 0 for int/Kulisch)."""
    lens = ends - starts + 1
    out: list = [None] * len(starts)
    pad = -0.0 if cfg.acc.kind == "float" else 0.0
    buckets: dict[int, list[int]] = {}
    for k, ln in enumerate(lens.tolist()):
        buckets.setdefault(int(ln - 1).bit_length(), []).append(k)
    for ks in buckets.values():
        width = int(max(lens[k] for k in ks))
        M = np.full((len(ks), width), pad)
        for row, k in enumerate(ks):
            M[row, :lens[k]] = P[starts[k]:ends[k] + 1]
        res = golden_segment(cfg, M, batched=True)
        for row, k in enumerate(ks):
            out[k] = res[row]
    return out


# ---------------------------------------------------------------------------------------------
# Stimulus
# ---------------------------------------------------------------------------------------------
def _code_table(fmt):
    codes = np.arange(fmt.n_codes, dtype=np.uint64)
    with np.errstate(invalid="ignore"):
        return codes, numerics.decode(fmt, codes)


def corner_codes(fmt) -> dict[str, int]:
    """Named corner codes of a format of <= 16 bits (found by decoding every code)."""
    codes, vals = _code_table(fmt)
    fin = np.isfinite(vals)
    out = {"zero": int(codes[np.flatnonzero(vals == 0)[0]]) if np.any(vals == 0) else None,
           "max": int(codes[fin][np.argmax(vals[fin])]),
           "min": int(codes[fin][np.argmin(vals[fin])]),
           "one": int(codes[np.flatnonzero(vals == 1)[0]]) if np.any(vals == 1) else None}
    pos = fin & (vals > 0)
    out["tiny"] = int(codes[pos][np.argmin(vals[pos])])
    neg0 = np.flatnonzero((vals == 0) & np.signbit(vals))
    out["negzero"] = int(codes[neg0[0]]) if neg0.size else None
    for name, sel in (("nan", np.isnan(vals)), ("pinf", vals == np.inf), ("ninf", vals == -np.inf)):
        idx = np.flatnonzero(sel)
        out[name] = int(codes[idx[0]]) if idx.size else None
        if name == "nan" and idx.size > 1:
            out["nan2"] = int(codes[idx[-1]])
    if isinstance(fmt, IntFormat):
        out["negone"] = int((-1) % fmt.n_codes)
    return {k: v for k, v in out.items() if v is not None}


def _ulp(F, x: float) -> float:
    e = max(int(np.floor(np.log2(abs(x)))), F.emin)
    return float(np.ldexp(1.0, e - F.man_bits))


def directed_segments(cfg, rng) -> list[tuple[str, list[tuple[int, int]]]]:
    f = cfg.in_fmt
    c = corner_codes(f)
    segs: list[tuple[str, list[tuple[int, int]]]] = []
    add = lambda name, pairs: segs.append((name, pairs))  # noqa: E731
    one = c.get("one", c["max"])
    if "zero" in c:
        add("zero", [(c["zero"], c["zero"])])
        add("zero x max", [(c["zero"], c["max"]), (c["max"], c["zero"])])
    if "negzero" in c:
        add("-0 x +x", [(c["negzero"], one)])
        add("-0, -0", [(c["negzero"], one), (one, c["negzero"])])
        add("+x, -0", [(one, one), (c["negzero"], one)])
    add("max x max", [(c["max"], c["max"])] * 4)
    add("min x max", [(c["min"], c["max"])] * 4)
    add("cancellation", [(c["max"], c["max"]), (c["tiny"], c["tiny"]), (c["min"], c["max"])])
    add("cancellation to zero", [(c["max"], one), (c["min"], one)])
    add("tiny x tiny", [(c["tiny"], c["tiny"])] * 3)
    for name in ("nan", "nan2", "pinf", "ninf"):
        if name in c:
            add(f"{name} x one", [(one, one), (c[name], one), (one, one)])
            if "zero" in c:
                add(f"{name} x zero", [(c[name], c["zero"])])
    if "pinf" in c and "ninf" in c:
        add("+inf + -inf", [(c["pinf"], one), (c["ninf"], one)])
        add("+inf + +inf", [(c["pinf"], one), (c["pinf"], one)])
    kind = cfg.acc.kind
    if kind == "kulisch" and cfg.acc.guard_bits <= 14:
        n = (1 << cfg.acc.guard_bits) + 2
        add(f"kulisch overflow ({n} x max^2)", [(c["max"], c["max"])] * n)
        add(f"kulisch overflow ({n} x min*max)", [(c["min"], c["max"])] * n)
        add("kulisch full range", [(c["max"], c["max"]), (c["tiny"], c["tiny"])] * 64)
    if kind == "int":
        biggest = max(abs(f.min_int * f.min_int), abs(f.max_int * f.min_int))
        n = -(-(1 << (cfg.acc.fmt.bits - 1)) // biggest) + 2
        if n <= 20_000:   # narrow accumulators (int16 for int8) overflow within a few products;
            # int32 needs 2^17 int8 products: left to the int16 configs to keep the suite fast
            add(f"int overflow ({n} x min^2)", [(c["min"], c["min"])] * n)
            add(f"int underflow ({n} x min*max)", [(c["min"], c["max"])] * n)
    if kind == "float":
        segs.extend(tie_segments(cfg, rng))
    return segs


def tie_segments(cfg, rng, limit: int = 64):
    """Pairs (x, t) whose exact sum x + t is halfway between two values of the accumulator format
    (t = ±ulp(x)/2 or ±3 ulp(x)/2), found among the multiplier's products."""
    f, F = cfg.in_fmt, cfg.acc.fmt
    if f.n_codes <= 256:
        A, B = np.meshgrid(np.arange(f.n_codes), np.arange(f.n_codes), indexing="ij")
        A, B = A.ravel().astype(np.uint64), B.ravel().astype(np.uint64)
    else:
        A = rng.integers(0, f.n_codes, 200_000, dtype=np.uint64)
        B = rng.integers(0, f.n_codes, 200_000, dtype=np.uint64)
    with np.errstate(invalid="ignore"):
        P = numerics.mul_exact(f, A, f, B)
    ok = np.isfinite(P) & (P != 0)
    index = {}
    for a, b, p in zip(A[ok].tolist(), B[ok].tolist(), P[ok].tolist()):
        index.setdefault(p, (a, b))
    fmax = float(numerics.decode(F, np.array([((1 << F.exp_bits) - 2) << F.man_bits | ((1 << F.man_bits) - 1)],
                                             dtype=np.uint64))[0])
    xs = [p for p in index if abs(p) <= fmax]
    rng.shuffle(xs)
    out = []
    for x in xs:
        u = _ulp(F, x) / 2
        for t in (u, -u, 3 * u, -3 * u):
            if t in index:
                out.append((f"tie {x!r} + {t!r}", [index[x], index[t]]))
        if len(out) >= limit:
            break
    return out


def build_program(cfg, seed: int, n_random: int):
    """(A, B, clear, seg_end_index list, seg names) for the whole run."""
    rng = np.random.default_rng(seed)
    f = cfg.in_fmt
    A_parts, B_parts, names, lens = [], [], [], []

    def push(name, a, b):
        A_parts.append(np.asarray(a, dtype=np.uint64))
        B_parts.append(np.asarray(b, dtype=np.uint64))
        names.append(name)
        lens.append(len(a))

    for name, pairs in directed_segments(cfg, rng):
        a, b = zip(*pairs)
        push(name, a, b)
    n_exh = 0
    if f.bits <= 8:
        n = f.n_codes
        perm = rng.permutation(n * n)
        A, B = (perm // n).astype(np.uint64), (perm % n).astype(np.uint64)
        pos = 0
        while pos < A.size:
            ln = int(rng.integers(1, 33))
            push("exhaustive", A[pos:pos + ln], B[pos:pos + ln])
            pos += ln
        n_exh = A.size
    pos = 0
    RA = rng.integers(0, f.n_codes, n_random, dtype=np.uint64)
    RB = rng.integers(0, f.n_codes, n_random, dtype=np.uint64)
    while pos < n_random:
        ln = int(np.exp(rng.uniform(0, np.log(4096))))
        push("random", RA[pos:pos + ln], RB[pos:pos + ln])
        pos += ln
    A = np.concatenate(A_parts)
    B = np.concatenate(B_parts)
    starts = np.cumsum([0] + lens[:-1])
    clear = np.zeros(A.size, dtype=np.uint8)
    clear[starts] = 1
    ends = starts + np.array(lens) - 1
    return A, B, clear, ends, names, n_exh


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------
def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >= 1 << (w - 1) else v


@cocotb.test()
async def mac_matches_golden(dut):
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_random = int(os.environ.get("HWDSE_RANDOM", "100000"))
    A, B, clear, ends, names, n_exh = build_program(cfg, seed, n_random)
    dut._log.info(f"HWDSE {cfg.name}: seed {seed}, {A.size} products in {len(ends)} segments "
                  f"({n_exh} exhaustive pairs, {n_random} random)")
    kul = cfg.acc.kind == "kulisch"
    W = cfg.acc_width
    outputs = ["acc_out", *(FLAGS if kul else ())]

    tb = Testbench(dut, latency=cfg.latency, seed=seed)
    await tb.reset(3, hold_low=("a", "b"))
    run = await tb.stream({"a": A, "b": B, "clear": clear}, outputs, read=ends)

    # golden comparison: every segment's end, and every pause's held value (the running sum of
    # its segment up to the product before the pause)
    with np.errstate(invalid="ignore"):
        P = numerics.mul_exact(cfg.in_fmt, A, cfg.in_fmt, B)
    N = A.size
    starts = np.concatenate([[0], ends[:-1] + 1])
    seg_of = np.repeat(np.arange(len(ends)), ends - starts + 1)
    checks = [(k, int(e), "end", [run.values[o][int(e)] for o in outputs]) for k, e in enumerate(ends)]
    end_set = set(ends.tolist())
    checks += [(int(seg_of[h.item]), h.item, "pause", [h.samples[o][0] for o in outputs])
               for h in run.holds if h.item not in end_set]
    c_starts = np.array([starts[k] for k, _, _, _ in checks], dtype=np.int64)
    c_ends = np.array([e for _, e, _, _ in checks], dtype=np.int64)
    golds = golden_all(cfg, P, c_starts, c_ends)

    def describe(i):
        k = int(seg_of[i])
        return (f"segment {k} '{names[k]}', product {i - int(starts[k])}: "
                f"a=0x{int(A[i]):x} b=0x{int(B[i]):x}")
    # a state that did not hold during a pause is reported first: it explains the mismatches
    msgs = run.hold_failures(cfg.name, describe, limit=MAX_REPORT // 2)
    n_golden = 0
    F = cfg.acc.fmt if cfg.acc.kind == "float" else None
    for (k, e, why, got), gold in zip(checks, golds):
        s = int(starts[k])
        got_acc = got[0]
        if cfg.acc.kind == "float":
            rv, gv = numerics.decode(F, np.array([got_acc, gold], dtype=np.uint64)).tolist()
            # NaN by class; otherwise the same value with the same sign (the codes then agree)
            ok = (np.isnan(rv) and np.isnan(gv)) or (rv == gv and np.signbit(rv) == np.signbit(gv))
            rtl_desc, gold_desc = f"0x{got_acc:x} = {rv!r}", f"0x{gold:x} = {gv!r}"
        elif kul:
            rv = _signed(got_acc, W)
            rflags = dict(zip(FLAGS, map(bool, got[1:])))
            ok = rv == gold[0] and rflags == gold[1]
            rtl_desc, gold_desc = f"{rv} {rflags}", f"{gold[0]} {gold[1]}"
        else:
            rv = _signed(got_acc, W)
            ok = rv == gold
            rtl_desc, gold_desc = str(rv), str(gold)
        if not ok:
            pairs = ", ".join(f"(0x{int(a):x},0x{int(b):x})" for a, b in zip(A[s:e + 1][:8], B[s:e + 1][:8]))
            more = f" ... ({e - s + 1} products)" if e - s + 1 > 8 else ""
            where = "" if why == "end" else f" up to product {e - s} (held during a pause)"
            msgs.append(f"{cfg.name}: segment {k} '{names[k]}'{where} operands {pairs}{more}: "
                        f"RTL {rtl_desc}, golden {gold_desc}")
            n_golden += 1
            if n_golden >= MAX_REPORT:
                msgs.append("... (further mismatches not listed)")
                break
    bad_valid = [k for k, e in enumerate(ends) if run.valid_out[int(e)] != 1]
    if bad_valid:
        msgs.append(f"{cfg.name}: valid_out low {cfg.latency} edges after segments {bad_valid[:8]} "
                    f"({len(bad_valid)} in all): latency does not match config.latency")

    dut._log.info(f"HWDSE {cfg.name}: checked {len(ends)} segments / {N} products; "
                  f"{len(run.holds)} pauses ({run.pauses_inside} inside accumulations, "
                  f"{run.idle_cycles} idle cycles) held; {len(msgs)} failure lines")
    assert N > 0 and len(ends) > 0, f"{cfg.name}: no vectors checked"
    assert run.pauses_inside > 0, f"{cfg.name}: no pause inside an accumulation was checked"
    assert not msgs, "\n".join(msgs)
