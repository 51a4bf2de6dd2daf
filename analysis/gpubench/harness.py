"""Check, then time, every kernel on every shape; write CSV rows and a metadata JSON.

Contract of the output (read back by hwmodel.gpudata):
  gemm.csv, quant.csv, copy.csv, elementwise.csv with columns
    dtype, kernel, M, N, K, m_run, time_s, ops_per_s, bytes_per_s, config, rel_err, check
  time_s is the median of triton.testing.do_bench (CUDA events, L2 flushed before each call, and
  inputs rotated over several buffer sets where one set is smaller than 4x the L2). ops_per_s
  counts 2*M*N*K for GEMMs (M the caller's rows, also where the library needs M padded to m_run)
  and elements for quantise/dequantise/elementwise rows. bytes_per_s counts the fewest bytes:
  each input read once, each output written once (copy: read + write).
  metadata.json: GPU name, SM count, L2, clocks, driver, CUDA, torch, triton, date, command.

Every kernel is checked on its real inputs against a float64 reference before it is timed (rows
sampled for large M); a failed check records check="FAIL" and the kernel is not timed.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hwmodel.errors import ToolNotFound

COLUMNS = ["dtype", "kernel", "M", "N", "K", "m_run", "time_s", "ops_per_s", "bytes_per_s",
           "config", "rel_err", "check", "spread"]

# GEMM kernels: name -> (dtype label, needs M padded to a multiple / lower bound)
GEMM_KERNELS = ["cublas_bf16", "cublas_fp16", "cublas_tf32", "cublas_int8", "triton_int8",
                "cublas_fp8_e4m3", "cublas_fp8_e5m2", "triton_int8_blk1x128",
                "triton_int8_blk32"]
KERNEL_DTYPE = {
    "cublas_bf16": "bf16", "cublas_fp16": "fp16", "cublas_tf32": "tf32", "cublas_int8": "int8",
    "triton_int8": "int8", "cublas_fp8_e4m3": "fp8_e4m3", "cublas_fp8_e5m2": "fp8_e5m2",
    "triton_int8_blk1x128": "int8_blk128", "triton_int8_blk32": "int8_blk32",
}
# Relative Frobenius error allowed against the float64 reference computed from the kernel's own
# (already rounded) inputs: only accumulation and output rounding remain. bf16 output: half an
# ulp is 2^-9 ~ 2e-3 per element; tf32 rounds the fp32 inputs to 10 mantissa bits (~5e-4 each).
TOLERANCE = {"bf16": 1e-2, "fp16": 5e-3, "tf32": 5e-3, "int8": 0.0, "fp8_e4m3": 1e-2,
             "fp8_e5m2": 1e-2, "int8_blk128": 1e-2, "int8_blk32": 1e-2}


@dataclass
class Options:
    out_dir: Path
    shapes: list            # (M, N, K, label)
    kernels: list
    quick: bool = False     # shorter timing (smoke runs)
    seed: int = 0
    command: str = ""
    tune: bool = True       # time every Triton config candidate and keep the fastest


def _cpu_dry_run() -> bool:
    # Development aid: HWDSE_GPUBENCH_CPU=1 with TRITON_INTERPRET=1 runs every code path on the
    # CPU (Triton's interpreter, perf_counter timing) to catch bugs before spending GPU time.
    # Its timings mean nothing and it is never used for the committed data.
    return os.environ.get("HWDSE_GPUBENCH_CPU") == "1"


def _need_cuda():
    try:
        import torch
        import triton  # noqa: F401
    except ImportError as exc:
        raise ToolNotFound(f"gpu-bench needs torch and triton ({exc.name} is not installed); "
                           "run it on a CUDA machine with both") from None
    if not torch.cuda.is_available() and not _cpu_dry_run():
        raise ToolNotFound("gpu-bench needs a CUDA GPU, and torch sees none; run it on a GPU "
                           "machine, or use the committed H100 data (`hwdse roofline`)")
    return torch


def metadata(command: str) -> dict:
    import torch
    import triton
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        meta = {"gpu_name": p.name, "sm_count": p.multi_processor_count,
                "l2_bytes": getattr(p, "L2_cache_size", None), "memory_bytes": p.total_memory,
                "compute_capability": f"{p.major}.{p.minor}"}
    else:
        meta = {"gpu_name": "CPU DRY RUN (timings meaningless)", "sm_count": 0}
    meta.update({
        "torch": torch.__version__, "triton": triton.__version__, "cuda": torch.version.cuda,
        "cublas_note": "cuBLAS/cuBLASLt as bundled with torch",
        "python": platform.python_version(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command, "git_sha": os.environ.get("HWDSE_GIT_SHA", ""),
    })
    # Read-only clock/driver query; the harness never changes the card's settings.
    q = "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,temperature.gpu"
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        meta["nvidia_smi"] = dict(zip(q.split(","), [v.strip() for v in out.splitlines()[0].split(",")]))
    except Exception as exc:  # nvidia-smi missing: record why, keep going
        meta["nvidia_smi"] = f"unavailable: {exc}"
    return meta


class Bench:
    """Timing and checking helpers bound to one device and seed."""

    def __init__(self, opts: Options, log=print):
        self.torch = _need_cuda()
        import triton
        self.triton = triton
        self.opts = opts
        self.log = log
        self.cpu = _cpu_dry_run()
        self.dev = "cpu" if self.cpu else "cuda"
        if self.cpu:
            self.l2 = 2**20
        else:
            p = self.torch.cuda.get_device_properties(0)
            self.l2 = getattr(p, "L2_cache_size", 50 * 2**20) or 50 * 2**20
        self.gen = self.torch.Generator(device=self.dev)
        self.gen.manual_seed(opts.seed)
        self.last_spread = float("nan")
        self.torch.set_float32_matmul_precision("high")   # fp32 matmul -> TF32 tensor cores

    # -- timing ---------------------------------------------------------------------------
    def sync(self):
        if not self.cpu:
            self.torch.cuda.synchronize()

    def bench_ms(self, fn, warmup, rep) -> float:
        if self.cpu:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        return self.triton.testing.do_bench(fn, warmup=warmup, rep=rep, return_mode="median")

    def n_sets(self, set_bytes: int) -> int:
        """Input sets to rotate so that one pass over them exceeds 4x the L2 (at most 8)."""
        return int(min(8, max(1, math.ceil(4 * self.l2 / max(set_bytes, 1)))))

    def time(self, fns) -> float:
        """Median seconds of one call, rotating over the callables `fns` (one per input set)."""
        torch = self.torch
        state = [0]

        def call():
            fns[state[0] % len(fns)]()
            state[0] += 1
        call()
        self.sync()
        t0 = time.perf_counter()
        call()
        self.sync()
        est_ms = (time.perf_counter() - t0) * 1e3
        base = 10 if self.opts.quick else 20
        # at least ~7 timed calls for long kernels, so that the median means something
        rep = max(base, 7 * est_ms)
        # The GPU idles (clocks drop) while the host builds inputs and checks results: a 25 ms
        # warm-up brings the clocks back before the first timed call. Three do_bench medians,
        # their median kept and their spread recorded, guard against a transient slowdown.
        runs = sorted(self.bench_ms(call, warmup=max(25 if i == 0 else 5, 2 * est_ms), rep=rep)
                      for i in range(3))
        ms = runs[1]
        self.last_spread = (runs[2] - runs[0]) / ms if ms > 0 else float("nan")
        return ms * 1e-3

    # -- inputs ---------------------------------------------------------------------------
    def randn(self, shape, dtype, scale=1.0):
        t = self.torch.randn(shape, generator=self.gen, device=self.dev, dtype=self.torch.float32)
        return (t * scale).to(dtype)

    def randint8(self, shape):
        # never zeros: draw from [-127, 127]
        return self.torch.randint(-127, 128, shape, generator=self.gen, device=self.dev,
                                  dtype=self.torch.int8)

    def sample_rows(self, M: int, n: int = 64):
        torch = self.torch
        if M <= n:
            return torch.arange(M, device=self.dev)
        return torch.randperm(M, generator=self.gen, device=self.dev)[:n].sort().values


def _rel_err(out, ref) -> float:
    d = (out.double() - ref).norm().item()
    r = ref.norm().item()
    return d / r if r > 0 else d


def _row(dtype, kernel, M, N, K, m_run, t, ops, nbytes, config="", rel_err=float("nan"), check="ok",
         spread=float("nan")):
    return {"spread": spread, "dtype": dtype, "kernel": kernel, "M": M, "N": N, "K": K, "m_run": m_run,
            "time_s": t, "ops_per_s": (ops / t) if t and t > 0 else float("nan"),
            "bytes_per_s": (nbytes / t) if t and t > 0 else float("nan"),
            "config": config, "rel_err": rel_err, "check": check}


# ---------------------------------------------------------------------------------------------
# GEMMs
# ---------------------------------------------------------------------------------------------
def _pad_m(M: int, kernel: str) -> int:
    """Rows the library kernel actually runs: cuBLAS int8 (torch._int_mm) needs M > 16,
    torch._scaled_mm needs M divisible by 16; a caller with fewer rows pads (counted as padded)."""
    if kernel == "cublas_int8":
        return max(32, -(-M // 8) * 8)
    if kernel.startswith("cublas_fp8"):
        return -(-M // 16) * 16
    return M


def gemm_case(b: Bench, kernel: str, M: int, N: int, K: int) -> dict:
    """Check kernel on (M, N, K) against float64, then time it. Returns one CSV row."""
    torch = b.torch
    from analysis.gpubench import kernels as kk
    dtype = KERNEL_DTYPE[kernel]
    m_run = _pad_m(M, kernel)
    out_bytes = 2
    cfg = ""
    if kernel in ("cublas_bf16", "cublas_fp16", "cublas_tf32"):
        tdt = {"cublas_bf16": torch.bfloat16, "cublas_fp16": torch.float16,
               "cublas_tf32": torch.float32}[kernel]
        esz = 4 if tdt == torch.float32 else 2
        out_bytes = esz
        set_bytes = (m_run * K + N * K + m_run * N) * esz
        sets = [(b.randn((m_run, K), tdt), b.randn((N, K), tdt),
                 torch.empty((m_run, N), dtype=tdt, device=b.dev)) for _ in range(b.n_sets(set_bytes))]
        mk = lambda s: (lambda: torch.mm(s[0], s[1].t(), out=s[2]))  # noqa: E731
        ref_in = lambda s: (s[0].double(), s[1].double())  # noqa: E731
        in_bytes = esz * (M * K + N * K)
    elif kernel in ("cublas_int8", "triton_int8"):
        set_bytes = m_run * K + N * K + 4 * m_run * N
        sets = [(b.randint8((m_run, K)), b.randint8((N, K)),
                 torch.empty((m_run, N), dtype=torch.int32, device=b.dev))
                for _ in range(b.n_sets(set_bytes))]
        if kernel == "cublas_int8":
            mk = lambda s: (lambda: torch._int_mm(s[0], s[1].t()))  # noqa: E731
        else:
            cfg_t = _tune(b, lambda s, c: (lambda: kk.int8_gemm(s[0], s[1], s[2], config=c)),
                          sets, kk.INT8_CONFIGS[kk.m_class(M)])
            cfg = "x".join(map(str, cfg_t))
            mk = lambda s: (lambda: kk.int8_gemm(s[0], s[1], s[2], config=cfg_t))  # noqa: E731
        ref_in = lambda s: (s[0].double(), s[1].double())  # noqa: E731
        in_bytes = M * K + N * K
        out_bytes = 4
    elif kernel.startswith("cublas_fp8"):
        a_dt = torch.float8_e4m3fn if kernel.endswith("e4m3") else torch.float8_e5m2
        # cuBLASLt has no e5m2 x e5m2 FP8 GEMM: e5m2 (gradient-style) activations meet e4m3 weights
        w_dt = torch.float8_e4m3fn
        one = torch.ones((), device=b.dev, dtype=torch.float32)
        set_bytes = m_run * K + N * K + 2 * m_run * N
        sets = [(b.randn((m_run, K), a_dt), b.randn((N, K), w_dt), None)
                for _ in range(b.n_sets(set_bytes))]
        mk = lambda s: (lambda: torch._scaled_mm(s[0], s[1].t(), scale_a=one, scale_b=one,  # noqa: E731
                                                 out_dtype=torch.bfloat16))
        ref_in = lambda s: (s[0].float().double(), s[1].float().double())  # noqa: E731
        in_bytes = M * K + N * K
    elif kernel in ("triton_int8_blk1x128", "triton_int8_blk32"):
        qa_m, qb_n, qk = (1, 128, 128) if kernel.endswith("1x128") else (32, 32, 32)
        set_bytes = m_run * K + N * K + 2 * m_run * N
        sets = []
        for _ in range(b.n_sets(set_bytes)):
            qa, sa = kk.quantize_blocks(b.randn((M, K), torch.bfloat16), qa_m, qk)
            qw, sw = kk.quantize_blocks(b.randn((N, K), torch.bfloat16), qb_n, qk)
            sets.append((qa, qw, torch.empty((M, N), dtype=torch.bfloat16, device=b.dev), sa, sw))
        run = lambda s, c: (lambda: kk.blockscaled_int8_gemm(  # noqa: E731
            s[0], s[3], s[1], s[4], qa_m, qb_n, qk, c=s[2], config=c))
        cfg_t = _tune(b, run, sets, kk.BLOCKSCALED_CONFIGS[kk.m_class(M)])
        cfg = "x".join(map(str, cfg_t))
        mk = lambda s: run(s, cfg_t)  # noqa: E731
        ref_in = None
        in_bytes = M * K + N * K + 4 * (sets[0][3].numel() + sets[0][4].numel())
    else:
        raise ValueError(kernel)

    # --- check on set 0 (poisoned output first, for our own kernels) ----------------------
    s0 = sets[0]
    if s0[2] is not None:
        if s0[2].dtype == torch.int32:
            s0[2].fill_(-2**31)   # |sum| <= K*127^2 < 2^31: the sentinel never is a result
        else:
            s0[2].fill_(float("nan"))
    out = mk(s0)()
    if out is None or kernel == "triton_int8" or kernel.startswith("triton_int8_blk"):
        out = s0[2]
    b.sync()
    out = out[:M]
    rows = b.sample_rows(M)
    if ref_in is not None:
        ra, rw = ref_in(s0)
        ref = ra[:M][rows] @ rw.t()
    else:
        qa_m, qb_n, qk = (1, 128, 128) if kernel.endswith("1x128") else (32, 32, 32)
        ref = kk.blockscaled_gemm_ref(s0[0], s0[3], s0[1], s0[4], qa_m, qb_n, qk, rows=rows)
    got = out[rows]
    unwritten = bool(torch.isnan(out.float()).any().item()) if out.is_floating_point() else \
        bool((out == -2**31).any().item())
    err = _rel_err(got, ref)
    tol = TOLERANCE[dtype]
    ok = (not unwritten) and math.isfinite(err) and err <= tol
    ops = 2.0 * M * N * K
    nbytes = in_bytes + M * N * out_bytes
    if not ok:
        b.log(f"CHECK FAIL {kernel} {M}x{N}x{K}: rel_err={err:.3g} (tol {tol}), unwritten={unwritten}")
        return _row(dtype, kernel, M, N, K, m_run, float("nan"), ops, nbytes, cfg, err, "FAIL")
    t = b.time([mk(s) for s in sets])
    return _row(dtype, kernel, M, N, K, m_run, t, ops, nbytes, cfg, err, "ok", b.last_spread)


def _tune(b: Bench, run, sets, configs):
    """The fastest config (quick timing on the rotated sets) among the candidates.

    Each candidate's output on set 0 must equal the first working candidate's (int32: exactly;
    float: within 1e-3 relative), so a miscompiled variant is skipped, never timed.
    """
    if not b.opts.tune or len(configs) == 1:
        return configs[0]
    torch = b.torch
    best, best_t, base = configs[0], float("inf"), None
    times = []
    for c in configs:
        try:
            fns = [run(s, c) for s in sets]
            fns[0]()
            b.sync()
            out = sets[0][2].clone()
            if base is None:
                base = out
            elif out.dtype == torch.int32 and not torch.equal(out, base) or \
                    out.dtype != torch.int32 and _rel_err(out, base.double()) > 1e-3:
                b.log(f"  config {c} disagrees with {configs[0]}: skipped")
                continue
            ms = b.bench_ms(lambda: [f() for f in fns], warmup=3, rep=10)
        except Exception as exc:   # out of shared memory / registers, or not compilable here
            b.log(f"  config {c} failed: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        times.append(f"{'x'.join(map(str, c))}={ms / len(fns) * 1e3:.0f}us")
        if ms < best_t:
            best, best_t = c, ms
    b.log("  tune: " + " ".join(times))
    return best


# ---------------------------------------------------------------------------------------------
# Quantise / dequantise, copy, elementwise
# ---------------------------------------------------------------------------------------------
QUANT_KINDS = {"quant_1x128": (1, 128), "quant_32x32": (32, 32), "quant_128x128": (128, 128)}


def quant_cases(b: Bench, R: int, C: int) -> list[dict]:
    """Quantise (bf16 -> int8 + fp32 scales) and dequantise (-> bf16) per block kind on R x C."""
    torch = b.torch
    from analysis.gpubench import kernels as kk
    rows = []
    for name, (qr, qc) in QUANT_KINDS.items():
        set_bytes = R * C * 3
        xs = [b.randn((R, C), torch.bfloat16) for _ in range(b.n_sets(set_bytes))]
        q, s = kk.quantize_blocks(xs[0], qr, qc)
        b.sync()
        e = kk.expand_scales(s.double(), qr, qc, R, C)
        x64 = xs[0].double()
        blocks_amax = kk.quantize_blocks_ref(xs[0], qr, qc)[1].double()
        # float64 properties: |q| <= 127, |q*s - x| <= s/2 (rounding), s = amax/127 per block
        err_q = ((q.double() * e - x64).abs() - 0.5 * e * (1 + 1e-5)).max().item()
        s_err = ((s.double() - blocks_amax).abs() / blocks_amax).max().item()
        ok = err_q <= 0 and s_err <= 1e-6 and int(q.abs().max().item()) <= 127
        qrel = _rel_err(q.double() * e, x64)
        nsc = s.numel()
        bytes_q = R * C * 2 + R * C + 4 * nsc
        if not ok:
            b.log(f"CHECK FAIL {name} {R}x{C}: bound {err_q:.3g} scale {s_err:.3g}")
            rows.append(_row("int8", name, R, C, 1, R, float("nan"), R * C, bytes_q, "", qrel, "FAIL"))
            continue
        sets = [kk.quantize_blocks(x, qr, qc) for x in xs]
        t = b.time([(lambda x=x: kk.quantize_blocks(x, qr, qc)) for x in xs])
        rows.append(_row("int8", name, R, C, 1, R, t, R * C, bytes_q, "", qrel, "ok", b.last_spread))
        # dequantise: check against float64 q*s rounded once to bf16
        y = kk.dequantize_blocks(q, s, qr, qc)
        b.sync()
        derr = _rel_err(y, q.double() * e)
        dname = name.replace("quant", "dequant")
        bytes_d = R * C + 4 * nsc + R * C * 2
        if not derr <= 2.0 ** -8:
            rows.append(_row("int8", dname, R, C, 1, R, float("nan"), R * C, bytes_d, "", derr, "FAIL"))
            continue
        t = b.time([(lambda q=q, s=s: kk.dequantize_blocks(q, s, qr, qc)) for q, s in sets])
        rows.append(_row("int8", dname, R, C, 1, R, t, R * C, bytes_d, "", derr, "ok", b.last_spread))
    return rows


COPY_SIZES = [2**p for p in range(16, 33, 2)]   # 64 KiB .. 4 GiB


def copy_cases(b: Bench, sizes=COPY_SIZES) -> list[dict]:
    """Device-to-device copy bandwidth (bytes read + written) with torch's copy_."""
    torch = b.torch
    rows = []
    for n in sizes:
        sets = [(torch.randint(1, 255, (n,), dtype=torch.uint8, device=b.dev, generator=b.gen),
                 torch.empty(n, dtype=torch.uint8, device=b.dev)) for _ in range(b.n_sets(2 * n))]
        sets[0][1].zero_()
        sets[0][1].copy_(sets[0][0])
        ok = bool(torch.equal(sets[0][1], sets[0][0]))
        t = b.time([(lambda s=s: s[1].copy_(s[0])) for s in sets]) if ok else float("nan")
        rows.append(_row("uint8", "torch_copy", n, 1, 1, n, t, 0.0, 2 * n, "", 0.0 if ok else 1.0,
                         "ok" if ok else "FAIL", b.last_spread if ok else float("nan")))
        del sets
    return rows


