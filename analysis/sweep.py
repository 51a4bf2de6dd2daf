"""Design-space sweeps: every design point evaluated once, cached by content hash, in parallel.

A design point is input format x accumulator x unit (mac, dotN, arrayRxC) x pipeline depth x
library. An *evaluator* turns one point into a dict of metrics (units in the key names:
`area_ge`, `delay_ns`, `energy_pj`, `sqnr_db`...); `run_sweep` runs an evaluator over many
points and returns one tidy DataFrame row per point.

Contract of `run_sweep`:
- Every point's result is stored under its content hash (point fields, evaluator `cache_id`,
  seed, quick) through `hwmodel.cache`, written atomically as soon as it arrives; a rerun, or a
  sweep interrupted and started again, reuses every stored result and evaluates only the rest.
  Two sweeps running at once are safe: both may compute a point, and the last atomic write wins
  with the same content.
- A point whose evaluation raises, or whose evaluator reports a failure (tool error, verification
  mismatch), comes back with `status="failed"` and a one-line `reason`; it is never dropped.
- `jobs=1` evaluates in this process, `jobs>1` in a local process pool, `scheduler=
  "tcp://HOST:PORT"` (or `client=`) on a Dask distributed cluster, whose scheduler re-runs the
  tasks of a worker that dies (a killed worker costs no result).
- `save_sweep` writes `<stem>.parquet`, `<stem>.csv` and `<stem>.metadata.json` atomically.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from hwmodel.errors import DataError, HwdseError, ToolNotFound, UnsupportedConfig

# Bump when the meaning of a stored result changes, so old cache entries are not reused.
SWEEP_SCHEMA = 1

# The columns that identify a point (the rest of a row are metrics).
POINT_COLUMNS = ["point_id", "in_fmt", "acc", "unit", "pipeline_stages", "library"]

_UNIT_RE = re.compile(r"^(?:(mac)|dot:?(\d+)|array:?(\d+)x(\d+))$")


def parse_unit(spec: str) -> str:
    """Normalise a unit spec: 'mac', 'dotN' / 'dot:N' (N >= 2), 'arrayRxC' / 'array:RxC'."""
    s = str(spec).strip().lower()
    m = _UNIT_RE.match(s)
    if not m:
        raise UnsupportedConfig(f"unit must be one of mac, dotN (e.g. dot4), arrayRxC (e.g. array2x2), "
                                f"not {spec!r}")
    if m.group(1):
        return "mac"
    if m.group(2):
        n = int(m.group(2))
        if n < 2:
            raise UnsupportedConfig(f"a dot-product unit must have N >= 2 products, not {n!r}")
        return f"dot{n}"
    r, c = int(m.group(3)), int(m.group(4))
    if r < 1 or c < 1:
        raise UnsupportedConfig(f"an array must have R, C >= 1, not {r}x{c}")
    return f"array{r}x{c}"


def unit_macs(unit: str) -> int:
    """Multiply-accumulates per cycle of a unit: mac 1, dotN N, arrayRxC R*C."""
    unit = parse_unit(unit)
    if unit == "mac":
        return 1
    if unit.startswith("dot"):
        return int(unit[3:])
    r, c = unit[5:].split("x")
    return int(r) * int(c)


@dataclass(frozen=True)
class DesignPoint:
    """One design: input format, accumulator spec string, unit, pipeline registers, cell library."""

    in_fmt: str
    acc: str
    unit: str = "mac"
    pipeline_stages: int = 1
    library: str = "ge"

    @classmethod
    def make(cls, in_fmt, acc, unit="mac", pipeline_stages=1, library="ge") -> "DesignPoint":
        """Validate and normalise: the format to its catalogue name, the unit to its short form."""
        from hwmodel.formats import parse_format
        fmt = parse_format(in_fmt)
        if not isinstance(pipeline_stages, int) or isinstance(pipeline_stages, bool) or pipeline_stages < 0:
            raise UnsupportedConfig(f"pipeline_stages must be an integer >= 0, not {pipeline_stages!r}")
        acc_s = str(acc).strip().lower()
        if not acc_s:
            raise UnsupportedConfig("acc must be an accumulator spec (kulisch, kulisch:V, int32, fp16, "
                                    "bf16, fp32 or a float format), not ''")
        return cls(fmt.name, acc_s, parse_unit(unit), pipeline_stages, str(library))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def point_id(self) -> str:
        """Readable id: int8/kulisch/mac/p1/ge."""
        return f"{self.in_fmt}/{self.acc}/{self.unit}/p{self.pipeline_stages}/{self.library}"


Evaluator = Callable[[DesignPoint, int, bool], dict]


@dataclass
class SweepSpec:
    """The cartesian product of the listed choices (configs in TOML parse into this)."""

    formats: list[str]
    accumulators: list[str]
    units: list[str] = field(default_factory=lambda: ["mac"])
    pipeline_stages: list[int] = field(default_factory=lambda: [1])
    libraries: list[str] = field(default_factory=lambda: ["ge"])

    def points(self) -> list[DesignPoint]:
        pts = []
        for f in self.formats:
            for a in self.accumulators:
                for u in self.units:
                    for p in self.pipeline_stages:
                        for lib in self.libraries:
                            pts.append(DesignPoint.make(f, a, u, p, lib))
        # Keep order, drop duplicates (two spellings of one format).
        return list(dict.fromkeys(pts))


def default_spec(quick: bool = False) -> SweepSpec:
    """The report's default sweep, sized for < 15 min cold on 2 cores for the whole report: a
    point costs ~30-70 s cold (two Verilator builds: the cocotb bench and the gate-level energy
    run; synthesis ~1-3 s), so 12 points take ~6 min on 2 workers. Six formats spanning 4 to 8
    bits, integer and float, with the paper's two accumulator kinds (Kulisch, FP32); the paper
    section covers FP16 accumulation. Quick (tests): the two formats the paper compares."""
    if quick:
        return SweepSpec(formats=["int8", "float8_e4m3fn"], accumulators=["kulisch", "fp32"])
    return SweepSpec(
        formats=["int4", "int8", "float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float4_e2m1fn"],
        accumulators=["kulisch", "fp32"])


# ----------------------------------------------------------------------------------------------
# Cache keys and storage
# ----------------------------------------------------------------------------------------------

def evaluator_id(evaluator: Evaluator) -> str:
    """What makes an evaluator's results comparable: its `cache_id`, else its qualified name."""
    cid = getattr(evaluator, "cache_id", None)
    if cid:
        return str(cid)
    mod = getattr(evaluator, "__module__", "?")
    name = getattr(evaluator, "__qualname__", type(evaluator).__qualname__)
    return f"{mod}.{name}"


