"""Block formats for the block-scaled tests, built from hwmodel.formats' BlockFormat fields
(element, scale, block_size, rule, tensor_scale, block_rows), ScaleRule and Pow2Scale.

Until hwmodel.formats has ScaleRule and Pow2Scale, frozen stand-ins with the same field names are
used, so that hwmodel.blockscaled is tested against the contract it reads."""

import enum
from dataclasses import dataclass

from hwmodel import formats as _F
from hwmodel.formats import FloatFormat, NanEncoding, parse_format

if "rule" in getattr(_F.BlockFormat, "__dataclass_fields__", {}):
    from hwmodel.formats import BlockFormat, Pow2Scale, ScaleRule
else:
    class ScaleRule(enum.Enum):
        OCP = "ocp"
        AMAX = "amax"
        POW2 = "pow2"

    @dataclass(frozen=True)
    class Pow2Scale:
        bits: int = 8

        @property
        def name(self):
            return f"shift{self.bits}"

    @dataclass(frozen=True)
    class BlockFormat:
        element: object
        scale: object
        block_size: int = 32
        rule: ScaleRule = ScaleRule.OCP
        tensor_scale: object = None
        block_rows: int = 1

        @property
        def name(self):
            return f"blk_{self.element.name}_{self.scale.name}_k{self.block_size}_{self.rule.value}"

E8M0 = parse_format("e8m0")
UE4M3 = FloatFormat(4, 3, 7, NanEncoding.ALL_ONES, signed=False)
FP32 = parse_format("fp32")
BF16 = parse_format("bf16")


def block(element, scale="e8m0", block_size=32, rule="ocp", tensor_scale=None, block_rows=1):
    el = parse_format(element) if isinstance(element, str) else element
    sc = scale if not isinstance(scale, str) else (UE4M3 if scale == "ue4m3" else parse_format(scale))
    ts = parse_format(tensor_scale) if isinstance(tensor_scale, str) else tensor_scale
    return BlockFormat(el, sc, block_size, ScaleRule(rule), ts, block_rows)


def shift(bits):
    return Pow2Scale(bits)
