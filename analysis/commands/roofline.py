"""`hwdse roofline`: predicted GEMM / transformer-block time on a GPU from our measurements."""

from __future__ import annotations

from hwmodel.errors import UnsupportedConfig

HELP = "predict GEMM and transformer-block time on the H100 (roofline fitted to measurements)"
DESCRIPTION = """\
Predict the time of a GEMM C[M,N] = A[M,K] W[N,K]^T, or of a transformer block, on a GPU, with the
shape-aware roofline fitted to our H100 measurements (hwmodel/data/gpu/, no GPU needed), beside
the plain datasheet roofline.

  hwdse roofline --gemm 4096x4096x4096 --dtype int8        one GEMM (dtype or kernel name)
  hwdse roofline --gemm 1x4096x11008 --dtype all           every measured kernel
  hwdse roofline --validate                                held-out error table per kernel
  hwdse roofline --ceilings                                datasheet vs measured peaks
  hwdse roofline --block llama-2-7b --tokens 2048 --scheme int8_blk128
  hwdse roofline --whatif 2                                INT4/FP4 at 2x INT8 throughput, vs anchors

dtypes: bf16, fp16, tf32, int8, fp8_e4m3, fp8_e5m2, int8_blk128, int8_blk32 (or format names such
as e4m3). --gpu takes h100-sxm (the committed data) or a measurement CSV/folder of the same columns.
"""


def add_arguments(p):
    p.add_argument("--gpu", default="h100-sxm", help="h100-sxm, or a measurement CSV / folder")
    p.add_argument("--gemm", metavar="MxNxK", help="GEMM shape (M tokens, N outputs, K inputs)")
    p.add_argument("--dtype", default="bf16", help="dtype or kernel name, or 'all'")
    p.add_argument("--validate", action="store_true", help="print the held-out error table")
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


def run(args) -> int:
    from hwmodel import gpudata, roofline
    if args.refit:
        print(f"wrote {roofline.write_fit_cache(args.gpu)}")
    if not any([args.gemm, args.validate, args.ceilings, args.block, args.whatif is not None,
                args.refit]):
        raise UnsupportedConfig("roofline needs one of --gemm MxNxK, --validate, --ceilings, "
                                "--block MODEL or --whatif MULTIPLE (see --help)")
    # check the arguments before the (seconds-long) fit
    shape = roofline.parse_gemm(args.gemm) if args.gemm else None
    kernels = None if args.dtype == "all" else [roofline.resolve_kernel(args.dtype)]
    if args.block:
        from hwmodel.workloads import get_model
        get_model(args.block)
        if args.scheme != "all" and args.scheme not in roofline.SCHEMES:
            raise UnsupportedConfig(f"--scheme must be one of {', '.join(roofline.SCHEMES)} or all, "
                                    f"not {args.scheme!r}")
    model = roofline.build_model(args.gpu)
    print(f"# {model.source}; datasheet: {model.spec.name}")
    if shape:
        M, N, K = shape
        kernels = kernels or list(model.fits)
        import pandas as pd
        rows = []
        for k in kernels:
            if k not in model.fits:
                raise UnsupportedConfig(f"dtype must be one measured in {args.gpu!r} "
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
        print("Held-out shapes (split by a hash of MxNxK before fitting): absolute relative error, %")
        print(_fmt(v, "{:.1f}"))
        print("goal on the H100: median <= 5%, p90 <= 12%")
    if args.ceilings:
        print(_fmt(model.ceilings(), "{:.3f}"))
        print(f"memory: datasheet {model.spec.memory_bytes_per_s / 1e12:.2f} TB/s, measured copy "
              f"(read + write) {model.copy_bytes_per_s / 1e12:.2f} TB/s")
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
        print(f"One {args.block} block, {args.phase}, {args.tokens} tokens (model predictions)")
        print(_fmt(df))
    if args.whatif is not None:
        print(f"What-if: INT4/FP4 at {args.whatif:g}x the INT8 compute ceiling (hypothetical GPU; "
              "H100 has no INT4/FP4 tensor-core path); model predictions")
        print(_fmt(roofline.block_speedups(model, whatif_multiple=args.whatif)))
        print(_fmt(roofline.int4_gemm_whatif(model, args.whatif)))
        print("Published anchors (their GPUs, their kernels; not fitted to):")
        a = gpudata.load_anchors()
        print(a[["anchor", "gpu", "comparison", "shape", "speedup"]].to_string(index=False))
    return 0
