"""Check, then time, every kernel on every shape, in independent passes; resumable.

Output folder (read as is by hwmodel.gpudata / `hwdse roofline --gpu DIR`):
  gemm.csv     the fitting grid (square 256..16384, the models' linear layers), every kernel
  random.csv   seeded random shapes off the grid (hwmodel.workloads.random_gemm_shapes), for
               validation only, never for fitting
  copy.csv, quant.csv, elementwise.csv   memory-bound ceilings and operators
  raw/<part>.csv   one row per pass, appended as measured (what resumption reads)
  metadata.json    GPU, SM count, L2, clocks, driver, CUDA, torch, triton; one entry per
                   invocation with date, command, commit (and where the commit came from)
Columns of the summary CSVs: dtype, kernel, M, N, K, m_run, time_s (median over the passes,
seconds), ops_per_s (2*M*N*K / time_s for GEMMs, M the caller's rows also where the library
needs M padded to m_run; elements/s for quantise/dequantise/elementwise rows), bytes_per_s (the
fewest bytes: each input read once, each output written once; copy: read + write), config (the
Triton tile config tuning chose), rel_err, check, label, device (the GPU's name), n_passes,
spread ((max - min) / median over the passes), passes_agree (spread <= PASS_TOLERANCE),
pass_times_s.

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
from dataclasses import dataclass, field
from pathlib import Path

from hwmodel.errors import DataError, ToolNotFound

COLUMNS = ["dtype", "kernel", "M", "N", "K", "m_run", "time_s", "ops_per_s", "bytes_per_s",
           "config", "rel_err", "check", "spread"]

# GEMM kernels, their dtype label in gemm.csv
GEMM_KERNELS = ["cublas_bf16", "cublas_fp16", "cublas_tf32", "cublas_int8", "triton_int8",
                "cublas_fp8_e4m3", "cublas_fp8_e5m2", "triton_int8_blk1x128",
                "triton_int8_blk32", "cublas_fp8_blk1x128", "triton_fp8_blk1x128"]
KERNEL_DTYPE = {
    "cublas_bf16": "bf16", "cublas_fp16": "fp16", "cublas_tf32": "tf32", "cublas_int8": "int8",
    "triton_int8": "int8", "cublas_fp8_e4m3": "fp8_e4m3", "cublas_fp8_e5m2": "fp8_e5m2",
    "triton_int8_blk1x128": "int8_blk128", "triton_int8_blk32": "int8_blk32",
    "cublas_fp8_blk1x128": "fp8_blk128", "triton_fp8_blk1x128": "fp8_blk128",
}
# Kernels timed on the random validation shapes (random.csv): the three cuBLAS dtypes the model's
# accuracy goal names, and the kernels of the block-scaled data flows.
RANDOM_KERNELS = ["cublas_bf16", "cublas_int8", "cublas_fp8_e4m3", "triton_int8",
                  "triton_int8_blk1x128", "cublas_fp8_blk1x128"]
# Relative Frobenius error allowed against the float64 reference computed from the kernel's own
# (already rounded) inputs: only accumulation and output rounding remain. bf16 output: half an
# ulp is 2^-9 ~ 2e-3 per element; tf32 rounds the fp32 inputs to 10 mantissa bits (~5e-4 each).
TOLERANCE = {"bf16": 1e-2, "fp16": 5e-3, "tf32": 5e-3, "int8": 0.0, "fp8_e4m3": 1e-2,
             "fp8_e5m2": 1e-2, "int8_blk128": 1e-2, "int8_blk32": 1e-2, "fp8_blk128": 1e-2}
# Independent passes: every row is timed once per pass (passes run one after another over the
# whole set, so a transient slowdown of the machine hits one pass, not all); the CSV keeps the
# median and the spread (max - min) / median. Rows whose passes disagree by more than this are
# flagged (`passes_agree` False).
PASS_TOLERANCE = 0.10
DEFAULT_PASSES = 3


@dataclass
class Options:
    out_dir: Path
    shapes: list            # (M, N, K, label) of the fitting grid -> gemm.csv
    kernels: list
    quick: bool = False     # shorter timing (smoke runs)
    seed: int = 0
    command: str = ""
    tune: bool = True       # time every Triton config candidate and keep the fastest
    random_shapes: list = field(default_factory=list)   # (M, N, K, label) -> random.csv
    random_kernels: list = field(default_factory=list)
    passes: int = DEFAULT_PASSES
    time_limit_s: float = float("inf")   # start no new row after this many seconds
    redo: list = field(default_factory=list)   # kernels whose rows in out_dir are measured again


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
                           "machine, or use the committed measurements (`hwdse roofline`)")
    return torch


def git_commit(repo: Path | None = None) -> tuple[str, str]:
    """(commit, where it came from) of the code being run: `git rev-parse HEAD` (plus '-dirty'
    when tracked files differ) in a checkout; else the HWDSE_GIT_SHA variable; else a file
    GIT_SHA in the repository root (written by whoever copied the tree without its .git)."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=repo,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                             text=True, timeout=10)
        # only the checkout this code is in: a copy inside another repository is no checkout
        if top and Path(top).resolve() == repo.resolve() and sha.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                   cwd=repo, capture_output=True, text=True, timeout=10).stdout
            return sha.stdout.strip() + ("-dirty" if dirty.strip() else ""), "git rev-parse HEAD"
    except (OSError, subprocess.SubprocessError):
        pass
    if os.environ.get("HWDSE_GIT_SHA"):
        return os.environ["HWDSE_GIT_SHA"], "environment variable HWDSE_GIT_SHA"
    f = repo / "GIT_SHA"
    if f.is_file() and f.read_text().strip():
        return f.read_text().strip(), "file GIT_SHA in the copied tree (no .git there)"
    return "", "unknown: no checkout, no HWDSE_GIT_SHA, no GIT_SHA file"


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
    sha, sha_source = git_commit()
    meta.update({
        "torch": torch.__version__, "triton": triton.__version__, "cuda": torch.version.cuda,
        "cublas_note": "cuBLAS/cuBLASLt as bundled with torch",
        "python": platform.python_version(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command, "git_sha": sha, "git_sha_source": sha_source,
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
        # warm-up brings the clocks back before the timed calls. One do_bench median per pass:
        # the repetition that guards against a transient slowdown is the independent passes.
        ms = self.bench_ms(call, warmup=max(25, 2 * est_ms), rep=rep)
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


def gemm_case(b: Bench, kernel: str, M: int, N: int, K: int, config: str = "") -> dict:
    """Check kernel on (M, N, K) against float64, then time it. Returns one CSV row.

    config: a Triton kernel's tile config as the CSV writes it (an earlier pass's choice): used
    as is, without tuning again."""
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
            cfg_t = _parse_config(config) or _tune(
                b, lambda s, c: (lambda: kk.int8_gemm(s[0], s[1], s[2], config=c)),
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
        cfg_t = _parse_config(config) or _tune(b, run, sets, kk.effective_configs(
            kk.BLOCKSCALED_CONFIGS[kk.m_class(M)], qb_n, False))
        cfg = "x".join(map(str, cfg_t))
        mk = lambda s: run(s, cfg_t)  # noqa: E731
        ref_in = None
        in_bytes = M * K + N * K + 4 * (sets[0][3].numel() + sets[0][4].numel())
    elif kernel in ("triton_fp8_blk1x128", "cublas_fp8_blk1x128"):
        # DeepSeek-V3's FP8 recipe: e4m3 codes, float32 scales per 1x128 activation block and per
        # 128x128 weight block, bf16 output
        qa_m, qb_n, qk = 1, 128, 128
        m_run = M if kernel.startswith("triton") else -(-M // 16) * 16
        set_bytes = m_run * K + N * K + 2 * m_run * N
        sets = []
        for _ in range(b.n_sets(set_bytes)):
            qa, sa = kk.quantize_blocks_fp8(b.randn((m_run, K), torch.bfloat16), qa_m, qk)
            qw, sw = kk.quantize_blocks_fp8(b.randn((N, K), torch.bfloat16), qb_n, qk)
            sets.append((qa, qw, torch.empty((m_run, N), dtype=torch.bfloat16, device=b.dev), sa, sw))
        if kernel.startswith("triton"):
            run = lambda s, c: (lambda: kk.blockscaled_int8_gemm(  # noqa: E731
                s[0], s[3], s[1], s[4], qa_m, qb_n, qk, c=s[2], config=c))
            cfg_t = _parse_config(config) or _tune(b, run, sets, kk.effective_configs(
                kk.BLOCKSCALED_CONFIGS[kk.m_class(M)], qb_n, True))
            cfg = "x".join(map(str, cfg_t))
            mk = lambda s: run(s, cfg_t)  # noqa: E731
        else:
            layout = _cublas_scale_layout(b, sets[0], config)
            cfg = f"scales{layout}"
            sets = [s[:3] + kk.cublas_blockwise_scales(s[3], s[4], layout) + (s[3], s[4])
                    for s in sets]
            mk = lambda s: (lambda: kk.cublas_fp8_blockwise_gemm(  # noqa: E731
                s[0], s[3], s[1], s[4]))
        ref_in = None
        in_bytes = M * K + N * K + 4 * (sets[0][-2].numel() + sets[0][-1].numel())
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
    if out is None or kernel == "triton_int8" or kernel.startswith("triton_") and "_blk" in kernel:
        out = s0[2]
    b.sync()
    out = out[:M]
    rows = b.sample_rows(M)
    if ref_in is not None:
        ra, rw = ref_in(s0)
        ref = ra[:M][rows] @ rw.t()
    else:
        qa_m, qb_n, qk = (1, 128, 128) if kernel.endswith("1x128") else (32, 32, 32)
        ref = kk.blockscaled_gemm_ref(s0[0][:M], s0[-2][:M], s0[1], s0[-1], qa_m, qb_n, qk,
                                      rows=rows)
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
    return _row(dtype, kernel, M, N, K, m_run, t, ops, nbytes, cfg, err, "ok")


def _tune(b: Bench, run, sets, configs):
    """The fastest config (quick timing on the rotated sets) among the candidates.

    Each candidate's output on set 0 must equal the first working candidate's (int32: exactly;
    float: within 1e-3 relative), so a miscompiled variant is skipped, never timed.
    """
    if not b.opts.tune or len(configs) == 1:
        return configs[0]
    torch = b.torch
    best, best_t, base = configs[0], float("inf"), None
    times, rejected = [], 0
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
        except Exception as exc:   # noqa: BLE001 - a candidate this GPU or compiler rejects
            if _harmless_rejection(exc):
                rejected += 1      # out of shared memory / registers: expected, not a failure
            else:
                b.log(f"  config {c} failed: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        times.append(f"{'x'.join(map(str, c))}={ms / len(fns) * 1e3:.0f}us")
        if ms < best_t:
            best, best_t = c, ms
    if not times:
        raise RuntimeError(f"no tile config of {len(configs)} ran on this GPU")
    b.log("  tune: " + " ".join(times)
          + (f" ({rejected} candidate(s) need more shared memory or registers than this GPU "
             "has: skipped)" if rejected else ""))
    return best


def _harmless_rejection(exc: Exception) -> bool:
    """A tuning candidate that does not fit the GPU (Triton's OutOfResources: shared memory,
    registers), as opposed to a compiler or kernel failure."""
    name = type(exc).__name__
    text = str(exc).lower()
    return name == "OutOfResources" or "out of resource" in text or "shared memory" in text


def _parse_config(text) -> tuple | None:
    """'128x128x8x8x3xTruex2' (as the CSV writes a config) -> (128, 128, 8, 8, 3, True, 2)."""
    if not isinstance(text, str) or not text or text.startswith("scales"):
        return None
    out = []
    for t in text.split("x"):
        out.append(True if t == "True" else False if t == "False" else int(t))
    return tuple(out)


def _cublas_scale_layout(b: Bench, s0, config: str = "") -> int:
    """Which of the scale layouts of kernels.cublas_blockwise_scales this torch accepts."""
    from analysis.gpubench import kernels as kk
    if isinstance(config, str) and config.startswith("scales"):
        return int(config[6:])
    last = None
    for layout in (0, 1):
        try:
            sa, sw = kk.cublas_blockwise_scales(s0[3], s0[4], layout)
            kk.cublas_fp8_blockwise_gemm(s0[0], sa, s0[1], sw)
            b.sync()
            return layout
        except Exception as exc:  # noqa: BLE001 - try the next layout, then report the last
            last = exc
    raise RuntimeError(f"torch._scaled_mm has no blockwise FP8 path here: "
                       f"{type(last).__name__}: {str(last).splitlines()[0][:160]}")


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
        rows.append(_row("int8", name, R, C, 1, R, t, R * C, bytes_q, "", qrel, "ok"))
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
        rows.append(_row("int8", dname, R, C, 1, R, t, R * C, bytes_d, "", derr, "ok"))
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
                         "ok" if ok else "FAIL", float("nan")))
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
                             "ok" if ok else "FAIL", float("nan")))
    return rows


# ---------------------------------------------------------------------------------------------
# Passes, resumption, summary
# ---------------------------------------------------------------------------------------------
PARTS = ("copy", "gemm", "random", "quant", "elementwise")
RAW_COLUMNS = COLUMNS + ["label", "device", "pass"]
SUMMARY_COLUMNS = ["dtype", "kernel", "M", "N", "K", "m_run", "time_s", "ops_per_s",
                   "bytes_per_s", "config", "rel_err", "check", "label", "device", "n_passes",
                   "spread", "passes_agree", "pass_times_s"]


def _key(r) -> tuple:
    return (str(r["kernel"]), int(r["M"]), int(r["N"]), int(r["K"]), int(r["pass"]))


def read_raw(path: Path) -> list[dict]:
    """Rows of a raw (one row per pass) CSV; a line cut short by an interruption is dropped."""
    import pandas as pd
    if not path.is_file() or path.stat().st_size == 0:
        return []
    df = pd.read_csv(path, on_bad_lines="skip", keep_default_na=False,
                     dtype={"config": str, "check": str, "label": str, "device": str})
    rows = []
    for r in df.to_dict("records"):
        try:
            r["M"], r["N"], r["K"], r["pass"] = (int(r[c]) for c in ("M", "N", "K", "pass"))
            r["time_s"] = float(r["time_s"]) if r["time_s"] != "" else float("nan")
        except (TypeError, ValueError):
            continue
        rows.append(r)
    return rows


def _append_raw(path: Path, rows: list[dict]):
    import csv
    new = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RAW_COLUMNS, extrasaction="ignore")
        if new:
            w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        f.flush()
        os.fsync(f.fileno())


def summarise(raw_rows: list[dict], tolerance: float = PASS_TOLERANCE) -> list[dict]:
    """One row per (kernel, M, N, K): the median time over the passes whose check passed, the
    spread (max - min) / median, and passes_agree = spread <= tolerance (a single pass agrees
    with itself). A row whose check failed in any pass keeps check != 'ok'."""
    import statistics
    groups: dict[tuple, list[dict]] = {}
    for r in raw_rows:
        groups.setdefault(_key(r)[:4], {})[int(r["pass"])] = r   # the last row of a pass wins
    out = []
    for key, by_pass in groups.items():
        rows = [by_pass[p] for p in sorted(by_pass)]
        ok = [r for r in rows if str(r["check"]) == "ok" and float(r["time_s"]) > 0]
        first = dict(ok[0] if ok else rows[0])
        bad = [r for r in rows if str(r["check"]) != "ok"]
        if bad:
            first["check"] = bad[0]["check"]
        times = [float(r["time_s"]) for r in ok]
        if times:
            t = statistics.median(times)
            spread = (max(times) - min(times)) / t
            ops = float(first["ops_per_s"] or 0) * float(first["time_s"])
            nbytes = float(first["bytes_per_s"] or 0) * float(first["time_s"])
            first.update(time_s=t, ops_per_s=ops / t, bytes_per_s=nbytes / t)
        else:
            spread = float("nan")
        first.update(n_passes=len(times), spread=spread,
                     passes_agree=bool(times) and spread <= tolerance,
                     pass_times_s=";".join(f"{x:.4g}" for x in times))
        out.append(first)
    return out


def _write_summary(rows: list[dict], path: Path):
    import pandas as pd
    pd.DataFrame(rows, columns=SUMMARY_COLUMNS).to_csv(path, index=False, float_format="%.6g")


def _items(opts: Options, parts) -> list[tuple]:
    """(part, item, [(kernel, M, N, K) keys it writes]) in measurement order."""
    items = []
    if "copy" in parts:
        sizes = sorted(set(COPY_SIZES[:3] + COPY_SIZES[-2:])) if opts.quick else COPY_SIZES
        items += [("copy", n, [("torch_copy", n, 1, 1)]) for n in sizes]
    if "gemm" in parts:
        items += [("gemm", (k, M, N, K, lab), [(k, M, N, K)])
                  for M, N, K, lab in opts.shapes for k in opts.kernels]
    if "random" in parts:
        items += [("random", (k, M, N, K, lab), [(k, M, N, K)])
                  for M, N, K, lab in opts.random_shapes for k in opts.random_kernels]
    if "quant" in parts:
        for R, C in _quant_shapes(opts):
            keys = [(n.replace("quant", d), R, C, 1) for n in QUANT_KINDS for d in ("quant", "dequant")]
            items.append(("quant", (R, C), keys))
    if "elementwise" in parts:
        for R, C in _quant_shapes(opts):
            items.append(("elementwise", (R, C), [(op, R, C, 1) for op in ELEMENTWISE_OPS]))
    return items


ELEMENTWISE_OPS = ("add", "layer_norm", "gelu", "softmax")


def _measure(b: Bench, part: str, item, config: str = "") -> list[dict]:
    if part == "copy":
        return copy_cases(b, [item])
    if part in ("gemm", "random"):
        kernel, M, N, K, label = item
        try:
            r = gemm_case(b, kernel, M, N, K, config)
        except Exception as exc:   # noqa: BLE001 - recorded as the row's check; the run goes on
            msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            b.log(f"ERROR {kernel} {M}x{N}x{K}: {msg}")
            r = _row(KERNEL_DTYPE[kernel], kernel, M, N, K, M, float("nan"), 2.0 * M * N * K, 0,
                     "", float("nan"), "ERROR " + msg.replace(",", ";"))
        r["label"] = label
        return [r]
    if part == "quant":
        return quant_cases(b, *item)
    return elementwise_cases(b, [item])


def check_out_dir(out_dir: Path, gpu_name: str):
    """The folder may hold an earlier (interrupted) run of the same GPU, never another GPU's."""
    mp = out_dir / "metadata.json"
    if mp.is_file():
        try:
            old = json.loads(mp.read_text())
        except json.JSONDecodeError:
            old = {}
        old_name = (old.get("gpu") or old).get("gpu_name")
        if old_name and old_name != gpu_name:
            raise DataError(f"--out {str(out_dir)!r} holds measurements of {old_name}, and this "
                            f"GPU is {gpu_name}; measure into a new folder: "
                            f"`hwdse gpu-bench --out NEW_DIR`")


def run_all(opts: Options, parts=PARTS, log=print) -> dict:
    """Measure the selected parts in `opts.passes` independent passes; resumable.

    Raw rows (one per pass) are appended to raw/<part>.csv as they are measured; a row already
    there for its pass is not measured again, so rerunning the same command after an
    interruption continues where it stopped. After each pass <part>.csv is rewritten with the
    median over the passes so far (summarise). metadata.json holds the GPU, versions, and one
    entry per invocation (date, command, commit, passes, elapsed time).
    """
    b = Bench(opts, log)
    torch = b.torch
    out = opts.out_dir
    meta_now = metadata(opts.command)
    check_out_dir(out, meta_now["gpu_name"])
    (out / "raw").mkdir(parents=True, exist_ok=True)
    mp = out / "metadata.json"
    meta = json.loads(mp.read_text()) if mp.is_file() else {}
    gpu_keys = ("gpu_name", "sm_count", "l2_bytes", "memory_bytes", "compute_capability", "torch",
                "triton", "cuda", "cublas_note", "python", "nvidia_smi")
    meta.setdefault("gpu", {k: meta_now.get(k) for k in gpu_keys})
    meta.setdefault("runs", [])
    run_entry = {"command": opts.command, "date_utc": meta_now["date_utc"],
                 "git_sha": meta_now["git_sha"], "git_sha_source": meta_now["git_sha_source"],
                 "parts": list(parts), "passes": opts.passes, "nvidia_smi": meta_now["nvidia_smi"]}
    meta["runs"].append(run_entry)
    meta["timing"] = (f"triton.testing.do_bench median (CUDA events, L2 flushed before each call) "
                      f"after a 25 ms warm-up, inputs rotated over sets >= 4x L2; every row checked "
                      f"against float64 before timing (rel_err, check); {opts.passes} independent "
                      f"passes over the whole set, median kept (spread = (max - min) / median; "
                      f"passes_agree = spread <= {PASS_TOLERANCE:g})")
    meta["tolerance_passes"] = PASS_TOLERANCE
    mp.write_text(json.dumps(meta, indent=2))
    device = meta_now["gpu_name"]
    log(f"# {device}, {meta_now['sm_count']} SMs, torch {meta_now['torch']}, "
        f"triton {meta_now['triton']}, CUDA {meta_now['cuda']}; commit {meta_now['git_sha'] or '?'}")

    items = _items(opts, parts)
    if opts.redo:   # a kernel changed: its rows are measured afresh (the old ones stay in git)
        for part in ("gemm", "random"):
            p = out / "raw" / f"{part}.csv"
            kept = [r for r in read_raw(p) if r["kernel"] not in opts.redo]
            if p.is_file():
                p.unlink()
            if kept:
                _append_raw(p, kept)
        run_entry["redo"] = list(opts.redo)
    raw = {part: read_raw(out / "raw" / f"{part}.csv") for part in PARTS}
    # a row that failed its check or errored is measured again (the failure may have been the
    # environment's); one that passed is not
    done = {part: {_key(r) for r in rows if str(r["check"]) == "ok"} for part, rows in raw.items()}
    configs = {}
    for part in ("gemm", "random"):
        for r in raw[part]:
            if r.get("config") and str(r["check"]) == "ok":
                configs.setdefault(_key(r)[:4], r["config"])
    t_start = time.time()
    stopped = False
    measured = 0
    for p in range(1, opts.passes + 1):
        todo = [it for it in items if any(k + (p,) not in done[it[0]] for k in it[2])]
        if todo:
            log(f"pass {p}/{opts.passes}: {len(todo)} of {len(items)} items to measure")
        for n, (part, item, keys) in enumerate(todo):
            if time.time() - t_start > opts.time_limit_s:
                stopped = True
                break
            rows = _measure(b, part, item, configs.get(keys[0], "") if part in ("gemm", "random") else "")
            for r in rows:
                r["device"] = device
                r["pass"] = p
                r.setdefault("label", "")
                if part in ("gemm", "random") and r.get("config") and r["check"] == "ok":
                    configs.setdefault(_key(r)[:4], r["config"])
            _append_raw(out / "raw" / f"{part}.csv", rows)
            raw[part] += rows
            done[part] |= {_key(r) for r in rows if str(r["check"]) == "ok"}
            measured += len(rows)
            if part in ("gemm", "random"):
                r = rows[0]
                log(f"[p{p} {n + 1}/{len(todo)} {time.time() - t_start:.0f}s] {r['kernel']} "
                    f"{r['M']}x{r['N']}x{r['K']}: {r['time_s'] * 1e6:.1f} us "
                    f"{r['ops_per_s'] / 1e12:.0f} T/s {r['check'] if r['check'] != 'ok' else ''}")
            if not b.cpu:
                torch.cuda.empty_cache()
        for part in PARTS:
            if raw[part]:
                _write_summary(summarise(raw[part]), out / f"{part}.csv")
        if stopped:
            break
    run_entry["elapsed_s"] = round(time.time() - t_start, 1)
    run_entry["rows_measured"] = measured
    run_entry["complete"] = not stopped
    mp.write_text(json.dumps(meta, indent=2))
    results = {part: summarise(raw[part]) for part in PARTS if raw[part]}
    if stopped:
        log(f"time limit reached after {run_entry['elapsed_s']} s: the rows measured so far are "
            f"in {out}; run the same command again to continue")
    return {"results": results, "complete": not stopped}


def _quant_shapes(opts: Options) -> list[tuple[int, int]]:
    """(rows, cols) of activation matrices: tokens x model width, tokens x MLP width."""
    if opts.quick:
        return [(512, 1024), (4096, 4096)]
    from hwmodel.workloads import MODELS
    widths = sorted({w for m in MODELS.values() for w in (m.hidden, m.ffn)})
    return [(t, w) for t in (128, 2048, 8192) for w in widths]


def summary_lines(results: dict) -> list[str]:
    rows = results.get("gemm", [])
    lines = []
    if rows:
        lines.append("kernel                  shape              TFLOP/s  passes spread  check  config")
        for r in rows:
            if r["M"] == r["N"] == r["K"] and r["M"] >= 4096:
                lines.append(f"{r['kernel']:<23} {r['M']}x{r['N']}x{r['K']:<10} "
                             f"{r['ops_per_s'] / 1e12:8.1f} {r['n_passes']:6d} {r['spread']:6.2f}  "
                             f"{r['check']:<5} {r['config']}")
    for part, rr in results.items():
        n_bad = sum(1 for r in rr if str(r["check"]) != "ok")
        n_dis = sum(1 for r in rr if str(r["check"]) == "ok" and not r["passes_agree"])
        lines.append(f"{part}: {len(rr)} rows, {n_bad} failed their check, {n_dis} whose passes "
                     f"disagree by more than {PASS_TOLERANCE:.0%}")
    return lines


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python3 -m analysis.commands.gpu_bench")