def point_key(point: DesignPoint, evaluator: Evaluator, seed: int, quick: bool) -> str:
    """Content hash of everything that decides a point's result."""
    payload = {"schema": SWEEP_SCHEMA, "point": point.as_dict(), "evaluator": evaluator_id(evaluator),
               "seed": seed, "quick": bool(quick)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ResultStore:
    """Per-point results: `hwmodel.cache.ResultCache` under namespace "sweep" (JSON per content
    hash, written atomically, corrupt entries dropped and recomputed)."""

    def __init__(self, cache_dir: Path | str):
        from hwmodel.cache import ResultCache
        self._cache = ResultCache(Path(cache_dir), namespace="sweep")
        self.root = self._cache.root / self._cache.namespace

    def get(self, key: str) -> dict | None:
        return self._cache.get(key)

    def put(self, key: str, value: dict) -> None:
        # JSON round trip through _json_default: numpy scalars become plain numbers.
        self._cache.put(key, json.loads(json.dumps(value, default=_json_default)))


def _json_default(o):
    try:
        import numpy as np
        if isinstance(o, np.generic):
            return o.item()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


# ----------------------------------------------------------------------------------------------
# Evaluating one point (runs in a worker)
# ----------------------------------------------------------------------------------------------

def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def evaluate_safely(evaluator: Evaluator, point: DesignPoint, seed: int, quick: bool) -> dict:
    """Run the evaluator; never raise (except KeyboardInterrupt). Adds status, reason, eval_time_s."""
    t0 = time.perf_counter()
    try:
        metrics = dict(evaluator(point, seed, quick) or {})
        status = metrics.pop("status", "ok")
        reason = metrics.pop("reason", None)
        if status not in ("ok", "failed"):
            status, reason = "failed", f"evaluator returned status {status!r}"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a failed point is data, not a crash
        metrics, status, reason = {}, "failed", _one_line(exc)
    metrics.update(status=status, reason=reason, eval_time_s=time.perf_counter() - t0)
    return metrics


# ----------------------------------------------------------------------------------------------
# Running many points
# ----------------------------------------------------------------------------------------------

def check_scheduler(address: str, timeout_s: float = 5.0):
    """Connect to a Dask scheduler and return the Client; one-line error if it does not answer."""
    if not re.match(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?$", str(address)):
        raise UnsupportedConfig(f"--scheduler must be an address like tcp://HOST:PORT, not {address!r}")
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a declared dependency
        raise ToolNotFound("--scheduler needs the 'distributed' package: pip install 'dask[distributed]'") from None
    m = re.match(r"^tcp://\[?([^\]/]+?)\]?:(\d+)/?$", str(address))
    try:
        if m:  # a refused TCP connection fails at once; Client would retry until its timeout
            socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout_s).close()
        return Client(address, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise ToolNotFound(f"Dask scheduler {address} does not answer within {timeout_s:g} s "
                           f"({type(exc).__name__}); start one with `dask scheduler` and workers with "
                           f"`dask worker {address}`, or drop --scheduler to run locally") from None


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, unit="pt", leave=False)


def run_sweep(points: Sequence[DesignPoint] | SweepSpec, evaluator: Evaluator | None = None, *,
              cache_dir: Path | str = ".cache", jobs: int = 1, scheduler: str | None = None,
              client=None, seed: int = 0, quick: bool = False, progress: bool = True,
              retry_failed: bool = False, desc: str = "sweep"):
    """Evaluate every point (cached ones are read back) and return a DataFrame, one row per point
    in the given order: POINT_COLUMNS, `status`, `reason`, `cached` (bool), then the metrics."""
    import pandas as pd

    if isinstance(points, SweepSpec):
        points = points.points()
    points = list(points)
    if evaluator is None:
        evaluator = ChainEvaluator(cache_dir=cache_dir)
    if not isinstance(jobs, int) or jobs < 1:
        raise UnsupportedConfig(f"jobs must be a positive integer, not {jobs!r}")
    store = ResultStore(cache_dir)
    keys = [point_key(p, evaluator, seed, quick) for p in points]
    results: dict[int, dict] = {}
    cached: set[int] = set()
    todo: list[int] = []
    for i, k in enumerate(keys):
        r = store.get(k)
        if r is not None and not (retry_failed and r.get("status") == "failed"):
            results[i] = r
            cached.add(i)
        else:
            todo.append(i)
    # Two spellings of one point share a key: evaluate each key once.
    first_of_key: dict[str, int] = {}
    unique_todo = []
    for i in todo:
        if keys[i] not in first_of_key:
            first_of_key[keys[i]] = i
            unique_todo.append(i)

    bar = _progress(len(unique_todo), progress and bool(unique_todo), desc)

    def record(i: int, r: dict) -> None:
        store.put(keys[i], r)  # stored the moment it arrives: an interrupt loses nothing finished
        results[i] = r
        if bar is not None:
            bar.update(1)

    try:
        if unique_todo:
            if client is not None or scheduler:
                _run_dask(points, unique_todo, evaluator, seed, quick, record, client, scheduler)
            elif jobs == 1:
                for i in unique_todo:
                    record(i, evaluate_safely(evaluator, points[i], seed, quick))
            else:
                _run_pool(points, unique_todo, evaluator, seed, quick, record, jobs)
    finally:
        if bar is not None:
            bar.close()
    for i in todo:
        if i not in results:
            results[i] = results[first_of_key[keys[i]]]

    rows = []
    for i, p in enumerate(points):
        row = {"point_id": p.point_id, **p.as_dict()}
        r = dict(results[i])
        row["status"] = r.pop("status", "failed")
        row["reason"] = r.pop("reason", None)
        row["cached"] = i in cached
        row.update(r)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=POINT_COLUMNS + ["status", "reason", "cached"])
    return frame


