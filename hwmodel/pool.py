"""The tool's one worker-pool policy: local processes that never outlive the process that made them.

Contract
    worker_pool(jobs) -> concurrent.futures.ProcessPoolExecutor
        `jobs` worker processes started with "spawn" (the parent may hold threads - tqdm, Dask,
        a test runner - that "fork" would copy half-locked). On Linux each worker asks the kernel
        for SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG) and also watches its parent from
        a thread; either way it kills the processes it started (a simulator, a compiler) and
        exits, and it exits at once if the parent is already gone when it starts. A parent
        killed with `kill -9` leaves no worker behind, and with the workers gone the
        multiprocessing resource tracker sees its pipe close and exits too. (A worker busy in C
        code that holds the GIL acts when that call returns.)
    run_each(fn, items, jobs, on_done, *, retry_lost=True)
        Call fn(item) for every item on worker_pool(jobs) (in this process when jobs == 1 or there
        is one item) and, in this process, on_done(index, value, error) as each finishes (error is
        None, or the exception fn raised). A worker that dies (killed, out of memory) breaks the
        pool: the items it left unfinished run once more in a fresh pool, and an item that breaks
        that one too comes back with a `WorkerDied` error. On KeyboardInterrupt the queued items
        are dropped at once and the interrupt propagates.
    map_ordered(fn, items, jobs) -> list
        The results of fn over items in input order (run_each underneath); the first error raises.

fn, the items and the results cross process boundaries: they must pickle (module-level functions,
plain data). Threads for I/O-bound work (waiting on subprocesses) need no pool of processes and are
not covered here.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class WorkerDied(RuntimeError):
    """A worker process died (killed, out of memory) twice while running an item."""


def _descendants(pid: int) -> list[int]:
    """Every descendant of pid, from /proc/<pid>/task/*/children (Linux)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            out += kids
            todo += kids
    return out


def _on_parent_death(*_args) -> None:
    """Kill what this worker started (a simulator, a build), then leave at once."""
    for pid in _descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    # The signal handler runs only when the main thread returns to Python; this thread also acts
    # while the main thread waits in a call that releases the GIL (a subprocess, in-process Yosys).
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            _on_parent_death()


def _die_with_parent(parent_pid: int) -> None:
    """Pool initializer: when the parent dies, kill this worker's own children and exit; exit at
    once if the parent is already gone."""
    if sys.platform.startswith("linux"):
        signal.signal(signal.SIGTERM, _on_parent_death)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the thread still watches
            pass
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="hwdse-parent-watch",
                         daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def worker_pool(jobs: int) -> cf.ProcessPoolExecutor:
    """A ProcessPoolExecutor of `jobs` spawned workers that die with this process (see module doc)."""
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, not {jobs!r}")
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_die_with_parent, initargs=(os.getpid(),))


def run_each(fn: Callable[[Any], Any], items: Sequence[Any], jobs: int,
             on_done: Callable[[int, Any, BaseException | None], None], *, retry_lost: bool = True) -> None:
    """Run fn over items on up to `jobs` workers, reporting each result to on_done (module doc)."""
    items = list(items)
    if not items:
        return
    if jobs <= 1 or len(items) == 1:
        for i, item in enumerate(items):
            try:
                value = fn(item)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - handed to the caller, like a worker's error
                on_done(i, None, exc)
                continue
            on_done(i, value, None)
        return
    _run_pool(fn, items, list(range(len(items))), jobs, on_done, retry_lost)


def _run_pool(fn, items, todo, jobs, on_done, retry_lost) -> None:
    lost: list[int] = []
    with worker_pool(min(jobs, len(todo))) as pool:
        futs = {pool.submit(fn, items[i]): i for i in todo}
        try:
            for fut in cf.as_completed(futs):
                i = futs[fut]
                try:
                    value = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    if retry_lost:
                        lost.append(i)
                    else:
                        on_done(i, None, WorkerDied(f"worker process died: {exc}"))
                    continue
                except Exception as exc:  # noqa: BLE001
                    on_done(i, None, exc)
                    continue
                on_done(i, value, None)
        except KeyboardInterrupt:
            # Drop the queued items at once; the pool's own thread handles the running ones.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if lost:
        _run_pool(fn, items, sorted(lost), jobs, on_done, retry_lost=False)


def map_ordered(fn: Callable[[Any], Any], items: Sequence[Any], jobs: int) -> list:
    """fn over items, in input order, on up to `jobs` workers; the first error is raised."""
    out: list[Any] = [None] * len(items)
    errors: dict[int, BaseException] = {}

    def done(i, value, error):
        if error is not None:
            errors[i] = error
        out[i] = value

    run_each(fn, items, jobs, done)
    if errors:
        raise errors[min(errors)]
    return out
