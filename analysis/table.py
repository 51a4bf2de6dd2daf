"""Sweep tables on disk and rows picked out of them.

`save_sweep` writes `<stem>.parquet`, `<stem>.csv` and `<stem>.metadata.json` atomically (each
written to a temporary name, then renamed); `load_sweep` reads one back. `select` picks the rows
of a format and/or accumulator given in any spelling, by canonical spec.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hwmodel.errors import DataError


def _json_default(o):
    try:
        import numpy as np
        if isinstance(o, np.generic):
            return o.item()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


def save_sweep(frame, outdir: Path | str, stem: str = "sweep", metadata: dict | None = None) -> dict[str, Path]:
    """Write <stem>.parquet, <stem>.csv and <stem>.metadata.json under outdir, each atomically."""
    import pandas as pd
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": outdir / f"{stem}.parquet", "csv": outdir / f"{stem}.csv",
             "metadata": outdir / f"{stem}.metadata.json"}
    tag = f"{os.getpid()}.{time.monotonic_ns()}"
    frame = frame.copy()
    for c in frame.columns:  # Parquet wants one type per column; mixed objects become text
        if frame[c].dtype == object:
            vals = frame[c].dropna()
            if not len(vals) or all(isinstance(v, str) for v in vals):
                continue
            if all(isinstance(v, bool) for v in vals):
                frame[c] = frame[c].astype("boolean")  # e.g. `verified`: True/False/missing
            else:
                frame[c] = frame[c].map(lambda v: None if v is None or v is pd.NA else (
                    v if isinstance(v, str) else json.dumps(v, default=_json_default)))
    tmp = paths["parquet"].with_name(f".{stem}.parquet.{tag}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, paths["parquet"])
    tmp = paths["csv"].with_name(f".{stem}.csv.{tag}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, paths["csv"])
    md = dict(metadata or {})
    md.setdefault("n_points", int(len(frame)))
    if "status" in frame:
        md.setdefault("n_failed", int((frame["status"] == "failed").sum()))
    tmp = paths["metadata"].with_name(f".{stem}.metadata.json.{tag}.tmp")
    tmp.write_text(json.dumps(md, indent=2, default=str) + "\n")
    os.replace(tmp, paths["metadata"])
    return paths


def load_sweep(path: Path | str):
    """Read a saved sweep (.parquet or .csv)."""
    import pandas as pd
    path = Path(path)
    if not path.exists():
        raise DataError(f"sweep file must exist, not {str(path)!r}; run `hwdse sweep` first")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def select(frame, in_fmt=None, acc=None):
    """The rows of a sweep table for a format and/or an accumulator, each given as an object or in
    any spelling ('e4m3', 'fp32'): compared by canonical spec, never by display name."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format

    from analysis.design import acc_spec, format_spec
    mask = frame.index == frame.index
    if in_fmt is not None:
        mask &= frame["in_fmt_spec"] == format_spec(parse_format(in_fmt))
    if acc is not None:
        mask &= frame["acc"] == acc_spec(parse_acc(acc))
    return frame[mask]
