"""The sweep engine: every design point evaluated once, cached by content hash, in parallel.

An *evaluator* turns one `analysis.design.DesignPoint` into a dict of metrics (units in the key
names: `area_ge`, `delay_ns`, `energy_pj`, `sqnr_db`...); `run_sweep` runs an evaluator over many
points and returns one tidy DataFrame row per point.

Contract of `run_sweep`:
- Every point's result is stored under its content hash (the point's canonical specs, evaluator
  `cache_id`, seed, quick) through `hwmodel.cache`, written atomically as soon as it arrives; a
  rerun, or a sweep interrupted and started again, reuses every stored result and evaluates only
  the rest. Two sweeps running at once are safe: both may compute a point, and the last atomic
  write wins with the same content.
- A point whose evaluation raises, or whose evaluator reports a failure (tool error, verification
  mismatch), comes back with `status="failed"`, a one-line `reason` and a `failure_kind`
  (analysis.outcome): it is never dropped. A failure of the environment (a missing or broken
  tool, a dead worker) is evaluated again on the next run; a failure of the design stays cached
  until `retry_failed`.
- `jobs=1` evaluates in this process, `jobs>1` on `hwmodel.pool` workers (which die with this
  process), `scheduler="tcp://HOST:PORT"` (or `client=`) on a Dask distributed cluster, whose
  scheduler re-runs the tasks of a worker that dies (a killed worker costs no result).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Callable, Sequence

from hwmodel import pool
from hwmodel.errors import ToolNotFound, UnsupportedConfig

from analysis.design import POINT_COLUMNS, DesignPoint, SweepSpec
from analysis.outcome import DESIGN, ENVIRONMENT, failure_kind, is_environment_failure, one_line

# Bump when the meaning of a stored result changes, so old cache entries are not reused.
# 2: keys from canonical specs (format, accumulator, unit), failure_kind in every failed result.
SWEEP_SCHEMA = 2

Evaluator = Callable[[DesignPoint, int, bool], dict]


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
    """Content hash of everything that decides a point's result (canonical specs, never names)."""
    payload = {"schema": SWEEP_SCHEMA, "point": point.key_fields(), "evaluator": evaluator_id(evaluator),
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
        # JSON round trip through json_default: numpy scalars become plain numbers.
        self._cache.put(key, json.loads(json.dumps(value, default=json_default)))


def json_default(o):
    """JSON for numpy scalars (their Python value) and anything else (its str)."""
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

def evaluate_safely(evaluator: Evaluator, point: DesignPoint, seed: int, quick: bool) -> dict:
    """Run the evaluator; never raise (except KeyboardInterrupt). Adds status, reason,
    failure_kind (failed points only) and eval_time_s."""
    t0 = time.perf_counter()
    try:
        metrics = dict(evaluator(point, seed, quick) or {})
        status = metrics.pop("status", "ok")
        reason = metrics.pop("reason", None)
        kind = metrics.pop("failure_kind", None)
        if status not in ("ok", "failed"):
            status, reason, kind = "failed", f"evaluator returned status {status!r}", DESIGN
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a failed point is data, not a crash
        metrics, status, reason, kind = {}, "failed", one_line(exc), failure_kind(exc)
    metrics.update(status=status, reason=reason, eval_time_s=time.perf_counter() - t0)
    if status == "failed":
        metrics["failure_kind"] = kind if kind in (ENVIRONMENT, DESIGN) else DESIGN
    return metrics


def _evaluate_item(item) -> dict:
    """evaluate_safely on one (evaluator, point, seed, quick) tuple: what a pool worker runs."""
    return evaluate_safely(*item)


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


def run_sweep(points: Sequence[DesignPoint] | SweepSpec, evaluator: Evaluator, *,
              cache_dir: Path | str | None = None, jobs: int = 1, scheduler: str | None = None,
              client=None, seed: int = 0, quick: bool = False, progress: bool = True,
              retry_failed: bool = False, desc: str = "sweep"):
    """Evaluate every point (cached ones are read back) and return a DataFrame, one row per point
    in the given order: POINT_COLUMNS, `status`, `reason`, `cached` (bool), then the metrics.
    cache_dir None: hwmodel.cache.default_cache_dir()."""
    import pandas as pd

    from hwmodel.cache import default_cache_dir

    if isinstance(points, SweepSpec):
        points = points.points()
    points = list(points)
    if not isinstance(jobs, int) or jobs < 1:
        raise UnsupportedConfig(f"jobs must be a positive integer, not {jobs!r}")
    store = ResultStore(default_cache_dir() if cache_dir is None else cache_dir)
    keys = [point_key(p, evaluator, seed, quick) for p in points]
    results: dict[int, dict] = {}
    cached: set[int] = set()
    todo: list[int] = []
    for i, k in enumerate(keys):
        r = store.get(k)
        # An environment failure is not the design's result: always evaluated again.
        if r is not None and not is_environment_failure(r) \
                and not (retry_failed and r.get("status") == "failed"):
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
            else:
                items = [(evaluator, points[i], seed, quick) for i in unique_todo]

                def done(j, value, error):
                    if error is not None:  # the worker died twice; evaluate_safely never raises
                        value = {"status": "failed", "reason": one_line(error), "eval_time_s": None,
                                 "failure_kind": ENVIRONMENT}
                    record(unique_todo[j], value)

                pool.run_each(_evaluate_item, items, jobs, done)
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
                r = {"status": "failed", "reason": f"Dask task failed: {one_line(exc)}", "eval_time_s": None,
                     "failure_kind": ENVIRONMENT}
            record(i, r)
    finally:
        if own:
            client.close()
