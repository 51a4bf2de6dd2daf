"""Loaders of GPU data: datasheet peaks, published anchors and our measurements (CSV + metadata).

Every loader checks its file and raises DataError with a one-line message naming the file, the
problem and what is expected: a missing file, missing columns, a column in foreign units (times
must be seconds: `time_s`; a `time_ms` or `tflops` column is refused rather than guessed), a row
without a source, non-positive shapes or times.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

DATA_DIR = Path(__file__).parent / "data"
# Our committed measurements, one folder per GPU (each made by `hwdse gpu-bench --out DIR`).
COMMITTED = {"h100-sxm": DATA_DIR / "gpu" / "h100", "h200": DATA_DIR / "gpu" / "h200"}
COMMITTED_ALIASES = {"h100": "h100-sxm", "h100-sxm": "h100-sxm", "h200": "h200"}
DEFAULT_MEASUREMENTS = COMMITTED["h100-sxm"]
# CSVs a measurement folder must hold (random.csv, the validation shapes, is optional).
FOLDER_PARTS = ("gemm", "copy", "quant", "elementwise")
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


# The device name torch/nvidia-smi reports -> the datasheet entry (first match wins). Variants with
# other clocks or memory (H100 NVL, H200 NVL, A100 PCIe/40GB, ...) have no entry: no match.
DEVICE_PATTERNS = (
    (r"\bH100\b.*\bPCIe\b", "h100-pcie"),
    (r"\bH100\b(?!.*\b(NVL|PCIe)\b)", "h100-sxm"),
    (r"\bH200\b(?!.*\bNVL\b)", "h200"),
    (r"\bA100[- ]SXM4?-80GB\b|\bA100 80GB (HBM2e|SXM)", "a100-sxm"),
    (r"\bL40S\b", "l40s"),
    (r"\bB200\b", "b200"),
    (r"\bMI300X\b", "mi300x"),
    (r"\bRTX 4090\b", "rtx-4090"),
    (r"\bRTX A6000\b", "rtx-a6000"),
)


def datasheet_name(device: str) -> str | None:
    """The datasheet entry of a measured device name ('NVIDIA H200' -> 'h200'), or None."""
    for pattern, name in DEVICE_PATTERNS:
        if re.search(pattern, str(device)):
            return name
    return None


def spec_for_device(device: str, path: Path = DATASHEET_CSV) -> GpuSpec | None:
    """Datasheet figures of the measured device, or None when the table has no entry for it."""
    name = datasheet_name(device)
    if name is None or name not in set(load_datasheet(path)["gpu"]):
        return None
    return gpu_spec(name, path)


def gpu_spec(gpu: str = "h100-sxm", path: Path = DATASHEET_CSV) -> GpuSpec:
    """Datasheet figures of `gpu` (names as in gpu_datasheet.csv's `gpu` column)."""
    df = load_datasheet(path)
    rows = df[df["gpu"] == gpu]
    if rows.empty:
        raise UnsupportedConfig(f"gpu must be one of the datasheet's "
                                f"{', '.join(sorted(df['gpu'].unique()))}, not {gpu!r}")
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
    """Our measurements of one GPU: GEMMs (fitting grid), random validation shapes, copy,
    quantise and elementwise rows, and metadata."""

    gemm: pd.DataFrame
    copy: pd.DataFrame | None
    quant: pd.DataFrame | None
    elementwise: pd.DataFrame | None
    meta: dict
    source: str
    random: pd.DataFrame | None = None

    @property
    def sm_count(self) -> int:
        gpu = self.meta.get("gpu", self.meta)
        return int(gpu.get("sm_count") or 0)

    @property
    def gpu_name(self) -> str:
        gpu = self.meta.get("gpu", self.meta)
        return str(gpu.get("gpu_name", "unknown GPU"))


def measurement_path(source) -> Path:
    """A committed GPU's folder (h100-sxm, h100, h200) or the given folder/CSV path."""
    if source in (None, ""):
        return DEFAULT_MEASUREMENTS
    if str(source) in COMMITTED_ALIASES:
        return COMMITTED[COMMITTED_ALIASES[str(source)]]
    p = Path(source)
    if not p.exists():
        raise UnsupportedConfig(
            f"--gpu must be a measurement folder (made by `hwdse gpu-bench --out DIR`) or a "
            f"committed one ({', '.join(sorted(COMMITTED))}), not {str(source)!r}")
    return p


def _devices(df: pd.DataFrame | None) -> set:
    if df is None or "device" not in df.columns:
        return set()
    return {str(d) for d in df["device"].dropna().unique() if str(d)}


def load_measurements(path: Path | str = DEFAULT_MEASUREMENTS) -> Measurements:
    """A folder made by `hwdse gpu-bench --out DIR` (gemm, copy, quant, elementwise CSVs and
    metadata.json; random.csv optional), or one GEMM CSV whose folder may hold the others.

    A folder must be complete and of one device: every CSV's `device` column and metadata.json's
    GPU name agree."""
    path = Path(path)
    if path.is_dir():
        folder, gemm_path = path, path / "gemm.csv"
        missing = [f"{p}.csv" for p in FOLDER_PARTS if not (folder / f"{p}.csv").is_file()]
        if not (folder / "metadata.json").is_file():
            missing.append("metadata.json")
        if missing:
            raise DataError(f"GPU measurement folder {str(folder)!r} lacks {', '.join(missing)}; "
                            f"run `hwdse gpu-bench --out {folder}` (it measures only what is "
                            f"missing)")
    else:
        folder, gemm_path = path.parent, path
    gemm = check_measurements(_read_csv(gemm_path, "GPU measurement CSV"), gemm_path)
    if "kernel" in gemm.columns:
        gemm = gemm[gemm["kernel"] != "torch_copy"].reset_index(drop=True)
    extra = {}
    for part in ("copy", "quant", "elementwise", "random"):
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
    name = (meta.get("gpu", meta) or {}).get("gpu_name")
    seen = {"gemm.csv": _devices(gemm)}
    seen.update({f"{k}.csv": _devices(v) for k, v in extra.items()})
    if name:
        seen["metadata.json"] = {str(name)}
    found = {d for v in seen.values() for d in v}
    if len(found) > 1:
        where = "; ".join(f"{f}: {', '.join(sorted(v))}" for f, v in seen.items() if v)
        raise DataError(f"GPU measurement folder {str(folder)!r} mixes devices ({where}); measure "
                        f"each GPU into its own folder with `hwdse gpu-bench --out DIR`")
    name = name or (found.pop() if found else "unknown GPU")
    return Measurements(gemm, extra["copy"], extra["quant"], extra["elementwise"], meta,
                        f"our measurement ({name}, {gemm_path.name})", extra["random"])
