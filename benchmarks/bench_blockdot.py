"""Speed of the block-scaled golden model: block dots per second (benchmark, prints figures).

    python benchmarks/bench_blockdot.py [--blocks 1048576] [--repeat 3]

Each case quantises random Gaussian operands once (timed separately) and then times
hwmodel.blockscaled.block_dot_steps over 1024 lanes x (blocks / 1024) blocks of 32 (16 for NVFP4),
i.e. --blocks block dot products (exact block sum, scaling, one accumulator rounding each).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from hwmodel import blockscaled as B
from hwmodel.formats import parse_format


def cases():
    out = [("mxfp8_e4m3", parse_format("mxfp8_e4m3"), "fp32"),
           ("mxfp4", parse_format("mxfp4"), "fp32"),
           ("mxint8", parse_format("mxint8"), "fp32")]
    for name in ("nvfp4", "shiftquant_int4"):
        try:
            out.append((name, parse_format(name), "fp32" if name == "nvfp4" else "kulisch"))
        except Exception:  # noqa: BLE001  catalogue entries arrive with the block-format catalogue
            pass
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=1 << 20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    lanes = 1024
    nb = max(1, args.blocks // lanes)
    print(f"# block dot golden model, {lanes} x {nb} = {lanes * nb} blocks per run, best of "
          f"{args.repeat}; numpy {np.__version__}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.machine()}")
    print(f"{'format':<18}{'acc':<9}{'quantise_s':>11}{'dot_s':>9}{'block_dots_per_s':>18}")
    rng = np.random.default_rng(0)
    for name, f, acc in cases():
        if acc == "kulisch" and nb > 64:
            nb_c = 64                   # the Kulisch model runs on Python ints: a smaller run
        else:
            nb_c = nb
        x = rng.standard_normal((lanes, nb_c * f.block_size))
        y = rng.standard_normal((lanes, nb_c * f.block_size))
        t0 = time.perf_counter()
        a, b = B.quantize_blocks(f, x), B.quantize_blocks(f, y)
        tq = time.perf_counter() - t0
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            B.block_dot_steps(f, a, f, b, acc)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:<18}{acc:<9}{tq:>11.3f}{best:>9.3f}{lanes * nb_c / best:>18.3e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