def elementwise_cases(b: Bench, shapes) -> list[dict]:
    """Memory-bound non-GEMM operators of a transformer block in bf16 (torch eager)."""
    torch = b.torch
    F = torch.nn.functional
    rows = []
    for R, C in shapes:
        x = b.randn((R, C), torch.bfloat16)
        y = b.randn((R, C), torch.bfloat16)
        w = b.randn((C,), torch.bfloat16)
        bias = b.randn((C,), torch.bfloat16)
        cases = {
            "add": (lambda: x + y, lambda: x.double() + y.double(), 3),
            "layer_norm": (lambda: F.layer_norm(x, (C,), w, bias),
                           lambda: F.layer_norm(x.double(), (C,), w.double(), bias.double()), 2),
            "gelu": (lambda: F.gelu(x), lambda: F.gelu(x.double()), 2),
            "softmax": (lambda: torch.softmax(x, dim=-1), lambda: torch.softmax(x.double(), -1), 2),
        }
        for name, (fn, ref, passes) in cases.items():
            err = _rel_err(fn(), ref())
            ok = err <= 1e-2
            nbytes = passes * R * C * 2
            t = b.time([fn]) if ok else float("nan")
            rows.append(_row("bf16", name, R, C, 1, R, t, R * C, nbytes, "", err,
                             "ok" if ok else "FAIL", b.last_spread if ok else float("nan")))
    return rows


