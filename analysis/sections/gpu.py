"""Report section: what the formats buy on real GPUs (our H100 and H200 measurements + roofline).

Built from the committed data in hwmodel/data/gpu/<device>/ (no GPU needed): measured ceilings per
kernel beside each device's own datasheet, the block-scaled GEMMs against cuBLAS BF16 / INT8 / FP8,
the validation of the fitted roofline on held-out grid shapes and on random shapes never used for
fitting, block speedups with the INT4/FP4 what-if beside the published anchors, and plots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table

GPUS = ("h100-sxm", "h200")


# The measured reference kernels every GPU plot names: the BF16 baseline and the plain INT8 / FP8
# GEMMs (per-tensor scale) the block-scaled kernels are compared with.
REF_KERNELS = {"cublas_bf16": "cuBLAS BF16 (ref)", "cublas_int8": "cuBLAS INT8 (ref)",
               "cublas_fp8_e4m3": "cuBLAS FP8-E4M3 (ref)"}
ROOFLINE_MARKS = (
    "Marked: the measured reference kernels (cuBLAS BF16, INT8 and FP8-E4M3) drawn with black "
    "edges, named '(ref)' in the legend, their best measured point ringed and named; each "
    "legend entry says at how many of the GEMM shapes that kernel is the fastest of those shown; "
    "the empirical roofline, i.e. the fastest point in each sixth of a decade of arithmetic "
    "intensity that no other such point matches at no more intensity (non-dominated), drawn "
    "black-edged in its kernel's colour and joined by a black line, the kernels on it named in "
    "the legend.")
HOLDOUT_MARKS = ("The reference kernels (cuBLAS BF16, INT8 and FP8-E4M3) are drawn with black "
                 "edges and named '(ref)' in the legend; no front is drawn, since both axes are "
                 "the same quantity (the solid diagonal is a perfect prediction).")


def kernel_label(k: str) -> str:
    return REF_KERNELS.get(k, k)


def best_per_shape(data: pd.DataFrame, kernels) -> pd.Series:
    """How many (M, N, K) shapes each kernel is the fastest at, among `kernels` (ties: each)."""
    d = data[data["kernel"].isin(kernels)].assign(tput=lambda x: x["ops"] / x["time_s"])
    top = d.groupby(["M", "N", "K"])["tput"].transform("max")
    return d[d["tput"] == top]["kernel"].value_counts().reindex(list(kernels), fill_value=0)


def empirical_roofline(pts: pd.DataFrame, per_decade: int = 6) -> pd.DataFrame:
    """The points (columns kernel, ai, tput) on the measured envelope: the fastest point in each
    log-spaced intensity bin (`per_decade` bins a decade), then those no other such point matches
    in throughput at no more intensity (analysis.pareto.non_dominated). Sorted by intensity."""
    from analysis.pareto import non_dominated
    b = np.floor(np.log10(pts["ai"].astype(float)) * per_decade)
    top = pts.loc[pts.groupby(b)["tput"].idxmax()]
    return top[non_dominated(top, [("ai", "min"), ("tput", "max")])].sort_values("ai")


def _plot_roofline(ax, model, kernels):
    """Measured points (ops/s vs arithmetic intensity) per kernel, with both ceilings; the
    reference kernels named and their best point ringed; the empirical roofline (non-dominated
    points) joined and its kernels named."""
    from hwmodel import roofline as rl
    d = model.data
    colors = {}
    wins = best_per_shape(d, kernels)
    n_shapes = d[d["kernel"].isin(kernels)][["M", "N", "K"]].drop_duplicates().shape[0]
    pts_all = []
    for k in kernels:
        info = rl.KERNELS[k]
        r = d[d["kernel"] == k]
        ai = r["ops"] / rl.gemm_bytes(r["M"], r["N"], r["K"], info)
        ref = k in REF_KERNELS
        pts = ax.scatter(ai, r["ops"] / r["time_s"], s=14 if ref else 8, alpha=0.7,
                         edgecolors="black" if ref else "none", linewidths=0.4,
                         label=f"{kernel_label(k)}: fastest at {wins[k]}/{n_shapes}")
        colors[k] = pts.get_facecolor()[0]
        pts_all.append(pd.DataFrame({"kernel": k, "ai": ai.to_numpy(),
                                     "tput": (r["ops"] / r["time_s"]).to_numpy()}))
    x = np.logspace(-0.5, 4.5, 100)
    bw = model.copy_bytes_per_s
    for k in kernels:
        peak = model.datasheet_peak(k)
        if model.spec is not None and np.isfinite(peak):
            ax.plot(x, np.minimum(peak, x * model.spec.memory_bytes_per_s), "--", lw=0.8,
                    color=colors[k])
        meas = float((d.loc[d["kernel"] == k, "ops"] / d.loc[d["kernel"] == k, "time_s"]).max())
        ax.plot(x, np.minimum(meas, x * bw), "-", lw=0.8, color=colors[k])
    pts = pd.concat(pts_all, ignore_index=True)
    env = empirical_roofline(pts)
    on = list(dict.fromkeys(env["kernel"]))
    ax.plot(env["ai"], env["tput"], "-", color="black", lw=1.2, zorder=5,
            label="non-dominated (empirical roofline): " + ", ".join(
                kernel_label(k).removesuffix(" (ref)") for k in on))
    ax.scatter(env["ai"], env["tput"], s=34, c=[colors[k] for k in env["kernel"]],
               edgecolors="black", linewidths=1.0, zorder=6)
    for i, k in enumerate(k for k in kernels if k in REF_KERNELS):
        r = pts[pts["kernel"] == k].nlargest(1, "tput").iloc[0]
        ax.scatter([r["ai"]], [r["tput"]], s=130, facecolors="none", edgecolors="black",
                   linewidths=1.1, zorder=6)
        ax.annotate(f"{REF_KERNELS[k]} {r['tput'] / 1e12:.0f} TOPS", (r["ai"], r["tput"]),
                    fontsize=6, fontweight="bold", ha="left", xytext=(0.03, 0.94 - 0.055 * i),
                    textcoords="axes fraction", zorder=7,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
                    arrowprops=dict(arrowstyle="-", lw=0.4, color="0.4", shrinkA=0, shrinkB=5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (ops per byte moved)")
    ax.set_ylabel("throughput (ops/s)")
    ax.set_title("dashed: datasheet roofline; solid: measured peak + copy BW", fontsize=8)
    ax.legend(fontsize=5.5, loc="lower right", framealpha=0.7)


def _plot_holdout(ax, pred, title="held-out shapes; dotted: +-12%"):
    for k, g in pred.groupby("kernel"):
        ref = k in REF_KERNELS
        ax.scatter(g["time_s"] * 1e6, g["pred_s"] * 1e6, s=14 if ref else 8, alpha=0.7,
                   edgecolors="black" if ref else "none", linewidths=0.4, label=kernel_label(k))
    lo, hi = pred["time_s"].min() * 1e6 * 0.8, pred["time_s"].max() * 1e6 * 1.2
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.6)
    ax.plot([lo, hi], [lo * 1.12, hi * 1.12], "k:", lw=0.5)
    ax.plot([lo, hi], [lo / 1.12, hi / 1.12], "k:", lw=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured time (us)")
    ax.set_ylabel("predicted time (us)")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="upper left")


def _at(gpu: pd.DataFrame, n: int, k: str) -> float:
    r = gpu[(gpu["kernel"] == k) & (gpu["M"] == n) & (gpu["N"] == n) & (gpu["K"] == n)]
    return float(r["ops"].iloc[0] / r["time_s"].iloc[0]) if len(r) else float("nan")


def blockscaled_ratios(models: dict) -> pd.DataFrame:
    """Per GPU, block-scaled kernel and size (8192^3, 16384^3): TOPS and the ratio to cuBLAS
    BF16 and to cuBLAS plain INT8 / FP8 e4m3 (per-tensor scale), all measured."""
    rows = []
    for gpu, m in models.items():
        for k in ("triton_int8_blk1x128", "triton_int8_blk32", "cublas_fp8_blk1x128",
                  "triton_fp8_blk1x128"):
            for n in (8192, 16384):
                t = _at(m.data, n, k)
                if not np.isfinite(t):
                    continue
                rows.append({"gpu": m.device, "kernel": k, "size": f"{n}^3", "tops": t / 1e12,
                             "vs_cublas_bf16": t / _at(m.data, n, "cublas_bf16"),
                             "vs_cublas_int8": t / _at(m.data, n, "cublas_int8"),
                             "vs_cublas_fp8_e4m3": t / _at(m.data, n, "cublas_fp8_e4m3")})
    return pd.DataFrame(rows)


def build(ctx: ReportContext) -> Section:
    from analysis import plots
    from hwmodel import gpudata, roofline as rl

    models = {g: rl.build_model(g) for g in GPUS}
    h100, h200 = models["h100-sxm"], models["h200"]
    meas_src = ("our measurements (" + "; ".join(f"{m.device}: {m.folder.split('hwmodel/')[-1]}"
                                                  for m in models.values())
                + "); versions, dates, commits and exact commands in each folder's "
                "metadata.json and hwmodel/data/gpu/README.md")
    ceil = pd.concat([m.ceilings().assign(gpu=m.device, datasheet=m.datasheet_label)
                      for m in models.values()])[["gpu", "kernel", "dtype", "datasheet",
                                                  "datasheet_peak_tops", "measured_peak_tops",
                                                  "fraction_of_datasheet", "above_datasheet"]]
    speed = []
    for m in models.values():
        for k in m.fits:
            row = {"gpu": m.device, "kernel": k}
            for n in (4096, 8192, 16384):
                row[f"{n}^3 TOPS"] = _at(m.data, n, k) / 1e12
                row[f"{n}^3 vs cuBLAS BF16"] = _at(m.data, n, k) / _at(m.data, n, "cublas_bf16")
            speed.append(row)
    speed = pd.DataFrame(speed)
    blk = blockscaled_ratios(models)

    val = pd.concat([rl.validate(m).assign(gpu=m.device) for m in models.values()])
    val = val[["gpu"] + [c for c in val.columns if c != "gpu"]]
    pred = rl.holdout_predictions(h200)
    rnd = rl.holdout_predictions(h200, "random")

    blocks = pd.concat([rl.block_speedups(m, whatif_multiple=2.0).assign(gpu=m.device)
                        for m in models.values()])
    blocks = blocks[["gpu"] + [c for c in blocks.columns if c != "gpu"]]
    whatif = rl.int4_gemm_whatif(h100, 2.0)
    anchors = gpudata.load_anchors()[["anchor", "gpu", "comparison", "shape", "speedup", "scope",
                                      "source"]]
    quant = pd.DataFrame([{"gpu": m.device, "kernel": k, "launch_us": v[0] * 1e6,
                           "bandwidth_tb_s": v[1] / 1e12}
                          for m in models.values() for k, v in m.quant_fits.items()])

    figures = []
    fig, ax = plots.new_figure(ncols=2, width_in=11, height_in=4.4)
    shown = ["cublas_bf16", "cublas_int8", "triton_int8", "cublas_fp8_e4m3",
             "triton_int8_blk1x128", "cublas_fp8_blk1x128"]
    _plot_roofline(ax[0], h100, [k for k in shown if k in h100.fits])
    ax[0].set_title(f"{h100.device}: " + ax[0].get_title(), fontsize=7)
    _plot_roofline(ax[1], h200, shown)
    ax[1].set_title(f"{h200.device}: " + ax[1].get_title(), fontsize=7)
    path = plots.savefig(fig, ctx.figure_dir / "gpu_roofline.png")
    figures.append(Figure("Measured GEMM throughput per kernel against arithmetic intensity, with "
                          "each device's datasheet roofline (dashed) and the measured one (solid): "
                          "left H100 SXM, right H200. " + ROOFLINE_MARKS, path, meas_src))
    fig, ax = plots.new_figure(ncols=2, width_in=11, height_in=4.4)
    _plot_holdout(ax[0], pred, f"{h200.device}: held-out grid shapes; dotted: +-12%")
    _plot_holdout(ax[1], rnd, f"{h200.device}: random shapes (never fitted); dotted: +-12%")
    path = plots.savefig(fig, ctx.figure_dir / "gpu_validation.png")
    figures.append(Figure("Predicted vs measured time on the H200: held-out grid shapes (left) and "
                          "the seeded random shapes measured separately (right). " + HOLDOUT_MARKS,
                          path,
                          f"our roofline model (hwmodel.roofline) vs {meas_src}"))

    def ratio(m, k, n=8192):
        return _at(m.data, n, k) / _at(m.data, n, "cublas_bf16")
    vr = val.set_index(["gpu", "kernel"])
    goal = [k for k in ("cublas_bf16", "cublas_int8", "cublas_fp8_e4m3")
            if vr.loc[(h200.device, k), "random_median_err_pct"] <= 6
            and vr.loc[(h200.device, k), "random_p90_err_pct"] <= 15]
    rnd_txt = ", ".join(f"{k} {vr.loc[(h200.device, k), 'random_median_err_pct']:.1f}% / "
                        f"{vr.loc[(h200.device, k), 'random_p90_err_pct']:.1f}%"
                        for k in ("cublas_bf16", "cublas_int8", "cublas_fp8_e4m3"))
    b = blk.set_index(["gpu", "kernel", "size"])
    intro = (
        f"Our measurements on two GPUs: the {h100.device} (SXM; "
        f"{h100.data[['M', 'N', 'K']].drop_duplicates().shape[0]} GEMM shapes x "
        f"{h100.data['kernel'].nunique()} kernels) and the {h200.device} "
        f"({h200.data[['M', 'N', 'K']].drop_duplicates().shape[0]} grid shapes x "
        f"{h200.data['kernel'].nunique()} kernels, each timed in 5 independent passes, plus "
        f"{0 if h200.random is None else h200.random[['M', 'N', 'K']].drop_duplicates().shape[0]} "
        "seeded random shapes measured separately for validation). Every kernel was checked "
        "against float64 before it was timed (triton.testing.do_bench median, L2 flushed, inputs "
        "rotated). Device-to-device copy: "
        + "; ".join(f"{m.device} **{m.copy_bytes_per_s / 1e12:.2f} TB/s** (read + write; "
                    f"datasheet {m.spec.memory_bytes_per_s / 1e12:.2f} TB/s)" for m in models.values())
        + ".\n\n"
        f"Block-scaled GEMMs at 8192^3 on the {h200.device}: our per-block INT8 (1x128 x 128x128) "
        f"runs at **{b.loc[(h200.device, 'triton_int8_blk1x128', '8192^3'), 'vs_cublas_int8']:.2f}x** "
        f"cuBLAS plain INT8 ({ratio(h200, 'triton_int8_blk1x128'):.2f}x cuBLAS BF16; goal 0.9x "
        "cuBLAS INT8: not met), Jetfire's 32x32 blocks at "
        f"{ratio(h200, 'triton_int8_blk32'):.2f}x BF16; DeepSeek-V3-style FP8 with 1x128 x 128x128 "
        "float32 scales through cuBLASLt (torch._scaled_mm blockwise) at "
        f"**{b.loc[(h200.device, 'cublas_fp8_blk1x128', '8192^3'), 'vs_cublas_fp8_e4m3']:.2f}x** "
        f"cuBLAS per-tensor FP8 ({ratio(h200, 'cublas_fp8_blk1x128'):.2f}x BF16), our Triton "
        f"version at {ratio(h200, 'triton_fp8_blk1x128'):.2f}x BF16. On the {h100.device} our "
        f"per-block INT8 reaches {ratio(h100, 'triton_int8_blk1x128'):.2f}x BF16 "
        f"({_at(h100.data, 8192, 'triton_int8_blk1x128') / _at(h100.data, 8192, 'cublas_int8'):.2f}x "
        "cuBLAS INT8); the FP8 block-scaled kernels were not measured there (no H100 this session).")
    notes = (
        "The fitted roofline (tile and wave quantisation on 132 SMs, per-CTA bandwidth, launch "
        "overhead; fitted per kernel on the fitting split only; efficiencies below 1 and bandwidth "
        "at most the measured copy bandwidth) is validated twice: on held-out grid shapes (split by "
        "a hash of MxNxK) and on random shapes that were never part of the grid. On the "
        f"{h200.device}, random-shape median / p90 error: {rnd_txt}; the goal (median <= 6%, p90 "
        f"<= 15%) is met by {', '.join(goal) if goal else 'none of them'}. The {h100.device}'s random "
        "shapes were not measured (no H100 was available this session): its random-shape columns "
        "are empty, not estimated.\n\n"
        "Block speedups are model predictions for one inference block (eager, unfused attention), "
        "not measurements; Jetfire's 1.42x is a training (forward + backward) figure on an RTX "
        "4090, whose INT8 peak is 4x its FP16-with-FP32-accumulate peak (the H100's and H200's is "
        "2x), and Wu et al.'s INT4 figures are CUTLASS kernels on an RTX A6000. They are shown as "
        "published, beside ours, not as targets.")
    tables = [
        Table("Compute ceilings: each device's datasheet (dense) vs best measured, per kernel", ceil,
              f"datasheet: hwmodel/data/gpu_datasheet.csv (NVIDIA H100 and H200 datasheets); "
              f"measured: {meas_src}"),
        Table("Block-scaled GEMMs vs cuBLAS BF16, INT8 and FP8 (per-tensor), measured", blk,
              meas_src),
        Table("Roofline validation: held-out grid shapes and random shapes (never fitted), "
              "absolute relative error (%)", val,
              f"our roofline model (hwmodel.roofline) vs {meas_src}"),
        Table("Kernel throughput at large square GEMMs (TOPS = 1e12 ops/s, ops = 2MNK)", speed,
              meas_src),
        Table("Predicted block speedup over BF16 (INT4/FP4: hypothetical GPU with 2x the INT8 "
              "ceiling, Wu et al.'s multiple)", blocks,
              "our roofline model fitted to our measurements of each GPU; model predictions"),
        Table("Predicted INT4 over INT8 GEMM speedup at Wu et al.'s shapes (hypothetical 2x INT4, "
              "H100 model)", whatif,
              "our roofline model; Wu et al. measured 1.96x and 1.46x on an RTX A6000"),
        Table("Published anchors (labelled; not fitted to)", anchors,
              "Jetfire (Xi et al., ICML 2024); Wu et al. 2023"),
    ]
    if len(quant):
        tables.insert(4, Table("Per-block quantise/dequantise kernels: fitted launch time and "
                               "bandwidth (bf16 in, int8 + fp32 scales out)", quant, meas_src))
    if ctx.quick:
        tables = tables[:4]
    return Section(key="gpu", title="GPU roofline (H100, H200)", intro=intro, tables=tables,
                   figures=figures, notes=notes)
