"""hwmodel.blockscaled against torchao's MX and NVFP4 quantisers, bit for bit, on committed vectors
(tests/data/torchao_mx, made by scripts/make_torchao_vectors.py; no torch needed here).

Where torchao and the OCP MX v1.0 text disagree, the tool follows the OCP text (or, for RCEIL, the
exact rule); each disagreement is asserted explicitly below, so that a change on either side shows:
  1. blocks with inf (no NaN): OCP-style, the tool gives the NaN scale; torchao's FLOOR gives the
     finite scale 2^(128 - emax_elem) (inf's exponent field read as 2^128) and its RCEIL 0xFE.
  2. tiny blocks whose scale clamps at E8M0's smallest, 2^-127 (code 0): torchao's FLOOR divides by
     2^-126 (its F32_MIN_NORMAL clamp) and its RCEIL does not scale at all (reciprocal 1.0), so
     their elements are those of scale 2^-126 or 1 under code 0; the tool divides by 2^-127.
  3. RCEIL: torchao's eager path takes ceil(log2(fl32(amax / elem_max))) in float32, which rounds
     values just above a power of two down to it; the tool's POW2 rule is exact (the smallest 2^k
     with amax / 2^k <= elem_max), one binade higher there, and torchao's elements saturate.
  4. NaN blocks: both give the NaN scale code; the elements of a NaN-scaled block are meaningless
     (the tool writes zeros, torchao the NaN-ish codes of its casts) and are not compared.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from hwmodel import blockscaled as B
from hwmodel import numerics as N
from hwmodel.formats import parse_format

from tests.hwmodel.blockfmt import E8M0, block

DATA = Path(__file__).resolve().parents[1] / "data" / "torchao_mx"
VEC = np.load(DATA / "vectors.npz")
META = json.loads((DATA / "metadata.json").read_text())
ELEMS = ("e4m3", "e5m2", "e2m3", "e3m2", "e2m1")


def test_metadata_names_versions_and_script():
    assert META["torch"].startswith("2.13.0") and META["torchao"].startswith("0.18")
    assert META["made_by"] == "scripts/make_torchao_vectors.py"
    assert (DATA.parents[2] / META["made_by"]).exists()
    assert len(META["cases"]) == 12


def _blocks(x, bs):
    return x.reshape(*x.shape[:-1], x.shape[-1] // bs, bs)


@pytest.mark.parametrize("elem", ELEMS)
def test_mx_floor_equals_ocp_rule(elem):
    key = f"mx_{elem}_floor"
    x, ts, te = VEC[f"{key}__x"], VEC[f"{key}__scales"], VEC[f"{key}__elements"]
    f = block(elem, "e8m0", 32, "ocp")
    c = B.quantize_blocks(f, x.astype(np.float64))
    xb = _blocks(x.astype(np.float64), 32)
    nonfinite = ~np.isfinite(xb).all(axis=-1)
    has_nan = np.isnan(xb).any(axis=-1)
    tiny = (c.scales == 0) & ~nonfinite
    normal = ~nonfinite & ~tiny
    assert normal.sum() > 100 and tiny.sum() >= 2 and (nonfinite & ~has_nan).sum() >= 2
    # ordinary blocks: identical scale and element codes
    assert (c.scales[normal] == ts[normal]).all()
    eb, teb = _blocks(c.elements, 32), _blocks(te, 32)
    assert (eb[normal] == teb[normal]).all()
    # 1. inf blocks: tool NaN; torchao 2^(128 - emax_elem)
    inf_only = nonfinite & ~has_nan
    assert (c.scales[inf_only] == 0xFF).all()
    assert (ts[inf_only] == 127 + 128 - B._elem_emax(f.element)).all()
    # 4. NaN blocks: both NaN
    assert (c.scales[has_nan] == 0xFF).all() and (ts[has_nan] == 0xFF).all()
    # 2. tiny blocks: same code 0, torchao's elements are x / 2^-126
    assert (ts[tiny] == 0).all()
    torchao_like = N.encode(f.element, np.ldexp(xb[tiny], 126), saturate=True)
    assert (teb[tiny] == torchao_like).all()
    ours = N.encode(f.element, np.ldexp(xb[tiny], 127), saturate=True)
    assert (eb[tiny] == ours).all()


@pytest.mark.parametrize("elem", ELEMS)
def test_mx_rceil_equals_pow2_rule_except_float32_log2(elem):
    key = f"mx_{elem}_rceil"
    x, ts, te = VEC[f"{key}__x"], VEC[f"{key}__scales"], VEC[f"{key}__elements"]
    f = block(elem, "e8m0", 32, "pow2")
    c = B.quantize_blocks(f, x.astype(np.float64))
    xb = _blocks(x.astype(np.float64), 32)
    finite = np.isfinite(xb).all(axis=-1)
    emax = B.element_max(f.element)
    amax = np.abs(xb).max(axis=-1)
    tiny = finite & (c.scales == 0)
    same = finite & (c.scales == ts) & ~tiny
    differ = finite & (c.scales != ts)
    assert same.sum() > 100 and differ.sum() >= 1 and tiny.sum() >= 2
    assert (_blocks(c.elements, 32)[same] == _blocks(te, 32)[same]).all()
    # 2. tiny blocks: code 0 on both sides; torchao's elements are x itself (reciprocal 1.0)
    assert (ts[tiny] == 0).all()
    assert (_blocks(te, 32)[tiny] == N.encode(f.element, xb[tiny], saturate=True)).all()
    # 3. where they differ, torchao's scale is one binade too small: amax / X > elem_max
    assert (c.scales[differ].astype(int) == ts[differ].astype(int) + 1).all()
    k_tao = ts[differ].astype(int) - 127
    assert (amax[differ] > emax * 2.0 ** k_tao).all()
    k_ours = c.scales[differ].astype(int) - 127
    assert (amax[differ] <= emax * 2.0 ** k_ours).all()
    # NaN blocks: 0xFF on both sides; inf blocks: torchao 0xFE, the tool NaN (1.)
    has_nan = np.isnan(xb).any(axis=-1)
    assert (ts[has_nan] == 0xFF).all() and (c.scales[~finite] == 0xFF).all()
    assert (ts[~finite & ~has_nan] == 0xFE).all()


@pytest.mark.parametrize("key", ["nvfp4_single", "nvfp4_two_level"])
def test_nvfp4_equals_amax_rule(key):
    x, ts, te = VEC[f"{key}__x"], VEC[f"{key}__scales"], VEC[f"{key}__elements"]
    two = f"{key}__tensor_scale" in VEC
    f = block("e2m1", "ue4m3", 16, "amax", "fp32" if two else None)
    fin = x[np.isfinite(x)]
    c = B.quantize_blocks(f, x.astype(np.float64),
                          tensor_amax=float(np.abs(fin).max()) if two else None)
    if two:
        assert c.tensor_scale == float(VEC[f"{key}__tensor_scale"])
    # torchao's float8_e4m3fn scale codes are UE4M3 codes (the sign bit is always 0)
    assert (c.scales == ts).all()
    xb = _blocks(x, 16)
    has_nan = np.isnan(xb).any(axis=-1)
    assert has_nan.sum() >= 1 and (~np.isfinite(xb).all(axis=-1) & ~has_nan).sum() >= 1
    eb, teb = _blocks(c.elements, 16), _blocks(te, 16)
    assert (eb[~has_nan] == teb[~has_nan]).all()       # inf blocks included: both saturate


def test_vectors_exercise_the_adversarial_corners():
    x = VEC["mx_e4m3_floor__x"]
    assert (x == 0).all(axis=1).any()                  # an all-zero row
    assert np.isnan(x).any() and np.isinf(x).any()
    assert (np.abs(x[np.isfinite(x)]) > 1e38).any()
    assert ((np.abs(x) < 2.0 ** -126) & (x != 0)).any()   # fp32 subnormals
