"""The GEMM kernels we measure on GPUs: what each computes, its element sizes, and names.

C[M,N] = A[M,K] W[N,K]^T with one kernel. A kernel has a dtype label (its rows in gemm.csv), the
bytes of each A/W and C element, the datasheet peak that bounds it and, for block-scaled
kernels, the scale block (float32 scales, counted as bytes moved). Users name a kernel by its
name or by a dtype that only one kernel measures (`resolve_kernel`); a dtype that two kernels
measure (int8: cuBLAS and our Triton kernel) is refused with the names to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwmodel.errors import UnsupportedConfig


@dataclass(frozen=True)
class KernelInfo:
    """What one measured kernel computes: element sizes and which datasheet peak bounds it."""

    name: str
    dtype: str               # the dtype label of its rows in gemm.csv
    in_bytes: float          # bytes per A/W element
    out_bytes: float         # bytes per C element
    datasheet_dtype: str     # the datasheet peak that bounds it
    scale_block: tuple | None = None   # (rows per A scale, cols per W scale, K per scale)
    description: str = ""


KERNELS: dict[str, KernelInfo] = {k.name: k for k in [
    KernelInfo("cublas_bf16", "bf16", 2, 2, "bf16", None, "cuBLAS BF16 (torch.mm)"),
    KernelInfo("cublas_fp16", "fp16", 2, 2, "fp16", None, "cuBLAS FP16 (torch.mm)"),
    KernelInfo("cublas_tf32", "tf32", 4, 4, "tf32", None, "cuBLAS TF32 (fp32 torch.mm, tf32 allowed)"),
    KernelInfo("cublas_int8", "int8", 1, 4, "int8", None, "cuBLAS INT8 -> INT32 (torch._int_mm)"),
    KernelInfo("triton_int8", "int8", 1, 4, "int8", None, "our Triton INT8 -> INT32 GEMM"),
    KernelInfo("cublas_fp8_e4m3", "fp8_e4m3", 1, 2, "fp8_e4m3", None,
               "cuBLASLt FP8 e4m3 x e4m3 -> BF16 (torch._scaled_mm)"),
    KernelInfo("cublas_fp8_e5m2", "fp8_e5m2", 1, 2, "fp8_e5m2", None,
               "cuBLASLt FP8 e5m2 x e4m3 -> BF16 (torch._scaled_mm; no e5m2 x e5m2 exists)"),
    KernelInfo("triton_int8_blk1x128", "int8_blk128", 1, 2, "int8", (1, 128, 128),
               "our Triton per-block-scaled INT8 GEMM, 1x128 activations x 128x128 weights, "
               "fused dequantisation -> BF16"),
    KernelInfo("triton_int8_blk32", "int8_blk32", 1, 2, "int8", (32, 32, 32),
               "our Triton per-block-scaled INT8 GEMM, Jetfire 32x32 blocks, fused dequantisation"),
    KernelInfo("cublas_fp8_blk1x128", "fp8_blk128", 1, 2, "fp8_e4m3", (1, 128, 128),
               "cuBLASLt FP8 e4m3 with float32 block scales, 1x128 activations x 128x128 weights "
               "(DeepSeek-V3 style; torch._scaled_mm blockwise) -> BF16"),
    KernelInfo("triton_fp8_blk1x128", "fp8_blk128", 1, 2, "fp8_e4m3", (1, 128, 128),
               "our Triton FP8 e4m3 GEMM with float32 block scales, 1x128 activations x 128x128 "
               "weights, fused dequantisation -> BF16"),
]}

# --dtype names -> the kernel, where only one kernel measures the dtype. int8 and fp8_blk128 have
# two (cuBLAS and ours): AMBIGUOUS asks which.
DTYPE_KERNEL = {"bf16": "cublas_bf16", "fp16": "cublas_fp16", "tf32": "cublas_tf32",
                "fp8_e4m3": "cublas_fp8_e4m3", "fp8_e5m2": "cublas_fp8_e5m2",
                "int8_blk128": "triton_int8_blk1x128", "int8_blk32": "triton_int8_blk32"}
AMBIGUOUS = {"int8": ("cublas_int8", "triton_int8"),
             "fp8_blk128": ("cublas_fp8_blk1x128", "triton_fp8_blk1x128")}
# Format names of hwmodel.formats that map onto a measured dtype.
_FORMAT_ALIASES = {"bfloat16": "bf16", "float16": "fp16", "float8_e4m3fn": "fp8_e4m3",
                   "float8_e5m2": "fp8_e5m2", "int8": "int8", "e4m3": "fp8_e4m3",
                   "e5m2": "fp8_e5m2", "fp8": "fp8_e4m3"}


def _ambiguous(name: str, dtype: str):
    a, b = AMBIGUOUS[dtype]
    return UnsupportedConfig(f"{name!r} is measured by two kernels: say which, {a} or {b}")


def resolve_kernel(name: str) -> str:
    """A kernel name from a kernel name or a dtype (bf16, fp8_e4m3, e4m3, ...) that one kernel
    measures; UnsupportedConfig for an unknown name or an ambiguous dtype (int8)."""
    name = str(name)
    if name in KERNELS:
        return name
    if name in DTYPE_KERNEL:
        return DTYPE_KERNEL[name]
    if name in AMBIGUOUS:
        raise _ambiguous(name, name)
    alias = _FORMAT_ALIASES.get(name)
    if alias is None:
        try:  # any spelling the format catalogue understands (e.g. "float8_e4m3fn")
            from hwmodel.formats import parse_format
            alias = _FORMAT_ALIASES.get(parse_format(name).name)
        except Exception:  # noqa: BLE001 - fall through to the one-line error below
            alias = None
    if alias in AMBIGUOUS:
        raise _ambiguous(name, alias)
    if alias:
        return DTYPE_KERNEL[alias]
    raise UnsupportedConfig(f"dtype must be one of {', '.join(DTYPE_KERNEL)} or a kernel "
                            f"({', '.join(KERNELS)}), not {name!r}; INT4/FP4 have no measured "
                            f"kernel: see `hwdse roofline --whatif`")


def gemm_bytes(M, N, K, info: KernelInfo):
    """Fewest bytes of one GEMM: A and W read once, C written once, block scales (float32)."""
    M, N, K = (np.asarray(x, dtype=float) for x in (M, N, K))
    b = info.in_bytes * (M * K + N * K) + info.out_bytes * M * N
    if info.scale_block:
        qa, qb, qk = info.scale_block
        b = b + 4.0 * (np.ceil(M / qa) + np.ceil(N / qb)) * np.ceil(K / qk)
    return b


def check_shape(M, N, K):
    for name, v in (("M", M), ("N", N), ("K", K)):
        if not (isinstance(v, (int, np.integer)) and v > 0):
            raise UnsupportedConfig(f"GEMM {name} must be a positive integer, not {v!r}")


def parse_gemm(text: str) -> tuple[int, int, int]:
    """'MxNxK' -> (M, N, K), each a positive integer."""
    parts = str(text).lower().replace("*", "x").split("x")
    try:
        vals = tuple(int(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) <= 0:
        raise UnsupportedConfig(f"--gemm must be MxNxK with three positive integers, not {text!r}")
    return vals
