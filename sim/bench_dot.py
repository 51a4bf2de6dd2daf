"""cocotb bench of rtl.dot.DotUnit: random GEMMs against hwmodel.numerics, every accumulation step.

Run through sim.runner.run_bench(DotConfig(...), "sim.bench_dot"); the config arrives as JSON.
Each GEMM C = A (M x K) . B (K x P) is computed one output at a time: C[i][j] takes K/N cycles, the
first with `clear`, cycle s feeding lanes l = 0..N-1 with A[i][s*N + l] and B[s*N + l][j]. The
unit streams through sim.testbench.Testbench (valid high, with seeded pauses of 1..6 cycles of
valid low and garbage operands inside and between outputs, during which the accumulator must hold)
and the accumulator is compared after every step with the golden model of the same semantics:
    float accumulator: numerics.dot_unit_accumulate (exact N-term sum + acc, one rounding a step);
    int accumulator:   numerics.acc_int over the exact group sums (wrap, or saturate per step).
Operands: most GEMMs are Gaussian values at a random scale (per GEMM) quantised to the input
format with saturation, so sums grow, cancel and (for narrow accumulators) overflow; the rest are
uniformly random codes (NaN/inf/subnormal codes included). HWDSE_GEMMS (default 12) GEMMs of
HWDSE_GEMM_SHAPE (default 8x64x8); seed HWDSE_SEED (default 12345), logged. Results compare as
codes (NaN by class). A failure message names config, GEMM, output, step, lanes, RTL and golden.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from hwmodel import numerics
from sim.runner import config_from_env
from sim.testbench import Testbench

MAX_REPORT = 8


def gemm_operands(cfg, rng, M: int, K: int, P: int):
    """(A codes, B codes, description) for one GEMM.

    Float inputs: 70% Gaussian values scaled so that |C| lands at a random binade inside the
    accumulator's range (sums that round at every step rather than overflow or stay exact),
    15% at a random scale of the input format's range (overflow to inf, underflow), 15% uniformly
    random codes (NaN/inf/subnormal codes). Int inputs: uniformly random codes."""
    f = cfg.in_fmt
    acc = cfg.acc
    r = rng.random()
    if getattr(f, "kind", "") == "int" or r < 0.15:
        return (rng.integers(0, f.n_codes, (M, K), dtype=np.uint64),
                rng.integers(0, f.n_codes, (K, P), dtype=np.uint64), "uniform codes")
    if r < 0.85 and acc.kind == "float":
        F = acc.fmt
        v = rng.uniform(F.emin + 8, min(F.emax, 200) - 2)     # target binade of |C|
        scale = float(np.sqrt(2.0 ** v / np.sqrt(K)))           # random walk of K products
        scale = float(np.clip(scale, f.min_normal * 2, f.max_normal / 4))
        how = f"gaussian x {scale:.3g} (|C| ~ 2^{v:.0f})"
    else:
        scale = float(2.0 ** rng.uniform(-6, 6)) * float(f.max_normal) / 8
        how = f"gaussian x {scale:.3g}"
    A = numerics.encode(f, rng.standard_normal((M, K)) * scale, saturate=True)
    B = numerics.encode(f, rng.standard_normal((K, P)) * scale, saturate=True)
    return A, B, how


def golden_steps(cfg, prods: np.ndarray) -> np.ndarray:
    """Accumulator register after every step: prods (outputs, steps, N) -> (outputs, steps)."""
    out = np.zeros(prods.shape[:2], dtype=np.uint64)
    acc = cfg.acc
    for t in range(prods.shape[1]):
        if acc.kind == "float":
            with np.errstate(invalid="ignore"):
                out[:, t] = numerics.dot_unit_accumulate(prods[:, :t + 1, :], acc.fmt)
        else:
            sums = prods[:, :t + 1, :].astype(np.int64).sum(axis=2)       # exact group sums
            reg = numerics.acc_int(sums, acc.fmt.bits, mode=acc.mode)
            out[:, t] = reg.astype(np.int64).astype(np.uint64) & np.uint64((1 << acc.fmt.bits) - 1)
    return out


def pack(codes, bits: int) -> int:
    v = 0
    for i, c in enumerate(codes):
        v |= int(c) << (i * bits)
    return v


@cocotb.test()
async def dot_matches_golden(dut):
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_gemms = int(os.environ.get("HWDSE_GEMMS", "12"))
    M, K, P = (int(x) for x in os.environ.get("HWDSE_GEMM_SHAPE", "8x64x8").split("x"))
    N, bits = cfg.n, cfg.in_fmt.bits
    if K % N:
        raise ValueError(f"GEMM depth K={K} must be a multiple of the unit's N={N}")
    steps = K // N
    rng = np.random.default_rng(seed)
    F = cfg.acc.fmt

    tb = Testbench(dut, latency=cfg.latency, seed=seed)
    await tb.reset(2)

    msgs, total_bad, checked, holds, inside = [], 0, 0, 0, 0
    for g in range(n_gemms):
        A, B, how = gemm_operands(cfg, rng, M, K, P)
        # lanes of output (i, j) at step s: k = s*N + l
        a_lanes = A.reshape(M, steps, N)                        # (M, steps, N)
        b_lanes = B.T.reshape(P, steps, N)                      # (P, steps, N)
        with np.errstate(invalid="ignore"):
            prods = numerics.mul_exact(cfg.in_fmt, a_lanes[:, None], cfg.in_fmt, b_lanes[None, :])
        gold = golden_steps(cfg, prods.reshape(M * P, steps, N)).reshape(M, P, steps)
        words = [(pack(a_lanes[i, s], bits), pack(b_lanes[j, s], bits), int(s == 0))
                 for i in range(M) for j in range(P) for s in range(steps)]
        a_w, b_w, c_w = zip(*words)
        run = await tb.stream({"a": a_w, "b": b_w, "clear": c_w}, ["acc_out"])
        holds += len(run.holds)
        inside += run.pauses_inside
        low = [t for t, v in enumerate(run.valid_out) if v != 1]
        if low:
            msgs.append(f"{cfg.name} GEMM {g}: valid_out low {cfg.latency} edges after steps "
                        f"{low[:8]} ({len(low)} in all): latency does not match config.latency")
            break
        got = np.array(run.values["acc_out"], dtype=np.uint64).reshape(M, P, steps)

        def describe(t, g=g, how=how, A=A, B=B, gold=gold):
            i, j, s = np.unravel_index(t, (M, P, steps))
            ks = slice(s * N, s * N + N)
            return (f"seed {seed} GEMM {g} ({how}) C[{i}][{j}] step {s}: "
                    f"a={[hex(int(x)) for x in A[i, ks]]} b={[hex(int(x)) for x in B[ks, j]]}, "
                    f"golden {int(gold[i, j, s]):#x}")
        msgs += run.hold_failures(cfg.name, describe, limit=max(1, MAX_REPORT - len(msgs)))
        nan = cfg.acc.kind == "float"
        bad = (got != gold) & ~(nan & numerics.is_nan(F, got) & numerics.is_nan(F, gold)) \
            if nan else (got != gold)
        checked += got.size
        total_bad += int(bad.sum())
        for i, j, s in np.argwhere(bad)[:max(0, MAX_REPORT - len(msgs))]:
            ks = slice(s * N, s * N + N)
            msgs.append(f"{cfg.name} seed {seed} GEMM {g} ({how}) C[{i}][{j}] step {s} (k {ks.start}.."
                        f"{ks.stop - 1}): a={[hex(int(x)) for x in A[i, ks]]} "
                        f"b={[hex(int(x)) for x in B[ks, j]]} products={prods[i, j, s].tolist()}; "
                        f"acc before: rtl {int(got[i, j, s - 1]) if s else 0:#x}, golden "
                        f"{int(gold[i, j, s - 1]) if s else 0:#x}; rtl {int(got[i, j, s]):#x}, "
                        f"golden {int(gold[i, j, s]):#x}")
    dut._log.info(f"HWDSE {cfg.name}: {n_gemms} GEMMs {M}x{K}x{P} (seed {seed}), {checked} "
                  f"accumulator steps of {N} products checked, {total_bad} mismatches; {holds} "
                  f"pauses ({inside} inside accumulations) held")
    assert checked > 0, f"{cfg.name}: nothing checked"
    assert inside > 0 or msgs, f"{cfg.name}: no pause inside an accumulation was checked"
    if total_bad > len(msgs):
        msgs.append(f"... {total_bad} mismatching steps in all")
    assert not msgs, "\n".join(msgs)