def _run_pool(points, todo, evaluator, seed, quick, record, jobs, _retry: bool = True):
    """Local process pool. A worker process that dies (killed, out of memory) breaks the pool:
    the points it left unfinished run once more in a fresh pool; a point that breaks that one too
    is recorded as failed."""
    # spawn, not fork: the parent may hold threads (tqdm, Dask) that fork would copy half-locked.
    ctx = multiprocessing.get_context("spawn")
    lost: list[int] = []
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
        futs = {pool.submit(evaluate_safely, evaluator, points[i], seed, quick): i for i in todo}
        try:
            for fut in cf.as_completed(futs):
                i = futs[fut]
                try:
                    r = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    if _retry:
                        lost.append(i)
                        continue
                    r = {"status": "failed", "reason": f"worker process died: {_one_line(exc)}",
                         "eval_time_s": None}
                record(i, r)
        except KeyboardInterrupt:
            # Drop the queued points at once; the pool's own thread handles the running ones.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if lost:
        _run_pool(points, sorted(lost), evaluator, seed, quick, record, jobs, _retry=False)


def _run_dask(points, todo, evaluator, seed, quick, record, client, scheduler):
    from distributed import as_completed
    own = client is None
    if own:
        client = check_scheduler(scheduler)
    try:
        # retries: a task whose worker dies is re-run by the scheduler anyway (allowed-failures);
        # retries also covers an exception escaping evaluate_safely on a sick worker.
        futs = []
        index = {}
        for i in todo:
            f = client.submit(evaluate_safely, evaluator, points[i], seed, quick, pure=False, retries=2,
                              key=f"hwdse-point-{i}-{os.getpid()}-{time.monotonic_ns()}")
            futs.append(f)
            index[f.key] = i
        for fut in as_completed(futs):
            i = index[fut.key]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after too many deaths
                r = {"status": "failed", "reason": f"Dask task failed: {_one_line(exc)}", "eval_time_s": None}
            record(i, r)
    finally:
        if own:
            client.close()


