"""The sweep's quality stage against independent implementations (numpy rounding, ml_dtypes casts,
numpy float32 accumulation), re-deriving every figure from the same seeded draws."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from analysis.stages import _QUALITY_N
from analysis.sweep import DesignPoint, stage_quality


def _draws(seed, quick):
    n, length = _QUALITY_N[quick]
    lanes = 4 if quick else 16
    rng = np.random.default_rng(seed)
    g, t = rng.standard_normal(n), rng.standard_t(3, n)
    a, b = rng.standard_normal((lanes, length)), rng.standard_normal((lanes, length))
    return g, t, a, b


def _sqnr(x, q):
    return 10 * math.log10(np.sum(x ** 2) / np.sum((x - q) ** 2))


def test_int8_sqnr_and_fp32_dot_error():
    g, t, a, b = _draws(0, True)
    out = stage_quality(DesignPoint.make("int8", "fp32"), 0, True)
    for col, x in (("sqnr_db", g), ("sqnr_t3_db", t)):
        s = 127 / np.max(np.abs(x))
        assert out[col] == pytest.approx(_sqnr(x, np.round(x * s) / s), abs=1e-9)  # np.round: ties to even
    # int8 codes: absmax -> 127, products exact in float32; accumulate in numpy float32 (IEEE adds).
    qa = np.round(a * 127 / np.max(np.abs(a)))
    qb = np.round(b * 127 / np.max(np.abs(b)))
    p = qa * qb
    errs = []
    for row in p:
        acc = np.float32(0)
        for v in row:
            acc = np.float32(acc + np.float32(v))
        errs.append(abs(float(acc) - math.fsum(row)) / np.sum(np.abs(row)))
    assert out["dot_rel_err"] == pytest.approx(float(np.median(errs)), rel=1e-12, abs=0)


def test_e4m3_sqnr_against_ml_dtypes_and_kulisch_exact():
    g, t, a, b = _draws(3, True)
    out = stage_quality(DesignPoint.make("float8_e4m3fn", "kulisch"), 3, True)
    s = 448 / np.max(np.abs(g))
    q = (g * s).astype(ml_dtypes.float8_e4m3fn).astype(np.float64) / s
    assert out["sqnr_db"] == pytest.approx(_sqnr(g, q), abs=1e-9)
    assert out["dot_rel_err"] == 0.0  # Kulisch accumulation is exact
