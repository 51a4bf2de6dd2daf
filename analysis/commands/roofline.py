"""`hwdse roofline`: predicted GEMM / transformer-block time on a measured GPU."""

from __future__ import annotations

import sys

from hwmodel.errors import UnsupportedConfig

HELP = "predict GEMM and transformer-block time on a measured GPU (roofline fitted to measurements)"
DESCRIPTION = """\
Predict the time of a GEMM C[M,N] = A[M,K] W[N,K]^T, or of a transformer block, on a GPU we
measured, with the shape-aware roofline fitted to the measurements (no GPU needed), beside the
plain datasheet roofline of the measured device.

  hwdse roofline --gemm 4096x4096x4096 --dtype cublas_int8    one GEMM (kernel or dtype name)
  hwdse roofline --gemm 1x4096x11008 --dtype all              every measured kernel
  hwdse roofline --gpu h200 --validate                        held-out and random-shape errors
  hwdse roofline --gpu DIR --shapes-csv shapes.csv            batch: M,N,K,kernel rows -> CSV
  hwdse roofline --ceilings                                   datasheet vs measured peaks
  hwdse roofline --block llama-2-7b --tokens 2048 --scheme int8_blk128
  hwdse roofline --whatif 2                                   INT4/FP4 at 2x INT8, vs anchors

--gpu: h100-sxm (default) or h200 (our committed measurements), or a folder made by
`hwdse gpu-bench --out DIR` on any CUDA GPU. Kernels: cublas_bf16, cublas_fp16, cublas_tf32,
cublas_int8, triton_int8, cublas_fp8_e4m3, cublas_fp8_e5m2, triton_int8_blk1x128,
triton_int8_blk32, cublas_fp8_blk1x128, triton_fp8_blk1x128; dtypes that one kernel measures
(bf16, fp16, tf32, fp8_e4m3, fp8_e5m2, int8_blk128, int8_blk32, e4m3, ...) name it; int8 is
measured by two kernels: say cublas_int8 or triton_int8.
"""


def add_arguments(p):
    p.add_argument("--gpu", default="h100-sxm",
                   help="h100-sxm or h200 (committed), or a measurement folder (gpu-bench --out)")
    p.add_argument("--gemm", metavar="MxNxK", help="GEMM shape (M tokens, N outputs, K inputs)")
    p.add_argument("--dtype", default="bf16", help="kernel or dtype name, or 'all'")
    p.add_argument("--shapes-csv", metavar="FILE",
                   help="batch mode: CSV of M,N,K,kernel rows; prints CSV predictions on stdout")
    p.add_argument("--validate", action="store_true",
                   help="print the held-out and random-shape error table")
    p.add_argument("--ceilings", action="store_true", help="print datasheet and measured peaks")
    p.add_argument("--block", metavar="MODEL", help="transformer block of MODEL (see hwmodel.workloads)")
    p.add_argument("--tokens", type=int, default=2048, help="block: tokens (prefill) or sequences (decode)")
    p.add_argument("--context", type=int, default=None, help="block: context length (default: tokens)")
    p.add_argument("--phase", default="prefill", choices=("prefill", "decode"))
    p.add_argument("--scheme", default="all", help="block: bf16, fp8_e4m3, int8, int8_blk128, "
                                                   "int8_blk32, or all")
    p.add_argument("--refit", action="store_true",
                   help="fit afresh and store the parameters beside the data (fit.json)")
    p.add_argument("--whatif", type=float, metavar="MULTIPLE", default=None,
                   help="INT4/FP4 what-if with MULTIPLE x the INT8 compute ceiling")


def _fmt(df, floatfmt="{:.3g}"):
    return df.to_string(index=False, float_format=lambda v: floatfmt.format(v))


# The accuracy goal on random shapes (issue of the second device): median <= 6%, p90 <= 15%.
GOAL_MEDIAN_PCT, GOAL_P90_PCT = 6.0, 15.0