# ----------------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Evaluators
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FakeEvaluator:
    """A cheap stand-in evaluator for tests and benchmarks of the engine itself; its numbers are
    arithmetic on the format's bit width and mean nothing about hardware.

    fail_formats: formats whose points raise ToolFailed; kill_marker: the first evaluation of
    kill_format (when the marker file does not exist yet) creates the marker and kills its own
    process (a dying worker); count_dir: each evaluation touches a file there (tests count them);
    delay_s: sleep per point."""

    delay_s: float = 0.0
    fail_formats: tuple[str, ...] = ()
    kill_marker: str | None = None
    kill_format: str | None = None
    count_dir: str | None = None

    cache_id = "fake-evaluator-v1"

    def __call__(self, point: DesignPoint, seed: int, quick: bool) -> dict:
        from hwmodel.errors import ToolFailed
        from hwmodel.formats import parse_format
        if self.count_dir:
            d = Path(self.count_dir)
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{os.getpid()}-{time.monotonic_ns()}").write_text(point.point_id)
        if self.kill_marker and point.in_fmt == self.kill_format and not os.path.exists(self.kill_marker):
            Path(self.kill_marker).write_text("killed")
            os._exit(17)
        if self.delay_s:
            time.sleep(self.delay_s)
        if point.in_fmt in self.fail_formats:
            raise ToolFailed(f"fake tool failure for {point.in_fmt}")
        bits = parse_format(point.in_fmt).bits
        return {"area_ge": float(bits * bits * 10 + len(point.acc)), "delay_ns": 0.1 * bits,
                "seed_echo": seed}


# ----------------------------------------------------------------------------------------------
# The real chain: numerics quality, verification, synthesis, energy
# ----------------------------------------------------------------------------------------------

STAGES = ("quality", "verify", "synth", "energy")


# Source trees whose content decides a chain result (the analysis layer only assembles them).
_FINGERPRINT_GLOBS = ("hwmodel/*.py", "hwmodel/data/**/*", "rtl/*.py", "rtl/lib/*", "sim/*.py",
                      "analysis/sweep.py")  # this file holds the stage functions


