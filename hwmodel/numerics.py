"""Golden numerics: bit-exact, vectorised reference behaviour of every catalogue format.

The public face of two modules, so that callers need one import:
    hwmodel.codec   codes and values: decode, encode, quantize, mul_exact, block (de)quantisation
    hwmodel.accum   accumulator specs (AccSpec, parse_acc, Kulisch width) and accumulation: Kulisch,
                    float, integer, dot products, GEMM
These functions are the contract the RTL and the GPU kernels are checked against (docs/DESIGN.md,
"Codes and values", "Products", "Accumulators"). Import order is one way: formats <- codec <- accum
<- numerics, no cycle.
"""

from __future__ import annotations

from hwmodel.accum import (AccSpec, KulischResult, KulischSpec, acc_float, acc_int, accumulate,
                           add_round, dot, dot_unit_accumulate, gemm, kulisch_accumulate,
                           kulisch_spec, kulisch_to_float, kulisch_width, parse_acc)
from hwmodel.codec import (Rounding, all_codes, decode, decode_exact, decode_scale,
                           dequantize_block, encode, is_nan, mul_exact, parse_rounding, quantize,
                           quantize_block)

# Helpers that code written against the former single numerics module imported from here.
from hwmodel.codec import (_codes, _elem_emax, _float_fields, _float_sig_exp,  # noqa: F401
                           _float_special, _lsb_exp, _max_code, _max_exp, _nan_code,
                           _scalar_format)

__all__ = [
    "Rounding", "parse_rounding", "decode", "decode_exact", "all_codes", "is_nan", "mul_exact",
    "encode", "quantize", "quantize_block", "dequantize_block", "decode_scale",
    "AccSpec", "parse_acc", "KulischSpec", "KulischResult", "kulisch_spec", "kulisch_width",
    "kulisch_accumulate", "kulisch_to_float", "acc_float", "acc_int", "dot", "dot_unit_accumulate",
    "gemm", "add_round", "accumulate",
]
