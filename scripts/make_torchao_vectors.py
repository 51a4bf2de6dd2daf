"""Record torchao's MX and NVFP4 quantisers on random and adversarial tensors (reference vectors).

Run once, in a separate environment that has torch and torchao (never the project's venv):
    python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0
    /tmp/torchvenv/bin/pip install "torchao==0.18.*" numpy
    /tmp/torchvenv/bin/python scripts/make_torchao_vectors.py tests/data/torchao_mx
It writes vectors.npz (inputs as float32, torchao's scale codes and unpacked element codes) and
metadata.json (versions, date, what each array holds). tests/hwmodel/test_block_torchao.py checks
hwmodel.blockscaled against them with no torch installed.

Arrays in vectors.npz, for each case name C:
    C__x              float32 inputs, shape (rows, n)
    C__scales         uint8 scale codes (E8M0 for MX, E4M3 for NVFP4), shape (rows, n / block)
    C__elements       uint8 element codes, one per element (fp4 unpacked), shape (rows, n)
    C__tensor_scale   float32 per-tensor scale (NVFP4 two-level cases only), shape ()
Cases: mx_<dtype>_<mode> for dtype in e4m3, e5m2, e2m3, e3m2, e2m1 and mode floor / rceil
(torchao.prototype.mx_formats.mx_tensor.to_mx, block 32), nvfp4_single and nvfp4_two_level
(nvfp4_tensor.nvfp4_quantize, block 16, without / with per_tensor_amax_to_scale).
"""

from __future__ import annotations

import datetime
import importlib.metadata as md
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from torchao.prototype.mx_formats import mx_tensor, nvfp4_tensor
from torchao.prototype.mx_formats.config import ScaleCalculationMode
from torchao.prototype.mx_formats.kernels import unpack_uint4

SEED = 20261201
MX_DTYPES = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2, "e2m3": "fp6_e2m3",
             "e3m2": "fp6_e3m2", "e2m1": torch.float4_e2m1fn_x2}
ELEM_MAX = {"e4m3": 448.0, "e5m2": 57344.0, "e2m3": 7.5, "e3m2": 28.0, "e2m1": 6.0}
ELEM_EMAX = {"e4m3": 8, "e5m2": 15, "e2m3": 2, "e3m2": 4, "e2m1": 2}


def adversarial_rows(rng, n: int, block: int, elem: str) -> list[np.ndarray]:
    """Rows that hit the corners of the scale rules and the element rounding."""
    emax, e_pow = ELEM_MAX[elem], ELEM_EMAX[elem]
    rows = []
    for k in (-20, -3, 0, 1, 7, 30):
        base = rng.standard_normal(n)
        blocks = base.reshape(-1, block)
        # amax exactly a power of two, exactly elem_max * 2^k, and one ulp (fp32) above each
        blocks[0, 0] = 2.0 ** k
        blocks[1, 0] = emax * 2.0 ** k if blocks.shape[0] > 1 else blocks[0, 0]
        rows.append(blocks.reshape(-1) * 2.0 ** k)
        r = blocks.reshape(-1).astype(np.float32)
        r[0] = np.nextafter(np.float32(2.0 ** k), np.float32(np.inf))
        if len(r) > block:
            r[block] = np.nextafter(np.float32(emax * 2.0 ** k), np.float32(np.inf))
        rows.append(r.astype(np.float64))
    # rounding ties of the element grid after OCP scaling: amax fixes the scale 2^(e - emax_pow)
    for e in (-2, 0, 5):
        X = 2.0 ** (e - e_pow)
        grid = rng.integers(-64, 64, n) / 8.0          # multiples of 1/8: many ties for 1-3 man bits
        r = grid * X
        r.reshape(-1, block)[:, 0] = 2.0 ** e * 1.5    # fixes floor(log2 amax) = e
        rows.append(r)
    rows.append(np.zeros(n))                            # all-zero blocks
    r = np.zeros(n)
    r[::3] = -0.0
    r[1::3] = 2.0 ** -140                               # fp32 subnormals
    rows.append(r)
    rows.append(rng.standard_normal(n) * 2.0 ** -121)   # tiny blocks: scale clamps at 2^-127
    rows.append(rng.standard_normal(n) * 2.0 ** 126)    # near the top of fp32
    rows.append(np.full(n, 3.0e38) * np.sign(rng.standard_normal(n)))
    r = rng.standard_normal(n)
    r[3] = np.nan                                       # a NaN block
    r[block + 5] = np.inf                               # an inf block
    r[n - 1] = -np.inf                                  # +inf and -inf in the last block
    rows.append(r)
    r = rng.standard_normal(n)
    r[1] = np.inf                                       # a block with one +inf only
    r[n - 2] = -np.inf                                  # a block with one -inf only
    rows.append(r)
    return rows


