"""Triton kernels of the INT8 data flow, and pure-torch references of each.

Layout convention (the linear layer y = x W^T): activations A are (M, K) row-major, weights W are
(N, K) row-major (K-major, what 8-bit tensor-core instructions want for both operands), outputs are
(M, N). Scales are float32.

Per-block quantisation (Jetfire, Xi et al. 2024; DeepSeek-V3's FP8 recipe for 1x128/128x128):
a block of QR rows x QC columns shares one scale s = amax(|x|) / 127; q = round(x / s) with ties
away from zero, clamped to [-127, 127]. Scale tensors have shape (ceil(R/QR), ceil(C/QC)).

This module imports torch and triton at import time: import it only inside run() paths.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

QMAX = 127.0
# Smallest scale: keeps an all-zero block from dividing by zero (its codes are then all 0).
MIN_SCALE = 1e-30
# The same two numbers as compile-time constants: a @triton.jit body may read only constexpr globals.
_QMAX_C = tl.constexpr(127.0)
_MIN_SCALE_C = tl.constexpr(1e-30)


# ----------------------------------------------------------------------------------------------
# Quantise / dequantise
# ----------------------------------------------------------------------------------------------
@triton.jit
def _quant_kernel(x_ptr, q_ptr, s_ptr, R, C, stride_xr, stride_qr, stride_sr, stride_sc,
                  QR: tl.constexpr, QC: tl.constexpr, ROWS: tl.constexpr):
    # One program: ROWS rows x QC columns. QR == 1: ROWS independent 1 x QC groups (one scale per
    # row); QR > 1: ROWS == QR, one QR x QC block and one scale.
    pid_r = tl.program_id(0)
    pid_c = tl.program_id(1)
    offs_r = pid_r * ROWS + tl.arange(0, ROWS)
    offs_c = pid_c * QC + tl.arange(0, QC)
    mask = (offs_r[:, None] < R) & (offs_c[None, :] < C)
    x = tl.load(x_ptr + offs_r[:, None] * stride_xr + offs_c[None, :], mask=mask, other=0.0)
    x = x.to(tl.float32)
    if QR == 1:
        amax = tl.max(tl.abs(x), axis=1)
        scale = tl.maximum(amax / _QMAX_C, _MIN_SCALE_C)
        y = x / scale[:, None]
        tl.store(s_ptr + offs_r * stride_sr + pid_c * stride_sc, scale, mask=offs_r < R)
    else:
        amax = tl.max(tl.max(tl.abs(x), axis=1), axis=0)
        scale = tl.maximum(amax / _QMAX_C, _MIN_SCALE_C)
        y = x / scale
        tl.store(s_ptr + pid_r * stride_sr + pid_c * stride_sc, scale)
    # round half away from zero, then clamp (|y| <= 127 up to division rounding)
    r = tl.where(y >= 0, y + 0.5, y - 0.5).to(tl.int32)
    r = tl.minimum(tl.maximum(r, -127), 127)
    tl.store(q_ptr + offs_r[:, None] * stride_qr + offs_c[None, :], r.to(tl.int8), mask=mask)


@triton.jit
def _dequant_kernel(q_ptr, s_ptr, y_ptr, R, C, stride_qr, stride_yr, stride_sr, stride_sc,
                    QR: tl.constexpr, QC: tl.constexpr, ROWS: tl.constexpr):
    pid_r = tl.program_id(0)
    pid_c = tl.program_id(1)
    offs_r = pid_r * ROWS + tl.arange(0, ROWS)
    offs_c = pid_c * QC + tl.arange(0, QC)
    mask = (offs_r[:, None] < R) & (offs_c[None, :] < C)
    q = tl.load(q_ptr + offs_r[:, None] * stride_qr + offs_c[None, :], mask=mask, other=0)
    if QR == 1:
        s = tl.load(s_ptr + offs_r * stride_sr + pid_c * stride_sc, mask=offs_r < R, other=0.0)
        y = q.to(tl.float32) * s[:, None]
    else:
        s = tl.load(s_ptr + pid_r * stride_sr + pid_c * stride_sc)
        y = q.to(tl.float32) * s
    tl.store(y_ptr + offs_r[:, None] * stride_yr + offs_c[None, :],
             y.to(y_ptr.dtype.element_ty), mask=mask)


def _rows_per_program(qr: int) -> int:
    # 1 x QC groups are tiny: give each program 32 rows of them so loads stay wide.
    return 32 if qr == 1 else qr


def quantize_blocks(x: torch.Tensor, qr: int, qc: int):
    """(q int8 (R, C), scales float32 (ceil(R/qr), ceil(C/qc))) of a 2-D tensor, by blocks qr x qc."""
    R, C = x.shape
    q = torch.empty((R, C), dtype=torch.int8, device=x.device)
    s = torch.empty((triton.cdiv(R, qr), triton.cdiv(C, qc)), dtype=torch.float32, device=x.device)
    rows = _rows_per_program(qr)
    grid = (triton.cdiv(R, rows), triton.cdiv(C, qc))
    _quant_kernel[grid](x, q, s, R, C, x.stride(0), q.stride(0), s.stride(0), s.stride(1),
                        QR=qr, QC=qc, ROWS=rows)
    return q, s


def dequantize_blocks(q: torch.Tensor, s: torch.Tensor, qr: int, qc: int,
                      out_dtype=torch.bfloat16) -> torch.Tensor:
    """q * s broadcast over qr x qc blocks, in out_dtype."""
    R, C = q.shape
    y = torch.empty((R, C), dtype=out_dtype, device=q.device)
    rows = _rows_per_program(qr)
    grid = (triton.cdiv(R, rows), triton.cdiv(C, qc))
    _dequant_kernel[grid](q, s, y, R, C, q.stride(0), y.stride(0), s.stride(0), s.stride(1),
                          QR=qr, QC=qc, ROWS=rows)
    return y


def quantize_blocks_ref(x: torch.Tensor, qr: int, qc: int):
    """Pure-torch reference of quantize_blocks (same rounding: half away from zero)."""
    R, C = x.shape
    xf = x.float()
    Rp, Cp = triton.cdiv(R, qr) * qr, triton.cdiv(C, qc) * qc
    pad = torch.zeros((Rp, Cp), dtype=torch.float32, device=x.device)
    pad[:R, :C] = xf
    blocks = pad.reshape(Rp // qr, qr, Cp // qc, qc)
    amax = blocks.abs().amax(dim=(1, 3))
    s = torch.clamp(amax / QMAX, min=MIN_SCALE)
    full = s.repeat_interleave(qr, 0).repeat_interleave(qc, 1)[:R, :C]
    y = xf / full
    q = torch.trunc(y + 0.5 * torch.sign(y)).clamp(-127, 127).to(torch.int8)
    return q, s


def expand_scales(s: torch.Tensor, qr: int, qc: int, R: int, C: int) -> torch.Tensor:
    """Per-element scale matrix (R, C) of a block-scale tensor."""
    return s.repeat_interleave(qr, 0).repeat_interleave(qc, 1)[:R, :C]


# ----------------------------------------------------------------------------------------------
# GEMMs
# ----------------------------------------------------------------------------------------------
@triton.jit
def _tile_ids(M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr):
    # Grouped ordering: GROUP_M row-tiles share column tiles of B while they are in L2.
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m
    return pid_m, pid_n


@triton.jit
def _int8_gemm_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                      stride_am, stride_ak, stride_bn, stride_bk, stride_cm, stride_cn,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                      GROUP_M: tl.constexpr, EVEN_K: tl.constexpr):
    """C[M, N] (int32) = A[M, K] (int8) @ B[N, K]^T (int8), exact int32 accumulation."""
    pid_m, pid_n = _tile_ids(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    # Row/column indices wrap (mod M, N) so that loads need no M/N mask; the store is masked.
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            k_left = K - k * BLOCK_K
            a = tl.load(a_ptrs, mask=offs_k[None, :] < k_left, other=0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < k_left, other=0)
        acc = tl.dot(a, b, acc, out_dtype=tl.int32)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ptrs = c_ptr + offs_cm[:, None] * stride_cm + offs_cn[None, :] * stride_cn
    tl.store(c_ptrs, acc, mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))


@triton.jit
def _blockscaled_int8_gemm_kernel(a_ptr, b_ptr, c_ptr, sa_ptr, sb_ptr, M, N, K,
                                  stride_am, stride_ak, stride_bn, stride_bk,
                                  stride_cm, stride_cn, stride_sam, stride_sak,
                                  stride_sbn, stride_sbk,
                                  QA_M: tl.constexpr, QB_N: tl.constexpr,
                                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                                  BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
                                  EVEN_K: tl.constexpr, SCALAR_SB: tl.constexpr,
                                  WARP_SPEC: tl.constexpr, KSPLIT: tl.constexpr,
                                  IS_FP8: tl.constexpr = False, FOLD: tl.constexpr = 0):
    """C = sum_kb (A_kb @ B_kb^T) * sa[m // QA_M, kb] * sb[n // QB_N, kb], in C's dtype.

    One K step is one scale block along K (BLOCK_K = the quantisation block's K size): the int32
    partial product of the block is exact; dequantisation is fused into the float32 accumulator.
    IS_FP8: the operands are FP8 e4m3 codes (DeepSeek-V3's recipe); the block's partial product
    comes out of the tensor cores in float32 and needs no conversion.
    FOLD (INT8, one weight scale per tile only): the magic-number conversion's subtraction is
    folded out of the loop: acc += (1.5*2^23 + part) * s per element and corr += 1.5*2^23 * s per
    row, acc - corr once at the end (one float op per element fewer; the large biased terms cost
    about 2^-11 relative rounding at K = 16384, under bf16's output rounding). FOLD == 2 also
    starts the tensor-core accumulator at the magic bits instead of adding them.
    """
    pid_m, pid_n = _tile_ids(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn
    sa_ptrs = sa_ptr + (offs_am // QA_M) * stride_sam
    if SCALAR_SB:   # the tile's BLOCK_N columns lie in one weight scale block
        sb_ptrs = sb_ptr + ((pid_n * BLOCK_N) // QB_N) * stride_sbn
    else:
        sb_ptrs = sb_ptr + (offs_bn // QB_N) * stride_sbn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    corr = tl.zeros((BLOCK_M,), dtype=tl.float32)
    magic = tl.full((BLOCK_M, BLOCK_N), 0x4B400000, dtype=tl.int32)
    # WARP_SPEC: Triton's automatic warp specialisation (loads in producer warps) where the
    # compiler supports it; a config the compiler rejects is skipped by the harness' tuning.
    # KSPLIT == 2: two scale blocks per iteration (two independent int32 partials), which halves
    # the loop's per-iteration synchronisation; the host uses it only when K % (2 BLOCK_K) == 0.
    for k0 in tl.range(0, tl.cdiv(K, BLOCK_K), KSPLIT, warp_specialize=WARP_SPEC):
        for j in tl.static_range(KSPLIT):
            k = k0 + j
            if EVEN_K:
                a = tl.load(a_ptrs + k * BLOCK_K * stride_ak)
                b = tl.load(b_ptrs + k * BLOCK_K * stride_bk)
            else:
                # masked-off codes read as zero: 0.0 for FP8 (an integer `other` does not cast
                # to float8 in Triton 3.6), 0 for INT8
                k_left = K - k * BLOCK_K
                zero = 0.0 if IS_FP8 else 0
                a = tl.load(a_ptrs + k * BLOCK_K * stride_ak, mask=offs_k[None, :] < k_left,
                            other=zero)
                b = tl.load(b_ptrs + k * BLOCK_K * stride_bk, mask=offs_k[:, None] < k_left,
                            other=zero)
            if IS_FP8:
                part_f = tl.dot(a, b, out_dtype=tl.float32)
            elif FOLD == 2:
                part_f = tl.dot(a, b, magic, out_dtype=tl.int32).to(tl.float32, bitcast=True)
            elif FOLD == 1:
                part_f = (tl.dot(a, b, out_dtype=tl.int32) + 0x4B400000).to(tl.float32,
                                                                            bitcast=True)
            else:
                part = tl.dot(a, b, out_dtype=tl.int32)
                # int32 -> float32 without I2F (a quarter-rate conversion unit on sm_80/sm_90,
                # which would cost more than the tensor-core work): |part| <= 128 * 127^2 < 2^22,
                # so adding the bits of 1.5 * 2^23 gives a float whose value is 1.5 * 2^23 + part
                # exactly; one integer add and one float subtraction, both exact.
                part_f = (part + 0x4B400000).to(tl.float32, bitcast=True) - 12582912.0
            sa = tl.load(sa_ptrs + k * stride_sak)
            sb = tl.load(sb_ptrs + k * stride_sbk)
            if SCALAR_SB:
                acc += part_f * (sa * sb)[:, None]     # one FMA per element
                if FOLD:
                    corr += sa * sb
            else:
                acc += part_f * (sa[:, None] * sb[None, :])
    if FOLD:
        acc -= 12582912.0 * corr[:, None]
    offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ptrs = c_ptr + offs_cm[:, None] * stride_cm + offs_cn[None, :] * stride_cn
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty),
             mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))


@triton.jit
def _i32_to_f32_exact(part):
    # int32 -> float32 without I2F (see _blockscaled_int8_gemm_kernel): exact for |part| < 2^22
    return (part + 0x4B400000).to(tl.float32, bitcast=True) - 12582912.0


@triton.jit
def _blockscaled_int8_gemm_pipe_kernel(a_ptr, b_ptr, c_ptr, sa_ptr, sb_ptr, M, N, K,
                                       stride_am, stride_ak, stride_bn, stride_bk,
                                       stride_cm, stride_cn, stride_sam, stride_sak,
                                       stride_sbn, stride_sbk,
                                       QA_M: tl.constexpr, QB_N: tl.constexpr,
                                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                                       BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
                                       EVEN_K: tl.constexpr, SCALAR_SB: tl.constexpr):
    """Same contract as _blockscaled_int8_gemm_kernel, software-pipelined by hand: the tensor-core
    product of K block k is issued before the CUDA-core dequantisation of block k-1, so that the
    two can overlap (the product's first use is one iteration later)."""
    pid_m, pid_n = _tile_ids(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn
    sa_ptrs = sa_ptr + (offs_am // QA_M) * stride_sam
    if SCALAR_SB:
        sb_ptrs = sb_ptr + ((pid_n * BLOCK_N) // QB_N) * stride_sbn
    else:
        sb_ptrs = sb_ptr + (offs_bn // QB_N) * stride_sbn
    nk = tl.cdiv(K, BLOCK_K)
    if EVEN_K:
        a = tl.load(a_ptrs)
        b = tl.load(b_ptrs)
    else:
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K, other=0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K, other=0)
    part = tl.dot(a, b, out_dtype=tl.int32)
    sa = tl.load(sa_ptrs)
    sb = tl.load(sb_ptrs)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(1, nk):
        if EVEN_K:
            a = tl.load(a_ptrs + k * BLOCK_K * stride_ak)
            b = tl.load(b_ptrs + k * BLOCK_K * stride_bk)
        else:
            k_left = K - k * BLOCK_K
            a = tl.load(a_ptrs + k * BLOCK_K * stride_ak, mask=offs_k[None, :] < k_left, other=0)
            b = tl.load(b_ptrs + k * BLOCK_K * stride_bk, mask=offs_k[:, None] < k_left, other=0)
        nxt = tl.dot(a, b, out_dtype=tl.int32)
        if SCALAR_SB:
            acc += _i32_to_f32_exact(part) * (sa * sb)[:, None]
        else:
            acc += _i32_to_f32_exact(part) * (sa[:, None] * sb[None, :])
        part = nxt
        sa = tl.load(sa_ptrs + k * stride_sak)
        sb = tl.load(sb_ptrs + k * stride_sbk)
    if SCALAR_SB:
        acc += _i32_to_f32_exact(part) * (sa * sb)[:, None]
    else:
        acc += _i32_to_f32_exact(part) * (sa[:, None] * sb[None, :])
    offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ptrs = c_ptr + offs_cm[:, None] * stride_cm + offs_cn[None, :] * stride_cn
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty),
             mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))


# (BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, num_warps, num_stages) candidates, by M range. The harness
# times each candidate on each shape and keeps the fastest (recorded in the CSV's `config`).
INT8_CONFIGS = {
    "small": [(16, 64, 256, 8, 4, 4), (16, 128, 128, 8, 4, 5)],
    "mid": [(64, 128, 128, 8, 4, 4), (128, 128, 128, 8, 8, 4)],
    "large": [(128, 256, 128, 8, 8, 3), (128, 128, 128, 8, 8, 4), (256, 128, 128, 8, 8, 3)],
}
# Block-scaled configs: BLOCK_K is fixed by the scale block (128 or 32); (BM, BN, GROUP_M, warps,
# stages[, warp-specialised]). 128 x 256 tiles hold an int32 partial beside the float32
# accumulator: register pressure. 64 x 128 tiles of 4 warps leave room for 2 CTAs per SM, so one
# CTA's dequantisation FMAs can overlap the other's tensor-core work.
BLOCKSCALED_CONFIGS = {
    "small": [(16, 64, 8, 4, 4), (16, 128, 8, 4, 4)],
    "mid": [(64, 128, 8, 4, 4), (128, 128, 8, 8, 4)],
    "large": [(128, 128, 8, 8, 3), (64, 128, 8, 4, 4), (64, 128, 8, 4, 3),
              (128, 128, 8, 8, 3, True), (64, 128, 8, 4, 3, False, 2),
              (64, 128, 8, 4, 3, False, 4), (64, 128, 16, 4, 3), (128, 128, 16, 8, 3)],
}
# Candidates with config[8] (FOLD) apply to INT8 with one weight scale per tile (1x128 x 128x128)
# only; `effective_configs` drops them for the other block-scaled kernels. They were slower than
# the plain loop at 8192^3 and 16384^3 on the H200 (docs/gpu_notes.md), so none is tuned; they
# stay as benchmark variants (benchmarks/blockscaled_variants.py --configs fold).


def effective_configs(configs, qb_n: int, is_fp8: bool):
    """The candidates that differ for this kernel (FOLD only where it applies)."""
    return [c for c in configs if not (len(c) > 8 and c[8] and (is_fp8 or qb_n % c[1]))]
# The large-M candidates that never or once won a shape on the H100 (2026-11-25 sweep) and cost
# tuning time: kept for benchmarks/blockscaled_variants.py.
BLOCKSCALED_EXTRA = [(128, 128, 8, 8, 3, False, 2), (128, 128, 8, 8, 2, False, 2),
                     (128, 128, 8, 8, 2, True, 2)]
# The hand-pipelined kernel (config[7] True): timed by benchmarks/blockscaled_variants.py, slower
# than the plain loop at 8192^3 and 16384^3 (docs/gpu_notes.md), so not among the tuned candidates.
PIPELINED_CONFIGS = [(128, 128, 8, 8, 3, False, 1, True), (64, 128, 8, 4, 3, False, 1, True),
                     (128, 128, 8, 8, 4, False, 1, True)]


def m_class(M: int) -> str:
    return "small" if M <= 16 else ("mid" if M <= 256 else "large")


def int8_gemm(a: torch.Tensor, w: torch.Tensor, c: torch.Tensor | None = None, config=None):
    """C (int32, M x N) = A (int8, M x K) @ W (int8, N x K)^T with our Triton kernel."""
    M, K = a.shape
    N = w.shape[0]
    if c is None:
        c = torch.empty((M, N), dtype=torch.int32, device=a.device)
    bm, bn, bk, gm, nw, ns = config or INT8_CONFIGS[m_class(M)][0]
    grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
    _int8_gemm_kernel[grid](a, w, c, M, N, K, a.stride(0), a.stride(1), w.stride(0), w.stride(1),
                            c.stride(0), c.stride(1), BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk,
                            GROUP_M=gm, EVEN_K=(K % bk == 0), num_warps=nw, num_stages=ns)
    return c


def blockscaled_int8_gemm(a, sa, w, sw, qa_m: int, qb_n: int, qk: int,
                          c: torch.Tensor | None = None, config=None, out_dtype=torch.bfloat16):
    """C = dequant(A) @ dequant(W)^T with A's scales per qa_m x qk block, W's per qb_n x qk block.

    sa: (ceil(M/qa_m), ceil(K/qk)), sw: (ceil(N/qb_n), ceil(K/qk)), float32. Output out_dtype.
    """
    M, K = a.shape
    N = w.shape[0]
    if c is None:
        c = torch.empty((M, N), dtype=out_dtype, device=a.device)
    cfg = config or BLOCKSCALED_CONFIGS[m_class(M)][0]
    bm, bn, gm, nw, ns = cfg[:5]
    ws = bool(cfg[5]) if len(cfg) > 5 else False
    ksplit = int(cfg[6]) if len(cfg) > 6 else 1
    if K % (ksplit * qk):
        ksplit = 1
    is_fp8 = a.dtype == torch.float8_e4m3fn
    # config[8]: fold the conversion's subtraction out of the loop (INT8, one weight scale per
    # tile only; elsewhere the plain loop)
    fold = int(cfg[8]) if len(cfg) > 8 and not is_fp8 and qb_n % bn == 0 else 0
    grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
    if len(cfg) > 7 and cfg[7]:   # hand-pipelined variant
        _blockscaled_int8_gemm_pipe_kernel[grid](
            a, w, c, sa, sw, M, N, K, a.stride(0), a.stride(1), w.stride(0), w.stride(1),
            c.stride(0), c.stride(1), sa.stride(0), sa.stride(1), sw.stride(0), sw.stride(1),
            QA_M=qa_m, QB_N=qb_n, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=qk, GROUP_M=gm,
            EVEN_K=(K % qk == 0), SCALAR_SB=(qb_n % bn == 0), num_warps=nw, num_stages=ns)
        return c
    grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
    _blockscaled_int8_gemm_kernel[grid](
        a, w, c, sa, sw, M, N, K, a.stride(0), a.stride(1), w.stride(0), w.stride(1),
        c.stride(0), c.stride(1), sa.stride(0), sa.stride(1), sw.stride(0), sw.stride(1),
        QA_M=qa_m, QB_N=qb_n, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=qk, GROUP_M=gm,
        EVEN_K=(K % qk == 0), SCALAR_SB=(qb_n % bn == 0), WARP_SPEC=ws, KSPLIT=ksplit,
        IS_FP8=is_fp8, FOLD=fold, num_warps=nw, num_stages=ns)
    return c


# ----------------------------------------------------------------------------------------------
# FP8 with per-block float32 scales (DeepSeek-V3: 1x128 activations, 128x128 weights)
# ----------------------------------------------------------------------------------------------
FP8_MAX = 448.0   # largest finite float8_e4m3fn


def quantize_blocks_fp8(x: torch.Tensor, qr: int, qc: int):
    """(q float8_e4m3fn (R, C), scales float32 (ceil(R/qr), ceil(C/qc))): s = amax / 448 per
    qr x qc block, q = fp8(x / s) (round to nearest even). Pure torch (set-up, never timed)."""
    R, C = x.shape
    xf = x.float()
    Rp, Cp = triton.cdiv(R, qr) * qr, triton.cdiv(C, qc) * qc
    pad = torch.zeros((Rp, Cp), dtype=torch.float32, device=x.device)
    pad[:R, :C] = xf
    amax = pad.reshape(Rp // qr, qr, Cp // qc, qc).abs().amax(dim=(1, 3))
    s = torch.clamp(amax / FP8_MAX, min=MIN_SCALE)
    q = (xf / expand_scales(s, qr, qc, R, C)).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    return q, s.contiguous()


def cublas_blockwise_scales(sa: torch.Tensor, sw: torch.Tensor, layout: int = 0):
    """Scale tensors in the layout torch._scaled_mm's cuBLASLt blockwise path checks (torch's
    ScaledBlas.cpp): A's 1x128 scales (M, K/128) with M contiguous; W's 128x128 scales passed as
    (K/128, N/128), the transpose of a row-major (N/128, K/128) tensor, whose rows some versions
    want padded to a multiple of 4 (layout 1)."""
    sa_mn = sa.t().contiguous().t()
    if layout == 0:
        return sa_mn, sw.contiguous().t()
    nb, kb = sw.shape
    pad = torch.zeros((nb, -(-kb // 4) * 4), dtype=sw.dtype, device=sw.device)
    pad[:, :kb] = sw
    return sa_mn, pad[:, :kb].t()


def cublas_fp8_blockwise_gemm(a, sa_cublas, w, sw_cublas, out_dtype=torch.bfloat16):
    """cuBLASLt FP8 GEMM with 1x128 x 128x128 float32 block scales (torch._scaled_mm)."""
    return torch._scaled_mm(a, w.t(), scale_a=sa_cublas, scale_b=sw_cublas, out_dtype=out_dtype)


def blockscaled_gemm_ref(a, sa, w, sw, qa_m, qb_n, qk, rows=None) -> torch.Tensor:
    """float64 reference of blockscaled_int8_gemm, optionally for a subset of A's rows."""
    M, K = a.shape
    N = w.shape[0]
    ea = expand_scales(sa.double(), qa_m, qk, M, K) * a.double()
    ew = expand_scales(sw.double(), qb_n, qk, N, K) * w.double()
    if rows is not None:
        ea = ea[rows]
    return ea @ ew.t()
