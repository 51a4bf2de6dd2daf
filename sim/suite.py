"""The configurations the simulation suite verifies (tests/sim and benchmarks/bench_sim.py).

MUL_CONFIGS: a multiplier for every scalar int/float format of the catalogue of <= 16 bits (all
operand pairs where both are <= 8 bits) plus user formats the parser accepts.
MAC_CONFIGS: the FP8-vs-INT8 paper's 15 (INT8 and FP8-E2..E5 x Kulisch/FP16/FP32) plus INT4,
OCP FP8 E4M3FN/E5M2, FP6 E2M3/E3M2, FP4 E2M1, BF16 inputs, int wrap/saturate accumulators and
pipeline depths 0..2.
MUTANT_CONFIGS: deliberately wrong RTL that the MAC bench must reject.
"""

from __future__ import annotations

from hwmodel.formats import BlockFormat, FixedFormat, catalogue_formats
from rtl.config import MacConfig, MulConfig

USER_FORMATS = ["fp(e=3,m=2,bias=5,nan=fnuz)", "fp(e=4,m=2,nan=ieee)", "uint4", "int6"]


def mul_configs() -> list[MulConfig]:
    out = []
    for f in catalogue_formats():
        if isinstance(f, (BlockFormat, FixedFormat)) or f.bits > 16:
            continue
        out.append(MulConfig(f))
    out += [MulConfig(s) for s in USER_FORMATS]
    out.append(MulConfig("e4m3", "e5m2"))    # mixed float operands
    out.append(MulConfig("int8", "uint8"))   # mixed signedness
    return out


def mac_configs() -> list[MacConfig]:
    paper = ["int8", "paper_e2", "paper_e3", "paper_e4", "paper_e5"]
    cfgs = [MacConfig(f, acc) for f in paper for acc in ("kulisch", "fp16", "fp32")]
    extra = [("int4", "kulisch"), ("int4", "int32"), ("int4", "fp16"),
             ("int8", "int32"), ("int8", "int16"), ("int8", "int16:sat"),
             ("float8_e5m2", "kulisch"), ("float8_e5m2", "fp16"), ("float8_e5m2", "fp32"),
             ("float6_e2m3fn", "kulisch"), ("float6_e2m3fn", "fp32"),
             ("float6_e3m2fn", "kulisch"), ("float6_e3m2fn", "fp16"),
             ("float4_e2m1fn", "kulisch"), ("float4_e2m1fn", "fp16"), ("float4_e2m1fn", "bf16"),
             ("bfloat16", "fp32"), ("bfloat16", "kulisch")]
    cfgs += [MacConfig(f, acc) for f, acc in extra]
    cfgs += [MacConfig("float8_e4m3fn", "fp32", 0), MacConfig("float8_e4m3fn", "kulisch", 2),
             MacConfig("int8", "kulisch", 0)]
    names = set()
    uniq = []
    for c in cfgs:   # paper_e4 is float8_e4m3fn: keep each name once
        if c.name not in names:
            names.add(c.name)
            uniq.append(c)
    return uniq


def mutant_configs() -> list[MacConfig]:
    return [MacConfig("float8_e4m3fn", "kulisch", mutant="kulisch_shift"),
            MacConfig("float8_e4m3fn", "fp16", mutant="fpacc_rtz")]
