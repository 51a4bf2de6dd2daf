"""`hwdse gpu-bench`: measure copy bandwidth, GEMM throughput per dtype and the INT8 data flow."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from hwmodel.errors import UnsupportedConfig

HELP = "measure a CUDA GPU for the roofline model: GEMMs, copy, quantise, elementwise (torch + triton)"
DESCRIPTION = """\
Measure, on the CUDA GPU this machine has, everything `hwdse roofline --gpu DIR` and the report
need, into one folder DIR:
  copy         device-to-device copy bandwidth (bytes read + written), 64 KiB .. 4 GiB
  gemm         the fitting grid: square 256..16384, the linear layers of BERT-base/large,
               GPT-2 (small, XL) and LLaMA-2-7B at M = 1 .. 8192 tokens, and 48 seeded random
               shapes (another seed than the validation shapes), with cuBLAS
               bf16/fp16/tf32, cuBLAS int8 (torch._int_mm), our Triton INT8 GEMM, cuBLASLt fp8
               e4m3/e5m2 (torch._scaled_mm), our per-block-scaled INT8 GEMMs (1x128 x 128x128;
               Jetfire's 32x32), and FP8 with 1x128 x 128x128 float32 block scales (DeepSeek-V3
               style: cuBLASLt through torch._scaled_mm where torch offers it, and our Triton kernel)
  random       seeded random shapes off the grid (M 16..16384, N, K 256..16384, some M <= 64),
               measured separately (random.csv) to validate the fitted model
  quant        per-block quantise/dequantise kernels (1x128, 32x32, 128x128)
  elementwise  bf16 add / layer_norm / gelu / softmax (memory-bound operators of a block)
Every kernel is checked against a float64 reference before it is timed (triton.testing.do_bench
median, L2 flushed, inputs rotated). Each row is timed in --passes independent passes over the
whole set; the CSVs keep the median, the spread and a flag where the passes disagree by more
than 10%. Interrupted (or stopped by --time-limit)? Run the same command again: rows already in
DIR are not measured again. The commit is recorded from `git rev-parse HEAD`, or from
HWDSE_GIT_SHA or a GIT_SHA file where the tree was copied without its .git.
Without a CUDA GPU it exits with code 2 and says so; the committed data in hwmodel/data/gpu/
feeds `hwdse roofline` on any machine.
"""

PARTS = ("copy", "gemm", "random", "quant", "elementwise")


def add_arguments(p):
    p.add_argument("--out", type=Path, default=Path("gpu-bench-out"), help="output folder")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    p.add_argument("--kernels", default="all", help="comma list of GEMM kernels, or 'all'")
    p.add_argument("--shapes", default="all", choices=("all", "square", "models", "smoke"),
                   help="GEMM grid (smoke: a handful, for a first check)")
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="number of random validation shapes (default 40; smoke: 4)")
    p.add_argument("--passes", type=int, default=3, help="independent passes per row (default 3)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="start no new row after S seconds (rerun to continue)")
    p.add_argument("--redo", default="", metavar="KERNELS",
                   help="comma list of GEMM kernels whose rows already in --out are measured "
                        "again (after a change to the kernel)")
    p.add_argument("--quick", action="store_true", help="shorter timing, fewer copy/quant sizes")
    p.add_argument("--no-tune", action="store_true", help="first Triton config only, no tuning")
    p.add_argument("--seed", type=int, default=0)


def select_shapes(which: str):
    """(M, N, K, label) list for a shape-set name."""
    from hwmodel.workloads import SQUARE_SIZES, fit_random_shapes, gemm_shapes
    if which == "square":
        return gemm_shapes(models=(), squares=SQUARE_SIZES)
    if which == "models":
        return gemm_shapes(squares=())
    if which == "smoke":
        return [(1024, 1024, 1024, "square1024"), (8192, 8192, 8192, "square8192"),
                (1, 4096, 4096, "llama-2-7b:attn_out"), (16, 2304, 768, "bert-base:qkv"),
                (2048, 4800, 1600, "gpt2-xl:qkv"), (512, 4096, 11008, "llama-2-7b:mlp_down")]
    return gemm_shapes() + fit_random_shapes()


def parse_list(text: str, allowed, what: str):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return list(allowed)
    bad = [t for t in items if t not in allowed]
    if bad or not items:
        raise UnsupportedConfig(f"{what} must be a comma list of {', '.join(allowed)} (or 'all'), "
                                f"not {text!r}")
    return items


def run(args) -> int:
    from analysis.gpubench import harness
    from hwmodel.workloads import random_gemm_shapes
    parts = parse_list(args.parts, PARTS, "--parts")
    kernels = parse_list(args.kernels, harness.GEMM_KERNELS, "--kernels")
    if not (isinstance(args.passes, int) and 1 <= args.passes <= 20):
        raise UnsupportedConfig(f"--passes must be an integer 1..20, not {args.passes!r}")
    n_random = args.random if args.random is not None else (4 if args.shapes == "smoke" else 40)
    if n_random < 0:
        raise UnsupportedConfig(f"--random must be >= 0, not {n_random}")
    redo = parse_list(args.redo, harness.GEMM_KERNELS, "--redo") if args.redo else []
    _check_out(args.out)
    # the exact command line, recorded in metadata.json: after `gpu-bench` when run through the
    # hwdse CLI, or all arguments when run as `python3 -m analysis.commands.gpu_bench`
    if "gpu-bench" in sys.argv:
        argv = sys.argv[sys.argv.index("gpu-bench") + 1:]
    elif sys.argv and sys.argv[0].endswith("gpu_bench.py"):
        argv = sys.argv[1:]
    else:
        argv = []
    command = "hwdse gpu-bench " + " ".join(shlex.quote(a) for a in argv)
    opts = harness.Options(out_dir=args.out, shapes=select_shapes(args.shapes), kernels=kernels,
                           quick=args.quick, seed=args.seed, command=command.strip(),
                           tune=not args.no_tune,
                           random_shapes=random_gemm_shapes(n_random) if n_random else [],
                           random_kernels=[k for k in harness.RANDOM_KERNELS if k in kernels],
                           passes=args.passes, redo=redo,
                           time_limit_s=args.time_limit if args.time_limit else float("inf"))
    res = harness.run_all(opts, parts=parts, log=lambda s: print(s, flush=True))
    for line in harness.summary_lines(res["results"]):
        print(line)
    if not res["complete"]:
        return 0
    failed = [r for rows in res["results"].values() for r in rows if r["check"] != "ok"]
    if failed:
        print(f"{len(failed)} case(s) failed their check or errored; see the CSVs", file=sys.stderr)
        return 1
    return 0


def _check_out(out: Path):
    """--out must be a folder we can write into (made if missing), before any measurement."""
    import os
    if out.exists() and not out.is_dir():
        raise UnsupportedConfig(f"--out must be a folder, not the file {str(out)!r}")
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(probe, os.W_OK):
        raise UnsupportedConfig(f"--out {str(out)!r} is not writable; pick another folder")


if __name__ == "__main__":  # runs where analysis.cli's other commands' imports are missing
    import argparse

    from hwmodel.errors import HwdseError
    parser = argparse.ArgumentParser(prog="gpu_bench", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    try:
        sys.exit(run(parser.parse_args()))
    except HwdseError as exc:
        print(f"hwdse gpu-bench: error: {exc}", file=sys.stderr)
        sys.exit(2)
