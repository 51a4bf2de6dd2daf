"""Transformer layer shapes: the GEMMs and the memory-bound operators of one block.

A block of a decoder/encoder transformer, per token (rows of the activation matrix):
  QKV projection      M x 3h x h      (GEMM, weights h x 3h)
  attention output    M x h x h
  MLP up              M x f_up x h    (f_up = f, or 2f for gated MLPs such as LLaMA's SwiGLU:
                                        gate and up fused into one GEMM)
  MLP down            M x h x f
plus the attention core (QK^T and PV, batched GEMMs over heads) and the memory-bound operators
(layer norms, residual adds, activation, softmax). GEMM shapes follow the BLAS convention used
throughout hwdse: C[M, N] = A[M, K] @ B[K, N], M = tokens.

Model dimensions come from the models' published configurations (the `source` of each entry).
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

import numpy as np

from hwmodel.errors import UnsupportedConfig


@dataclass(frozen=True)
class TransformerConfig:
    """Dimensions of one transformer block (hidden size, MLP width, heads)."""

    name: str
    hidden: int            # model width h
    ffn: int               # MLP inner width f
    heads: int
    layers: int
    gated_mlp: bool = False  # SwiGLU: gate and up projections, fused into one N = 2f GEMM
    source: str = field(default="", compare=False)

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def linear_layers(self) -> list[tuple[str, int, int]]:
        """(layer name, N, K) of the four weight GEMMs of one block."""
        h, f = self.hidden, self.ffn
        up = 2 * f if self.gated_mlp else f
        return [("qkv", 3 * h, h), ("attn_out", h, h), ("mlp_up", up, h), ("mlp_down", h, f)]


MODELS: dict[str, TransformerConfig] = {m.name: m for m in [
    TransformerConfig("bert-base", 768, 3072, 12, 12,
                      source="Devlin et al. 2019 (arXiv:1810.04805), BERT-BASE: L=12, H=768, A=12"),
    TransformerConfig("bert-large", 1024, 4096, 16, 24,
                      source="Devlin et al. 2019 (arXiv:1810.04805), BERT-LARGE: L=24, H=1024, A=16"),
    TransformerConfig("gpt2", 768, 3072, 12, 12,
                      source="Radford et al. 2019, GPT-2 small (124M): n_embd=768, n_layer=12, n_head=12"),
    TransformerConfig("gpt2-xl", 1600, 6400, 25, 48,
                      source="Radford et al. 2019, GPT-2 XL (1.5B): n_embd=1600, n_layer=48, n_head=25"),
    TransformerConfig("llama-2-7b", 4096, 11008, 32, 32, gated_mlp=True,
                      source="Touvron et al. 2023 (arXiv:2307.09288), LLaMA-2-7B config: hidden 4096, "
                             "intermediate 11008, 32 heads, 32 layers, SwiGLU"),
]}

# Token counts (GEMM M) measured on the GPU: decode (1, 16) to large prefill batches (8192).
TOKEN_COUNTS = (1, 16, 128, 512, 2048, 8192)
# Square GEMM sizes measured on the GPU.
SQUARE_SIZES = (256, 512, 1024, 2048, 4096, 8192, 16384)


def get_model(name: str) -> TransformerConfig:
    """The catalogue entry `name`; UnsupportedConfig naming the known models otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnsupportedConfig(
            f"model must be one of {sorted(MODELS)}, not {name!r}") from None


def gemm_shapes(models=("bert-base", "bert-large", "gpt2", "gpt2-xl", "llama-2-7b"),
                tokens=TOKEN_COUNTS, squares=SQUARE_SIZES) -> list[tuple[int, int, int, str]]:
    """Distinct (M, N, K, label) GEMM shapes: squares first, then each model's linear layers.

    Shapes shared by two models (GPT-2 small and BERT-base have the same widths) appear once,
    labelled with the first model that has them.
    """
    seen: dict[tuple[int, int, int], str] = {}
    for s in squares:
        seen.setdefault((s, s, s), f"square{s}")
    for name in models:
        model = get_model(name)
        for layer, n, k in model.linear_layers():
            for m in tokens:
                seen.setdefault((m, n, k), f"{name}:{layer}")
    return [(m, n, k, label) for (m, n, k), label in seen.items()]