def make_inputs(rng, rows_random: int, n: int, block: int, elem: str) -> np.ndarray:
    rnd = [rng.standard_normal(n) * 2.0 ** rng.uniform(-40, 40) for _ in range(rows_random // 2)]
    rnd += [rng.standard_t(3, n) * 2.0 ** rng.uniform(-10, 10) for _ in range(rows_random // 2)]
    rnd += [rng.uniform(-1, 1, n) * 2.0 ** rng.integers(-10, 10) *
            (rng.random(n) < 0.3) for _ in range(8)]   # sparse blocks
    x = np.stack(rnd + adversarial_rows(rng, n, block, elem)).astype(np.float32)
    return x


def unpack_fp4(packed: torch.Tensor, shape) -> np.ndarray:
    return unpack_uint4(packed.contiguous()).view(torch.uint8).numpy().reshape(shape)


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    cases: dict[str, dict] = {}
    for name, dt in MX_DTYPES.items():
        x = make_inputs(rng, 48, 64, 32, name)
        for mode in (ScaleCalculationMode.FLOOR, ScaleCalculationMode.RCEIL):
            scale, data = mx_tensor.to_mx(torch.from_numpy(x), dt, 32, mode)
            key = f"mx_{name}_{mode.value}"
            arrays[f"{key}__x"] = x
            arrays[f"{key}__scales"] = scale.view(torch.uint8).numpy().copy()
            if name == "e2m1":
                arrays[f"{key}__elements"] = unpack_fp4(data, x.shape)
            else:
                arrays[f"{key}__elements"] = data.view(torch.uint8).numpy().copy().reshape(x.shape)
            cases[key] = {"function": "torchao.prototype.mx_formats.mx_tensor.to_mx",
                          "elem_dtype": str(dt), "block_size": 32,
                          "scaling_mode": f"ScaleCalculationMode.{mode.name}"}
    x = make_inputs(rng, 48, 64, 16, "e2m1")
    xt = torch.from_numpy(x)
    for key, pts in (("nvfp4_single", None),
                     ("nvfp4_two_level", nvfp4_tensor.per_tensor_amax_to_scale(
                         torch.amax(torch.abs(xt[torch.isfinite(xt)]))))):
        scales, data = nvfp4_tensor.nvfp4_quantize(xt, 16, pts)
        arrays[f"{key}__x"] = x
        arrays[f"{key}__scales"] = scales.view(torch.uint8).numpy().copy()
        arrays[f"{key}__elements"] = unpack_fp4(data, x.shape)
        if pts is not None:
            arrays[f"{key}__tensor_scale"] = np.float32(pts.item())
        cases[key] = {"function": "torchao.prototype.mx_formats.nvfp4_tensor.nvfp4_quantize",
                      "block_size": 16,
                      "per_tensor_scale": None if pts is None else
                      "per_tensor_amax_to_scale(amax over the finite inputs)"}
    np.savez_compressed(out / "vectors.npz", **arrays)
    meta = {"made_by": "scripts/make_torchao_vectors.py", "seed": SEED,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "torch": torch.__version__, "torchao": md.version("torchao"),
            "numpy": np.__version__, "device": "cpu", "cases": cases}
    (out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(arrays)} arrays for {len(cases)} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/torchao_mx"))