def code_fingerprint() -> str:
    """SHA-256 (16 hex digits) over the files the chain runs: hwmodel/, rtl/, sim/ and the stage
    functions in this file."""
    if not hasattr(code_fingerprint, "_value"):
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        files = sorted({p for g in _FINGERPRINT_GLOBS for p in root.glob(g) if p.is_file()})
        for p in files:
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(p.read_bytes())
        code_fingerprint._value = h.hexdigest()[:16]
    return code_fingerprint._value


class ChainEvaluator:
    """Evaluate a point through the other layers: numerics quality (hwmodel), verification by
    the cocotb bench (sim.runner), area/delay by Yosys (rtl.synth), energy by gate-level toggle
    counting (sim.energy). Each stage that fails adds `<stage>_error`; the point is `failed`
    with the first stage's reason (a verification mismatch fails it too), and the metrics of the
    stages that worked are kept."""

    cache_id = "chain-evaluator-v2"

    def __init__(self, stages: Sequence[str] = STAGES, cache_dir: Path | str | None = None):
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise UnsupportedConfig(f"stages must be among {', '.join(STAGES)}, not {bad[0]!r}")
        self.stages = tuple(stages)
        # Where synthesis and energy keep their own caches; not part of the result's identity.
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        # The code behind the numbers is part of a result's identity: a change to the RTL
        # generators, benches, golden model or flows must not be answered from an old entry.
        self.cache_id = f"chain-evaluator-v2:{'+'.join(self.stages)}:{code_fingerprint()}"

    def __call__(self, point: DesignPoint, seed: int, quick: bool) -> dict:
        out: dict[str, Any] = {}
        reasons = []
        for stage in self.stages:
            fn = globals()[f"stage_{stage}"]
            t0 = time.perf_counter()
            try:
                out.update(fn(point, seed, quick, self.cache_dir))
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001
                out[f"{stage}_error"] = _one_line(exc)
                reasons.append(f"{stage}: {_one_line(exc)}")
            out[f"{stage}_time_s"] = round(time.perf_counter() - t0, 3)
        if out.get("verified") is False:
            reasons.insert(0, f"verify: the cocotb bench failed ({out.get('verify_detail', '')})")
        if reasons:
            out["status"] = "failed"
            out["reason"] = reasons[0]
        return out

    def __getstate__(self):
        return {"stages": self.stages, "cache_id": self.cache_id, "cache_dir": self.cache_dir}

    def __setstate__(self, state):
        self.__dict__.update(state)



def _parse_unit_parts(unit: str) -> tuple[str, int, int]:
    """('mac', 1, 1), ('dot', N, 1) or ('array', R, C)."""
    unit = parse_unit(unit)
    if unit == "mac":
        return "mac", 1, 1
    if unit.startswith("dot"):
        return "dot", int(unit[3:]), 1
    r, c = unit[5:].split("x")
    return "array", int(r), int(c)


# Sample sizes of the quality stage: (quantisation samples, dot-product length).
_QUALITY_N = {False: (65536, 4096), True: (4096, 512)}


