"""The fitted model of one measured GPU: GEMM fits per kernel, memory-bound fits, ceilings,
validation (held-out grid shapes and random shapes never measured for fitting), batch prediction.

A measurement folder (made by `hwdse gpu-bench --out DIR`) is read by hwmodel.gpudata; the
datasheet entry is chosen from the measured device's name (hwmodel.gpudata.spec_for_device), so
no figure of another GPU is ever shown beside a measurement. Pure numpy/pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import gpudata
from hwmodel.errors import DataError, UnsupportedConfig
from hwmodel.gemmfit import (MAX_ETA, add_split, datasheet_time, fit_all, fit_key, load_fit_cache,
                             predict_fit, write_fit_cache)
from hwmodel.gpukernels import KERNELS, resolve_kernel


@dataclass
class GpuModel:
    """Fitted kernels, memory-bound operator fits and ceilings of one measured GPU."""

    fits: dict            # kernel -> KernelFit
    sm_count: int
    copy_bytes_per_s: float          # measured memory ceiling (device-to-device copy)
    quant_fits: dict      # quant kernel -> (t0_s, bytes_per_s)
    elementwise_fits: dict   # op -> (t0_s, bytes_per_s)
    spec: gpudata.GpuSpec | None     # the measured device's datasheet entry (None: no entry)
    source: str
    data: pd.DataFrame    # the GEMM rows with their split
    device: str = "unknown GPU"
    random: pd.DataFrame | None = None   # random validation rows (never fitted), if measured
    folder: str = ""

    def predict(self, M, N, K, kernel: str):
        """Predicted seconds of one GEMM (vectorised)."""
        kernel = resolve_kernel(kernel)
        if kernel not in self.fits:
            raise UnsupportedConfig(f"kernel must be one measured on the {self.device} "
                                    f"({', '.join(self.fits)}), not {kernel!r}")
        return predict_fit(M, N, K, self.fits[kernel], self.sm_count)

    def datasheet(self, M, N, K, kernel: str):
        return datasheet_time(M, N, K, KERNELS[resolve_kernel(kernel)], self.spec)

    def datasheet_peak(self, kernel: str) -> float:
        if self.spec is None:
            return float("nan")
        return self.spec.peak_ops_per_s.get(KERNELS[kernel].datasheet_dtype, float("nan"))

    @property
    def datasheet_label(self) -> str:
        return self.spec.name if self.spec else f"no datasheet entry for {self.device}"

    def ceilings(self) -> pd.DataFrame:
        """Per kernel: datasheet peak, measured peak (all shapes), fitted eta and bandwidth; a
        measured peak above the datasheet's is flagged (`above_datasheet`)."""
        rows = []
        for k, f in self.fits.items():
            info = KERNELS[k]
            d = self.data[self.data["kernel"] == k]
            meas = float((d["ops"] / d["time_s"]).max())
            peak = self.datasheet_peak(k)
            rows.append({"kernel": k, "dtype": info.dtype,
                         "datasheet_peak_tops": peak / 1e12,
                         "measured_peak_tops": meas / 1e12,
                         "fraction_of_datasheet": meas / peak,
                         "above_datasheet": bool(meas > peak),
                         "fitted_eta": f.eta, "fitted_bw_tb_s": f.bw_bytes_per_s / 1e12,
                         "fitted_t0_us": f.t0_s * 1e6})
        return pd.DataFrame(rows)

    def memory_line(self) -> str:
        """One line comparing the measured copy bandwidth with the datasheet's (flagged if above)."""
        meas = self.copy_bytes_per_s / 1e12
        if self.spec is None or not np.isfinite(self.spec.memory_bytes_per_s):
            return (f"memory: measured copy (read + write) {meas:.2f} TB/s on the {self.device}; "
                    f"no datasheet entry for this device in hwmodel/data/gpu_datasheet.csv")
        ds = self.spec.memory_bytes_per_s / 1e12
        flag = (" -- ABOVE the datasheet: check the device name and its datasheet row"
                if meas > ds else "")
        return (f"memory: {self.device} datasheet ({self.spec.name}) {ds:.2f} TB/s, measured copy "
                f"(read + write) {meas:.2f} TB/s{flag}")


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


def build_model(source: str | Path | None = None) -> GpuModel:
    """Fit the model on the fitting split of a measurement folder/CSV. `source`: None (the
    committed H100 data), a committed GPU's name (h100-sxm, h200) or a path."""
    path = gpudata.measurement_path(source)
    return _build_model_cached(str(path.resolve()))


