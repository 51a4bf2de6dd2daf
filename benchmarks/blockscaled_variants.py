"""Per-block-scaled INT8 GEMM variants at large squares on a CUDA GPU: prints TOPS per variant.

Variants: activation scales stored row-major (M, K/128) or column-major (MN-major, as DeepGEMM
stores them: one kernel step's scales are contiguous), each over the tuned tile candidates
(--configs tuned), or over candidates not among the tuned ones (--configs new: larger tiles,
deeper pipelines, other group sizes); cuBLAS BF16, cuBLAS INT8 (torch._int_mm) and our plain
Triton INT8 GEMM as baselines. Every variant is checked against float64 first.
Run on the GPU machine: python3 benchmarks/blockscaled_variants.py [--sizes 8192,16384]
"""

import sys

import torch
import triton

sys.path.insert(0, ".")
from analysis.gpubench import kernels as kk  # noqa: E402


def tops(ms, n):
    return 2 * n**3 / (ms * 1e-3) / 1e12


# Candidates beyond the tuned set (BM, BN, GROUP_M, warps, stages[, warp-spec, K-split]):
# 128x128 with 4-5 stages (more loads in flight), 64x256 of 8 warps (two warpgroups of 64x128
# sharing A), 128x64, and group sizes 4 and 16 (L2 reuse of the scale and operand tiles).
# Folded conversion (config[8] = 1: the magic number's subtraction moved out of the loop; 2: also
# the magic bits as the tensor cores' initial accumulator), on the best tiles of --configs new.
FOLD_CONFIGS = [(64, 128, 8, 4, 3, False, 1, False, 1), (64, 128, 16, 4, 3, False, 1, False, 1),
                (128, 128, 8, 8, 3, False, 1, False, 1), (128, 128, 16, 8, 3, False, 1, False, 1),
                (128, 128, 8, 8, 4, False, 1, False, 1), (64, 128, 16, 4, 3, False, 1, False, 2),
                (128, 128, 16, 8, 3, False, 1, False, 2), (64, 128, 16, 4, 3),
                (128, 128, 16, 8, 3)]
NEW_CONFIGS = [(128, 128, 8, 8, 4), (128, 128, 8, 8, 5), (64, 256, 8, 8, 3), (64, 256, 8, 8, 4),
               (128, 64, 8, 4, 4), (64, 128, 16, 4, 3), (64, 128, 4, 4, 3), (64, 128, 8, 4, 5),
               (128, 128, 16, 8, 3)]


def main(sizes=(4096, 8192, 16384), layouts=("row", "col"), configs="tuned"):
    g = torch.Generator(device="cuda")
    g.manual_seed(0)
    for n in sizes:
        x = torch.randn((n, n), generator=g, device="cuda").bfloat16()
        w = torch.randn((n, n), generator=g, device="cuda").bfloat16()
        bf = triton.testing.do_bench(lambda: x @ w.t(), return_mode="median")
        qa, sa = kk.quantize_blocks(x, 1, 128)
        qw, sw = kk.quantize_blocks(w, 128, 128)
        c32 = torch.empty((n, n), dtype=torch.int32, device="cuda")
        i8 = triton.testing.do_bench(lambda: kk.int8_gemm(qa, qw, c32, config=(128, 256, 128, 8, 8, 3)),
                                     return_mode="median")
        xa = torch.randint(-127, 128, (n, n), generator=g, device="cuda", dtype=torch.int8)
        wa = torch.randint(-127, 128, (n, n), generator=g, device="cuda", dtype=torch.int8)
        ci8 = triton.testing.do_bench(lambda: torch._int_mm(xa, wa.t()), return_mode="median")
        print(f"{n}^3: cuBLAS bf16 {tops(bf, n):.0f} TOPS; cuBLAS int8 {tops(ci8, n):.0f}; "
              f"triton int8 {tops(i8, n):.0f}", flush=True)
        rows = torch.randperm(n, generator=g, device="cuda")[:64]
        ref = kk.blockscaled_gemm_ref(qa, sa, qw, sw, 1, 128, 128, rows=rows)
        sa_col = sa.t().contiguous().t()      # same values, MN-major storage
        variants = {"row": ("row-major scales", sa), "col": ("col-major scales", sa_col)}
        for name, s in (variants[v] for v in layouts):
            cands = (NEW_CONFIGS if configs == "new" else FOLD_CONFIGS if configs == "fold" else
                     kk.BLOCKSCALED_CONFIGS["large"] + kk.BLOCKSCALED_EXTRA + kk.PIPELINED_CONFIGS)
            for cfg in cands:
                c = torch.full((n, n), float("nan"), dtype=torch.bfloat16, device="cuda")
                try:
                    kk.blockscaled_int8_gemm(qa, s, qw, sw, 1, 128, 128, c=c, config=cfg)
                    torch.cuda.synchronize()
                except Exception as exc:  # a config the compiler rejects
                    print(f"  {name} {cfg}: failed {type(exc).__name__}")
                    continue
                err = ((c[rows].double() - ref).norm() / ref.norm()).item()
                ok = err < 1e-2 and not torch.isnan(c).any().item()
                ms = triton.testing.do_bench(
                    lambda: kk.blockscaled_int8_gemm(qa, s, qw, sw, 1, 128, 128, c=c, config=cfg),
                    return_mode="median")
                print(f"  {name} {cfg}: {tops(ms, n):.0f} TOPS = {bf / ms:.2f}x bf16, "
                      f"{ci8 / ms:.2f}x cuBLAS int8, rel_err {err:.1e} {'ok' if ok else 'FAIL'}",
                      flush=True)


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="4096,8192,16384")
    p.add_argument("--layouts", default="row,col")
    p.add_argument("--configs", default="tuned", choices=("tuned", "new", "fold"))
    a = p.parse_args()
    main(tuple(int(x) for x in a.sizes.split(",")), tuple(a.layouts.split(",")), a.configs)
