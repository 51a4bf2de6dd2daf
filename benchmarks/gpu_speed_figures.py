"""Print the GPU speed figures of the committed H100 data (no GPU needed).

Issue 5's speed goal: our per-block-scaled INT8 GEMM (block 128 along K) at >= 1.2x cuBLAS BF16 at
8192x8192x8192; and each kernel's fraction of the datasheet peak. Usage:
    python benchmarks/gpu_speed_figures.py [MEASUREMENT_FOLDER]
"""

import sys

from hwmodel import gpudata, roofline


def main(path=None) -> int:
    meas = gpudata.load_measurements(path or gpudata.DEFAULT_MEASUREMENTS)
    spec = gpudata.gpu_spec()
    g = meas.gemm
    print(f"{meas.source}")
    print(f"{'kernel':<22} {'n':>6} {'TOPS':>8} {'x BF16':>7} {'of datasheet':>13}")
    for n in (4096, 8192, 16384):
        sq = g[(g["M"] == n) & (g["N"] == n) & (g["K"] == n)].set_index("kernel")
        bf = 2.0 * n**3 / sq.loc["cublas_bf16", "time_s"]
        for k, r in sq.iterrows():
            ops = 2.0 * n**3 / r["time_s"]
            peak = spec.peak(roofline.KERNELS[k].datasheet_dtype)
            print(f"{k:<22} {n:>6} {ops / 1e12:8.0f} {ops / bf:7.2f} {ops / peak:13.3f}")
    sq = g[(g["M"] == 8192) & (g["N"] == 8192) & (g["K"] == 8192)].set_index("kernel")
    ratio = sq.loc["cublas_bf16", "time_s"] / sq.loc["triton_int8_blk1x128", "time_s"]
    print(f"\nspeed goal: per-block INT8 (1x128 x 128x128) / cuBLAS BF16 at 8192^3 = {ratio:.2f} "
          f"(goal >= 1.2: {'met' if ratio >= 1.2 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
