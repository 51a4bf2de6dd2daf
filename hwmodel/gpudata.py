"""Loaders of GPU data: datasheet peaks, published anchors and our measurements (CSV + metadata).

Every loader checks its file and raises DataError with a one-line message naming the file, the
problem and what is expected: a missing file, missing columns, a column in foreign units (times
must be seconds: `time_s`; a `time_ms` or `tflops` column is refused rather than guessed), a row
without a source, non-positive shapes or times.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_MEASUREMENTS = DATA_DIR / "gpu"
DATASHEET_CSV = DATA_DIR / "gpu_datasheet.csv"
ANCHORS_CSV = DATA_DIR / "gpu_anchors.csv"

MEASUREMENT_COLUMNS = ("dtype", "kernel", "M", "N", "K", "time_s")
DATASHEET_COLUMNS = ("gpu", "quantity", "dtype", "value", "unit", "source")
DATASHEET_UNITS = {"peak_ops_per_s": "ops/s", "memory_bytes_per_s": "bytes/s", "sm_count": "count",
                   "l2_bytes": "bytes"}
ANCHOR_COLUMNS = ("anchor", "gpu", "comparison", "shape", "speedup", "scope", "source")
# Column names that carry a unit other than ours: refused, never converted silently.
_FOREIGN = ("time_ms", "time_us", "time_ns", "ms", "us", "tflops", "tops", "gflops", "gbps",
            "bandwidth_gb_s", "time")


@dataclass(frozen=True)
class GpuSpec:
    """Datasheet figures of one GPU (dense tensor-core peaks)."""

    name: str
    peak_ops_per_s: dict = field(default_factory=dict)   # dtype -> ops/s
    memory_bytes_per_s: float = float("nan")
    sm_count: int = 0
    l2_bytes: float = float("nan")
    sources: dict = field(default_factory=dict)           # quantity[:dtype] -> source text

    def peak(self, dtype: str) -> float:
        try:
            return self.peak_ops_per_s[dtype]
        except KeyError:
            raise UnsupportedConfig(
                f"dtype must be one of {sorted(self.peak_ops_per_s)} for {self.name}'s datasheet, "
                f"not {dtype!r}") from None


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} file must exist, not {str(path)!r} (missing)")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{what} file {str(path)!r} must be a CSV table: {exc}") from None


def _need_columns(df: pd.DataFrame, required, path, what: str):
    foreign = [c for c in df.columns if str(c).strip().lower() in _FOREIGN]
    if foreign:
        raise DataError(f"{what} {str(path)!r}: column {foreign[0]!r} is in foreign units; "
                        f"write times in seconds as `time_s` (columns needed: {', '.join(required)})")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{what} {str(path)!r} must have columns {', '.join(required)}; "
                        f"missing {', '.join(missing)}")


def load_datasheet(path: Path = DATASHEET_CSV) -> pd.DataFrame:
    """The datasheet table, checked: known quantities in their units, a source on every row."""
    df = _read_csv(path, "GPU datasheet")
    _need_columns(df, DATASHEET_COLUMNS, path, "GPU datasheet")
    for i, r in df.iterrows():
        q = r["quantity"]
        if q not in DATASHEET_UNITS:
            raise DataError(f"GPU datasheet {str(path)!r} row {i + 2}: quantity must be one of "
                            f"{sorted(DATASHEET_UNITS)}, not {q!r}")
        if r["unit"] != DATASHEET_UNITS[q]:
            raise DataError(f"GPU datasheet {str(path)!r} row {i + 2}: {q} must be in "
                            f"{DATASHEET_UNITS[q]!r}, not {r['unit']!r} (foreign units)")
        if not isinstance(r["source"], str) or not r["source"].strip():
            raise DataError(f"GPU datasheet {str(path)!r} row {i + 2} must name its source")
        if not (isinstance(r["value"], (int, float)) and r["value"] > 0):
            raise DataError(f"GPU datasheet {str(path)!r} row {i + 2}: value must be positive, "
                            f"not {r['value']!r}")
    return df


def gpu_spec(gpu: str = "h100-sxm", path: Path = DATASHEET_CSV) -> GpuSpec:
    """Datasheet figures of `gpu` (names as in gpu_datasheet.csv's `gpu` column)."""
    df = load_datasheet(path)
    rows = df[df["gpu"] == gpu]
    if rows.empty:
        raise UnsupportedConfig(f"gpu must be one of {sorted(df['gpu'].unique())} or a measurement "
                                f"CSV path, not {gpu!r}")
    peaks, sources = {}, {}
    mem, sms, l2 = float("nan"), 0, float("nan")
    for _, r in rows.iterrows():
        q = r["quantity"]
        if q == "peak_ops_per_s":
            peaks[r["dtype"]] = float(r["value"])
            sources[f"peak:{r['dtype']}"] = r["source"]
        elif q == "memory_bytes_per_s":
            mem = float(r["value"])
            sources["memory"] = r["source"]
        elif q == "sm_count":
            sms = int(r["value"])
            sources["sm_count"] = r["source"]
        elif q == "l2_bytes":
            l2 = float(r["value"])
    return GpuSpec(gpu, peaks, mem, sms, l2, sources)


def load_anchors(path: Path = ANCHORS_CSV) -> pd.DataFrame:
    """Published speedups (Jetfire, Wu et al.), each with its source; labelled, never fitted to."""
    df = _read_csv(path, "GPU anchors")
    _need_columns(df, ANCHOR_COLUMNS, path, "GPU anchors")
    bad = df[df["source"].isna() | (df["source"].astype(str).str.strip() == "")]
    if not bad.empty:
        raise DataError(f"GPU anchors {str(path)!r} row {bad.index[0] + 2} must name its source")
    return df


def check_measurements(df: pd.DataFrame, path, what: str = "GPU measurement CSV") -> pd.DataFrame:
    """Rows with positive integer shapes and positive finite times; failed checks dropped."""
    _need_columns(df, MEASUREMENT_COLUMNS, path, what)
    for col in ("M", "N", "K"):
        v = pd.to_numeric(df[col], errors="coerce")
        if v.isna().any() or (v <= 0).any() or (v != v.round()).any():
            i = int((v.isna() | (v <= 0) | (v != v.round())).to_numpy().nonzero()[0][0])
            raise DataError(f"{what} {str(path)!r} row {i + 2}: {col} must be a positive integer, "
                            f"not {df[col].iloc[i]!r}")
        df[col] = v.astype("int64")
    if "check" in df.columns:
        df = df[df["check"].astype(str) == "ok"].copy()
    t = pd.to_numeric(df["time_s"], errors="coerce")
    bad = ~(t > 0) | ~t.apply(lambda x: math.isfinite(x) if x == x else False)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(f"{what} {str(path)!r} row {i + 2}: time_s must be a positive number of "
                        f"seconds, not {df['time_s'].iloc[i]!r}")
    df["time_s"] = t.astype(float)
    if df.empty:
        raise DataError(f"{what} {str(path)!r} has no rows that passed their check")
    return df.reset_index(drop=True)


@dataclass
class Measurements:
    """Our measurements of one GPU: GEMMs, copy, quantise and elementwise rows, and metadata."""

    gemm: pd.DataFrame
    copy: pd.DataFrame | None
    quant: pd.DataFrame | None
    elementwise: pd.DataFrame | None
    meta: dict
    source: str

    @property
    def sm_count(self) -> int:
        gpu = self.meta.get("gpu", self.meta)
        return int(gpu.get("sm_count") or 0)

    @property
    def gpu_name(self) -> str:
        gpu = self.meta.get("gpu", self.meta)
        return str(gpu.get("gpu_name", "unknown GPU"))


def load_measurements(path: Path | str = DEFAULT_MEASUREMENTS) -> Measurements:
    """A folder with gemm.csv (and optionally copy/quant/elementwise.csv, metadata.json), or one
    GEMM CSV whose folder may hold the others."""
    path = Path(path)
    if path.is_dir():
        folder, gemm_path = path, path / "gemm.csv"
    else:
        folder, gemm_path = path.parent, path
    gemm = check_measurements(_read_csv(gemm_path, "GPU measurement CSV"), gemm_path)
    if "kernel" in gemm.columns:
        gemm = gemm[gemm["kernel"] != "torch_copy"].reset_index(drop=True)
    extra = {}
    for part in ("copy", "quant", "elementwise"):
        p = folder / f"{part}.csv"
        extra[part] = check_measurements(_read_csv(p, f"GPU {part} CSV"), p, f"GPU {part} CSV") \
            if p.is_file() and p != gemm_path else None
    meta = {}
    mp = folder / "metadata.json"
    if mp.is_file():
        try:
            meta = json.loads(mp.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"GPU metadata {str(mp)!r} must be JSON: {exc}") from None
    name = (meta.get("gpu", meta) or {}).get("gpu_name", "unknown GPU")
    return Measurements(gemm, extra["copy"], extra["quant"], extra["elementwise"], meta,
                        f"our measurement ({name}, {gemm_path.name})")
