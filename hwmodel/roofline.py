"""Roofline model of GEMMs and transformer blocks on a GPU, fitted to our measurements.

The public names of the model, gathered from the modules that each do one job:

* hwmodel.gpukernels - the measured kernels (KERNELS, resolve_kernel, gemm_bytes, parse_gemm);
* hwmodel.gemmfit    - the shape-aware time model of one kernel, its fit, the fit/held-out split;
* hwmodel.optimise   - the Nelder-Mead minimiser the fit uses;
* hwmodel.gpumodel   - the fitted model of one measured GPU (build_model, validate, ceilings,
                       batch prediction);
* hwmodel.blockmodel - transformer blocks and the INT4/FP4 what-if.

Two models of the time of C[M,N] = A[M,K] W[N,K]^T: the datasheet roofline (max(2MNK / peak,
bytes / bandwidth), from the measured device's datasheet entry) and the shape-aware model fitted
per kernel on the fitting split of the measured grid (see hwmodel.gemmfit). `validate` reports,
per kernel, the median and 90th-percentile error on the held-out grid shapes and on random shapes
measured separately (never fitted), next to the datasheet roofline's. Pure numpy/pandas; reads
hwmodel/data/gpu/<device>/ (h100: our H100 SXM measurement, the default; h200).
"""

from __future__ import annotations

from hwmodel.blockmodel import (SCHEMES, Scheme, block_speedups, block_time, int4_gemm_whatif,
                                whatif_scheme)
from hwmodel.gemmfit import (FIT_CACHE, FIT_VERSION, HELD_OUT_FRACTION, K_STEP, SPLIT_K, TILES,
                             KernelFit, add_split, datasheet_time, fit_all, fit_kernel,
                             kernel_time, predict_fit, shape_split)
from hwmodel.gpukernels import (AMBIGUOUS, DTYPE_KERNEL, KERNELS, KernelInfo, check_shape,
                                gemm_bytes, parse_gemm, resolve_kernel)
from hwmodel.gpumodel import (GpuModel, build_model, fitted_parameters_physical, h100_ceilings,
                              holdout_predictions, measured_ceilings, predict_batch,
                              read_shapes_csv, refit, validate)


def write_fit_cache(source=None):
    """Fit afresh and store the parameters beside the measurement data (fit.json)."""
    return refit(source)


__all__ = ["SCHEMES", "Scheme", "block_speedups", "block_time", "int4_gemm_whatif",
           "whatif_scheme", "FIT_CACHE", "FIT_VERSION", "HELD_OUT_FRACTION", "K_STEP", "SPLIT_K",
           "TILES", "KernelFit", "add_split", "datasheet_time", "fit_all", "fit_kernel",
           "kernel_time", "predict_fit", "shape_split", "AMBIGUOUS", "DTYPE_KERNEL", "KERNELS",
           "KernelInfo", "check_shape", "gemm_bytes", "parse_gemm", "resolve_kernel", "GpuModel",
           "build_model", "fitted_parameters_physical", "h100_ceilings", "holdout_predictions",
           "measured_ceilings", "predict_batch", "read_shapes_csv", "refit", "validate",
           "write_fit_cache"]