@lru_cache(maxsize=8)
def _build_model_cached(path: str) -> GpuModel:
    meas = gpudata.load_measurements(path)
    spec = gpudata.spec_for_device(meas.gpu_name)
    sm = meas.sm_count or (spec.sm_count if spec else 0)
    df = add_split(meas.gemm)
    df["ops"] = 2.0 * df["M"] * df["N"] * df["K"]
    unknown = sorted(set(df["kernel"]) - set(KERNELS))
    if unknown:
        raise DataError(f"GPU measurement CSV {path!r}: kernel must be one of "
                        f"{', '.join(KERNELS)}, not {unknown[0]!r}")
    copy_bw = float(meas.copy["bytes_per_s"].max()) if meas.copy is not None and \
        "bytes_per_s" in meas.copy else (spec.memory_bytes_per_s if spec else float("nan"))
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    key = fit_key(df, sm, copy_bw)
    fits = load_fit_cache(folder, key)
    if fits is None:
        fits = fit_all(df, sm, copy_bw=copy_bw)
    qf, ef = {}, {}
    if meas.quant is not None and "bytes_per_s" in meas.quant:
        q = meas.quant.assign(bytes=meas.quant["bytes_per_s"] * meas.quant["time_s"])
        qf = {k: _fit_stream(g) for k, g in q.groupby("kernel")}
    if meas.elementwise is not None and "bytes_per_s" in meas.elementwise:
        e = meas.elementwise.assign(bytes=meas.elementwise["bytes_per_s"] * meas.elementwise["time_s"])
        ef = {k: _fit_stream(g) for k, g in e.groupby("kernel")}
    return GpuModel(fits, sm, copy_bw, qf, ef, spec, meas.source, df, meas.gpu_name,
                    meas.random, str(folder))


def refit(source: str | Path | None = None) -> Path:
    """Fit afresh and store the parameters beside the measurement data (fit.json)."""
    path = gpudata.measurement_path(source)
    model = build_model(path)
    folder = Path(model.folder)
    fits = fit_all(model.data, model.sm_count, copy_bw=model.copy_bytes_per_s)
    out = write_fit_cache(folder, fit_key(model.data, model.sm_count, model.copy_bytes_per_s), fits)
    _build_model_cached.cache_clear()
    return out


def _errors(model: GpuModel, d: pd.DataFrame, k: str):
    M, N, K = (d[c].to_numpy() for c in ("M", "N", "K"))
    t = d["time_s"].to_numpy(float)
    return (np.abs(model.predict(M, N, K, k) - t) / t, np.abs(model.datasheet(M, N, K, k) - t) / t)


def _pct(e, q):
    return 100 * float(np.percentile(e, q)) if len(e) else float("nan")


def validate(model: GpuModel) -> pd.DataFrame:
    """Per kernel: median and p90 absolute relative error on the held-out grid shapes (split by
    hash), on the random shapes (random.csv: never measured for fitting; NaN where not measured),
    and the datasheet roofline's on the held-out shapes."""
    rows = []
    for k in model.fits:
        d = model.data[(model.data["kernel"] == k) & (model.data["split"] == "holdout")]
        if d.empty:
            continue
        e_ours, e_ds = _errors(model, d, k)
        r = model.random[model.random["kernel"] == k] if model.random is not None else d.iloc[:0]
        e_r = _errors(model, r, k)[0] if len(r) else np.array([])
        rows.append({"kernel": k, "dtype": KERNELS[k].dtype, "n_fit": model.fits[k].n_fit,
                     "n_holdout": len(d),
                     "median_err_pct": _pct(e_ours, 50), "p90_err_pct": _pct(e_ours, 90),
                     "n_random": len(r),
                     "random_median_err_pct": _pct(e_r, 50), "random_p90_err_pct": _pct(e_r, 90),
                     "datasheet_median_err_pct": _pct(e_ds, 50),
                     "datasheet_p90_err_pct": _pct(e_ds, 90)})
    return pd.DataFrame(rows)


def holdout_predictions(model: GpuModel, which: str = "holdout") -> pd.DataFrame:
    """Held-out grid rows (which='holdout') or random rows (which='random') with predicted
    (ours, datasheet) and measured seconds."""
    if which == "random":
        d = model.random.copy() if model.random is not None else model.data.iloc[:0].copy()
    else:
        d = model.data[model.data["split"] == "holdout"].copy()
    d["pred_s"] = np.nan
    d["datasheet_s"] = np.nan
    for k in model.fits:
        m = d["kernel"] == k
        if not m.any():
            continue
        args = (d.loc[m, "M"].to_numpy(), d.loc[m, "N"].to_numpy(), d.loc[m, "K"].to_numpy())
        d.loc[m, "pred_s"] = model.predict(*args, k)
        d.loc[m, "datasheet_s"] = model.datasheet(*args, k)
    return d[d["pred_s"].notna()]


