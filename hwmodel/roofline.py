"""Roofline model of GEMMs and transformer blocks on a GPU, fitted to our measurements.

Two models of the time of C[M,N] = A[M,K] W[N,K]^T with one kernel:

* datasheet roofline: max(2MNK / datasheet peak, bytes / datasheet bandwidth);
* shape-aware model (fitted per kernel on a FITTING split of the measured shapes):

      t = t0 + (t_c^p + t_m^p)^(1/p)
      t_c = min over tiles (TM, TN) and split-K S of
            waves * 2 TM TN (ceil(K/S) + k0) / (eta * P / SMs * (TM TN / (128*256))^alpha)
            with waves = ceil(ceil(M/TM) ceil(N/TN) S / SMs)        (tile and wave quantisation)
      t_m = bytes / BW,  bytes = in_bytes (MK + NK) + out_bytes MN (+ block scales)

  P is the kernel's measured ceiling (its best ops/s on the fitting shapes); eta, BW, t0, alpha,
  p and k0 are fitted (Nelder-Mead on mean |log(pred/measured)|, deterministic start). `p` blends
  the compute and memory terms (p -> inf is the plain max); `alpha` charges small tiles for their
  lower operand reuse; k0 is a tile's fixed cost (prologue, epilogue) in units of K; t0 is launch
  overhead. Our Triton kernels' tiles are their real candidates (by M range, no split-K);
  cuBLAS's are a generic set with split-K 1/2/4.

The split into fitting and held-out shapes is by a stable hash of "MxNxK" (`shape_split`),
decided before any fitting, and the same for every kernel. `validate` reports per kernel the
median and 90th-percentile absolute relative error on the held-out shapes next to those of the
datasheet roofline.

Block model (`block_time`): the four linear layers of a transformer block with a GEMM kernel,
the quantise kernels an INT8/FP8 data flow adds before each linear layer (fitted on quant.csv:
t = t0 + bytes / BW), the attention core (bf16 GEMMs: QK^T and PV over all heads), and the
memory-bound operators (hwmodel.workloads.nongemm_ops; fitted on elementwise.csv).

Pure numpy/pandas; reads hwmodel/data/gpu/ (our H100 measurement) by default.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import gpudata
from hwmodel.errors import DataError, UnsupportedConfig


# ----------------------------------------------------------------------------------------------
# Kernels and dtypes
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelInfo:
    """What one measured kernel computes: element sizes and which datasheet peak bounds it."""

    name: str
    dtype: str               # the dtype label of its rows in gemm.csv
    in_bytes: float          # bytes per A/W element
    out_bytes: float         # bytes per C element
    datasheet_dtype: str     # the datasheet peak that bounds it
    scale_block: tuple | None = None   # (rows per A scale, cols per W scale, K per scale)
    description: str = ""


KERNELS: dict[str, KernelInfo] = {k.name: k for k in [
    KernelInfo("cublas_bf16", "bf16", 2, 2, "bf16", None, "cuBLAS BF16 (torch.mm)"),
    KernelInfo("cublas_fp16", "fp16", 2, 2, "fp16", None, "cuBLAS FP16 (torch.mm)"),
    KernelInfo("cublas_tf32", "tf32", 4, 4, "tf32", None, "cuBLAS TF32 (fp32 torch.mm, tf32 allowed)"),
    KernelInfo("cublas_int8", "int8", 1, 4, "int8", None, "cuBLAS INT8 -> INT32 (torch._int_mm)"),
    KernelInfo("triton_int8", "int8", 1, 4, "int8", None, "our Triton INT8 -> INT32 GEMM"),
    KernelInfo("cublas_fp8_e4m3", "fp8_e4m3", 1, 2, "fp8_e4m3", None,
               "cuBLASLt FP8 e4m3 x e4m3 -> BF16 (torch._scaled_mm)"),
    KernelInfo("cublas_fp8_e5m2", "fp8_e5m2", 1, 2, "fp8_e5m2", None,
               "cuBLASLt FP8 e5m2 x e4m3 -> BF16 (torch._scaled_mm; no e5m2 x e5m2 exists)"),
    KernelInfo("triton_int8_blk1x128", "int8_blk128", 1, 2, "int8", (1, 128, 128),
               "our Triton per-block-scaled INT8 GEMM, 1x128 activations x 128x128 weights, "
               "fused dequantisation -> BF16"),
    KernelInfo("triton_int8_blk32", "int8_blk32", 1, 2, "int8", (32, 32, 32),
               "our Triton per-block-scaled INT8 GEMM, Jetfire 32x32 blocks, fused dequantisation"),
]}

# --dtype names -> the kernel that represents the dtype (the fastest measured at large shapes).
DTYPE_KERNEL = {"bf16": "cublas_bf16", "fp16": "cublas_fp16", "tf32": "cublas_tf32",
                "int8": "triton_int8", "fp8_e4m3": "cublas_fp8_e4m3",
                "fp8_e5m2": "cublas_fp8_e5m2", "int8_blk128": "triton_int8_blk1x128",
                "int8_blk32": "triton_int8_blk32"}
# Format names of hwmodel.formats that map onto a measured dtype.
_FORMAT_ALIASES = {"bfloat16": "bf16", "float16": "fp16", "float8_e4m3fn": "fp8_e4m3",
                   "float8_e5m2": "fp8_e5m2", "int8": "int8", "e4m3": "fp8_e4m3",
                   "e5m2": "fp8_e5m2", "fp8": "fp8_e4m3"}


def resolve_kernel(name: str) -> str:
    """A kernel name from a dtype (bf16, int8, fp8_e4m3, e4m3, ...) or a kernel name."""
    if name in KERNELS:
        return name
    if name in DTYPE_KERNEL:
        return DTYPE_KERNEL[name]
    if name in _FORMAT_ALIASES:
        return DTYPE_KERNEL[_FORMAT_ALIASES[name]]
    try:  # any spelling the format catalogue understands (e.g. "float8_e4m3fn")
        from hwmodel.formats import parse_format
        fmt = parse_format(name)
        alias = _FORMAT_ALIASES.get(fmt.name)
        if alias:
            return DTYPE_KERNEL[alias]
    except Exception:  # noqa: BLE001 - fall through to the one-line error below
        pass
    raise UnsupportedConfig(f"dtype must be one of {', '.join(DTYPE_KERNEL)} (or a kernel: "
                            f"{', '.join(KERNELS)}), not {name!r}; INT4/FP4 have no H100 path: "
                            f"see `hwdse roofline --whatif`")


def gemm_bytes(M, N, K, info: KernelInfo):
    """Fewest bytes of one GEMM: A and W read once, C written once, block scales (float32)."""
    M, N, K = (np.asarray(x, dtype=float) for x in (M, N, K))
    b = info.in_bytes * (M * K + N * K) + info.out_bytes * M * N
    if info.scale_block:
        qa, qb, qk = info.scale_block
        b = b + 4.0 * (np.ceil(M / qa) + np.ceil(N / qb)) * np.ceil(K / qk)
    return b


def check_shape(M, N, K):
    for name, v in (("M", M), ("N", N), ("K", K)):
        if not (isinstance(v, (int, np.integer)) and v > 0):
            raise UnsupportedConfig(f"GEMM {name} must be a positive integer, not {v!r}")


def parse_gemm(text: str) -> tuple[int, int, int]:
    """'MxNxK' -> (M, N, K), each a positive integer."""
    parts = str(text).lower().replace("*", "x").split("x")
    try:
        vals = tuple(int(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) <= 0:
        raise UnsupportedConfig(f"--gemm must be MxNxK with three positive integers, not {text!r}")
    return vals


# ----------------------------------------------------------------------------------------------
# Split
# ----------------------------------------------------------------------------------------------
HELD_OUT_FRACTION = 0.3


def shape_split(M: int, N: int, K: int, held_out_fraction: float = HELD_OUT_FRACTION) -> str:
    """'fit' or 'holdout' from a stable hash (CRC-32) of 'MxNxK': the same on every machine."""
    h = zlib.crc32(f"{int(M)}x{int(N)}x{int(K)}".encode()) / 2**32
    return "holdout" if h < held_out_fraction else "fit"


def add_split(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["split"] = [shape_split(m, n, k) for m, n, k in zip(df["M"], df["N"], df["K"])]
    return df


# ----------------------------------------------------------------------------------------------
# The shape-aware GEMM model
# ----------------------------------------------------------------------------------------------
TILES = ((64, 64), (64, 128), (128, 64), (128, 128), (128, 256), (256, 128))
SPLIT_K = (1, 2, 4)
K_STEP = 64           # K is processed in steps of 64 (a partial step costs a whole one)
_REF_TILE = 128 * 256


@dataclass(frozen=True)
class KernelFit:
    """Fitted parameters of one kernel (see module docstring)."""

    kernel: str
    peak_ops_per_s: float     # measured ceiling on the fitting shapes
    eta: float
    bw_bytes_per_s: float
    t0_s: float
    alpha: float
    p: float
    k0: float = 0.0           # per-tile fixed cost in units of K
    bw_sm: float = float("inf")   # bytes/s one CTA can draw
    n_fit: int = 0


# Tile candidates of our Triton kernels by M range (as in analysis/gpubench/kernels.py); they
# never split K. cuBLAS picks from many more tiles and may split K: the generic set.
_TRITON_TILES = {"small": ((16, 64), (16, 128)), "mid": ((64, 128), (128, 128)),
                 "large_int8": ((128, 256), (128, 128), (256, 128)),
                 "large_blk": ((128, 128), (64, 128), (64, 256))}


def _candidates(kernel: str | None, M):
    """(tiles, split-K factors, M mask) groups for a kernel: the M mask says where each applies."""
    M = np.asarray(M, dtype=float)
    if kernel is None or not kernel.startswith("triton"):
        return [(TILES, SPLIT_K, np.ones(M.shape, bool))]
    large = "large_blk" if "blk" in kernel else "large_int8"
    return [(_TRITON_TILES["small"], (1,), M <= 16),
            (_TRITON_TILES["mid"], (1,), (M > 16) & (M <= 256)),
            (_TRITON_TILES[large], (1,), M > 256)]


def _blend(tc, tm, p):
    """(tc^p + tm^p)^(1/p), scaled so that a large p cannot overflow."""
    mx = np.maximum(tc, tm)
    return mx * ((tc / mx) ** p + (tm / mx) ** p) ** (1.0 / p)


def kernel_time(M, N, K, fit: "KernelFit", sm_count: int, info: KernelInfo):
    """Best time over the kernel's tile/split-K candidates (vectorised over M, N, K), t0 excluded.

    Per candidate: each tile costs (its K steps + k0) x 2 TM TN at the per-SM rate
    eta P / SMs x (TM TN / 128x256)^alpha, in ceil(tiles / SMs) waves; the bytes stream at
    min(BW, CTAs x bw_sm): a grid of few CTAs cannot draw the full bandwidth.
    """
    M, N, K = (np.asarray(x, dtype=float) for x in (M, N, K))
    shape = np.broadcast(M, N, K).shape
    M, N, K = (np.broadcast_to(x, shape) for x in (M, N, K))
    nbytes = gemm_bytes(M, N, K, info)
    out = np.full(shape, np.inf)
    for tiles_set, splits, mask in _candidates(fit.kernel, M):
        best = np.full(shape, np.inf)
        for tm, tn in tiles_set:
            rate = fit.eta * fit.peak_ops_per_s / sm_count * (tm * tn / _REF_TILE) ** fit.alpha
            for s in splits:
                tiles = np.ceil(M / tm) * np.ceil(N / tn) * s
                waves = np.ceil(tiles / sm_count)
                k_tile = np.ceil(np.ceil(K / s) / K_STEP) * K_STEP + fit.k0
                tc = waves * 2.0 * tm * tn * k_tile / rate
                bw = np.minimum(fit.bw_bytes_per_s, np.minimum(tiles, sm_count) * fit.bw_sm)
                best = np.minimum(best, _blend(tc, nbytes / bw, fit.p))
        out = np.where(np.broadcast_to(mask, shape), best, out)
    return out


def predict_fit(M, N, K, fit: KernelFit, sm_count: int, info: KernelInfo | None = None):
    info = info or KERNELS[fit.kernel]
    return fit.t0_s + kernel_time(M, N, K, fit, sm_count, info)


def datasheet_time(M, N, K, info: KernelInfo, spec: gpudata.GpuSpec):
    ops = 2.0 * np.asarray(M, float) * np.asarray(N, float) * np.asarray(K, float)
    return np.maximum(ops / spec.peak(info.datasheet_dtype),
                      gemm_bytes(M, N, K, info) / spec.memory_bytes_per_s)


def _nelder_mead(f, x0, steps, iters=600, tol=1e-9):
    """Minimise f from x0 (deterministic Nelder-Mead; numpy only)."""
    n = len(x0)
    pts = [np.array(x0, float)]
    for i in range(n):
        x = np.array(x0, float)
        x[i] += steps[i]
        pts.append(x)
    vals = [f(x) for x in pts]
    for _ in range(iters):
        order = np.argsort(vals)
        pts = [pts[i] for i in order]
        vals = [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) < tol:
            break
        c = np.mean(pts[:-1], axis=0)
        xr = c + (c - pts[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = c + 2 * (c - pts[-1])
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = c + 0.5 * (pts[-1] - c)
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0] + 0.5 * (x - pts[0]) for x in pts]
                vals = [f(x) for x in pts]
    i = int(np.argmin(vals))
    return pts[i], vals[i]


def fit_kernel(rows: pd.DataFrame, kernel: str, sm_count: int) -> KernelFit:
    """Fit one kernel's parameters on `rows` (its fitting-split rows)."""
    if kernel not in KERNELS:
        raise UnsupportedConfig(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
    if len(rows) < 5:
        raise DataError(f"fitting {kernel} needs at least 5 measured shapes, not {len(rows)}")
    if sm_count <= 0:
        raise DataError(f"the measurement metadata must give a positive sm_count, not {sm_count!r}")
    info = KERNELS[kernel]
    M, N, K = (rows[c].to_numpy(float) for c in ("M", "N", "K"))
    t = rows["time_s"].to_numpy(float)
    peak = float(np.max(2.0 * M * N * K / t))
    logt = np.log(t)

    def unpack(x):
        return KernelFit(kernel, peak, eta=1.0 / (1.0 + math.exp(-x[0])) * 1.5,
                         bw_bytes_per_s=math.exp(x[1]), t0_s=math.exp(x[2]),
                         alpha=x[3], p=1.0 + math.exp(x[4]), k0=math.exp(x[5]),
                         bw_sm=math.exp(x[6]),
                         n_fit=len(rows))

    def loss(x):
        pred = predict_fit(M, N, K, unpack(x), sm_count, info)
        return float(np.mean(np.abs(np.log(pred) - logt)))

    x0 = [math.log(0.8 / 0.7), math.log(2.5e12), math.log(5e-6), 0.3, math.log(2.0),
          math.log(64.0), math.log(5e10)]
    x, _ = _nelder_mead(loss, x0, steps=[0.5, 0.5, 0.5, 0.2, 0.5, 1.0, 1.0], iters=1500)
    x, _ = _nelder_mead(loss, x, steps=[0.1, 0.1, 0.1, 0.05, 0.2, 0.3, 0.3], iters=1500)  # polish
    return unpack(x)


# ----------------------------------------------------------------------------------------------
# The fitted model of one GPU
# ----------------------------------------------------------------------------------------------
@dataclass
class GpuModel:
    """Fitted kernels, memory-bound operator fits and ceilings of one measured GPU."""

    fits: dict            # kernel -> KernelFit
    sm_count: int
    copy_bytes_per_s: float          # measured memory ceiling (device-to-device copy)
    quant_fits: dict      # quant kernel -> (t0_s, bytes_per_s)
    elementwise_fits: dict   # op -> (t0_s, bytes_per_s)
    spec: gpudata.GpuSpec
    source: str
    data: pd.DataFrame    # the GEMM rows with their split

    def predict(self, M, N, K, kernel: str):
        """Predicted seconds of one GEMM (vectorised)."""
        kernel = resolve_kernel(kernel)
        if kernel not in self.fits:
            raise UnsupportedConfig(f"kernel must be one of the measured {', '.join(self.fits)}, "
                                    f"not {kernel!r}")
        return predict_fit(M, N, K, self.fits[kernel], self.sm_count)

    def datasheet(self, M, N, K, kernel: str):
        return datasheet_time(M, N, K, KERNELS[resolve_kernel(kernel)], self.spec)

    def ceilings(self) -> pd.DataFrame:
        """Per kernel: datasheet peak, measured peak (all shapes), fitted eta and bandwidth."""
        rows = []
        for k, f in self.fits.items():
            info = KERNELS[k]
            d = self.data[self.data["kernel"] == k]
            rows.append({"kernel": k, "dtype": info.dtype,
                         "datasheet_peak_tops": self.spec.peak(info.datasheet_dtype) / 1e12,
                         "measured_peak_tops": float((d["ops"] / d["time_s"]).max()) / 1e12,
                         "fraction_of_datasheet": float((d["ops"] / d["time_s"]).max())
                         / self.spec.peak(info.datasheet_dtype),
                         "fitted_eta": f.eta, "fitted_bw_tb_s": f.bw_bytes_per_s / 1e12,
                         "fitted_t0_us": f.t0_s * 1e6})
        return pd.DataFrame(rows)


def _fit_stream(df: pd.DataFrame | None, bytes_col: str = "bytes") -> tuple[float, float] | None:
    """(t0_s, bytes_per_s) of t = t0 + bytes / BW by least squares on the rows."""
    if df is None or len(df) < 2:
        return None
    x = df[bytes_col].to_numpy(float)
    t = df["time_s"].to_numpy(float)
    A = np.vstack([np.ones_like(x), x]).T
    # weight by 1/t so small and large rows count alike (relative error)
    w = 1.0 / t
    coef, *_ = np.linalg.lstsq(A * w[:, None], t * w, rcond=None)
    t0, inv_bw = max(coef[0], 0.0), coef[1]
    if not inv_bw > 0:
        raise DataError("memory-bound rows must take longer for more bytes; the fit found a "
                        "non-positive time per byte")
    return t0, 1.0 / inv_bw


def build_model(source: str | Path | None = None, gpu: str = "h100-sxm") -> GpuModel:
    """Fit the model on the fitting split of a measurement folder/CSV (default: the committed H100
    data). `source` may also be a datasheet GPU name, which selects the committed data."""
    path = gpudata.DEFAULT_MEASUREMENTS if source in (None, "", "h100-sxm", "h100") else Path(source)
    if not path.exists():
        raise UnsupportedConfig(f"--gpu must be h100-sxm or a measurement CSV/folder path, "
                                f"not {str(source)!r} (no such file)")
    return _build_model_cached(str(path.resolve()), gpu)


@lru_cache(maxsize=4)
def _build_model_cached(path: str, gpu: str) -> GpuModel:
    meas = gpudata.load_measurements(path)
    spec = gpudata.gpu_spec(gpu)
    sm = meas.sm_count or spec.sm_count
    df = add_split(meas.gemm)
    df["ops"] = 2.0 * df["M"] * df["N"] * df["K"]
    unknown = sorted(set(df["kernel"]) - set(KERNELS))
    if unknown:
        raise DataError(f"GPU measurement CSV {path!r}: kernel must be one of "
                        f"{', '.join(KERNELS)}, not {unknown[0]!r}")
    fits = _load_fit_cache(Path(path), df, sm)
    if fits is None:
        fits = fit_all(df, sm)
    copy_bw = float(meas.copy["bytes_per_s"].max()) if meas.copy is not None and \
        "bytes_per_s" in meas.copy else spec.memory_bytes_per_s
    qf, ef = {}, {}
    if meas.quant is not None and "bytes_per_s" in meas.quant:
        q = meas.quant.assign(bytes=meas.quant["bytes_per_s"] * meas.quant["time_s"])
        qf = {k: _fit_stream(g) for k, g in q.groupby("kernel")}
    if meas.elementwise is not None and "bytes_per_s" in meas.elementwise:
        e = meas.elementwise.assign(bytes=meas.elementwise["bytes_per_s"] * meas.elementwise["time_s"])
        ef = {k: _fit_stream(g) for k, g in e.groupby("kernel")}
    return GpuModel(fits, sm, copy_bw, qf, ef, spec, meas.source, df)


# Bump when the model or the fitting changes: a committed fit.json of another version is ignored.
FIT_VERSION = "2"
FIT_CACHE = "fit.json"


def fit_all(df: pd.DataFrame, sm_count: int, kernels=None) -> dict:
    """KernelFit per kernel, each fitted on its fitting-split rows only."""
    fits = {}
    for k in kernels or KERNELS:
        rows = df[(df["kernel"] == k) & (df["split"] == "fit")]
        if len(rows):
            fits[k] = fit_kernel(rows, k, sm_count)
    return fits


def _fit_key(df: pd.DataFrame, sm_count: int) -> str:
    cols = df[["kernel", "M", "N", "K", "time_s"]].to_csv(index=False, float_format="%.9g")
    return hashlib.sha256(f"{FIT_VERSION}|{sm_count}|{cols}".encode()).hexdigest()


def _load_fit_cache(path: Path, df: pd.DataFrame, sm_count: int) -> dict | None:
    """Fits stored beside the data (written by `hwdse roofline --refit`), when they were made
    from exactly these rows by this FIT_VERSION; None otherwise (then the caller fits)."""
    folder = path if path.is_dir() else path.parent
    f = folder / FIT_CACHE
    if not f.is_file():
        return None
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError:
        return None
    if doc.get("key") != _fit_key(df, sm_count):
        return None
    return {k: KernelFit(**v) for k, v in doc["fits"].items()}


def write_fit_cache(source: str | Path | None = None) -> Path:
    """Fit afresh and store the parameters beside the measurement data (fit.json)."""
    path = gpudata.DEFAULT_MEASUREMENTS if source in (None, "", "h100-sxm", "h100") else Path(source)
    meas = gpudata.load_measurements(path)
    sm = meas.sm_count or gpudata.gpu_spec().sm_count
    df = add_split(meas.gemm)
    fits = fit_all(df, sm)
    folder = path if path.is_dir() else path.parent
    doc = {"key": _fit_key(df, sm), "fit_version": FIT_VERSION,
           "note": "cache of hwmodel.roofline.fit_all on this folder's gemm.csv (fitting split); "
                   "regenerate with `hwdse roofline --refit`",
           "fits": {k: {kk: (float(vv) if isinstance(vv, (float, np.floating)) else vv)
                        for kk, vv in asdict(v).items()} for k, v in fits.items()}}
    (folder / FIT_CACHE).write_text(json.dumps(doc, indent=1))
    _build_model_cached.cache_clear()
    return folder / FIT_CACHE


def validate(model: GpuModel) -> pd.DataFrame:
    """Per kernel: median and p90 absolute relative error on the held-out shapes, ours and the
    datasheet roofline's."""
    rows = []
    for k in model.fits:
        d = model.data[(model.data["kernel"] == k) & (model.data["split"] == "holdout")]
        if d.empty:
            continue
        M, N, K = (d[c].to_numpy() for c in ("M", "N", "K"))
        t = d["time_s"].to_numpy(float)
        e_ours = np.abs(model.predict(M, N, K, k) - t) / t
        e_ds = np.abs(model.datasheet(M, N, K, k) - t) / t
        rows.append({"kernel": k, "dtype": KERNELS[k].dtype, "n_fit": model.fits[k].n_fit,
                     "n_holdout": len(d),
                     "median_err_pct": 100 * float(np.median(e_ours)),
                     "p90_err_pct": 100 * float(np.percentile(e_ours, 90)),
                     "datasheet_median_err_pct": 100 * float(np.median(e_ds)),
                     "datasheet_p90_err_pct": 100 * float(np.percentile(e_ds, 90))})
    return pd.DataFrame(rows)


def holdout_predictions(model: GpuModel) -> pd.DataFrame:
    """Held-out rows with predicted (ours, datasheet) and measured seconds."""
    d = model.data[model.data["split"] == "holdout"].copy()
    d["pred_s"] = np.nan
    d["datasheet_s"] = np.nan
    for k in model.fits:
        m = d["kernel"] == k
        args = (d.loc[m, "M"].to_numpy(), d.loc[m, "N"].to_numpy(), d.loc[m, "K"].to_numpy())
        d.loc[m, "pred_s"] = model.predict(*args, k)
        d.loc[m, "datasheet_s"] = model.datasheet(*args, k)
    return d[d["pred_s"].notna()]


def h100_ceilings() -> dict:
    """{dtype: (peak ops/s, memory bytes/s, source)} of the H100 from our measurement: the best
    measured GEMM throughput per dtype and the measured copy bandwidth (read + write)."""
    model = build_model()
    out = {}
    for dtype in ("bf16", "int8", "fp8_e4m3"):
        ks = [k for k in model.fits if KERNELS[k].dtype == dtype]
        d = model.data[model.data["kernel"].isin(ks)]
        out[dtype] = (float((d["ops"] / d["time_s"]).max()), model.copy_bytes_per_s,
                      f"{model.source}; best of {', '.join(ks)}; copy bandwidth measured")
    return out


# ----------------------------------------------------------------------------------------------
# Transformer blocks
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scheme:
    """A data flow of the linear layers: GEMM kernel, the quantise kernel before each linear
    layer (None for bf16), an unfused dequantise pass after it, and the activation width."""

    name: str
    kernel: str
    quant: str | None = None
    dequant_pass: bool = False      # int32 output dequantised in a separate pass
    bits: float = 16                # activation/weight bits in the GEMM (what-if: 4)
    throughput_multiple: float = 1  # what-if: compute ceiling multiple over `kernel`'s
    description: str = ""


SCHEMES: dict[str, Scheme] = {s.name: s for s in [
    Scheme("bf16", "cublas_bf16", description="cuBLAS BF16 GEMMs, no quantisation"),
    Scheme("fp8_e4m3", "cublas_fp8_e4m3", quant="quant_1x128", bits=8,
           description="cuBLASLt FP8 e4m3 GEMMs (per-tensor scales) after a quantise pass "
                       "(timed by our 1x128 quantise kernel, a proxy of the cast)"),
    Scheme("int8", "triton_int8", quant="quant_1x128", dequant_pass=True, bits=8,
           description="our Triton INT8 GEMMs (int32 out), quantise before, dequantise after"),
    Scheme("int8_blk128", "triton_int8_blk1x128", quant="quant_1x128", bits=8,
           description="per-block INT8 (1x128 activations, 128x128 weights), fused dequantisation"),
    Scheme("int8_blk32", "triton_int8_blk32", quant="quant_32x32", bits=8,
           description="Jetfire's per-block INT8 (32x32 blocks), fused dequantisation"),
]}


def whatif_scheme(name: str, multiple: float, base: str = "int8_blk128") -> Scheme:
    """A hypothetical 4-bit scheme (INT4 or FP4): base scheme's kernel efficiencies with the
    compute ceiling times `multiple` and 4-bit operands (half the bytes)."""
    if not (isinstance(multiple, (int, float)) and multiple > 0 and math.isfinite(multiple)):
        raise UnsupportedConfig(f"throughput multiple must be a positive number, not {multiple!r}")
    b = SCHEMES[base]
    return replace(b, name=name, bits=4, throughput_multiple=float(multiple),
                   description=f"hypothetical {name.upper()}: {base}'s fitted efficiencies, "
                               f"{multiple:g}x its compute ceiling, 4-bit operands")


def _scheme_gemm(model: GpuModel, scheme: Scheme, M, N, K):
    fit = model.fits[scheme.kernel]
    info = KERNELS[scheme.kernel]
    if scheme.throughput_multiple != 1 or scheme.bits != info.in_bytes * 8:
        if scheme.bits < 16:
            info = replace(info, in_bytes=scheme.bits / 8)
        fit = replace(fit, peak_ops_per_s=fit.peak_ops_per_s * scheme.throughput_multiple)
    return float(predict_fit(M, N, K, fit, model.sm_count, info))


def _stream(fits: dict, key: str, nbytes: float, fallback_bw: float) -> float:
    f = fits.get(key)
    if f is None:
        return nbytes / fallback_bw
    t0, bw = f
    return t0 + nbytes / bw


def block_time(model: GpuModel, model_name: str, tokens: int, context: int | None = None,
               phase: str = "prefill", scheme: str | Scheme = "bf16") -> dict:
    """Predicted seconds of one transformer block, by part: linear, quantise, attention core,
    memory-bound operators, total. prefill: `tokens` rows attending over `context` (default
    tokens); decode: `tokens` sequences of one new token each over a KV cache of `context`."""
    from hwmodel.workloads import get_model, nongemm_ops
    cfg = get_model(model_name)
    if not (isinstance(tokens, int) and tokens > 0):
        raise UnsupportedConfig(f"tokens must be a positive integer, not {tokens!r}")
    context = tokens if context is None else context
    if not (isinstance(context, int) and context > 0):
        raise UnsupportedConfig(f"context must be a positive integer, not {context!r}")
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise UnsupportedConfig(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        scheme = SCHEMES[scheme]
    bw = model.copy_bytes_per_s
    linear = quant = 0.0
    for _, n, k in cfg.linear_layers():
        linear += _scheme_gemm(model, scheme, tokens, n, k)
        if scheme.quant:
            # read bf16 activations, write low-bit codes and one float32 scale per block
            nbytes = tokens * k * (2 + scheme.bits / 8) + 4 * tokens * k / 128
            quant += _stream(model.quant_fits, scheme.quant, nbytes, bw)
        if scheme.dequant_pass:
            quant += _stream(model.elementwise_fits, "add", tokens * n * (4 + 2), bw)
    if phase == "prefill":
        # QK^T and PV over all heads as bf16 GEMMs (rows = heads x tokens)
        h, dh = cfg.heads, cfg.head_dim
        attn = float(model.predict(h * tokens, context, dh, "cublas_bf16")) + \
            float(model.predict(h * tokens, dh, context, "cublas_bf16"))
    elif phase == "decode":
        attn = 0.0   # the KV-cache read is one of the memory-bound operators below
    else:
        raise UnsupportedConfig(f"phase must be 'prefill' or 'decode', not {phase!r}")
    mem = 0.0
    op_fit = {"layernorm_1": "layer_norm", "layernorm_2": "layer_norm", "gelu": "gelu",
              "softmax": "softmax"}
    for op in nongemm_ops(cfg, tokens, context, 2, phase):
        mem += _stream(model.elementwise_fits, op_fit.get(op.name, "add"), op.bytes, bw)
    return {"model": model_name, "phase": phase, "tokens": tokens, "context": context,
            "scheme": scheme.name, "linear_s": linear, "quant_s": quant, "attention_s": attn,
            "memory_ops_s": mem, "total_s": linear + quant + attn + mem}


def block_speedups(model: GpuModel, schemes=("fp8_e4m3", "int8", "int8_blk128", "int8_blk32"),
                   whatif_multiple: float = 2.0,
                   cases=(("gpt2-xl", 2048, "prefill"), ("llama-2-7b", 2048, "prefill"),
                          ("llama-2-7b", 16, "decode"), ("bert-large", 512, "prefill"))) -> pd.DataFrame:
    """Block speedup over bf16 of each scheme (and hypothetical INT4/FP4) per case."""
    all_schemes = [SCHEMES[s] for s in schemes] + [whatif_scheme("int4", whatif_multiple),
                                                    whatif_scheme("fp4", whatif_multiple)]
    rows = []
    for name, tokens, phase in cases:
        ctx = tokens if phase == "prefill" else 2048
        base = block_time(model, name, tokens, ctx, phase, "bf16")["total_s"]
        row = {"model": name, "phase": phase, "tokens": tokens, "context": ctx,
               "bf16_block_us": base * 1e6}
        for s in all_schemes:
            row[f"{s.name} speedup"] = base / block_time(model, name, tokens, ctx, phase, s)["total_s"]
        rows.append(row)
    return pd.DataFrame(rows)


def int4_gemm_whatif(model: GpuModel, multiple: float = 2.0,
                     shapes=((12288, 4096, 1024), (12288, 1024, 1024))) -> pd.DataFrame:
    """Predicted INT4-over-INT8 GEMM speedup on a hypothetical H100 whose INT4 ceiling is
    `multiple` x INT8 (per-block-scaled kernels), at Wu et al.'s shapes."""
    s8 = SCHEMES["int8_blk128"]
    s4 = whatif_scheme("int4", multiple)
    rows = []
    for M, N, K in shapes:
        t8 = _scheme_gemm(model, s8, M, N, K)
        t4 = _scheme_gemm(model, s4, M, N, K)
        rows.append({"M": M, "N": N, "K": K, "int8_us": t8 * 1e6, "int4_us": t4 * 1e6,
                     "int4_over_int8": t8 / t4})
    return pd.DataFrame(rows)
