"""Print the GPU speed figures of committed measurements (no GPU needed).

Per kernel at 4096/8192/16384^3: TOPS, ratio to cuBLAS BF16 and to cuBLAS INT8, and the fraction
of the measured device's own datasheet peak; the per-block INT8 goals (>= 1.2x cuBLAS BF16,
>= 0.9x cuBLAS INT8 at 8192^3). Usage:
    python benchmarks/gpu_speed_figures.py [h100-sxm | h200 | MEASUREMENT_FOLDER]
"""

import sys

from hwmodel import gpudata, roofline


def main(path=None) -> int:
    meas = gpudata.load_measurements(gpudata.measurement_path(path))
    spec = gpudata.spec_for_device(meas.gpu_name)
    g = meas.gemm
    print(f"{meas.source}; datasheet: {spec.name if spec else 'none for this device'}")
    print(f"{'kernel':<22} {'n':>6} {'TOPS':>8} {'x BF16':>7} {'x INT8':>7} {'of datasheet':>13}")
    for n in (4096, 8192, 16384):
        sq = g[(g["M"] == n) & (g["N"] == n) & (g["K"] == n)].set_index("kernel")
        bf = 2.0 * n**3 / sq.loc["cublas_bf16", "time_s"]
        i8 = 2.0 * n**3 / sq.loc["cublas_int8", "time_s"]
        for k, r in sq.iterrows():
            ops = 2.0 * n**3 / r["time_s"]
            peak = spec.peak_ops_per_s.get(roofline.KERNELS[k].datasheet_dtype, float("nan")) \
                if spec else float("nan")
            print(f"{k:<22} {n:>6} {ops / 1e12:8.0f} {ops / bf:7.2f} {ops / i8:7.2f} "
                  f"{ops / peak:13.3f}")
    sq = g[(g["M"] == 8192) & (g["N"] == 8192) & (g["K"] == 8192)].set_index("kernel")
    ratio = sq.loc["cublas_bf16", "time_s"] / sq.loc["triton_int8_blk1x128", "time_s"]
    r8 = sq.loc["cublas_int8", "time_s"] / sq.loc["triton_int8_blk1x128", "time_s"]
    print(f"\nper-block INT8 (1x128 x 128x128) at 8192^3: {ratio:.2f}x cuBLAS BF16 (goal >= 1.2: "
          f"{'met' if ratio >= 1.2 else 'NOT met'}), {r8:.2f}x cuBLAS INT8 (goal >= 0.9: "
          f"{'met' if r8 >= 0.9 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
