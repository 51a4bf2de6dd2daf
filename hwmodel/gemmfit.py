"""The shape-aware GEMM time model of one kernel, its fit, and the fitting/held-out split.

    t = t0 + (t_c^p + t_m^p)^(1/p) + w_epi * out_bytes MN / BW
    t_c = min over tiles (TM, TN) and split-K S of
          waves * 2 TM TN (ceil(K/S) + k0) / (eta * P / SMs * (TM TN / (128*256))^alpha)
          with waves = ceil(ceil(M/TM) ceil(N/TN) S / SMs)        (tile and wave quantisation)
    t_m = bytes / min(BW, CTAs * bw_sm),  bytes = in_bytes (MK + NK) + out_bytes MN (+ scales)

P is the kernel's measured ceiling (its best ops/s on the fitting shapes); eta, BW, bw_sm, t0,
alpha, p and k0 are fitted (Nelder-Mead on mean |log(pred/measured)|, deterministic starts). The
fit keeps them physical: eta < 1 (no tile runs faster than the best measured rate), BW at most the
GPU's measured copy bandwidth, bw_sm (one CTA's draw) at most BW. `p` blends the compute and
memory terms (p -> inf is the plain max); w_epi (0..1) is the fraction of the output write that
does not overlap the main loop (it matters for small-K, large-MN shapes); `alpha` charges small
tiles for their lower operand reuse; k0 is a tile's fixed cost (prologue, epilogue) in units of K; t0 is launch overhead. Our
Triton kernels' tiles are their real candidates (by M range, no split-K); cuBLAS's a generic set
with split-K 1/2/4.

The split into fitting and held-out shapes is by a stable hash of "MxNxK" (`shape_split`),
decided before any fitting, and the same for every kernel.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig
from hwmodel.gpukernels import KERNELS, KernelInfo, gemm_bytes
from hwmodel.optimise import nelder_mead

HELD_OUT_FRACTION = 0.3


def shape_split(M: int, N: int, K: int, held_out_fraction: float = HELD_OUT_FRACTION) -> str:
    """'fit' or 'holdout' from a stable hash (CRC-32) of 'MxNxK': the same on every machine."""
    h = zlib.crc32(f"{int(M)}x{int(N)}x{int(K)}".encode()) / 2**32
    return "holdout" if h < held_out_fraction else "fit"


def add_split(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["split"] = [shape_split(m, n, k) for m, n, k in zip(df["M"], df["N"], df["K"])]
    return df


TILES = ((64, 64), (64, 128), (128, 64), (128, 128), (128, 256), (256, 128), (64, 256),
         (256, 64))
SPLIT_K = (1, 2, 4)
K_STEP = 64           # K is processed in steps of 64 (a partial step costs a whole one)
_REF_TILE = 128 * 256
MAX_ETA = 0.999       # efficiencies stay below 1


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
    w_epi: float = 0.0        # fraction of the output write not overlapped with the main loop


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


def kernel_time(M, N, K, fit: KernelFit, sm_count: int, info: KernelInfo):
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
    if fit.w_epi:
        out = out + fit.w_epi * info.out_bytes * M * N / fit.bw_bytes_per_s
    return out


def predict_fit(M, N, K, fit: KernelFit, sm_count: int, info: KernelInfo | None = None):
    info = info or KERNELS[fit.kernel]
    return fit.t0_s + kernel_time(M, N, K, fit, sm_count, info)


def datasheet_time(M, N, K, info: KernelInfo, spec):
    """max(ops / datasheet peak, bytes / datasheet bandwidth); NaN without a datasheet entry
    (spec None, or no peak for the kernel's dtype)."""
    ops = 2.0 * np.asarray(M, float) * np.asarray(N, float) * np.asarray(K, float)
    peak = getattr(spec, "peak_ops_per_s", {}).get(info.datasheet_dtype) if spec else None
    if not peak:
        return np.full(np.shape(ops), np.nan) if np.ndim(ops) else float("nan")
    return np.maximum(ops / peak, gemm_bytes(M, N, K, info) / spec.memory_bytes_per_s)


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def _logit(y):
    return math.log(y / (1.0 - y))


MIN_FIT_ROWS = 5


def fit_kernel(rows: pd.DataFrame, kernel: str, sm_count: int,
               copy_bw: float | None = None) -> KernelFit:
    """Fit one kernel's parameters on `rows` (its fitting-split rows). copy_bw: the GPU's
    measured copy bandwidth, the fitted bandwidth's upper bound (none: unbounded)."""
    if kernel not in KERNELS:
        raise UnsupportedConfig(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
    if len(rows) < MIN_FIT_ROWS:
        raise DataError(f"fitting {kernel} needs at least {MIN_FIT_ROWS} measured shapes in the "
                        f"fitting split, not {len(rows)}; measure the whole grid into one folder: "
                        f"`hwdse gpu-bench --out DIR`")
    if sm_count <= 0:
        raise DataError(f"the measurement metadata must give a positive sm_count, not {sm_count!r}")
    info = KERNELS[kernel]
    M, N, K = (rows[c].to_numpy(float) for c in ("M", "N", "K"))
    t = rows["time_s"].to_numpy(float)
    peak = float(np.max(2.0 * M * N * K / t))
    logt = np.log(t)
    bw_cap = float(copy_bw) if copy_bw and math.isfinite(copy_bw) else None

    def unpack(x):
        bw = bw_cap * _sigmoid(x[1]) if bw_cap else math.exp(x[1])
        return KernelFit(kernel, peak, eta=MAX_ETA * _sigmoid(x[0]),
                         bw_bytes_per_s=bw, t0_s=math.exp(x[2]),
                         alpha=x[3], p=1.0 + math.exp(x[4]), k0=math.exp(x[5]),
                         bw_sm=bw * _sigmoid(x[6]), n_fit=len(rows), w_epi=_sigmoid(x[7]))

    def loss(x):
        pred = predict_fit(M, N, K, unpack(x), sm_count, info)
        return float(np.mean(np.abs(np.log(pred) - logt)))

    bw0 = _logit(0.8) if bw_cap else math.log(2.5e12)
    best = None
    # four deterministic starts (compute-heavy, memory-heavy, additive blend; output write
    # overlapped or partly not), each polished; the lowest loss on the fitting rows wins
    for eta0, bws0, alpha0, p0, we0 in ((0.8, 0.02, 0.3, 2.0, 1e-3), (0.95, 0.1, 0.3, 2.0, 1e-3),
                                        (0.9, 0.05, 0.6, 0.3, 1e-3), (0.8, 0.02, 0.3, 2.0, 0.2)):
        x0 = [_logit(eta0), bw0, math.log(5e-6), alpha0, math.log(p0), math.log(64.0),
              _logit(bws0), _logit(we0)]
        x, _ = nelder_mead(loss, x0, steps=[0.5, 0.5, 0.5, 0.2, 0.5, 1.0, 1.0, 1.0], iters=2000)
        x, v = nelder_mead(loss, x, steps=[0.1, 0.1, 0.1, 0.05, 0.2, 0.3, 0.3, 0.3], iters=2000)
        if best is None or v < best[1]:
            best = (x, v)
    return unpack(best[0])


# Bump when the model or the fitting changes: a committed fit.json of another version is ignored.
FIT_VERSION = "4"
FIT_CACHE = "fit.json"


def fit_all(df: pd.DataFrame, sm_count: int, kernels=None, copy_bw: float | None = None) -> dict:
    """KernelFit per kernel, each fitted on its fitting-split rows only."""
    fits = {}
    for k in kernels or KERNELS:
        rows = df[(df["kernel"] == k) & (df["split"] == "fit")]
        if len(rows):
            fits[k] = fit_kernel(rows, k, sm_count, copy_bw)
    return fits


def fit_key(df: pd.DataFrame, sm_count: int, copy_bw: float | None) -> str:
    cols = df[["kernel", "M", "N", "K", "time_s"]].to_csv(index=False, float_format="%.9g")
    return hashlib.sha256(f"{FIT_VERSION}|{sm_count}|{copy_bw:.6g}|{cols}".encode()).hexdigest()


def load_fit_cache(folder: Path, key: str) -> dict | None:
    """Fits stored beside the data (written by `hwdse roofline --refit`), when they were made
    from exactly these rows by this FIT_VERSION; None otherwise (then the caller fits)."""
    f = Path(folder) / FIT_CACHE
    if not f.is_file():
        return None
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError:
        return None
    if doc.get("key") != key:
        return None
    return {k: KernelFit(**v) for k, v in doc["fits"].items()}


def write_fit_cache(folder: Path, key: str, fits: dict) -> Path:
    doc = {"key": key, "fit_version": FIT_VERSION,
           "note": "cache of hwmodel.gemmfit.fit_all on this folder's gemm.csv (fitting split); "
                   "regenerate with `hwdse roofline --gpu DIR --refit`",
           "fits": {k: {kk: (float(vv) if isinstance(vv, (float, np.floating)) else vv)
                        for kk, vv in asdict(v).items()} for k, v in fits.items()}}
    path = Path(folder) / FIT_CACHE
    path.write_text(json.dumps(doc, indent=1))
    return path