# The random validation shapes: never part of the fitting grid, measured into random.csv.
RANDOM_SEED = 20261201
RANDOM_COUNT = 40
# Random shapes that ARE part of the fitting grid (gemm.csv, label "fitrandomN"): another seed,
# disjoint from the validation shapes, so that the fit sees shapes off the models' widths too.
FIT_RANDOM_SEED = 7
FIT_RANDOM_COUNT = 48


def fit_random_shapes(n: int = FIT_RANDOM_COUNT) -> list[tuple[int, int, int, str]]:
    """Seeded random shapes of the fitting grid, disjoint from `random_gemm_shapes()`."""
    avoid = {(m, nn, k) for m, nn, k, _ in random_gemm_shapes()}
    return random_gemm_shapes(n, FIT_RANDOM_SEED, "fitrandom", avoid)


def random_gemm_shapes(n: int = RANDOM_COUNT, seed: int = RANDOM_SEED, prefix: str = "random",
                       avoid=frozenset()) -> list[tuple[int, int, int, str]]:
    """`n` seeded (M, N, K, label) shapes off the measurement grid, for validating the fitted model.

    M is log-uniform in 16..16384 (the first quarter of the shapes in 16..64: skinny decode-like
    GEMMs), N and K log-uniform in 256..16384 and rounded to multiples of 16 (what cuBLASLt FP8
    and cuBLAS INT8 accept); the set is the same on every machine. A shape that falls on the grid
    (`gemm_shapes()`) is drawn again.
    """
    if not (isinstance(n, int) and n > 0):
        raise UnsupportedConfig(f"number of random shapes must be a positive integer, not {n!r}")
    rng = np.random.default_rng(seed)
    grid = {(m, nn, k) for m, nn, k, _ in gemm_shapes()}
    out: list[tuple[int, int, int, str]] = []
    seen = set()
    while len(out) < n:
        m_hi = 64 if len(out) < n // 4 else 16384
        m = int(round(math.exp(rng.uniform(math.log(16), math.log(m_hi)))))
        nn, k = (int(round(math.exp(rng.uniform(math.log(256), math.log(16384))) / 16)) * 16
                 for _ in range(2))
        if (m, nn, k) in grid or (m, nn, k) in seen or (m, nn, k) in avoid:
            continue
        seen.add((m, nn, k))
        out.append((m, nn, k, f"{prefix}{len(out)}"))
    return out


@dataclass(frozen=True)
class MemoryOp:
    """A memory-bound operator of a block: bytes it must move through device memory."""

    name: str
    bytes: float


def nongemm_ops(model: TransformerConfig, tokens: int, context: int, act_bytes: int = 2,
                phase: str = "prefill") -> list[MemoryOp]:
    """Memory-bound operators of one block for `tokens` rows, with activations of act_bytes.

    prefill: `tokens` tokens attend to `context` tokens each (context = sequence length);
    the softmax reads and writes heads x tokens x context scores. decode: `tokens` sequences each
    add one token; attention reads the KV cache (2 x context x h values per sequence).
    Each operator reads its inputs once and writes its outputs once (the fewest bytes); fused
    kernels would move less, so this is the unfused eager-mode count.
    """
    if phase not in ("prefill", "decode"):
        raise UnsupportedConfig(f"phase must be 'prefill' or 'decode', not {phase!r}")
    h, f = model.hidden, model.ffn
    t = tokens
    row = t * h * act_bytes
    ops = [
        MemoryOp("layernorm_1", 2 * row),            # read x, write y
        MemoryOp("layernorm_2", 2 * row),
        MemoryOp("residual_add_1", 3 * row),         # read two, write one
        MemoryOp("residual_add_2", 3 * row),
    ]
    if model.gated_mlp:                              # silu(gate) * up: read 2f, write f
        ops.append(MemoryOp("swiglu", 3 * t * f * act_bytes))
    else:                                            # gelu: read f, write f
        ops.append(MemoryOp("gelu", 2 * t * f * act_bytes))
    if phase == "prefill":
        scores = model.heads * t * context * act_bytes
        ops.append(MemoryOp("softmax", 2 * scores))
    else:
        # one new token per sequence reads its K and V caches: 2 x context x h values
        ops.append(MemoryOp("kv_cache_read", 2 * t * context * h * act_bytes))
    return ops


def attention_flops(model: TransformerConfig, tokens: int, context: int) -> float:
    """Multiply-add operations x 2 of QK^T and PV for `tokens` queries over `context` keys."""
    return 2.0 * 2.0 * tokens * context * model.hidden
