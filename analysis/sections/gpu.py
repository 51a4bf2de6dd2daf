"""Report section: what the formats buy on a real GPU (our H100 measurements + roofline model).

Built from the committed data in hwmodel/data/gpu/ (no GPU needed): measured ceilings per kernel
beside the datasheet's, the per-block INT8 speed figures, the held-out validation of the fitted
roofline, block speedups with the INT4/FP4 what-if beside the published anchors, and two plots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table


def _plot_roofline(ax, model, kernels):
    """Measured points (ops/s vs arithmetic intensity) per kernel, with both ceilings."""
    from hwmodel import roofline as rl
    d = model.data
    colors = {}
    for k in kernels:
        info = rl.KERNELS[k]
        r = d[d["kernel"] == k]
        ai = r["ops"] / rl.gemm_bytes(r["M"], r["N"], r["K"], info)
        pts = ax.scatter(ai, r["ops"] / r["time_s"], s=8, alpha=0.7, label=k)
        colors[k] = pts.get_facecolor()[0]
    x = np.logspace(-0.5, 4.5, 100)
    bw = model.copy_bytes_per_s
    for k in kernels:
        peak = model.spec.peak(rl.KERNELS[k].datasheet_dtype)
        ax.plot(x, np.minimum(peak, x * model.spec.memory_bytes_per_s), "--", lw=0.8,
                color=colors[k])
        meas = float((d.loc[d["kernel"] == k, "ops"] / d.loc[d["kernel"] == k, "time_s"]).max())
        ax.plot(x, np.minimum(meas, x * bw), "-", lw=0.8, color=colors[k])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (ops per byte moved)")
    ax.set_ylabel("throughput (ops/s)")
    ax.set_title("dashed: datasheet roofline; solid: measured peak + copy BW", fontsize=8)
    ax.legend(fontsize=6, loc="lower right")


def _plot_holdout(ax, pred):
    for k, g in pred.groupby("kernel"):
        ax.scatter(g["time_s"] * 1e6, g["pred_s"] * 1e6, s=8, alpha=0.7, label=k)
    lo, hi = pred["time_s"].min() * 1e6 * 0.8, pred["time_s"].max() * 1e6 * 1.2
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.6)
    ax.plot([lo, hi], [lo * 1.12, hi * 1.12], "k:", lw=0.5)
    ax.plot([lo, hi], [lo / 1.12, hi / 1.12], "k:", lw=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured time (us)")
    ax.set_ylabel("predicted time (us)")
    ax.set_title("held-out shapes; dotted: +-12%", fontsize=8)
    ax.legend(fontsize=6, loc="upper left")


def build(ctx: ReportContext) -> Section:
    from analysis import plots
    from hwmodel import gpudata, roofline as rl

    model = rl.build_model()
    meas_src = (f"{model.source}; versions, date and exact commands in "
                "hwmodel/data/gpu/metadata.json and README.md")
    gpu = model.data
    ceil = model.ceilings()[["kernel", "dtype", "datasheet_peak_tops", "measured_peak_tops",
                             "fraction_of_datasheet"]]

    # speed figures at 8192^3 and 16384^3 (the speed goal: blk128 >= 1.2x cuBLAS BF16)
    def at(n, k):
        r = gpu[(gpu["kernel"] == k) & (gpu["M"] == n) & (gpu["N"] == n) & (gpu["K"] == n)]
        return float(r["ops"].iloc[0] / r["time_s"].iloc[0]) if len(r) else float("nan")
    speed = []
    for k in rl.KERNELS:
        row = {"kernel": k}
        for n in (4096, 8192, 16384):
            row[f"{n}^3 TOPS"] = at(n, k) / 1e12
            row[f"{n}^3 vs cuBLAS BF16"] = at(n, k) / at(n, "cublas_bf16")
        row["8192^3 fraction of datasheet"] = at(8192, k) / model.spec.peak(
            rl.KERNELS[k].datasheet_dtype)
        speed.append(row)
    speed = pd.DataFrame(speed)

    val = rl.validate(model)
    pred = rl.holdout_predictions(model)
    copy_tb = model.copy_bytes_per_s / 1e12

    blocks = rl.block_speedups(model, whatif_multiple=2.0)
    whatif = rl.int4_gemm_whatif(model, 2.0)
    anchors = gpudata.load_anchors()[["anchor", "gpu", "comparison", "shape", "speedup", "scope",
                                      "source"]]

    quant = None
    if model.quant_fits:
        quant = pd.DataFrame([{"kernel": k, "launch_us": v[0] * 1e6, "bandwidth_tb_s": v[1] / 1e12}
                              for k, v in model.quant_fits.items()])

    figures = []
    fig, ax = plots.new_figure(ncols=2, width_in=11, height_in=4.4)
    shown = ["cublas_bf16", "cublas_tf32", "cublas_int8", "triton_int8", "cublas_fp8_e4m3",
             "triton_int8_blk1x128", "triton_int8_blk32"]
    _plot_roofline(ax[0], model, shown)
    _plot_holdout(ax[1], pred)
    path = plots.savefig(fig, ctx.figure_dir / "gpu_roofline.png")
    figures.append(Figure("Left: measured GEMM throughput per kernel against arithmetic intensity, "
                          "with the datasheet roofline (dashed) and the measured one (solid). Right: "
                          "predicted vs measured time on the held-out shapes.", path, meas_src))

    goal = speed.set_index("kernel").loc["triton_int8_blk1x128", "8192^3 vs cuBLAS BF16"]
    plain = speed.set_index("kernel").loc["triton_int8", "8192^3 vs cuBLAS BF16"]
    jet = speed.set_index("kernel").loc["triton_int8_blk32", "8192^3 vs cuBLAS BF16"]
    closer = val["datasheet_median_err_pct"] / val["median_err_pct"]
    ok = val[(val["median_err_pct"] <= 5) & (val["p90_err_pct"] <= 12)]["kernel"].tolist()
    intro = (
        f"Our measurements on an {model.data.attrs.get('gpu', 'NVIDIA H100 80GB HBM3 (SXM)')}: "
        f"{gpu[['M', 'N', 'K']].drop_duplicates().shape[0]} GEMM shapes (square 256..16384 and the "
        "linear layers of BERT-base/large, GPT-2 small/XL and LLaMA-2-7B at 1..8192 tokens) x "
        f"{gpu['kernel'].nunique()} kernels, each checked against float64 before it was timed "
        "(triton.testing.do_bench median, L2 flushed, inputs rotated). Device-to-device copy "
        f"reached **{copy_tb:.2f} TB/s** (read + write; datasheet 3.35 TB/s).\n\n"
        f"Our per-block-scaled INT8 GEMM (1x128 activations x 128x128 weights, fused "
        f"dequantisation) reaches **{goal:.2f}x** cuBLAS BF16 at 8192^3 — short of the 1.2x goal; "
        f"our plain Triton INT8 GEMM reaches {plain:.2f}x. The per-block kernel's cost is the "
        "per-128-K dequantisation on the CUDA cores, which Triton does not overlap with the tensor "
        "cores (see docs/gpu_notes.md for the versions tried). Jetfire's 32x32 blocks dequantise 4x "
        f"as often and run at {jet:.2f}x BF16 on the H100.")
    notes = (
        "The fitted roofline (tile and wave quantisation on 132 SMs, per-CTA bandwidth, launch "
        f"overhead; parameters fitted per kernel on the fitting split only) is {closer.min():.0f}-"
        f"{closer.max():.0f}x closer (median error) to the held-out measurements than the datasheet "
        f"roofline, whose median error is {val['datasheet_median_err_pct'].min():.0f}-"
        f"{val['datasheet_median_err_pct'].max():.0f}%, mostly because small GEMMs are launch- and "
        "latency-bound. "
        + (f"It meets the goal (median <= 5%, p90 <= 12%) for {', '.join(ok)}; " if ok else
           "It misses the goal (median <= 5%, p90 <= 12%) for every kernel; ")
        + "the others miss it, mostly on shapes of 10-50 us where the choice of tile, split-K "
        "and the kernel's latency matter more than the model captures.\n\n"
        "Block speedups are model predictions for one inference block (eager, unfused attention), "
        "not measurements; Jetfire's 1.42x is a training (forward + backward) figure on an RTX "
        "4090, whose INT8 peak is 4x its FP16-with-FP32-accumulate peak (the H100's is 2x), and "
        "Wu et al.'s INT4 figures are CUTLASS kernels on an RTX A6000. They are shown as "
        "published, beside ours, not as targets.")
    tables = [
        Table("Compute ceilings: datasheet (dense) vs best measured, per kernel", ceil,
              f"datasheet: hwmodel/data/gpu_datasheet.csv (NVIDIA H100 datasheet); measured: {meas_src}"),
        Table("Kernel throughput at large square GEMMs (TOPS = 1e12 ops/s, ops = 2MNK)", speed,
              meas_src),
        Table("Roofline validation on held-out shapes: absolute relative error (%)", val,
              f"our roofline model (hwmodel.roofline) vs {meas_src}"),
        Table("Predicted block speedup over BF16 (INT4/FP4: hypothetical GPU with 2x the INT8 "
              "ceiling, Wu et al.'s multiple)", blocks,
              "our roofline model fitted to our H100 measurements; model predictions"),
        Table("Predicted INT4 over INT8 GEMM speedup at Wu et al.'s shapes (hypothetical 2x INT4)",
              whatif, "our roofline model; Wu et al. measured 1.96x and 1.46x on an RTX A6000"),
        Table("Published anchors (labelled; not fitted to)", anchors,
              "Jetfire (Xi et al., ICML 2024); Wu et al. 2023"),
    ]
    if quant is not None:
        tables.insert(2, Table("Per-block quantise/dequantise kernels: fitted launch time and "
                               "bandwidth (bf16 in, int8 + fp32 scales out)", quant, meas_src))
    if ctx.quick:
        tables = tables[:3]
    return Section(key="gpu", title="GPU roofline (H100)", intro=intro, tables=tables,
                   figures=figures, notes=notes)