# ---------------------------------------------------------------------------------------------
def _write(rows, path: Path):
    import pandas as pd
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False, float_format="%.6g")


def run_all(opts: Options, parts=("copy", "gemm", "quant", "elementwise"), log=print) -> dict:
    """Run the selected parts; write <part>.csv and metadata.json under opts.out_dir as it goes."""
    b = Bench(opts, log)
    torch = b.torch
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    meta = metadata(opts.command)
    meta["parts"] = list(parts)
    (opts.out_dir / "metadata.json").write_text(json.dumps(meta, indent=2))
    log(f"# {meta['gpu_name']}, {meta['sm_count']} SMs, torch {meta['torch']}, "
        f"triton {meta['triton']}, CUDA {meta['cuda']}")
    results = {}
    t_start = time.time()
    if "copy" in parts:
        rows = copy_cases(b, sorted(set(COPY_SIZES[:3] + COPY_SIZES[-2:])) if opts.quick else COPY_SIZES)
        _write(rows, opts.out_dir / "copy.csv")
        results["copy"] = rows
        best = max((r["bytes_per_s"] for r in rows if r["check"] == "ok"), default=float("nan"))
        log(f"copy: best {best / 1e12:.3f} TB/s (read+write)  [{time.time() - t_start:.0f} s]")
    if "gemm" in parts:
        rows = []
        for i, (M, N, K, label) in enumerate(opts.shapes):
            for kernel in opts.kernels:
                try:
                    r = gemm_case(b, kernel, M, N, K)
                except Exception as exc:   # record, keep the rest of the run
                    msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                    log(f"ERROR {kernel} {M}x{N}x{K}: {msg}")
                    r = _row(KERNEL_DTYPE[kernel], kernel, M, N, K, M, float("nan"),
                             2.0 * M * N * K, 0, "", float("nan"), "ERROR " + msg.replace(",", ";"))
                r["label"] = label
                rows.append(r)
                if not b.cpu:
                    torch.cuda.empty_cache()
            line = " ".join(f"{r['kernel']}={r['ops_per_s'] / 1e12:.0f}" for r in rows[-len(opts.kernels):])
            log(f"[{i + 1}/{len(opts.shapes)} {time.time() - t_start:.0f}s] {label} {M}x{N}x{K} "
                f"T(FL)OP/s: {line}")
            _write_gemm(rows, opts.out_dir / "gemm.csv")
        results["gemm"] = rows
    if "quant" in parts:
        qshapes = _quant_shapes(opts)
        rows = []
        for R, C in qshapes:
            rows += quant_cases(b, R, C)
            _write(rows, opts.out_dir / "quant.csv")
        results["quant"] = rows
        log(f"quant: {len(rows)} rows  [{time.time() - t_start:.0f} s]")
    if "elementwise" in parts:
        rows = elementwise_cases(b, _quant_shapes(opts))
        _write(rows, opts.out_dir / "elementwise.csv")
        results["elementwise"] = rows
        log(f"elementwise: {len(rows)} rows  [{time.time() - t_start:.0f} s]")
    meta["elapsed_s"] = round(time.time() - t_start, 1)
    (opts.out_dir / "metadata.json").write_text(json.dumps(meta, indent=2))
    return results


def _write_gemm(rows, path):
    import pandas as pd
    pd.DataFrame(rows, columns=COLUMNS + ["label"]).to_csv(path, index=False, float_format="%.6g")


def _quant_shapes(opts: Options) -> list[tuple[int, int]]:
    """(rows, cols) of activation matrices: tokens x model width, tokens x MLP width."""
    if opts.quick:
        return [(512, 1024), (4096, 4096)]
    from hwmodel.workloads import MODELS
    widths = sorted({w for m in MODELS.values() for w in (m.hidden, m.ffn)})
    return [(t, w) for t in (128, 2048, 8192) for w in widths]


def main_print_summary(results: dict, log=print):
    rows = results.get("gemm", [])
    if not rows:
        return
    log("\nkernel                  shape              TFLOP/s  rel_err  check  config")
    for r in rows:
        if r["M"] == r["N"] == r["K"] or r["M"] in (1, 8192):
            log(f"{r['kernel']:<23} {r['M']}x{r['N']}x{r['K']:<10} {r['ops_per_s'] / 1e12:8.1f} "
                f"{r['rel_err']:8.2g}  {r['check']:<5} {r['config']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python3 -m analysis.commands.gpu_bench")
