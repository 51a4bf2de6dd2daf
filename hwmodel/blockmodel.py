"""Transformer blocks on a measured GPU: the time of one block under a data flow (scheme).

The four linear layers of a block with a GEMM kernel, the quantise kernels an INT8/FP8 data flow
adds before each linear layer (fitted on quant.csv: t = t0 + bytes / BW), the attention core (bf16
GEMMs: QK^T and PV over all heads), and the memory-bound operators (hwmodel.workloads.nongemm_ops;
fitted on elementwise.csv); and hypothetical 4-bit schemes (INT4/FP4 what-if). Pure numpy/pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from hwmodel.errors import UnsupportedConfig
from hwmodel.gemmfit import predict_fit
from hwmodel.gpukernels import KERNELS
from hwmodel.gpumodel import GpuModel


@dataclass(frozen=True)
class Scheme:
    """A data flow of the linear layers: GEMM kernel, the quantise kernel before each linear
    layer (None for bf16), an unfused dequantise pass after it, and the activation width."""

    name: str
    kernel: str
    quant: str | None = None
    dequant_pass: bool = False      # int32 output dequantised in a separate pass
    bits: float = 16                # activation/weight bits in the GEMM (what-if: 4)
    throughput_multiple: float = 1  # what-if: compute ceiling multiple over `kernel`'s
    description: str = ""


SCHEMES: dict[str, Scheme] = {s.name: s for s in [
    Scheme("bf16", "cublas_bf16", description="cuBLAS BF16 GEMMs, no quantisation"),
    Scheme("fp8_e4m3", "cublas_fp8_e4m3", quant="quant_1x128", bits=8,
           description="cuBLASLt FP8 e4m3 GEMMs (per-tensor scales) after a quantise pass "
                       "(timed by our 1x128 quantise kernel, a proxy of the cast)"),
    Scheme("int8", "triton_int8", quant="quant_1x128", dequant_pass=True, bits=8,
           description="our Triton INT8 GEMMs (int32 out), quantise before, dequantise after"),
    Scheme("int8_blk128", "triton_int8_blk1x128", quant="quant_1x128", bits=8,
           description="per-block INT8 (1x128 activations, 128x128 weights), fused dequantisation"),
    Scheme("int8_blk32", "triton_int8_blk32", quant="quant_32x32", bits=8,
           description="Jetfire's per-block INT8 (32x32 blocks), fused dequantisation"),
]}


def whatif_scheme(name: str, multiple: float, base: str = "int8_blk128") -> Scheme:
    """A hypothetical 4-bit scheme (INT4 or FP4): base scheme's kernel efficiencies with the
    compute ceiling times `multiple` and 4-bit operands (half the bytes)."""
    if not (isinstance(multiple, (int, float)) and multiple > 0 and math.isfinite(multiple)):
        raise UnsupportedConfig(f"throughput multiple must be a positive number, not {multiple!r}")
    b = SCHEMES[base]
    return replace(b, name=name, bits=4, throughput_multiple=float(multiple),
                   description=f"hypothetical {name.upper()}: {base}'s fitted efficiencies, "
                               f"{multiple:g}x its compute ceiling, 4-bit operands")


def _scheme_gemm(model: GpuModel, scheme: Scheme, M, N, K):
    fit = model.fits[scheme.kernel]
    info = KERNELS[scheme.kernel]
    if scheme.throughput_multiple != 1 or scheme.bits != info.in_bytes * 8:
        if scheme.bits < 16:
            info = replace(info, in_bytes=scheme.bits / 8)
        fit = replace(fit, peak_ops_per_s=fit.peak_ops_per_s * scheme.throughput_multiple)
    return float(predict_fit(M, N, K, fit, model.sm_count, info))


def _stream(fits: dict, key: str, nbytes: float, fallback_bw: float) -> float:
    f = fits.get(key)
    if f is None:
        return nbytes / fallback_bw
    t0, bw = f
    return t0 + nbytes / bw


def block_time(model: GpuModel, model_name: str, tokens: int, context: int | None = None,
               phase: str = "prefill", scheme: str | Scheme = "bf16") -> dict:
    """Predicted seconds of one transformer block, by part: linear, quantise, attention core,
    memory-bound operators, total. prefill: `tokens` rows attending over `context` (default
    tokens); decode: `tokens` sequences of one new token each over a KV cache of `context`."""
    from hwmodel.workloads import get_model, nongemm_ops
    cfg = get_model(model_name)
    if not (isinstance(tokens, int) and tokens > 0):
        raise UnsupportedConfig(f"tokens must be a positive integer, not {tokens!r}")
    context = tokens if context is None else context
    if not (isinstance(context, int) and context > 0):
        raise UnsupportedConfig(f"context must be a positive integer, not {context!r}")
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise UnsupportedConfig(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        scheme = SCHEMES[scheme]
    bw = model.copy_bytes_per_s
    linear = quant = 0.0
    for _, n, k in cfg.linear_layers():
        linear += _scheme_gemm(model, scheme, tokens, n, k)
        if scheme.quant:
            # read bf16 activations, write low-bit codes and one float32 scale per block
            nbytes = tokens * k * (2 + scheme.bits / 8) + 4 * tokens * k / 128
            quant += _stream(model.quant_fits, scheme.quant, nbytes, bw)
        if scheme.dequant_pass:
            quant += _stream(model.elementwise_fits, "add", tokens * n * (4 + 2), bw)
    if phase == "prefill":
        # QK^T and PV over all heads as bf16 GEMMs (rows = heads x tokens)
        h, dh = cfg.heads, cfg.head_dim
        attn = float(model.predict(h * tokens, context, dh, "cublas_bf16")) + \
            float(model.predict(h * tokens, dh, context, "cublas_bf16"))
    elif phase == "decode":
        attn = 0.0   # the KV-cache read is one of the memory-bound operators below
    else:
        raise UnsupportedConfig(f"phase must be 'prefill' or 'decode', not {phase!r}")
    mem = 0.0
    op_fit = {"layernorm_1": "layer_norm", "layernorm_2": "layer_norm", "gelu": "gelu",
              "softmax": "softmax"}
    for op in nongemm_ops(cfg, tokens, context, 2, phase):
        mem += _stream(model.elementwise_fits, op_fit.get(op.name, "add"), op.bytes, bw)
    return {"model": model_name, "phase": phase, "tokens": tokens, "context": context,
            "scheme": scheme.name, "linear_s": linear, "quant_s": quant, "attention_s": attn,
            "memory_ops_s": mem, "total_s": linear + quant + attn + mem}


def block_speedups(model: GpuModel, schemes=("fp8_e4m3", "int8", "int8_blk128", "int8_blk32"),
                   whatif_multiple: float = 2.0,
                   cases=(("gpt2-xl", 2048, "prefill"), ("llama-2-7b", 2048, "prefill"),
                          ("llama-2-7b", 16, "decode"), ("bert-large", 512, "prefill"))) -> pd.DataFrame:
    """Block speedup over bf16 of each scheme (and hypothetical INT4/FP4) per case."""
    all_schemes = [SCHEMES[s] for s in schemes] + [whatif_scheme("int4", whatif_multiple),
                                                    whatif_scheme("fp4", whatif_multiple)]
    rows = []
    for name, tokens, phase in cases:
        ctx = tokens if phase == "prefill" else 2048
        base = block_time(model, name, tokens, ctx, phase, "bf16")["total_s"]
        row = {"model": name, "phase": phase, "tokens": tokens, "context": ctx,
               "bf16_block_us": base * 1e6}
        for s in all_schemes:
            row[f"{s.name} speedup"] = base / block_time(model, name, tokens, ctx, phase, s)["total_s"]
        rows.append(row)
    return pd.DataFrame(rows)


def int4_gemm_whatif(model: GpuModel, multiple: float = 2.0,
                     shapes=((12288, 4096, 1024), (12288, 1024, 1024))) -> pd.DataFrame:
    """Predicted INT4-over-INT8 GEMM speedup on a hypothetical GPU (the model's, with an INT4
    path) whose INT4 ceiling is
    `multiple` x INT8 (per-block-scaled kernels), at Wu et al.'s shapes."""
    s8 = SCHEMES["int8_blk128"]
    s4 = whatif_scheme("int4", multiple)
    rows = []
    for M, N, K in shapes:
        t8 = _scheme_gemm(model, s8, M, N, K)
        t4 = _scheme_gemm(model, s4, M, N, K)
        rows.append({"M": M, "N": N, "K": K, "int8_us": t8 * 1e6, "int4_us": t4 * 1e6,
                     "int4_over_int8": t8 / t4})
    return pd.DataFrame(rows)