def fitted_parameters_physical(model: GpuModel) -> pd.DataFrame:
    """Per kernel: the fitted efficiency and bandwidths against their bounds (eta < 1, BW at most
    the measured copy bandwidth, one CTA's bandwidth at most BW)."""
    return pd.DataFrame([{"kernel": k, "eta": f.eta, "eta_below_1": f.eta < 1.0,
                          "bw_tb_s": f.bw_bytes_per_s / 1e12,
                          "bw_at_most_copy": f.bw_bytes_per_s <= model.copy_bytes_per_s * (1 + 1e-9),
                          "bw_cta_tb_s": f.bw_sm / 1e12,
                          "bw_cta_at_most_bw": f.bw_sm <= f.bw_bytes_per_s * (1 + 1e-9)}
                         for k, f in model.fits.items()])


BATCH_COLUMNS = ("M", "N", "K", "kernel")


def read_shapes_csv(path) -> pd.DataFrame:
    """Rows M,N,K,kernel of a shapes CSV, checked: positive integer shapes, known kernels
    (an ambiguous dtype such as int8 is refused with the kernels to choose from)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--shapes-csv {str(path)!r} does not exist; give a CSV with columns "
                        f"{','.join(BATCH_COLUMNS)}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"--shapes-csv {str(path)!r} must be a CSV with columns "
                        f"{','.join(BATCH_COLUMNS)}: {str(exc).splitlines()[0]}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in BATCH_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"--shapes-csv {str(path)!r} must have columns {','.join(BATCH_COLUMNS)}; "
                        f"missing {', '.join(missing)}")
    if df.empty:
        raise DataError(f"--shapes-csv {str(path)!r} has no rows")
    out = []
    for i, r in enumerate(df.to_dict("records")):
        line = i + 2
        vals = []
        for c in ("M", "N", "K"):
            v = str(r[c]).strip()
            if not v.isdigit() or int(v) <= 0:
                raise DataError(f"--shapes-csv {str(path)!r} line {line}: {c} must be a positive "
                                f"integer, not {r[c]!r}")
            vals.append(int(v))
        try:
            kernel = resolve_kernel(str(r["kernel"]).strip())
        except UnsupportedConfig as exc:
            raise DataError(f"--shapes-csv {str(path)!r} line {line}: {exc}") from None
        out.append((*vals, kernel))
    return pd.DataFrame(out, columns=list(BATCH_COLUMNS))


def predict_batch(model: GpuModel, shapes: pd.DataFrame) -> pd.DataFrame:
    """One prediction per input row, in input order: predicted_time_us (ours) and
    datasheet_time_us (NaN without a datasheet entry)."""
    missing = sorted(set(shapes["kernel"]) - set(model.fits))
    if missing:
        raise UnsupportedConfig(f"kernel {missing[0]!r} was not measured on the {model.device}; "
                                f"measured: {', '.join(model.fits)}")
    pred = np.empty(len(shapes))
    ds = np.empty(len(shapes))
    for k, idx in shapes.groupby("kernel").groups.items():
        d = shapes.loc[idx]
        args = (d["M"].to_numpy(), d["N"].to_numpy(), d["K"].to_numpy())
        pos = shapes.index.get_indexer(idx)
        pred[pos] = model.predict(*args, k)
        ds[pos] = model.datasheet(*args, k)
    out = shapes.copy()
    out["predicted_time_us"] = pred * 1e6
    out["datasheet_time_us"] = ds * 1e6
    return out


def h100_ceilings() -> dict:
    """{dtype: (peak ops/s, memory bytes/s, source)} of the H100 from our measurement: the best
    measured GEMM throughput per dtype and the measured copy bandwidth (read + write)."""
    return measured_ceilings("h100-sxm")


def measured_ceilings(gpu: str = "h100-sxm") -> dict:
    """As h100_ceilings, for any committed GPU or measurement folder."""
    model = build_model(gpu)
    out = {}
    for dtype in ("bf16", "int8", "fp8_e4m3"):
        ks = [k for k in model.fits if KERNELS[k].dtype == dtype]
        d = model.data[model.data["kernel"].isin(ks)]
        out[dtype] = (float((d["ops"] / d["time_s"]).max()), model.copy_bytes_per_s,
                      f"{model.source}; best of {', '.join(ks)}; copy bandwidth measured")
    return out


__all__ = ["GpuModel", "build_model", "refit", "validate", "holdout_predictions",
           "fitted_parameters_physical", "read_shapes_csv", "predict_batch", "h100_ceilings",
           "measured_ceilings", "MAX_ETA"]
