"""GPU measurement harness: copy bandwidth, GEMM throughput per dtype, per-block INT8 data flow.

`kernels` holds our Triton kernels (INT8 GEMM, per-block-scaled INT8 GEMM with fused dequantisation,
per-block quantise/dequantise) and their pure-torch references; `harness` checks every kernel
against a float64 reference, times it with triton.testing.do_bench (median) and writes CSV +
metadata JSON. Both import torch and triton only when called, never at import time of this
package, so `hwdse --help` works without them. Nothing here imports amaranth or cocotb: the
harness travels to the GPU machine, which has neither.
"""
