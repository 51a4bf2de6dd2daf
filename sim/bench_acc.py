"""cocotb bench of rtl.acc.KulischReadout against hwmodel.numerics.kulisch_to_float, bit for bit.

Run through sim.runner.run_bench(ReadoutConfig(...), "sim.bench_acc"). Vectors: directed corners
(zero, ±1 LSB, the register's extremes, every flag combination, exact ties of the output format
at several binades, values a hair off a tie, overflow into inf, subnormal outputs) plus
HWDSE_RANDOM (default 100,000) seeded random registers of random bit lengths; the seed is logged.
Codes compare as values (NaN by class, sign of zero significant). The read-out is combinational:
vectors go in through sim.testbench.Testbench.apply, which holds seeded random vectors for a few
more settle times and re-samples them (the code must not change while nothing arrives).
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from hwmodel import numerics
from sim.runner import config_from_env
from sim.testbench import Testbench

FLAGS = ("overflow", "overflow_neg", "nan", "pinf", "ninf")


def readout_vectors(cfg, seed: int, n_random: int):
    """(register values as Python ints, flag rows) for the run."""
    K = cfg.kulisch
    W, F = K.width, cfg.out_fmt
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (W - 1)), (1 << (W - 1)) - 1
    vals = [0, 1, -1, 2, -2, hi, lo, hi - 1, lo + 1]
    P = F.precision
    # ties and near-ties of F at many binades: m (P+1 bits, odd last bit = the half) << s
    for s in list(range(0, W - P - 1, max(1, (W - P) // 24))) + [W - P - 2]:
        for m in ((1 << P) | 1, (1 << P) | 3, (1 << (P + 1)) - 1):
            for delta in (0, 1, -1):
                v = (m << s) + (delta if s > 0 else 0)
                if v <= hi:
                    vals += [v, -v]
    flags = [[0] * 5 for _ in vals]
    # every flag combination on a few registers
    for combo in range(32):
        bits = [(combo >> i) & 1 for i in range(5)]
        if bits[1] and not bits[0]:
            continue   # overflow_neg only accompanies overflow
        for v in (0, 12345 % hi, -(12345 % hi)):
            vals.append(v)
            flags.append(bits)
    # random registers of random bit lengths (so that every binade is hit)
    lens = rng.integers(1, W, n_random)
    for ln in lens.tolist():
        v = int(rng.integers(0, 1 << min(ln, 62))) << max(0, ln - 62)
        v |= 1 << (ln - 1)
        v = -v if rng.integers(0, 2) else v
        vals.append(max(lo, min(hi, v)))
        flags.append([0] * 5)
    return vals, np.array(flags, dtype=bool)


@cocotb.test()
async def readout_matches_golden(dut):
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_random = int(os.environ.get("HWDSE_RANDOM", "100000"))
    vals, flags = readout_vectors(cfg, seed, n_random)
    K = cfg.kulisch
    W = K.width
    tb = Testbench(dut, clock=None, seed=seed)
    inputs = {"acc": [v & ((1 << W) - 1) for v in vals]}
    inputs.update({k: flags[:, i].astype(np.uint8) for i, k in enumerate(FLAGS)})
    got_codes, run = await tb.apply(inputs, ["code"])
    got = [int(x) for x in got_codes["code"].tolist()]
    spec = numerics.kulisch_spec(cfg.in_fmt, cfg.in_fmt, guard_bits=cfg.guard_bits)
    acc = np.array(vals, dtype=object) if W > 62 else np.array(vals, dtype=np.int64)
    res = numerics.KulischResult(acc_int=acc, overflow=flags[:, 0], overflow_neg=flags[:, 1],
                                 nan=flags[:, 2], pinf=flags[:, 3], ninf=flags[:, 4])
    gold = numerics.kulisch_to_float(res, spec, cfg.out_fmt)
    with np.errstate(invalid="ignore"):
        rv = numerics.decode(cfg.out_fmt, np.array(got, dtype=np.uint64))
        gv = numerics.decode(cfg.out_fmt, np.asarray(gold, dtype=np.uint64))
    ok = (np.isnan(rv) & np.isnan(gv)) | ((rv == gv) & (np.signbit(rv) == np.signbit(gv)))
    bad = np.flatnonzero(~ok)
    msgs = [f"{cfg.name}: acc={vals[i]} flags={dict(zip(FLAGS, flags[i].tolist()))}: RTL 0x{got[i]:x} "
            f"= {rv[i]!r}, golden kulisch_to_float 0x{int(gold[i]):x} = {gv[i]!r}" for i in bad[:10]]
    msgs += run.hold_failures(cfg.name, lambda i: f"acc={vals[i]} "
                              f"flags={dict(zip(FLAGS, flags[i].tolist()))}")
    dut._log.info(f"HWDSE {cfg.name}: seed {seed}, {len(vals)} vectors, {bad.size} mismatches; "
                  f"{len(run.holds)} held vectors re-sampled")
    assert len(vals) > 0, f"{cfg.name}: no vectors checked"
    assert run.holds, f"{cfg.name}: no held vector was re-sampled"
    assert not msgs, "\n".join(msgs)
