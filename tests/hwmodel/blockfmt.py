"""Block formats for the block-scaled tests, built from hwmodel.formats' BlockFormat fields
(element, scale, block_size, rule, tensor_scale, block_rows), ScaleRule and Pow2Scale."""

from hwmodel.formats import (BlockFormat, Pow2Scale, ScaleRule, parse_format)

E8M0 = parse_format("e8m0")
UE4M3 = parse_format("ue4m3")
FP32 = parse_format("fp32")
BF16 = parse_format("bf16")


def block(element, scale="e8m0", block_size=32, rule="ocp", tensor_scale=None, block_rows=1):
    el = parse_format(element) if isinstance(element, str) else element
    sc = parse_format(scale) if isinstance(scale, str) else scale
    ts = parse_format(tensor_scale) if isinstance(tensor_scale, str) else tensor_scale
    return BlockFormat(el, sc, block_size, ScaleRule(rule), ts, block_rows)


def shift(bits):
    return Pow2Scale(bits)