def run(args) -> int:
    from hwmodel import gpudata, roofline
    if not any([args.gemm, args.validate, args.ceilings, args.block, args.whatif is not None,
                args.refit, args.shapes_csv]):
        raise UnsupportedConfig("roofline needs one of --gemm MxNxK, --shapes-csv FILE, --validate, "
                                "--ceilings, --block MODEL or --whatif MULTIPLE (see --help)")
    # check the arguments before the (seconds-long) fit
    gpudata.measurement_path(args.gpu)
    shape = roofline.parse_gemm(args.gemm) if args.gemm else None
    kernels = None if args.dtype == "all" else [roofline.resolve_kernel(args.dtype)]
    shapes = roofline.read_shapes_csv(args.shapes_csv) if args.shapes_csv else None
    if args.block:
        from hwmodel.workloads import get_model
        get_model(args.block)
        if args.scheme != "all" and args.scheme not in roofline.SCHEMES:
            raise UnsupportedConfig(f"--scheme must be one of {', '.join(roofline.SCHEMES)} or all, "
                                    f"not {args.scheme!r}")
    if args.refit:
        print(f"wrote {roofline.write_fit_cache(args.gpu)}", file=sys.stderr if shapes is not None
              else sys.stdout)
    model = roofline.build_model(args.gpu)
    if shapes is not None:
        # batch mode: CSV on stdout only (one row per input row, same order)
        out = roofline.predict_batch(model, shapes)
        out.to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    print(f"# {model.source}; datasheet: {model.datasheet_label}")
    if shape:
        M, N, K = shape
        kernels = kernels or list(model.fits)
        import pandas as pd
        rows = []
        for k in kernels:
            if k not in model.fits:
                raise UnsupportedConfig(f"--dtype must name a kernel measured on the {model.device} "
                                        f"({', '.join(model.fits)}), not {args.dtype!r}")
            t = float(model.predict(M, N, K, k))
            td = float(model.datasheet(M, N, K, k))
            d = model.data[(model.data["kernel"] == k) & (model.data["M"] == M)
                           & (model.data["N"] == N) & (model.data["K"] == K)]
            rows.append({"kernel": k, "dtype": roofline.KERNELS[k].dtype,
                         "predicted_us": t * 1e6, "attainable_tops": 2 * M * N * K / t / 1e12,
                         "datasheet_roofline_us": td * 1e6,
                         "measured_us": float(d["time_s"].iloc[0]) * 1e6 if len(d) else float("nan"),
                         "split": d["split"].iloc[0] if len(d) else "-"})
        print(f"GEMM {M}x{N}x{K} (ops = 2MNK = {2 * M * N * K:.3g})")
        print(_fmt(pd.DataFrame(rows)))
    if args.validate:
        v = roofline.validate(model)
        print(f"Validation on the {model.device}: absolute relative error, %. Held-out: grid shapes "
              "split off by a hash of MxNxK before fitting; random: seeded shapes measured "
              "separately (random.csv), never fitted")
        print(_fmt(v, "{:.1f}"))
        if model.random is None:
            print(f"random shapes: not measured for the {model.device} (no random.csv in "
                  f"{model.folder}); measure them with `hwdse gpu-bench --out DIR --parts random`")
        met = v[(v["random_median_err_pct"] <= GOAL_MEDIAN_PCT)
                & (v["random_p90_err_pct"] <= GOAL_P90_PCT)]["kernel"].tolist()
        print(f"goal on random shapes: median <= {GOAL_MEDIAN_PCT:g}%, p90 <= {GOAL_P90_PCT:g}%; "
              f"met on the {model.device} by: {', '.join(met) if met else 'none'}")
    if args.ceilings:
        print(_fmt(model.ceilings(), "{:.3f}"))
        print(model.memory_line())
        above = model.ceilings().query("above_datasheet")["kernel"].tolist()
        if above:
            print(f"measured above the datasheet ({model.datasheet_label}): {', '.join(above)}; "
                  "check the device name and its datasheet row")
    if args.block:
        import pandas as pd
        schemes = list(roofline.SCHEMES) if args.scheme == "all" else [args.scheme]
        rows = [roofline.block_time(model, args.block, args.tokens, args.context, args.phase, s)
                for s in schemes]
        df = pd.DataFrame(rows)
        base = df.loc[df["scheme"] == "bf16", "total_s"]
        for c in ("linear_s", "quant_s", "attention_s", "memory_ops_s", "total_s"):
            df[c.replace("_s", "_us")] = df.pop(c) * 1e6
        if len(base):
            df["speedup_vs_bf16"] = float(base.iloc[0]) / (df["total_us"] / 1e6)
        print(f"One {args.block} block on the {model.device}, {args.phase}, {args.tokens} tokens "
              "(model predictions)")
        print(_fmt(df))
    if args.whatif is not None:
        print(f"What-if: INT4/FP4 at {args.whatif:g}x the INT8 compute ceiling (a hypothetical "
              f"variant of the {model.device}, which has no INT4/FP4 tensor-core path); model "
              "predictions")
        print(_fmt(roofline.block_speedups(model, whatif_multiple=args.whatif)))
        print(_fmt(roofline.int4_gemm_whatif(model, args.whatif)))
        print("Published anchors (their GPUs, their kernels; not fitted to):")
        a = gpudata.load_anchors()
        print(a[["anchor", "gpu", "comparison", "shape", "speedup"]].to_string(index=False))
    return 0
