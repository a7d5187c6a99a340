"""firmware/include/edg_requant.h against edgeml/quant/requant.py, value by value: the one C
requantization and the one Python requantization must agree on every int32 input, multiplier and
shift the kernels use (and at the edges: INT32_MIN/MAX, ties, the largest shifts)."""

from __future__ import annotations

import ctypes
import subprocess

import numpy as np
import pytest

from edgeml.codegen.host_build import WARNINGS, host_compiler
from edgeml.firmware import INCLUDE_DIR
from edgeml.quant.requant import INT32_MAX, INT32_MIN, multiply_by_quantized_multiplier

SHIM = r"""
#include <stdint.h>
#include "edg_requant.h"
void mbqm_many(const int32_t *x, const int32_t *m, const int32_t *s, int32_t rounding, int32_t *out, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
        out[i] = edg_mbqm(x[i], m[i], s[i], rounding);
    }
}
"""


@pytest.fixture(scope="module")
def c_mbqm(tmp_path_factory):
    out = tmp_path_factory.mktemp("requant")
    (out / "shim.c").write_text(SHIM)
    lib = out / "shim.so"
    subprocess.run([host_compiler(), "-std=c99", "-O2", "-fPIC", "-shared", *WARNINGS, f"-I{INCLUDE_DIR}",
                    str(out / "shim.c"), "-o", str(lib)], check=True, capture_output=True, text=True)
    fn = ctypes.CDLL(str(lib)).mbqm_many
    i32p = np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")
    fn.argtypes = [i32p, i32p, i32p, ctypes.c_int32, i32p, ctypes.c_int32]

    def run(x, m, s, rounding):
        x, m, s = (np.ascontiguousarray(v, np.int32) for v in (x, m, s))
        result = np.empty_like(x)
        fn(x, m, s, rounding, result, len(x))
        return result

    return run


def cases(seed: int, n: int = 20000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    edges = np.array([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX], np.int64)
    x = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True),
                        rng.integers(-(1 << 16), 1 << 16, n), np.repeat(edges, 60)])
    m = np.concatenate([rng.integers(1 << 30, INT32_MAX, len(x) - 60, endpoint=True),
                        np.full(60, INT32_MAX)])
    # m = 2^30 with odd x puts the doubling high mul's t = x * m + nudge one above a multiple of 2^31:
    # where truncation toward zero and a floor differ by one.
    odd = rng.integers(-(1 << 20), 1 << 20, 2000) * 2 + 1
    x = np.concatenate([x, odd])
    m = np.concatenate([m, np.full(len(odd), 1 << 30)])
    # Shifts as the kernels see them: mostly right shifts, a few left ones (x * 2^left then stays int64).
    s = rng.integers(-31, 9, len(x))
    s[::97] = -31
    s[1::97] = 0
    return x, m, s


@pytest.mark.parametrize("rounding", [0, 1], ids=["single", "double"])
def test_c_requantization_is_pythons(c_mbqm, rounding: int) -> None:
    x, m, s = cases(seed=rounding)
    if rounding == 0:  # single rounding: x * m must stay within int64 after the left shift
        s = np.minimum(s, 30)
    expected = np.array([multiply_by_quantized_multiplier(int(a), int(b), int(c), rounding)
                         for a, b, c in zip(x, m, s, strict=True)], np.int64)
    got = c_mbqm(x, m, s, rounding)
    # The C result is int32; Python's can leave int32 for large left shifts: compare where it fits.
    fits = (expected >= INT32_MIN) & (expected <= INT32_MAX)
    assert fits.mean() > 0.5
    bad = np.flatnonzero(fits & (got != expected))
    assert bad.size == 0, [(int(x[i]), int(m[i]), int(s[i]), int(expected[i]), int(got[i])) for i in bad[:5]]