def stage_quality(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Numerical quality of the input format and the accumulator (golden model, hwmodel.numerics).

    sqnr_db / sqnr_t3_db: signal-to-quantisation-noise ratio (dB) of N(0,1) and Student-t (nu=3)
    samples quantised per tensor (absmax scaled to the format's largest value, RNE, saturating).
    dot_rel_err: median over lanes of |computed - exact| / sum|a_i b_i| of length-L dot products of
    N(0,1) vectors (ints scaled absmax -> max int; floats unscaled) accumulated sequentially with the point's accumulator
    (hwmodel.numerics.dot); exact = math.fsum of the exact products."""
    import math

    import numpy as np

    from hwmodel import numerics
    from hwmodel.formats import IntFormat, parse_format

    fmt = parse_format(point.in_fmt)
    n, length = _QUALITY_N[bool(quick)]
    rng = np.random.default_rng(seed)
    out = {}
    fmax = float(getattr(fmt, "max_value", None) or fmt.max_normal)
    for col, x in (("sqnr_db", rng.standard_normal(n)), ("sqnr_t3_db", rng.standard_t(3, n))):
        scale = fmax / np.max(np.abs(x))
        q = numerics.decode(fmt, numerics.encode(fmt, x * scale, saturate=True)) / scale
        err = float(np.sum((x - q) ** 2))
        out[col] = float("inf") if err == 0 else 10 * math.log10(float(np.sum(x ** 2)) / err)
    lanes = 4 if quick else 16
    a, b = rng.standard_normal((lanes, length)), rng.standard_normal((lanes, length))
    # Integers need a scale to use their range (absmax -> max int); floats take N(0,1) as it is
    # (a power-of-two scale changes nothing but the exponent), so products are O(1) and the error
    # measured is the accumulator's rounding, not an overflow of its range.
    if isinstance(fmt, IntFormat):
        a, b = a * fmax / np.max(np.abs(a)), b * fmax / np.max(np.abs(b))
    codes_a = numerics.encode(fmt, a, saturate=True)
    codes_b = numerics.encode(fmt, b, saturate=True)
    products = numerics.mul_exact(fmt, codes_a, fmt, codes_b)
    # Exact reference: fsum of the exact float64 products, per lane.
    exact = np.array([math.fsum(row) for row in products.tolist()])
    got = numerics.dot(fmt, codes_a, fmt, codes_b, acc=point.acc)
    denom = np.sum(np.abs(products), axis=-1)
    out["dot_rel_err"] = float(np.median(np.abs(got - exact) / denom))
    out["dot_length"] = length
    out["quality_source"] = "our golden model (hwmodel.numerics), seeded samples"
    return out


def stage_verify(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Run the unit's cocotb bench against the golden model (sim.runner.run_bench).
    verified=False on a mismatch (the chain then marks the point failed); tool errors raise."""
    from sim.runner import BenchFailed, run_bench

    kind, n, c = _parse_unit_parts(point.unit)
    env = {"HWDSE_SEED": str(12345 + seed), "HWDSE_RANDOM": "2000" if quick else "20000"}
    if kind == "mac":
        from rtl.config import MacConfig
        config, bench = MacConfig(point.in_fmt, point.acc, point.pipeline_stages), "sim.bench_mac"
    elif kind == "dot":
        from rtl.dot import DotConfig
        config, bench = DotConfig(point.in_fmt, point.acc, n, min(point.pipeline_stages, 1)), "sim.bench_dot"
    else:
        try:
            from rtl.array import ArrayConfig
        except ImportError:
            raise UnsupportedConfig("unit array needs rtl/array.py, which is not built yet") from None
        config, bench = ArrayConfig(point.in_fmt, point.acc, n, c, point.pipeline_stages), "sim.bench_array"
    try:
        res = run_bench(config, bench, extra_env=env)
    except BenchFailed as exc:
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        detail = " | ".join(lines[:3])
        m = re.search(r"log: (\S+)", detail)
        if m and os.path.exists(m.group(1)):
            # The first error line of the simulation log says why (a mismatch or a bench error).
            for ln in Path(m.group(1)).read_text(errors="replace").splitlines():
                if re.search(r"(Error|mismatch|FAIL)\b", ln) and "TESTS=" not in ln:
                    first = ln.strip()[:300]
                    if first not in detail:
                        detail = first + " | " + detail
                    break
        return {"verified": False, "verify_detail": detail[:500]}
    return {"verified": True, "verify_tests": int(res.tests), "simulator": res.simulator,
            "verify_detail": f"{res.tests} cocotb tests passed ({res.simulator}, seed {12345 + seed}, "
                             f"{env['HWDSE_RANDOM']} random pairs)"}


def stage_synth(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Synthesise the unit with Yosys (rtl.synth.synth_unit) in the point's library: area in the
    library's unit (area_gates | area_ge | area_um2), per-part areas, depth, FO4 delay, provenance."""
    from rtl.synth import synth_unit, synthesize

    kind, n, c = _parse_unit_parts(point.unit)
    if kind == "array":
        # rtl.synth builds mac/dot units itself; an array is built here and handed over whole.
        import warnings

        from rtl.array import ArrayConfig
        from rtl.export import build_component
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = build_component(ArrayConfig(point.in_fmt, point.acc, n, c, point.pipeline_stages))
        r = synthesize(design, point.library, cache_dir=cache_dir)
    else:
        r = synth_unit(point.in_fmt, point.acc, kind, n=n, library=point.library,
                       pipeline_stages=point.pipeline_stages, cache_dir=cache_dir)
    unit = r.area_unit
    out = {f"area_{unit}": float(r.area), f"seq_area_{unit}": float(r.sequential_area),
           "n_cells": int(r.n_cells), "logic_depth": int(r.logic_depth),
           "delay_fo4": None if r.delay_fo4 is None else float(r.delay_fo4),
           "synth_source": r.source, "netlist_sha256": r.netlist_sha256}
    for part, area in (r.area_by_part or {}).items():
        out[f"area_{part}_{unit}"] = float(area)
    return out


def stage_energy(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Energy per multiply-accumulate (pJ) of a MAC from gate-level toggle counting of its
    synthesised netlist under Gaussian operands (sim.energy.mac_energy); other units get an
    `energy_note` instead of a value (not a failure)."""
    from sim import energy

    kind, _, _ = _parse_unit_parts(point.unit)
    if kind != "mac" or point.pipeline_stages != 1:
        # Not applicable (sim.energy measures single-stage MACs): no value, and not a failure.
        return {"energy_note": f"not measured: sim.energy.mac_energy covers mac units with 1 "
                               f"pipeline stage, not {point.unit} p{point.pipeline_stages}"}
    kw = {"cache_dir": Path(cache_dir)} if cache_dir else {}
    res = energy.mac_energy(point.in_fmt, point.acc, dist="gaussian", n=512 if quick else 4096,
                            library=point.library, seed=seed, **kw)
    src = res.get("source") or res.get("provenance") or "our gate-level simulation (sim.energy.mac_energy)"
    return {"energy_pj": float(res["pj_per_mac"]),
            "energy_source": src if isinstance(src, str) else json.dumps(src, default=str)[:300]}


# ----------------------------------------------------------------------------------------------
# The report's sweep (shared by the verification, iso-area and Pareto sections)
# ----------------------------------------------------------------------------------------------

_REPORT_SWEEPS: dict[tuple, Any] = {}


def forget_report_sweeps() -> None:
    """Drop the frames report_sweep keeps for the sections of one report run."""
    _REPORT_SWEEPS.clear()


def report_sweep(ctx, spec: SweepSpec | None = None):
    """Run (or read back from the cache) the report's default sweep once per report run and save it
    under ctx.outdir/sweep/ (sweep.parquet, sweep.csv, sweep.metadata.json). Sections call this;
    the first one pays for the evaluation, the others reuse the frame. ctx.quick: two formats x
    two accumulators, quality and synthesis only (no Verilator builds), for tests."""
    cfg = ctx.config
    spec = spec or (cfg.sweep if cfg is not None and cfg.sweep is not None else default_spec(ctx.quick))
    key = (str(Path(ctx.outdir).resolve()), str(ctx.cache_dir), ctx.seed, ctx.quick,
           json.dumps(dataclasses.asdict(spec), sort_keys=True))
    if key in _REPORT_SWEEPS:
        return _REPORT_SWEEPS[key]
    t0 = time.perf_counter()
    evaluator = ChainEvaluator(("quality", "synth") if ctx.quick else STAGES, cache_dir=ctx.cache_dir)
    frame = run_sweep(spec, evaluator, cache_dir=ctx.cache_dir, jobs=max(1, int(ctx.jobs)),
                      scheduler=ctx.scheduler, seed=ctx.seed, quick=ctx.quick,
                      progress=True, desc="report sweep")
    from analysis.report import run_metadata
    md = run_metadata(ctx, sweep_spec=dataclasses.asdict(spec), evaluator=evaluator_id(evaluator),
                      sweep_time_s=round(time.perf_counter() - t0, 2),
                      n_cached=int(frame["cached"].sum()) if "cached" in frame else 0)
    save_sweep(frame, Path(ctx.outdir) / "sweep", "sweep", md)
    _REPORT_SWEEPS[key] = frame
    return frame
